package baseline

import (
	"context"

	"github.com/mcpshard/registry"
)

// Sharded adapts package registry to the driver interface. Each method is
// one call of the registry's own; R is exported so that the hot loops in
// loops.go call it directly.
type Sharded struct {
	R *registry.Registry[Msg, ServerConfig, TransportConfig]
}

// NewSharded returns a registry built with opts.
func NewSharded(opts ...registry.Option) (*Sharded, error) {
	r, err := registry.New[Msg, ServerConfig, TransportConfig](opts...)
	if err != nil {
		return nil, err
	}
	return &Sharded{R: r}, nil
}

func (s *Sharded) RegisterServer(ctx context.Context, id string, h Handle, cfg ServerConfig) error {
	_, err := s.R.RegisterServer(ctx, id, h, cfg)
	return err
}

func (s *Sharded) RegisterTransport(ctx context.Context, id string, h Handle, cfg TransportConfig) error {
	_, err := s.R.RegisterTransport(ctx, id, h, cfg)
	return err
}

func (s *Sharded) UnregisterServer(id string) error {
	return s.R.UnregisterServer(id)
}

func (s *Sharded) UnregisterTransport(id string) error {
	return s.R.UnregisterTransport(id)
}

func (s *Sharded) FindServer(id string) (Handle, bool) {
	e, ok := s.R.FindServer(id)
	if !ok {
		return nil, false
	}
	return e.Handle(), true
}

func (s *Sharded) FindTransport(id string) (Handle, bool) {
	e, ok := s.R.FindTransport(id)
	if !ok {
		return nil, false
	}
	return e.Handle(), true
}

func (s *Sharded) Bind(tid, sid string) error { return s.R.Bind(tid, sid) }

func (s *Sharded) Unbind(tid string) error { return s.R.Unbind(tid) }

func (s *Sharded) ServerOf(tid string) (string, bool) {
	return s.R.ServerOf(tid)
}

func (s *Sharded) RouteToServer(ctx context.Context, sid, tid string, msg Msg) error {
	return s.R.RouteToServer(ctx, sid, tid, msg)
}

func (s *Sharded) RouteToTransport(ctx context.Context, tid, sid string, msg Msg) error {
	return s.R.RouteToTransport(ctx, tid, sid, msg)
}

func (s *Sharded) Broadcast(ctx context.Context, sid string, msg Msg) (int, int, error) {
	res, err := s.R.Broadcast(ctx, sid, msg)
	return res.Delivered, len(res.Failed), err
}

func (s *Sharded) Counts() (int, int) {
	return s.R.ServerCount(), s.R.TransportCount()
}

func (s *Sharded) Close() error { return s.R.Close() }
