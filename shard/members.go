package shard

import "sync/atomic"

// Trie shape. A branch has fanout children chosen by bitsPerLevel bits
// of the member's hash; a leaf holds up to leafMax members. An update
// copies one leaf and the branches above it, so its cost is bounded by
// depth*fanout + 2*leafMax words whatever the size of the set: a server
// with 15,000 bound transports (depth 2) copies under 200 words per bind,
// not 15,000. Wide leaves keep iteration dense: a broadcast walks runs of
// up to 64 members, not one node per member.
const (
	bitsPerLevel = 4
	fanout       = 1 << bitsPerLevel
	leafMax      = 64
	maxDepth     = 64 / bitsPerLevel // below this, leaves grow unbounded
)

// Members is a set of *T that readers load as an immutable [Set] with one
// atomic load and writers replace with compare-and-swap. The zero value
// is an empty set.
type Members[T any] struct {
	// p is written only by CompareAndSwap in Add and Remove and read
	// with Load; nil means empty.
	p atomic.Pointer[Set[T]]
}

// Load returns the current snapshot. It takes no lock and does not
// allocate; the snapshot never changes.
func (m *Members[T]) Load() *Set[T] {
	return m.p.Load()
}

// Add inserts v, which hashes to h, and reports whether it was absent.
func (m *Members[T]) Add(h uint64, v *T) bool {
	for {
		old := m.p.Load()
		next, changed := old.with(h, v)
		if !changed {
			return false
		}
		if m.p.CompareAndSwap(old, next) {
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

// Set is an immutable snapshot of a [Members]. A nil *Set is empty; every
// method is safe on it.
type Set[T any] struct {
	root *node[T]
	n    int
}

type node[T any] struct {
	// A leaf (kids == nil) holds its members in vs and their hashes in
	// hs, side by side; a branch holds children.
	hs   []uint64
	vs   []*T
	kids *[fanout]*node[T]
}

// Len returns the number of members.
func (s *Set[T]) Len() int {
	if s == nil {
		return 0
	}
	return s.n
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
			return index(n.vs, v) >= 0
		}
		n = n.kids[slot(h, depth)]
	}
	return false
}

// Range calls f for every member until f returns false. It allocates
// nothing and takes no lock.
func (s *Set[T]) Range(f func(v *T) bool) {
	s.Chunks(func(vs []*T) bool {
		for _, v := range vs {
			if !f(v) {
				return false
			}
		}
		return true
	})
}

// Chunks calls f with the members, a run of at most a few dozen at a
// time, until f returns false. f must not modify the slice. It is the
// fast way to visit every member: one call per run, not per member.
func (s *Set[T]) Chunks(f func(vs []*T) bool) {
	if s != nil && s.root != nil {
		s.root.chunks(f)
	}
}

func (n *node[T]) chunks(f func(vs []*T) bool) bool {
	if n.kids == nil {
		return f(n.vs)
	}
	for _, k := range n.kids {
		if k != nil && !k.chunks(f) {
			return false
		}
	}
	return true
}

func index[T any](vs []*T, v *T) int {
	for i, x := range vs {
		if x == v {
			return i
		}
	}
	return -1
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
	next, added := insert(root, 0, h, v)
	if !added {
		return s, false
	}
	return &Set[T]{root: next, n: n + 1}, true
}

func (s *Set[T]) without(h uint64, v *T) (*Set[T], bool) {
	if s == nil || s.root == nil {
		return s, false
	}
	next, removed := remove(s.root, 0, h, v)
	if !removed {
		return s, false
	}
	return &Set[T]{root: next, n: s.n - 1}, true
}

// insert returns a copy of n with v added, copying only the path to it.
func insert[T any](n *node[T], depth int, h uint64, v *T) (*node[T], bool) {
	if n == nil {
		return &node[T]{hs: []uint64{h}, vs: []*T{v}}, true
	}
	if n.kids == nil {
		if index(n.vs, v) >= 0 {
			return n, false
		}
		if len(n.vs) < leafMax || depth >= maxDepth {
			return &node[T]{
				hs: append(n.hs[:len(n.hs):len(n.hs)], h),
				vs: append(n.vs[:len(n.vs):len(n.vs)], v),
			}, true
		}
		return split(n, depth, h, v), true
	}
	i := slot(h, depth)
	child, added := insert(n.kids[i], depth+1, h, v)
	if !added {
		return n, false
	}
	kids := *n.kids
	kids[i] = child
	return &node[T]{kids: &kids}, true
}

// split turns a full leaf into a branch and adds v.
func split[T any](leaf *node[T], depth int, h uint64, v *T) *node[T] {
	var kids [fanout]*node[T]
	for j, x := range leaf.vs {
		i := slot(leaf.hs[j], depth)
		kids[i], _ = insert(kids[i], depth+1, leaf.hs[j], x)
	}
	i := slot(h, depth)
	kids[i], _ = insert(kids[i], depth+1, h, v)
	return &node[T]{kids: &kids}
}

// remove returns a copy of n without v; an emptied node becomes nil.
func remove[T any](n *node[T], depth int, h uint64, v *T) (*node[T], bool) {
	if n == nil {
		return nil, false
	}
	if n.kids == nil {
		i := index(n.vs, v)
		switch {
		case i < 0:
			return n, false
		case len(n.vs) == 1:
			return nil, true
		}
		return &node[T]{
			hs: cut(n.hs, i),
			vs: cut(n.vs, i),
		}, true
	}
	i := slot(h, depth)
	child, removed := remove(n.kids[i], depth+1, h, v)
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

// cut returns a new slice holding s without s[i].
func cut[E any](s []E, i int) []E {
	out := make([]E, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...)
}
