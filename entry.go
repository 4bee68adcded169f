package registry

import (
	"sync"
	"sync/atomic"

	"github.com/mcpshard/registry/hashing"
	"github.com/mcpshard/registry/shard"
)

// Server is one registration of a server. Its ID, handle and config never
// change, so a *Server may be kept and read after it is unregistered; a
// newer registration of the same ID is a different *Server.
type Server[M, S any] struct {
	core   serverCore[M]
	config S

	// owner removes this registration: one per registry, shared by
	// every entry; set before the entry is published.
	owner *remover[Server[M, S]]
	// stop detaches the context callback; set before publication, nil
	// when the context can never end.
	stop func() bool
}

// serverCore is the part of a server that transports refer to.
type serverCore[M any] struct {
	key    hashing.Key
	handle Handle[M]

	// members holds the bound transports; Bind adds with CAS. Keeping
	// each handle in the set beside its transport was measured and did
	// not make broadcasts faster (the handle's call dominates), while it
	// doubled what a bind copies.
	members shard.Members[transportCore[M]]
	// dead is set by the server's removal before it loads members to
	// unbind them; Bind checks it after its Add (see Bind for why that
	// order leaves no transport bound to a gone server).
	dead atomic.Bool
	// origin reports that handle is an OriginWriter; set at creation.
	origin bool
}

// ID returns the server's ID.
func (s *Server[M, S]) ID() string { return s.core.key.ID }

// Handle returns the handle the server was registered with.
func (s *Server[M, S]) Handle() Handle[M] { return s.core.handle }

// Config returns the config the server was registered with.
func (s *Server[M, S]) Config() S { return s.config }

// Unregister removes exactly this registration, with its bindings: if the
// ID has since been registered again, the newer entry stays. It reports
// false when this registration was already gone.
func (s *Server[M, S]) Unregister() bool {
	return s.owner.remove(s)
}

// Transport is one registration of a transport. Its ID, handle and config
// never change; its binding does (see [Transport.ServerID]).
type Transport[M, T any] struct {
	core   transportCore[M]
	config T

	owner *remover[Transport[M, T]]
	stop  func() bool
}

// transportCore is the part of a transport that server sets hold.
type transportCore[M any] struct {
	key    hashing.Key
	handle Handle[M]
	origin bool // handle is an OriginWriter; set at creation

	// mu serialises the writers of this transport's binding: Bind,
	// Unbind, the transport's removal and a bound server's removal. It is
	// never held while a handle runs, nor while another transport's mu is
	// held, so it cannot deadlock.
	mu sync.Mutex
	// bound is the server this transport is bound to, or nil. Written
	// under mu; read with Load by ServerOf and routing, without mu.
	bound atomic.Pointer[serverCore[M]]
	// dead is set under mu when the transport is removed; Bind checks it
	// under mu, so nothing binds a removed transport.
	dead bool
}

// ID returns the transport's ID.
func (t *Transport[M, T]) ID() string { return t.core.key.ID }

// Handle returns the handle the transport was registered with.
func (t *Transport[M, T]) Handle() Handle[M] { return t.core.handle }

// Config returns the config the transport was registered with.
func (t *Transport[M, T]) Config() T { return t.config }

// ServerID returns the ID of the server the transport is bound to now.
// It is one atomic load.
func (t *Transport[M, T]) ServerID() (string, bool) {
	if s := t.core.bound.Load(); s != nil {
		return s.key.ID, true
	}
	return "", false
}

// Unregister removes exactly this registration and its binding; a newer
// registration of the same ID stays. It reports false when this
// registration was already gone.
func (t *Transport[M, T]) Unregister() bool {
	return t.owner.remove(t)
}

// target is a handle and how to call it.
type target[M any] struct {
	handle Handle[M]
	origin bool // handle is an OriginWriter
}

// remover removes an entry of type E from the registry that made it.
type remover[E any] struct {
	remove func(*E) bool
}

// isOrigin reports whether h wants the sender's ID. Registration asks
// once; delivery then asserts the interface only for handles that have
// it, so others pay nothing and entries stay small.
func isOrigin[M any](h Handle[M]) bool {
	_, ok := h.(OriginWriter[M])
	return ok
}
