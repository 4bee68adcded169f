package registry

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the registry itself makes matches one of
// these with [errors.Is] (a handle's own error, and a context's error at
// registration, are passed through wrapped); most arrive in an [*IDError]
// that names the operation and the ID involved.
var (
	// ErrNotFound matches every not-found error, of either kind.
	ErrNotFound = errors.New("registry: not found")

	// ErrServerNotFound reports an unknown server ID. It wraps ErrNotFound.
	ErrServerNotFound error = &kindError{"registry: server not found", ErrNotFound}

	// ErrTransportNotFound reports an unknown transport ID. It wraps
	// ErrNotFound.
	ErrTransportNotFound error = &kindError{"registry: transport not found", ErrNotFound}

	// ErrAlreadyRegistered reports a registration of an ID that is live.
	ErrAlreadyRegistered = errors.New("registry: already registered")

	// ErrClosed reports a call on a closed registry or mailbox.
	ErrClosed = errors.New("registry: closed")

	// ErrAdmissionControlActive reports a registration refused because
	// most shards are contended; see [Registry.ContentionStatus].
	ErrAdmissionControlActive = errors.New("registry: admission control active")

	// ErrInvalidID reports an empty ID or one longer than the maximum
	// (see [WithMaxIDLen]).
	ErrInvalidID = errors.New("registry: invalid ID")

	// ErrNilHandle reports a registration without a handle.
	ErrNilHandle = errors.New("registry: nil handle")

	// ErrNilContext reports a nil context.
	ErrNilContext = errors.New("registry: nil context")

	// ErrInvalidOption reports a bad option or argument, such as a shard
	// count that is not a power of two or a shard index out of range.
	ErrInvalidOption = errors.New("registry: invalid option")

	// ErrPanic matches a panic recovered from a handle's Write; the
	// [*PanicError] carries the value.
	ErrPanic = errors.New("registry: handle panicked")

	// ErrMailboxFull reports a message refused by a full [Mailbox] whose
	// policy is [RejectNewest].
	ErrMailboxFull = errors.New("registry: mailbox full")
)

// kindError is a sentinel that also matches a more general one.
type kindError struct {
	msg    string
	parent error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.parent }

// IDError is an error about one ID: the operation, the kind of entry
// ("server" or "transport") and the ID, wrapping the cause (a sentinel
// above, or a handle's own error).
type IDError struct {
	Op   string
	Kind string
	ID   string
	Err  error
}

// Error names the ID quoted, cut to its first 256 bytes so that a huge
// bad ID makes no huge message; the ID field keeps it whole.
func (e *IDError) Error() string {
	cause := strings.TrimPrefix(e.Err.Error(), "registry: ")
	id, more := e.ID, ""
	if len(id) > maxQuotedID {
		id, more = id[:maxQuotedID], fmt.Sprintf("...(%d bytes)", len(e.ID))
	}
	return fmt.Sprintf("registry: %s %s %q%s: %s", e.Op, e.Kind, id, more, cause)
}

const maxQuotedID = 256

func (e *IDError) Unwrap() error { return e.Err }

// PanicError is a panic recovered from a handle. It matches [ErrPanic].
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("registry: handle panicked: %v", e.Value)
}

func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// OptionError names a bad option or argument. It matches
// [ErrInvalidOption].
type OptionError struct {
	Option string
	Value  any
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("registry: invalid %s %v: %s", e.Option, e.Value, e.Reason)
}

func (e *OptionError) Unwrap() error { return ErrInvalidOption }

const (
	kindServer    = "server"
	kindTransport = "transport"
)

func idErr(op, kind, id string, err error) error {
	return &IDError{Op: op, Kind: kind, ID: id, Err: err}
}
