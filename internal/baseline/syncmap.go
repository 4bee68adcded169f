package baseline

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/mcpshard/registry"
)

// SyncMap is a registry built on sync.Map: one map per kind of entry and
// one per server for its bound transports. Bindings follow the sharded
// registry's protocol (the transport's mutex serialises its binding; a
// server's removal sets a flag before it walks its members), so the two
// differ in their maps only.
type SyncMap struct {
	servers    sync.Map // string -> *smServer
	transports sync.Map // string -> *smTransport
	closed     atomic.Bool
}

type smServer struct {
	id      string
	h       Handle
	origin  OriginWriter
	cfg     ServerConfig
	members sync.Map // *smTransport -> struct{}
	// dead is set by removal before it walks members; Bind checks it
	// after its Store.
	dead atomic.Bool
	stop func() bool // set before publication
}

type smTransport struct {
	id     string
	h      Handle
	origin OriginWriter
	cfg    TransportConfig
	mu     sync.Mutex               // serialises writers of bound and dead
	bound  atomic.Pointer[smServer] // written under mu, loaded freely
	dead   bool                     // under mu
	stop   func() bool
}

// NewSyncMap returns an empty registry.
func NewSyncMap() *SyncMap { return &SyncMap{} }

func (r *SyncMap) RegisterServer(ctx context.Context, id string, h Handle, cfg ServerConfig) error {
	if r.closed.Load() {
		return idErr("register", kindServer, id, registry.ErrClosed)
	}
	if err := checkRegister(ctx, kindServer, id, h); err != nil {
		return err
	}
	s := &smServer{id: id, h: h, origin: originOf(h), cfg: cfg}
	s.stop = afterFunc(ctx, func() { r.removeServer(s) })
	if _, loaded := r.servers.LoadOrStore(id, s); loaded {
		stop(s.stop)
		return idErr("register", kindServer, id, registry.ErrAlreadyRegistered)
	}
	if r.closed.Load() || ctx.Err() != nil {
		r.removeServer(s)
		return idErr("register", kindServer, id, registry.ErrClosed)
	}
	return nil
}

func (r *SyncMap) RegisterTransport(ctx context.Context, id string, h Handle, cfg TransportConfig) error {
	if r.closed.Load() {
		return idErr("register", kindTransport, id, registry.ErrClosed)
	}
	if err := checkRegister(ctx, kindTransport, id, h); err != nil {
		return err
	}
	t := &smTransport{id: id, h: h, origin: originOf(h), cfg: cfg}
	t.stop = afterFunc(ctx, func() { r.removeTransport(t) })
	if _, loaded := r.transports.LoadOrStore(id, t); loaded {
		stop(t.stop)
		return idErr("register", kindTransport, id, registry.ErrAlreadyRegistered)
	}
	if r.closed.Load() || ctx.Err() != nil {
		r.removeTransport(t)
		return idErr("register", kindTransport, id, registry.ErrClosed)
	}
	return nil
}

func (r *SyncMap) UnregisterServer(id string) error {
	if v, ok := r.servers.Load(id); ok && r.removeServer(v.(*smServer)) {
		return nil
	}
	return idErr("unregister", kindServer, id, registry.ErrServerNotFound)
}

func (r *SyncMap) UnregisterTransport(id string) error {
	if v, ok := r.transports.Load(id); ok && r.removeTransport(v.(*smTransport)) {
		return nil
	}
	return idErr("unregister", kindTransport, id, registry.ErrTransportNotFound)
}

// removeServer removes s if it is still the live entry of its ID, then
// unbinds each member under that member's lock.
func (r *SyncMap) removeServer(s *smServer) bool {
	if !r.servers.CompareAndDelete(s.id, s) {
		return false
	}
	stop(s.stop)
	s.dead.Store(true)
	s.members.Range(func(k, _ any) bool {
		t := k.(*smTransport)
		t.mu.Lock()
		t.bound.CompareAndSwap(s, nil)
		t.mu.Unlock()
		s.members.Delete(t)
		return true
	})
	return true
}

func (r *SyncMap) removeTransport(t *smTransport) bool {
	if !r.transports.CompareAndDelete(t.id, t) {
		return false
	}
	stop(t.stop)
	t.mu.Lock()
	t.dead = true
	s := t.bound.Swap(nil)
	t.mu.Unlock()
	if s != nil {
		s.members.Delete(t)
	}
	return true
}

