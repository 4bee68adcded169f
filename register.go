package registry

import (
	"context"
	"time"

	"github.com/mcpshard/registry/hashing"
)

// RegisterServer registers server id with its handle and config until ctx
// ends, [Server.Unregister] is called, [Registry.UnregisterServer] removes
// it, or the registry closes. When ctx ends, the server is removed with
// its bindings by a context.AfterFunc callback; no goroutine is kept per
// entry, and a context that can never end costs nothing. That removal
// runs on its own goroutine just after ctx ends: a caller that needs the
// entry gone before it goes on calls [Server.Unregister] first.
//
// It fails, changing nothing, with an [*IDError] matching
// [ErrAlreadyRegistered] while id is live, [ErrAdmissionControlActive]
// while the admission gate is engaged, [ErrInvalidID], [ErrNilHandle] (a
// nil interface, or a nil pointer, map, chan or func inside it),
// [ErrNilContext], [ErrClosed], or ctx's error if ctx has already ended.
//
// It allocates the entry and locks one map bucket while it stores it.
func (r *Registry[M, S, T]) RegisterServer(ctx context.Context, id string, h Handle[M], cfg S) (*Server[M, S], error) {
	k, i, err := r.admit("register", kindServer, ctx, id, h)
	if err != nil {
		return nil, err
	}
	s := &Server[M, S]{
		core:   serverCore[M]{key: k, handle: h, origin: isOrigin(h)},
		config: cfg,
		owner:  &r.servers,
	}
	if ctx.Done() != nil {
		s.stop = context.AfterFunc(ctx, func() { r.removeServer(s) })
	}

	tbl := r.shards[i].Servers
	start := r.beginWrite(i)
	_, loaded := tbl.Insert(k, s)
	r.endWrite(i, start)
	if loaded {
		s.detach()
		return nil, idErr("register", kindServer, id, ErrAlreadyRegistered)
	}
	if err := r.settle(ctx); err != nil {
		r.removeServer(s)
		return nil, idErr("register", kindServer, id, err)
	}
	return s, nil
}

// RegisterTransport registers transport id, unbound, with its handle and
// config. Its lifecycle, errors and costs are those of
// [Registry.RegisterServer].
func (r *Registry[M, S, T]) RegisterTransport(ctx context.Context, id string, h Handle[M], cfg T) (*Transport[M, T], error) {
	return r.registerTransport(ctx, id, "", false, h, cfg)
}

// RegisterBoundTransport registers transport id already bound to server
// serverID, in one step: if the server is missing, or is removed before
// the binding takes, it fails with [ErrServerNotFound] and leaves nothing
// behind. Otherwise it is [Registry.RegisterTransport] then
// [Registry.Bind], with no moment at which the transport is registered
// but unbound.
func (r *Registry[M, S, T]) RegisterBoundTransport(ctx context.Context, id, serverID string, h Handle[M], cfg T) (*Transport[M, T], error) {
	return r.registerTransport(ctx, id, serverID, true, h, cfg)
}

// opBoundTo names the server side of a RegisterBoundTransport failure.
const opBoundTo = "register transport bound to"

// registerTransport registers transport id, bound to serverID when bound
// is set. The server's checks come after those every registration makes.
func (r *Registry[M, S, T]) registerTransport(ctx context.Context, id, serverID string, bound bool, h Handle[M], cfg T) (*Transport[M, T], error) {
	k, i, err := r.admit("register", kindTransport, ctx, id, h)
	if err != nil {
		return nil, err
	}
	t := &Transport[M, T]{
		core:   transportCore[M]{key: k, handle: h, origin: isOrigin(h)},
		config: cfg,
		owner:  &r.transports,
	}

	// Nobody can reach t until it is stored, so holding its lock across
	// the binding and the store makes them one step for Bind, Unbind and
	// a server's removal, which all take it.
	//
	// Joining the server's set comes first so that the transport is never
	// registered but unbound. A bound registration that then loses a race
	// for its ID backs out of the set, but a broadcast in that moment may
	// have reached its handle; the Load below keeps that to true races.
	tbl := r.shards[i].Transports
	var srv *serverCore[M]
	if bound && serverID == "" {
		return nil, idErr(opBoundTo, kindServer, serverID, ErrInvalidID)
	}
	if bound {
		s, ok := r.FindServer(serverID)
		if !ok {
			return nil, idErr(opBoundTo, kindServer, serverID, ErrServerNotFound)
		}
		if _, taken := tbl.Load(k); taken {
			return nil, idErr("register", kindTransport, id, ErrAlreadyRegistered)
		}
		srv = &s.core
	}
	t.core.mu.Lock()
	if srv != nil && !join(srv, &t.core) {
		t.core.mu.Unlock()
		return nil, idErr(opBoundTo, kindServer, serverID, ErrServerNotFound)
	}
	if ctx.Done() != nil {
		t.stop = context.AfterFunc(ctx, func() { r.removeTransport(t) })
	}

	start := r.beginWrite(i)
	_, loaded := tbl.Insert(k, t)
	r.endWrite(i, start)
	if loaded {
		if s := t.core.bound.Swap(nil); s != nil {
			s.members.Remove(k.Hash, &t.core)
		}
		t.core.dead = true
		t.core.mu.Unlock()
		t.detach()
		return nil, idErr("register", kindTransport, id, ErrAlreadyRegistered)
	}
	t.core.mu.Unlock()

	if err := r.settle(ctx); err != nil {
		r.removeTransport(t)
		return nil, idErr("register", kindTransport, id, err)
	}
	return t, nil
}

