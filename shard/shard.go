// Package shard holds one partition of the registry: a lock-free map of
// servers and one of transports, each an xsync.MapOf keyed by a
// pre-hashed [hashing.Key], plus the copy-on-write [Members] sets that
// servers use for their bound transports.
//
// Reads (Load, Range, Len, Members.Load) take no lock and never wait for a
// writer. Writes lock one map bucket for the length of a pointer swap.
package shard

import (
	"github.com/puzpuzpuz/xsync/v3"

	"github.com/mcpshard/registry/hashing"
)

// Shard is one partition: the servers and transports whose IDs hash to it.
// Its fields are set by [New] and never reassigned; the tables are safe
// for concurrent use.
type Shard[S, T any] struct {
	Servers    Table[S]
	Transports Table[T]
}

// New returns a shard whose tables are sized to hold sizeHint entries of
// each kind without growing. A sizeHint of zero keeps the map default.
// A Shard is two pointers; registries keep shards by value, saving a
// pointer chase on every lookup.
func New[S, T any](sizeHint int) Shard[S, T] {
	return Shard[S, T]{
		Servers:    newTable[S](sizeHint),
		Transports: newTable[T](sizeHint),
	}
}

// Table maps keys to entries. The entry pointer is the identity of one
// registration: a later registration of the same ID stores a new pointer,
// so a stale remover (see [Table.CompareAndDelete]) can tell them apart.
type Table[V any] struct {
	m *xsync.MapOf[hashing.Key, *V]
}

func newTable[V any](sizeHint int) Table[V] {
	var opts []func(*xsync.MapConfig)
	if sizeHint > 0 {
		opts = append(opts, xsync.WithPresize(sizeHint))
	}
	return Table[V]{
		m: xsync.NewMapOfWithHasher[hashing.Key, *V](hashing.MapHasher, opts...),
	}
}

// Load returns the entry under k. It takes no lock and does not allocate.
func (t Table[V]) Load(k hashing.Key) (*V, bool) {
	return t.m.Load(k)
}

// Insert stores v under k unless the key is present. It returns the entry
// found and true when the key was taken, or v and false when v was stored.
func (t Table[V]) Insert(k hashing.Key, v *V) (*V, bool) {
	return t.m.LoadOrStore(k, v)
}

// LoadAndDelete removes the entry under k and returns it. Of racing
// deleters of one entry, exactly one gets it.
func (t Table[V]) LoadAndDelete(k hashing.Key) (*V, bool) {
	return t.m.LoadAndDelete(k)
}

// CompareAndDelete removes the entry under k only if it is v, and reports
// whether it did. A newer registration of the same ID is left in place.
func (t Table[V]) CompareAndDelete(k hashing.Key, v *V) bool {
	deleted := false
	t.m.Compute(k, func(old *V, loaded bool) (*V, bool) {
		deleted = loaded && old == v
		return old, !loaded || deleted
	})
	return deleted
}

// Range calls f for each entry until f returns false. No lock is held
// while f runs, f may change the table, and no key is visited twice; an
// entry added or removed during the call may or may not be visited.
func (t Table[V]) Range(f func(k hashing.Key, v *V) bool) {
	t.m.Range(f)
}

// Growths returns how many times the table has grown since [New]. It
// reads xsync's MapStats, which walks every bucket without locking, so
// it is for tests and diagnostics: tests use it to prove that a size
// hint is honoured.
func (t Table[V]) Growths() int64 {
	return t.m.Stats().TotalGrowths
}

// Len returns the number of entries. It sums the map's striped counters
// with atomic loads; under concurrent writes it is a moment's estimate.
func (t Table[V]) Len() int {
	return t.m.Size()
}
