package baseline

import (
	"context"
	"sync"

	"github.com/mcpshard/registry"
)

// RWMutex is a registry of plain maps behind one sync.RWMutex: lookups
// share the read lock, every write takes the write lock. Handles run
// after the lock is released; a broadcast copies its targets under the
// read lock into a pooled buffer first.
type RWMutex struct {
	mu sync.RWMutex
	p  plain // guarded by mu
}

// NewRWMutex returns an empty registry whose maps are presized for
// capacity entries of each kind.
func NewRWMutex(capacity int) *RWMutex {
	return &RWMutex{p: newPlain(capacity)}
}

func (r *RWMutex) RegisterServer(ctx context.Context, id string, h Handle, cfg ServerConfig) error {
	if err := checkRegister(ctx, kindServer, id, h); err != nil {
		return err
	}
	s := &plServer{id: id, h: h, origin: originOf(h), cfg: cfg}
	s.stop = afterFunc(ctx, func() {
		r.mu.Lock()
		r.p.removeServer(id, s)
		r.mu.Unlock()
	})
	r.mu.Lock()
	err := r.p.addServer(s)
	if err == nil && ctx.Err() != nil {
		r.p.removeServer(id, s)
		err = idErr("register", kindServer, id, ctx.Err())
	}
	r.mu.Unlock()
	if err != nil {
		stop(s.stop)
	}
	return err
}

func (r *RWMutex) RegisterTransport(ctx context.Context, id string, h Handle, cfg TransportConfig) error {
	if err := checkRegister(ctx, kindTransport, id, h); err != nil {
		return err
	}
	t := &plTransport{id: id, h: h, origin: originOf(h), cfg: cfg}
	t.stop = afterFunc(ctx, func() {
		r.mu.Lock()
		r.p.removeTransport(id, t)
		r.mu.Unlock()
	})
	r.mu.Lock()
	err := r.p.addTransport(t)
	if err == nil && ctx.Err() != nil {
		r.p.removeTransport(id, t)
		err = idErr("register", kindTransport, id, ctx.Err())
	}
	r.mu.Unlock()
	if err != nil {
		stop(t.stop)
	}
	return err
}

func (r *RWMutex) UnregisterServer(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p.closed {
		return idErr("unregister", kindServer, id, registry.ErrClosed)
	}
	if !r.p.removeServer(id, nil) {
		return idErr("unregister", kindServer, id, registry.ErrServerNotFound)
	}
	return nil
}

func (r *RWMutex) UnregisterTransport(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p.closed {
		return idErr("unregister", kindTransport, id, registry.ErrClosed)
	}
	if !r.p.removeTransport(id, nil) {
		return idErr("unregister", kindTransport, id, registry.ErrTransportNotFound)
	}
	return nil
}

func (r *RWMutex) FindServer(id string) (Handle, bool) {
	r.mu.RLock()
	s, ok := r.p.servers[id]
	r.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return s.h, true
}

func (r *RWMutex) FindTransport(id string) (Handle, bool) {
	r.mu.RLock()
	t, ok := r.p.transports[id]
	r.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return t.h, true
}

func (r *RWMutex) Bind(tid, sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p.bind(tid, sid)
}

func (r *RWMutex) Unbind(tid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p.unbind(tid)
}

func (r *RWMutex) ServerOf(tid string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.p.serverOf(tid)
}

func (r *RWMutex) RouteToServer(ctx context.Context, sid, tid string, msg Msg) error {
	r.mu.RLock()
	closed := r.p.closed
	s, ok := r.p.servers[sid]
	r.mu.RUnlock()
	switch {
	case closed:
		return idErr("route", kindServer, sid, registry.ErrClosed)
	case !ok:
		return idErr("route", kindServer, sid, registry.ErrServerNotFound)
	}
	if err := deliver(ctx, s.h, s.origin, tid, msg); err != nil {
		return idErr("route", kindServer, sid, err)
	}
	return nil
}

func (r *RWMutex) RouteToTransport(ctx context.Context, tid, sid string, msg Msg) error {
	r.mu.RLock()
	closed := r.p.closed
	t, ok := r.p.transports[tid]
	r.mu.RUnlock()
	switch {
	case closed:
		return idErr("route", kindTransport, tid, registry.ErrClosed)
	case !ok:
		return idErr("route", kindTransport, tid, registry.ErrTransportNotFound)
	}
	if err := deliver(ctx, t.h, t.origin, sid, msg); err != nil {
		return idErr("route", kindTransport, tid, err)
	}
	return nil
}

func (r *RWMutex) Broadcast(ctx context.Context, sid string, msg Msg) (int, int, error) {
	buf := targetPool.Get().(*[]target)
	defer func() {
		clear(*buf)
		*buf = (*buf)[:0]
		targetPool.Put(buf)
	}()

	r.mu.RLock()
	ts, err := r.p.snapshot(sid, (*buf)[:0])
	r.mu.RUnlock()
	*buf = ts
	if err != nil {
		return 0, 0, err
	}
	d, f := writeAll(ctx, ts, sid, msg)
	return d, f, nil
}

func (r *RWMutex) Counts() (int, int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.p.servers), len(r.p.transports)
}

func (r *RWMutex) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p.close()
}