// admit validates a registration, consults the admission gate and returns
// the ID's key and shard.
func (r *Registry[M, S, T]) admit(op, kind string, ctx context.Context, id string, h Handle[M]) (hashing.Key, int, error) {
	switch {
	case r.closed.Load():
		return hashing.Key{}, 0, idErr(op, kind, id, ErrClosed)
	case ctx == nil:
		return hashing.Key{}, 0, idErr(op, kind, id, ErrNilContext)
	case len(id) == 0 || len(id) > r.maxIDLen:
		return hashing.Key{}, 0, idErr(op, kind, id, ErrInvalidID)
	case isNil(h):
		return hashing.Key{}, 0, idErr(op, kind, id, ErrNilHandle)
	}
	if err := ctx.Err(); err != nil {
		return hashing.Key{}, 0, idErr(op, kind, id, err)
	}
	if !r.adm.Allow() {
		return hashing.Key{}, 0, idErr(op, kind, id, ErrAdmissionControlActive)
	}
	k := r.picker.Key(id)
	return k, r.picker.Shard(k), nil
}

// settle runs after an entry is published. An entry stored after Close
// began its sweep, or whose context ended before its callback was armed
// to see the entry, is removed by its registrant.
func (r *Registry[M, S, T]) settle(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// UnregisterServer removes the live registration of server id and
// unbinds each transport bound to it, in one map walk plus one lock per
// bound transport. Concurrent removals of one entry (explicit, context,
// Close) run the cascade once. It fails with [ErrServerNotFound] (in an
// [*IDError]) for an unknown id.
func (r *Registry[M, S, T]) UnregisterServer(id string) error {
	if r.closed.Load() {
		return idErr("unregister", kindServer, id, ErrClosed)
	}
	k := r.picker.Key(id)
	i := r.picker.Shard(k)
	start := r.beginWrite(i)
	s, ok := r.shards[i].Servers.LoadAndDelete(k)
	r.endWrite(i, start)
	if !ok {
		return idErr("unregister", kindServer, id, ErrServerNotFound)
	}
	r.unlinkServer(s)
	return nil
}

// UnregisterTransport removes the live registration of transport id and
// its binding. It fails with [ErrTransportNotFound] for an unknown id.
func (r *Registry[M, S, T]) UnregisterTransport(id string) error {
	if r.closed.Load() {
		return idErr("unregister", kindTransport, id, ErrClosed)
	}
	k := r.picker.Key(id)
	i := r.picker.Shard(k)
	start := r.beginWrite(i)
	t, ok := r.shards[i].Transports.LoadAndDelete(k)
	r.endWrite(i, start)
	if !ok {
		return idErr("unregister", kindTransport, id, ErrTransportNotFound)
	}
	r.unlinkTransport(t)
	return nil
}

// removeServer removes s if it is still the live registration of its ID.
// Deleting it from the map is the claim: only one remover succeeds and
// runs the cascade, and a stale remover leaves a newer entry alone.
func (r *Registry[M, S, T]) removeServer(s *Server[M, S]) bool {
	k := s.core.key
	i := r.picker.Shard(k)
	start := r.beginWrite(i)
	ok := r.shards[i].Servers.CompareAndDelete(k, s)
	r.endWrite(i, start)
	if ok {
		r.unlinkServer(s)
	}
	return ok
}

// unlinkServer runs the cascade for s, which its caller has just deleted
// from the map and so alone owns.
func (r *Registry[M, S, T]) unlinkServer(s *Server[M, S]) {
	s.detach()

	// Any Bind that adds to the set after the flag is set sees it and
	// backs out; every member added before is unbound here, under its
	// lock (see Bind for the order).
	s.core.dead.Store(true)
	s.core.members.Load().Range(func(t *transportCore[M]) bool {
		t.mu.Lock()
		t.bound.CompareAndSwap(&s.core, nil)
		t.mu.Unlock()
		return true
	})
}

// removeTransport removes t if it is still the live registration of its
// ID, and takes it out of its server's set.
func (r *Registry[M, S, T]) removeTransport(t *Transport[M, T]) bool {
	k := t.core.key
	i := r.picker.Shard(k)
	start := r.beginWrite(i)
	ok := r.shards[i].Transports.CompareAndDelete(k, t)
	r.endWrite(i, start)
	if ok {
		r.unlinkTransport(t)
	}
	return ok
}

// unlinkTransport takes t, which its caller has just deleted from the map,
// out of its server's set.
func (r *Registry[M, S, T]) unlinkTransport(t *Transport[M, T]) {
	t.detach()

	t.core.mu.Lock()
	t.core.dead = true
	s := t.core.bound.Swap(nil)
	t.core.mu.Unlock()
	if s != nil {
		s.members.Remove(t.core.key.Hash, &t.core)
	}
}

func (r *Registry[M, S, T]) beginWrite(shard int) int64 {
	start := r.adm.Begin(shard)
	if r.writeDelay != nil {
		time.Sleep(r.writeDelay(shard))
	}
	return start
}

func (r *Registry[M, S, T]) endWrite(shard int, start int64) {
	r.adm.End(shard, start)
}

// detach disarms the context callback, if any. A context that can never
// end has none: registration skips context.AfterFunc for it.
func (s *Server[M, S]) detach() {
	if s.stop != nil {
		s.stop()
	}
}

func (t *Transport[M, T]) detach() {
	if t.stop != nil {
		t.stop()
	}
}
