package registry

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/mcpshard/registry/admission"
	"github.com/mcpshard/registry/hashing"
	"github.com/mcpshard/registry/shard"
)

// Registry is a sharded concurrent registry of MCP servers and
// transports, generic over the message type M and the caller's server
// and transport config types S and T.
//
// All methods are safe for concurrent use. Lookups ([Registry.FindServer],
// [Registry.FindTransport], [Registry.ServerOf], [Registry.TransportsOf])
// take no lock, use no channel and allocate nothing; writes lock one map
// bucket, or one transport's binding, for a few pointer swaps. See the
// package documentation for what may run together.
//
// The zero Registry is not usable: make one with [New]. A Registry must
// not be copied after first use.
type Registry[M, S, T any] struct {
	_ noCopy

	// Set by New, read-only afterwards.
	picker     hashing.Picker
	shards     []shard.Shard[Server[M, S], Transport[M, T]]
	adm        *admission.Controller // nil when admission is off
	maxIDLen   int
	logger     *slog.Logger
	writeDelay func(shard int) time.Duration
	servers    remover[Server[M, S]]    // r.removeServer, for Server.Unregister
	transports remover[Transport[M, T]] // r.removeTransport

	// closed is set once by Close. Registration checks it before and
	// after publishing an entry, and Close sweeps after setting it, so
	// either the sweep or the registrant removes a racing entry.
	closed atomic.Bool
}

// New returns an empty registry configured by opts. It fails with an
// [*OptionError] (matching [ErrInvalidOption]) for a bad option.
func New[M, S, T any](opts ...Option) (*Registry[M, S, T], error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, &OptionError{"option", i, "is nil"}
		}
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	picker, err := hashing.NewPicker(cfg.shards, cfg.hasher)
	if err != nil {
		return nil, &OptionError{"shard count", cfg.shards, "must be a power of two from 1 to 256"}
	}

	r := &Registry[M, S, T]{
		picker:     picker,
		maxIDLen:   cfg.maxIDLen,
		logger:     cfg.logger,
		writeDelay: cfg.writeDelay,
	}
	r.servers.remove = r.removeServer
	r.transports.remove = r.removeTransport
	if cfg.admission != nil {
		r.adm, err = admission.New(cfg.shards, *cfg.admission)
		if err != nil {
			return nil, &OptionError{"admission config", err, "rejected"}
		}
	}

	// Give each shard room for its share plus slack for uneven spread,
	// so reaching the hinted size never resizes a map.
	perShard := 0
	if cfg.sizeHint > 0 {
		perShard = cfg.sizeHint/cfg.shards + cfg.sizeHint/cfg.shards/8 + 64
	}
	r.shards = make([]shard.Shard[Server[M, S], Transport[M, T]], cfg.shards)
	for i := range r.shards {
		r.shards[i] = shard.New[Server[M, S], Transport[M, T]](perShard)
	}
	return r, nil
}

// Shards returns the number of shards.
func (r *Registry[M, S, T]) Shards() int { return len(r.shards) }

// FindServer returns the live registration of server id. It takes no
// lock, is never blocked by a writer and allocates nothing.
func (r *Registry[M, S, T]) FindServer(id string) (*Server[M, S], bool) {
	k := r.picker.Key(id)
	return r.shards[r.picker.Shard(k)].Servers.Load(k)
}

// FindTransport returns the live registration of transport id. It takes
// no lock, is never blocked by a writer and allocates nothing.
func (r *Registry[M, S, T]) FindTransport(id string) (*Transport[M, T], bool) {
	k := r.picker.Key(id)
	return r.shards[r.picker.Shard(k)].Transports.Load(k)
}

// Close unregisters every entry, with the same cascade as
// [Registry.UnregisterServer], and makes every later registration,
// binding and routing call fail with [ErrClosed]. Lookups afterwards find
// nothing. Close never closes a handle, it only stops using it. It is
// idempotent; it returns [ErrClosed] on every call but the first.
func (r *Registry[M, S, T]) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	r.sweep()
	return nil
}

// sweep removes every entry. Close runs it once the closed flag is set.
func (r *Registry[M, S, T]) sweep() {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.Servers.Range(func(_ hashing.Key, s *Server[M, S]) bool {
			r.removeServer(s)
			return true
		})
		sh.Transports.Range(func(_ hashing.Key, t *Transport[M, T]) bool {
			r.removeTransport(t)
			return true
		})
	}
}

// noCopy lets go vet's copylocks check catch copies of a Registry.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
