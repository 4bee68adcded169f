package shard

import "sync/atomic"

// Trie shape. A branch has fanout children chosen by bitsPerLevel bits
// of the member's hash; a leaf holds up to leafMax members. An update
// copies one leaf and the branches above it, so its cost is bounded by
// depth*fanout + leafMax pointers, whatever the size of the set: a server
// with 15,000 bound transports copies about 80 pointers per bind, not
// 15,000.
const (
	bitsPerLevel = 5
	fanout       = 1 << bitsPerLevel
	leafMax      = 16
	maxDepth     = 64 / bitsPerLevel // below this, leaves grow unbounded
)

// Members is a set of *T that readers load as an immutable [Set] with one
// atomic load and writers replace with compare-and-swap. A Members may be
// closed: after [Members.Close], Add fails, so that nothing joins a set
// whose owner is gone. The zero value is an empty open set.
type Members[T any] struct {
	// p is written only by CompareAndSwap in Add, Remove and Close and
	// read with Load; nil means empty and open.
	p atomic.Pointer[Set[T]]
}

// Load returns the current snapshot. It takes no lock and does not
// allocate; the snapshot never changes.
func (m *Members[T]) Load() *Set[T] {
	return m.p.Load()
}

// Add inserts v, which hashes to h, and reports false if the set is
// closed. Adding a member already present is a successful no-op.
func (m *Members[T]) Add(h uint64, v *T) bool {
	for {
		old := m.p.Load()
		if old.Closed() {
			return false
		}
		next, changed := old.with(h, v)
		if !changed || m.p.CompareAndSwap(old, next) {
			return true
		}
	}
}

// Remove deletes v, which hashes to h, and reports whether it was there.
func (m *Members[T]) Remove(h uint64, v *T) bool {
	for {
		old := m.p.Load()
		next, changed := old.without(h, v)
		if !changed {
			return false
		}
		if m.p.CompareAndSwap(old, next) {
			return true
		}
	}
}

// Close closes the set and returns the members it held at that moment.
// Only the first call returns them; later calls return an empty set.
func (m *Members[T]) Close() *Set[T] {
	closed := &Set[T]{closed: true}
	for {
		old := m.p.Load()
		if old.Closed() {
			return nil
		}
		if m.p.CompareAndSwap(old, closed) {
			return old
		}
	}
}

// Set is an immutable snapshot of a [Members]. A nil *Set is empty and
// open; every method is safe on it.
type Set[T any] struct {
	root   *node[T]
	n      int
	closed bool
}

type node[T any] struct {
	items []item[T]         // leaf members, when kids is nil
	kids  *[fanout]*node[T] // children, for a branch
}

type item[T any] struct {
	h uint64
	v *T
}

// Len returns the number of members.
func (s *Set[T]) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Closed reports whether the snapshot is of a closed set.
func (s *Set[T]) Closed() bool {
	return s != nil && s.closed
}

// Contains reports whether v, which hashes to h, is a member. It costs
// one walk from the root to a leaf.
func (s *Set[T]) Contains(h uint64, v *T) bool {
	if s == nil {
		return false
	}
	n := s.root
	for depth := 0; n != nil; depth++ {
		if n.kids == nil {
			for _, it := range n.items {
				if it.v == v {
					return true
				}
			}
			return false
		}
		n = n.kids[slot(h, depth)]
	}
	return false
}

// Range calls f for every member until f returns false. It allocates
// nothing and takes no lock.
func (s *Set[T]) Range(f func(v *T) bool) {
	if s != nil && s.root != nil {
		s.root.each(f)
	}
}

func (n *node[T]) each(f func(v *T) bool) bool {
	if n.kids == nil {
		for _, it := range n.items {
			if !f(it.v) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if k != nil && !k.each(f) {
			return false
		}
	}
	return true
}

func slot(h uint64, depth int) int {
	return int(h>>(uint(depth)*bitsPerLevel)) & (fanout - 1)
}

func (s *Set[T]) with(h uint64, v *T) (*Set[T], bool) {
	var root *node[T]
	n := 0
	if s != nil {
		root, n = s.root, s.n
	}
	next, added := insert(root, 0, item[T]{h, v})
	if !added {
		return s, false
	}
	return &Set[T]{root: next, n: n + 1}, true
}

func (s *Set[T]) without(h uint64, v *T) (*Set[T], bool) {
	if s == nil || s.root == nil {
		return s, false
	}
	next, removed := remove(s.root, 0, item[T]{h, v})
	if !removed {
		return s, false
	}
	return &Set[T]{root: next, n: s.n - 1, closed: s.closed}, true
}

// insert returns a copy of n with it added, copying only the path to it.
func insert[T any](n *node[T], depth int, it item[T]) (*node[T], bool) {
	if n == nil {
		return &node[T]{items: []item[T]{it}}, true
	}
	if n.kids == nil {
		for _, x := range n.items {
			if x.v == it.v {
				return n, false
			}
		}
		if len(n.items) < leafMax || depth >= maxDepth {
			items := make([]item[T], len(n.items), len(n.items)+1)
			copy(items, n.items)
			return &node[T]{items: append(items, it)}, true
		}
		return split(n, depth, it), true
	}
	i := slot(it.h, depth)
	child, added := insert(n.kids[i], depth+1, it)
	if !added {
		return n, false
	}
	kids := *n.kids
	kids[i] = child
	return &node[T]{kids: &kids}, true
}

// split turns a full leaf into a branch and adds it.
func split[T any](leaf *node[T], depth int, it item[T]) *node[T] {
	var kids [fanout]*node[T]
	for _, x := range append(leaf.items[:len(leaf.items):len(leaf.items)], it) {
		i := slot(x.h, depth)
		kids[i], _ = insert(kids[i], depth+1, x)
	}
	return &node[T]{kids: &kids}
}

// remove returns a copy of n without it; an emptied node becomes nil.
func remove[T any](n *node[T], depth int, it item[T]) (*node[T], bool) {
	if n == nil {
		return nil, false
	}
	if n.kids == nil {
		for i, x := range n.items {
			if x.v != it.v {
				continue
			}
			if len(n.items) == 1 {
				return nil, true
			}
			items := make([]item[T], 0, len(n.items)-1)
			items = append(items, n.items[:i]...)
			items = append(items, n.items[i+1:]...)
			return &node[T]{items: items}, true
		}
		return n, false
	}
	i := slot(it.h, depth)
	child, removed := remove(n.kids[i], depth+1, it)
	if !removed {
		return n, false
	}
	kids := *n.kids
	kids[i] = child
	if kids == ([fanout]*node[T]{}) {
		return nil, true
	}
	return &node[T]{kids: &kids}, true
}
