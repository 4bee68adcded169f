package registry

import (
	"iter"

	"github.com/mcpshard/registry/shard"
)

// Bind binds transport transportID to server serverID, moving it from the
// server it was bound to, if any. Binding a transport to the server it is
// bound to is a no-op.
//
// A Bind racing the server's removal never leaves the transport bound to
// a gone server. Holding the transport's lock, Bind adds the transport to
// the server's set, then checks the server's dead flag, then points the
// transport at the server. The removal sets the flag, then loads the set
// and unbinds each member under its lock. Atomics are sequentially
// consistent, so either Bind sees the flag (and undoes its add, returning
// [ErrServerNotFound]) or the removal's load sees the transport and,
// waiting for the lock, unbinds it after Bind returns. TestRaceBindUnregisterServer
// exercises both outcomes.
//
// A rebinding switches [Registry.ServerOf] from the old server to the new
// one in one atomic store; a broadcast racing it may reach the moving
// transport from the old server, the new one, or both.
//
// It costs two lookups, the transport's lock and a copy of one path of
// each server's set (under 200 words, whatever the set's size). It
// fails with [ErrTransportNotFound], [ErrServerNotFound] or [ErrClosed],
// each in an [*IDError].
func (r *Registry[M, S, T]) Bind(transportID, serverID string) error {
	if r.closed.Load() {
		return idErr("bind", kindTransport, transportID, ErrClosed)
	}
	t, ok := r.FindTransport(transportID)
	if !ok {
		return idErr("bind", kindTransport, transportID, ErrTransportNotFound)
	}
	s, ok := r.FindServer(serverID)
	if !ok {
		return idErr("bind", kindServer, serverID, ErrServerNotFound)
	}

	tc := &t.core
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.dead {
		return idErr("bind", kindTransport, transportID, ErrTransportNotFound)
	}
	old := tc.bound.Load()
	if old == &s.core {
		return nil
	}
	if !join(&s.core, tc) {
		return idErr("bind", kindServer, serverID, ErrServerNotFound)
	}
	if old != nil {
		old.members.Remove(tc.key.Hash, tc)
	}
	return nil
}

// join adds tc to s's set and points tc at s, unless s is being removed.
// The caller holds tc.mu.
func join[M any](s *serverCore[M], tc *transportCore[M]) bool {
	s.members.Add(tc.key.Hash, tc)
	if s.dead.Load() {
		s.members.Remove(tc.key.Hash, tc)
		return false
	}
	tc.bound.Store(s)
	return true
}

// Unbind unbinds transport transportID from its server. Unbinding an
// unbound transport is a no-op. It fails with [ErrTransportNotFound] or
// [ErrClosed].
func (r *Registry[M, S, T]) Unbind(transportID string) error {
	if r.closed.Load() {
		return idErr("unbind", kindTransport, transportID, ErrClosed)
	}
	t, ok := r.FindTransport(transportID)
	if !ok {
		return idErr("unbind", kindTransport, transportID, ErrTransportNotFound)
	}

	tc := &t.core
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.dead {
		return idErr("unbind", kindTransport, transportID, ErrTransportNotFound)
	}
	if old := tc.bound.Swap(nil); old != nil {
		old.members.Remove(tc.key.Hash, tc)
	}
	return nil
}

// ServerOf returns the ID of the server transport transportID is bound
// to. It takes no lock and allocates nothing; ok is false when the
// transport is unknown or unbound.
func (r *Registry[M, S, T]) ServerOf(transportID string) (serverID string, ok bool) {
	t, ok := r.FindTransport(transportID)
	if !ok {
		return "", false
	}
	return t.ServerID()
}

// TransportsOf returns a snapshot of the transports bound to server
// serverID. It is one lookup and one atomic load: no lock, no
// allocation. The snapshot never changes; ok is false for an unknown
// server.
func (r *Registry[M, S, T]) TransportsOf(serverID string) (Bound[M], bool) {
	s, ok := r.FindServer(serverID)
	if !ok {
		return Bound[M]{}, false
	}
	return Bound[M]{s.core.members.Load()}, true
}

// Bound is an immutable snapshot of the transports bound to one server.
type Bound[M any] struct {
	set *shard.Set[transportCore[M]] // nil is empty
}

// Len returns the number of transports in the snapshot.
func (b Bound[M]) Len() int {
	return b.set.Len()
}

// All yields each transport's ID and handle, in no set order.
func (b Bound[M]) All() iter.Seq2[string, Handle[M]] {
	return func(yield func(string, Handle[M]) bool) {
		b.set.Range(func(t *transportCore[M]) bool {
			return yield(t.key.ID, t.handle)
		})
	}
}
