package baseline

import (
	"context"

	"github.com/mcpshard/registry"
)

// idErr builds the registry's own typed error, so that callers match
// baseline errors exactly as they match the registry's.
func idErr(op, kind, id string, err error) error {
	return &registry.IDError{Op: op, Kind: kind, ID: id, Err: err}
}

// deliver writes msg through h (or its OriginWriter o, with from),
// recovering a panic as the registry does.
func deliver(ctx context.Context, h Handle, o OriginWriter, from string, msg Msg) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &registry.PanicError{Value: p}
		}
	}()
	if o != nil {
		return o.WriteFrom(ctx, from, msg)
	}
	return h.Write(ctx, msg)
}

func originOf(h Handle) OriginWriter {
	o, _ := h.(OriginWriter)
	return o
}

// checkRegister validates a registration as the registry does.
func checkRegister(ctx context.Context, kind, id string, h Handle) error {
	switch {
	case ctx == nil:
		return idErr("register", kind, id, registry.ErrNilContext)
	case id == "" || len(id) > registry.DefaultMaxIDLen:
		return idErr("register", kind, id, registry.ErrInvalidID)
	case h == nil:
		return idErr("register", kind, id, registry.ErrNilHandle)
	}
	if err := ctx.Err(); err != nil {
		return idErr("register", kind, id, err)
	}
	return nil
}

// afterFunc arms f for ctx's end and returns its disarm function, or nil
// for a context that never ends, as the registry does.
func afterFunc(ctx context.Context, f func()) func() bool {
	if ctx.Done() == nil {
		return nil
	}
	return context.AfterFunc(ctx, f)
}

func stop(f func() bool) {
	if f != nil {
		f()
	}
}

const (
	kindServer    = "server"
	kindTransport = "transport"
)
