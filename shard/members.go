package shard

import "sync/atomic"

// Trie shape. A branch has fanout children chosen by bitsPerLevel bits
// of the member's hash; a leaf holds up to leafMax members. An update
// copies one leaf and the branches above it, so its cost is bounded by
// depth*fanout pointers plus one leaf, whatever the size of the set: a
// server with 15,000 bound transports (depth 2) copies two branches and
// one leaf of at most 64 members per bind, not 15,000 members. Wide
// leaves keep iteration dense: a broadcast walks runs of up to 64
// members, not one node per member.
const (
	bitsPerLevel = 4
	fanout       = 1 << bitsPerLevel
	leafMax      = 64
	maxDepth     = 64 / bitsPerLevel // below this, leaves grow unbounded
)

// Members is a set of keys K, each with a payload E, that readers load as
// an immutable [Set] with one atomic load and writers replace with
// compare-and-swap. A key is its member's identity (the registry uses
// the transport's pointer); the payload travels beside it in the leaf,
// so a reader that needs only the payload (a broadcast needs the
// handle) never dereferences the key. The zero value is an empty set.
type Members[K comparable, E any] struct {
	// p is written only by CompareAndSwap in Add and Remove and read
	// with Load; nil means empty.
	p atomic.Pointer[Set[K, E]]
}

// Load returns the current snapshot. It takes no lock and does not
// allocate; the snapshot never changes.
func (m *Members[K, E]) Load() *Set[K, E] {
	return m.p.Load()
}

// Add inserts k, which hashes to h, with payload e, and reports whether
// k was absent. Adding a present key changes nothing.
func (m *Members[K, E]) Add(h uint64, k K, e E) bool {
	for {
		old := m.p.Load()
		next, changed := old.with(h, k, e)
		if !changed {
			return false
		}
		if m.p.CompareAndSwap(old, next) {
			return true
		}
	}
}

// Remove deletes k, which hashes to h, and reports whether it was there.
func (m *Members[K, E]) Remove(h uint64, k K) bool {
	for {
		old := m.p.Load()
		next, changed := old.without(h, k)
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
type Set[K comparable, E any] struct {
	root *node[K, E]
	n    int
}

type node[K comparable, E any] struct {
	// A leaf (kids == nil) holds its members' hashes, keys and payloads
	// in hs, ks and es, side by side; a branch holds children.
	hs   []uint64
	ks   []K
	es   []E
	kids *[fanout]*node[K, E]
}

// Len returns the number of members.
func (s *Set[K, E]) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Contains reports whether k, which hashes to h, is a member. It costs
// one walk from the root to a leaf.
func (s *Set[K, E]) Contains(h uint64, k K) bool {
	if s == nil {
		return false
	}
	n := s.root
	for depth := 0; n != nil; depth++ {
		if n.kids == nil {
			return index(n.ks, k) >= 0
		}
		n = n.kids[slot(h, depth)]
	}
	return false
}

// Range calls f for every member until f returns false. It allocates
// nothing and takes no lock.
func (s *Set[K, E]) Range(f func(k K, e E) bool) {
	s.Chunks(func(ks []K, es []E) bool {
		for i, k := range ks {
			if !f(k, es[i]) {
				return false
			}
		}
		return true
	})
}

// Chunks calls f with the members, a run of at most leafMax at a time,
// keys and payloads index by index, until f returns false. f must not
// modify the slices. It is the fast way to visit every member: one call
// per run, not per member.
func (s *Set[K, E]) Chunks(f func(ks []K, es []E) bool) {
	if s != nil && s.root != nil {
		s.root.chunks(f)
	}
}

func (n *node[K, E]) chunks(f func(ks []K, es []E) bool) bool {
	if n.kids == nil {
		return f(n.ks, n.es)
	}
	for _, k := range n.kids {
		if k != nil && !k.chunks(f) {
			return false
		}
	}
	return true
}

func index[K comparable](ks []K, k K) int {
	for i, x := range ks {
		if x == k {
			return i
		}
	}
	return -1
}

func slot(h uint64, depth int) int {
	return int(h>>(uint(depth)*bitsPerLevel)) & (fanout - 1)
}

func (s *Set[K, E]) with(h uint64, k K, e E) (*Set[K, E], bool) {
	var root *node[K, E]
	n := 0
	if s != nil {
		root, n = s.root, s.n
	}
	next, added := insert(root, 0, h, k, e)
	if !added {
		return s, false
	}
	return &Set[K, E]{root: next, n: n + 1}, true
}

func (s *Set[K, E]) without(h uint64, k K) (*Set[K, E], bool) {
	if s == nil || s.root == nil {
		return s, false
	}
	next, removed := remove(s.root, 0, h, k)
	if !removed {
		return s, false
	}
	return &Set[K, E]{root: next, n: s.n - 1}, true
}

// insert returns a copy of n with k added, copying only the path to it.
func insert[K comparable, E any](n *node[K, E], depth int, h uint64, k K, e E) (*node[K, E], bool) {
	if n == nil {
		return &node[K, E]{hs: []uint64{h}, ks: []K{k}, es: []E{e}}, true
	}
	if n.kids == nil {
		if index(n.ks, k) >= 0 {
			return n, false
		}
		if len(n.ks) < leafMax || depth >= maxDepth {
			return &node[K, E]{
				hs: append(n.hs[:len(n.hs):len(n.hs)], h),
				ks: append(n.ks[:len(n.ks):len(n.ks)], k),
				es: append(n.es[:len(n.es):len(n.es)], e),
			}, true
		}
		return split(n, depth, h, k, e), true
	}
	i := slot(h, depth)
	child, added := insert(n.kids[i], depth+1, h, k, e)
	if !added {
		return n, false
	}
	kids := *n.kids
	kids[i] = child
	return &node[K, E]{kids: &kids}, true
}

// split turns a full leaf into a branch and adds k.
func split[K comparable, E any](leaf *node[K, E], depth int, h uint64, k K, e E) *node[K, E] {
	var kids [fanout]*node[K, E]
	for j, x := range leaf.ks {
		i := slot(leaf.hs[j], depth)
		kids[i], _ = insert(kids[i], depth+1, leaf.hs[j], x, leaf.es[j])
	}
	i := slot(h, depth)
	kids[i], _ = insert(kids[i], depth+1, h, k, e)
	return &node[K, E]{kids: &kids}
}

// remove returns a copy of n without k; an emptied node becomes nil.
func remove[K comparable, E any](n *node[K, E], depth int, h uint64, k K) (*node[K, E], bool) {
	if n == nil {
		return nil, false
	}
	if n.kids == nil {
		i := index(n.ks, k)
		switch {
		case i < 0:
			return n, false
		case len(n.ks) == 1:
			return nil, true
		}
		return &node[K, E]{
			hs: cut(n.hs, i),
			ks: cut(n.ks, i),
			es: cut(n.es, i),
		}, true
	}
	i := slot(h, depth)
	child, removed := remove(n.kids[i], depth+1, h, k)
	if !removed {
		return n, false
	}
	kids := *n.kids
	kids[i] = child
	if kids == ([fanout]*node[K, E]{}) {
		return nil, true
	}
	return &node[K, E]{kids: &kids}, true
}

// cut returns a new slice holding s without s[i].
func cut[E any](s []E, i int) []E {
	out := make([]E, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...)
}
