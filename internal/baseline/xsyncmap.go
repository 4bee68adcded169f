package baseline

import (
	"context"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/mcpshard/registry"
)

// XSyncMap is the floor: two raw xsync.MapOf maps keyed by the ID string
// with xsync's default hash, one entry pointer per ID. It registers,
// unregisters, looks up and routes; it has no bindings, so Bind, Unbind,
// ServerOf and Broadcast fail with [ErrUnsupported].
type XSyncMap struct {
	servers    *xsync.MapOf[string, *rawServer]
	transports *xsync.MapOf[string, *rawTransport]
}

type rawServer struct {
	h   Handle
	cfg ServerConfig
}

type rawTransport struct {
	h   Handle
	cfg TransportConfig
}

// NewXSyncMap returns empty maps presized for capacity entries each.
func NewXSyncMap(capacity int) *XSyncMap {
	var opts []func(*xsync.MapConfig)
	if capacity > 0 {
		opts = append(opts, xsync.WithPresize(capacity))
	}
	return &XSyncMap{
		servers:    xsync.NewMapOf[string, *rawServer](opts...),
		transports: xsync.NewMapOf[string, *rawTransport](opts...),
	}
}

func (r *XSyncMap) RegisterServer(ctx context.Context, id string, h Handle, cfg ServerConfig) error {
	e := &rawServer{h: h, cfg: cfg}
	if _, loaded := r.servers.LoadOrStore(id, e); loaded {
		return idErr("register", kindServer, id, registry.ErrAlreadyRegistered)
	}
	if ctx.Done() != nil {
		context.AfterFunc(ctx, func() { compareAndDelete(r.servers, id, e) })
	}
	return nil
}

func (r *XSyncMap) RegisterTransport(ctx context.Context, id string, h Handle, cfg TransportConfig) error {
	e := &rawTransport{h: h, cfg: cfg}
	if _, loaded := r.transports.LoadOrStore(id, e); loaded {
		return idErr("register", kindTransport, id, registry.ErrAlreadyRegistered)
	}
	if ctx.Done() != nil {
		context.AfterFunc(ctx, func() { compareAndDelete(r.transports, id, e) })
	}
	return nil
}

func compareAndDelete[V any](m *xsync.MapOf[string, *V], id string, want *V) {
	m.Compute(id, func(old *V, loaded bool) (*V, bool) {
		return old, !loaded || old == want
	})
}

func (r *XSyncMap) UnregisterServer(id string) error {
	if _, ok := r.servers.LoadAndDelete(id); !ok {
		return idErr("unregister", kindServer, id, registry.ErrServerNotFound)
	}
	return nil
}

func (r *XSyncMap) UnregisterTransport(id string) error {
	if _, ok := r.transports.LoadAndDelete(id); !ok {
		return idErr("unregister", kindTransport, id, registry.ErrTransportNotFound)
	}
	return nil
}

func (r *XSyncMap) FindServer(id string) (Handle, bool) {
	e, ok := r.servers.Load(id)
	if !ok {
		return nil, false
	}
	return e.h, true
}

func (r *XSyncMap) FindTransport(id string) (Handle, bool) {
	e, ok := r.transports.Load(id)
	if !ok {
		return nil, false
	}
	return e.h, true
}

func (r *XSyncMap) Bind(string, string) error { return ErrUnsupported }

func (r *XSyncMap) Unbind(string) error { return ErrUnsupported }

func (r *XSyncMap) ServerOf(string) (string, bool) { return "", false }

func (r *XSyncMap) RouteToServer(ctx context.Context, sid, tid string, msg Msg) error {
	e, ok := r.servers.Load(sid)
	if !ok {
		return idErr("route", kindServer, sid, registry.ErrServerNotFound)
	}
	if err := deliver(ctx, e.h, originOf(e.h), tid, msg); err != nil {
		return idErr("route", kindServer, sid, err)
	}
	return nil
}

func (r *XSyncMap) RouteToTransport(ctx context.Context, tid, sid string, msg Msg) error {
	e, ok := r.transports.Load(tid)
	if !ok {
		return idErr("route", kindTransport, tid, registry.ErrTransportNotFound)
	}
	if err := deliver(ctx, e.h, originOf(e.h), sid, msg); err != nil {
		return idErr("route", kindTransport, tid, err)
	}
	return nil
}

func (r *XSyncMap) Broadcast(context.Context, string, Msg) (int, int, error) {
	return 0, 0, ErrUnsupported
}

func (r *XSyncMap) Counts() (int, int) {
	return r.servers.Size(), r.transports.Size()
}

func (r *XSyncMap) Close() error {
	r.servers.Clear()
	r.transports.Clear()
	return nil
}
