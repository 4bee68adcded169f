package registry

import (
	"iter"

	"github.com/mcpshard/registry/hashing"
)

// Servers yields every live server, shard by shard. It is safe during
// concurrent writes: no lock is held while the loop body runs, the body
// may register and unregister freely, and no ID is yielded twice. An
// entry added or removed during the loop may or may not be yielded.
// Each shard visited costs one small buffer allocation.
func (r *Registry[M, S, T]) Servers() iter.Seq2[string, *Server[M, S]] {
	return func(yield func(string, *Server[M, S]) bool) {
		for _, sh := range r.shards {
			more := true
			sh.Servers.Range(func(k hashing.Key, s *Server[M, S]) bool {
				more = yield(k.ID, s)
				return more
			})
			if !more {
				return
			}
		}
	}
}

// Transports yields every live transport, with the guarantees of
// [Registry.Servers].
func (r *Registry[M, S, T]) Transports() iter.Seq2[string, *Transport[M, T]] {
	return func(yield func(string, *Transport[M, T]) bool) {
		for _, sh := range r.shards {
			more := true
			sh.Transports.Range(func(k hashing.Key, t *Transport[M, T]) bool {
				more = yield(k.ID, t)
				return more
			})
			if !more {
				return
			}
		}
	}
}

// ServerCount returns the number of live servers. It sums per-shard
// counters with atomic loads: under concurrent writes, a moment's
// estimate.
func (r *Registry[M, S, T]) ServerCount() int {
	n := 0
	for _, sh := range r.shards {
		n += sh.Servers.Len()
	}
	return n
}

// TransportCount returns the number of live transports, like
// [Registry.ServerCount].
func (r *Registry[M, S, T]) TransportCount() int {
	n := 0
	for _, sh := range r.shards {
		n += sh.Transports.Len()
	}
	return n
}
