package baseline

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcpshard/registry"
)

// Msg is the message type every implementation carries: raw bytes, such
// as an encoded JSON-RPC message.
type Msg = []byte

// Handle is the handle type of every implementation, the registry's own.
type Handle = registry.Handle[Msg]

// OriginWriter is the registry's optional handle interface: routing calls
// WriteFrom with the sender's ID when a handle has it.
type OriginWriter = registry.OriginWriter[Msg]

// ServerConfig is the caller's config stored with each server.
type ServerConfig struct {
	Name  string
	Tools []string
}

// TransportConfig is the caller's config stored with each transport.
type TransportConfig struct {
	Kind string
}

// ErrUnsupported is returned by [XSyncMap] for the operations on bindings
// that a raw map does not have. It matches errors.ErrUnsupported.
var ErrUnsupported = fmt.Errorf("baseline: no bindings in a raw map: %w",
	errors.ErrUnsupported)

// Registry is the driver interface: the operations every benchmark
// scenario runs, with the semantics of package registry. Errors match the
// registry's sentinels (registry.ErrAlreadyRegistered,
// registry.ErrServerNotFound, ...) with errors.Is.
type Registry interface {
	// RegisterServer registers id until ctx ends or it is unregistered.
	RegisterServer(ctx context.Context, id string, h Handle, cfg ServerConfig) error
	// RegisterTransport registers transport id, unbound, until ctx ends
	// or it is unregistered.
	RegisterTransport(ctx context.Context, id string, h Handle, cfg TransportConfig) error
	// UnregisterServer removes server id and unbinds its transports.
	UnregisterServer(id string) error
	// UnregisterTransport removes transport id and its binding.
	UnregisterTransport(id string) error

	// FindServer returns the handle of server id.
	FindServer(id string) (Handle, bool)
	// FindTransport returns the handle of transport id.
	FindTransport(id string) (Handle, bool)

	// Bind binds transport tid to server sid, moving it if bound.
	Bind(tid, sid string) error
	// Unbind unbinds transport tid.
	Unbind(tid string) error
	// ServerOf returns the server transport tid is bound to.
	ServerOf(tid string) (string, bool)

	// RouteToServer writes msg to server sid's handle, from tid.
	RouteToServer(ctx context.Context, sid, tid string, msg Msg) error
	// RouteToTransport writes msg to transport tid's handle, from sid.
	RouteToTransport(ctx context.Context, tid, sid string, msg Msg) error
	// Broadcast writes msg to every transport bound to sid when the
	// call starts, and counts the writes that succeeded and failed.
	Broadcast(ctx context.Context, sid string, msg Msg) (delivered, failed int, err error)

	// Counts returns the numbers of live servers and transports.
	Counts() (servers, transports int)
	// Close removes every entry and stops any goroutine the
	// implementation runs. Later calls fail with registry.ErrClosed.
	Close() error
}

// Impl describes one implementation for the benchmark tables.
type Impl struct {
	// Name is the benchstat key value: sharded, syncmap, rwmutex, chan
	// or xsyncmap.
	Name string
	// Shards is the shard count of a sharded registry, else 0.
	Shards int
	// Bindings reports whether Bind, routing and Broadcast work; the
	// raw map has none.
	Bindings bool
	// New returns an empty registry presized for capacity entries of
	// each kind where the implementation can presize (0: no hint).
	New func(capacity int) (Registry, error)
}

// Label names the implementation in a table: "sharded-16", "syncmap".
func (i Impl) Label() string {
	if i.Shards > 0 {
		return fmt.Sprintf("%s-%d", i.Name, i.Shards)
	}
	return i.Name
}

// ShardCounts are the shard counts the benchmarks run the registry at:
// the published light, default, heavy and extreme loads.
var ShardCounts = []int{
	registry.ShardsLight, registry.ShardsDefault,
	registry.ShardsHeavy, registry.ShardsExtreme,
}

// Impls returns the sharded registry at each of [ShardCounts], then the
// baselines: syncmap, rwmutex, chan and xsyncmap.
func Impls() []Impl {
	var out []Impl
	for _, n := range ShardCounts {
		out = append(out, ShardedImpl(n))
	}
	return append(out,
		Impl{Name: "syncmap", Bindings: true,
			New: func(int) (Registry, error) { return NewSyncMap(), nil }},
		Impl{Name: "rwmutex", Bindings: true,
			New: func(c int) (Registry, error) { return NewRWMutex(c), nil }},
		Impl{Name: "chan", Bindings: true,
			New: func(c int) (Registry, error) { return NewChan(c), nil }},
		Impl{Name: "xsyncmap",
			New: func(c int) (Registry, error) { return NewXSyncMap(c), nil }},
	)
}

// ShardedImpl is the sharded registry at shards shards, with its default
// options (admission on) plus extra.
func ShardedImpl(shards int, extra ...registry.Option) Impl {
	return Impl{
		Name: "sharded", Shards: shards, Bindings: true,
		New: func(c int) (Registry, error) {
			opts := []registry.Option{registry.WithShards(shards)}
			if c > 0 {
				opts = append(opts, registry.WithCapacity(c))
			}
			return NewSharded(append(opts, extra...)...)
		},
	}
}