func (r *SyncMap) FindServer(id string) (Handle, bool) {
	v, ok := r.servers.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*smServer).h, true
}

func (r *SyncMap) FindTransport(id string) (Handle, bool) {
	v, ok := r.transports.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*smTransport).h, true
}

func (r *SyncMap) Bind(tid, sid string) error {
	if r.closed.Load() {
		return idErr("bind", kindTransport, tid, registry.ErrClosed)
	}
	tv, ok := r.transports.Load(tid)
	if !ok {
		return idErr("bind", kindTransport, tid, registry.ErrTransportNotFound)
	}
	sv, ok := r.servers.Load(sid)
	if !ok {
		return idErr("bind", kindServer, sid, registry.ErrServerNotFound)
	}
	t, s := tv.(*smTransport), sv.(*smServer)

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return idErr("bind", kindTransport, tid, registry.ErrTransportNotFound)
	}
	old := t.bound.Load()
	if old == s {
		return nil
	}
	s.members.Store(t, struct{}{})
	if s.dead.Load() {
		s.members.Delete(t)
		return idErr("bind", kindServer, sid, registry.ErrServerNotFound)
	}
	t.bound.Store(s)
	if old != nil {
		old.members.Delete(t)
	}
	return nil
}

func (r *SyncMap) Unbind(tid string) error {
	if r.closed.Load() {
		return idErr("unbind", kindTransport, tid, registry.ErrClosed)
	}
	tv, ok := r.transports.Load(tid)
	if !ok {
		return idErr("unbind", kindTransport, tid, registry.ErrTransportNotFound)
	}
	t := tv.(*smTransport)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return idErr("unbind", kindTransport, tid, registry.ErrTransportNotFound)
	}
	if old := t.bound.Swap(nil); old != nil {
		old.members.Delete(t)
	}
	return nil
}

func (r *SyncMap) ServerOf(tid string) (string, bool) {
	tv, ok := r.transports.Load(tid)
	if !ok {
		return "", false
	}
	if s := tv.(*smTransport).bound.Load(); s != nil {
		return s.id, true
	}
	return "", false
}

func (r *SyncMap) RouteToServer(ctx context.Context, sid, tid string, msg Msg) error {
	if r.closed.Load() {
		return idErr("route", kindServer, sid, registry.ErrClosed)
	}
	v, ok := r.servers.Load(sid)
	if !ok {
		return idErr("route", kindServer, sid, registry.ErrServerNotFound)
	}
	s := v.(*smServer)
	if err := deliver(ctx, s.h, s.origin, tid, msg); err != nil {
		return idErr("route", kindServer, sid, err)
	}
	return nil
}

func (r *SyncMap) RouteToTransport(ctx context.Context, tid, sid string, msg Msg) error {
	if r.closed.Load() {
		return idErr("route", kindTransport, tid, registry.ErrClosed)
	}
	v, ok := r.transports.Load(tid)
	if !ok {
		return idErr("route", kindTransport, tid, registry.ErrTransportNotFound)
	}
	t := v.(*smTransport)
	if err := deliver(ctx, t.h, t.origin, sid, msg); err != nil {
		return idErr("route", kindTransport, tid, err)
	}
	return nil
}

func (r *SyncMap) Broadcast(ctx context.Context, sid string, msg Msg) (delivered, failed int, err error) {
	if r.closed.Load() {
		return 0, 0, idErr("broadcast", kindServer, sid, registry.ErrClosed)
	}
	v, ok := r.servers.Load(sid)
	if !ok {
		return 0, 0, idErr("broadcast", kindServer, sid, registry.ErrServerNotFound)
	}
	v.(*smServer).members.Range(func(k, _ any) bool {
		t := k.(*smTransport)
		if deliver(ctx, t.h, t.origin, sid, msg) == nil {
			delivered++
		} else {
			failed++
		}
		return true
	})
	return delivered, failed, nil
}

// Counts walks both maps: sync.Map keeps no count.
func (r *SyncMap) Counts() (servers, transports int) {
	r.servers.Range(func(_, _ any) bool { servers++; return true })
	r.transports.Range(func(_, _ any) bool { transports++; return true })
	return servers, transports
}

func (r *SyncMap) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return registry.ErrClosed
	}
	r.servers.Range(func(_, v any) bool {
		r.removeServer(v.(*smServer))
		return true
	})
	r.transports.Range(func(_, v any) bool {
		r.removeTransport(v.(*smTransport))
		return true
	})
	return nil
}
