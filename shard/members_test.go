package shard

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry/hashing"
)

// member is a set element with the hash the set is told it has.
type member struct {
	id string
	h  uint64
}

func newMembers(n int, hash func(string) uint64) []*member {
	ms := make([]*member, n)
	for i := range ms {
		id := "tr-" + strconv.Itoa(i)
		ms[i] = &member{id, hash(id)}
	}
	return ms
}

// requireSet checks that s holds exactly want, by every read method.
func requireSet(t *testing.T, s *Set[member], want map[*member]bool) {
	t.Helper()
	require.Equal(t, len(want), s.Len())

	got := map[*member]bool{}
	s.Range(func(v *member) bool {
		require.False(t, got[v], "Range yields %q twice", v.id)
		got[v] = true
		return true
	})
	require.Len(t, got, len(want))
	for v := range want {
		require.True(t, got[v], "Range misses %q", v.id)
		require.True(t, s.Contains(v.h, v), "Contains misses %q", v.id)
	}

	n := 0
	s.Chunks(func(vs []*member) bool {
		require.NotEmpty(t, vs)
		n += len(vs)
		return true
	})
	require.Equal(t, len(want), n)
}

// A seeded sequence of adds and removes against a reference map, with
// three hash functions: a real one, a weak one that shares low bits, and
// one where every member collides.
func TestMembersMatchesReference(t *testing.T) {
	tests := []struct {
		name string
		give func(string) uint64
	}{
		{"xxh3", hashing.XXH3},
		{"low bits shared", func(id string) uint64 { return hashing.XXH3(id) &^ 0xffff }},
		{"all collide", func(string) uint64 { return 42 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := newMembers(600, tt.give)
			rng := rand.New(rand.NewPCG(1, 2))
			var m Members[member]
			want := map[*member]bool{}

			for step := range 4000 {
				v := pool[rng.IntN(len(pool))]
				if rng.IntN(3) > 0 {
					assert.Equal(t, !want[v], m.Add(v.h, v), "add %q", v.id)
					want[v] = true
				} else {
					assert.Equal(t, want[v], m.Remove(v.h, v), "remove %q", v.id)
					delete(want, v)
				}
				if step%500 == 0 {
					requireSet(t, m.Load(), want)
				}
			}
			requireSet(t, m.Load(), want)

			// Non-members are not contained.
			s := m.Load()
			for _, v := range pool {
				assert.Equal(t, want[v], s.Contains(v.h, v), "%q", v.id)
			}

			// Emptying the set leaves an empty snapshot.
			for v := range want {
				require.True(t, m.Remove(v.h, v))
			}
			requireSet(t, m.Load(), nil)
		})
	}
}

func TestMembersSnapshotsNeverChange(t *testing.T) {
	var m Members[member]
	ms := newMembers(300, hashing.XXH3)
	for _, v := range ms[:200] {
		m.Add(v.h, v)
	}
	before := m.Load()
	want := map[*member]bool{}
	for _, v := range ms[:200] {
		want[v] = true
	}

	// Change the set a lot; the old snapshot stays as it was.
	for _, v := range ms[200:] {
		m.Add(v.h, v)
	}
	for _, v := range ms[:100] {
		m.Remove(v.h, v)
	}
	requireSet(t, before, want)
	assert.Equal(t, 200, m.Load().Len())
}

func TestMembersDuplicatesAndAbsent(t *testing.T) {
	var m Members[member]
	v := &member{"a", 1}
	other := &member{"a", 1} // same ID and hash, different registration

	assert.True(t, m.Add(v.h, v))
	s := m.Load()
	assert.False(t, m.Add(v.h, v), "adding again changes nothing")
	assert.Same(t, s, m.Load(), "no new snapshot for a no-op")

	assert.False(t, m.Remove(other.h, other), "identity is the pointer")
	assert.True(t, m.Remove(v.h, v))
	assert.False(t, m.Remove(v.h, v))
	assert.Zero(t, m.Load().Len())
}

func TestNilSetIsEmpty(t *testing.T) {
	var s *Set[member]
	assert.Zero(t, s.Len())
	assert.False(t, s.Contains(1, &member{}))
	s.Range(func(*member) bool {
		t.Fatal("Range on nil set yielded")
		return false
	})
	s.Chunks(func([]*member) bool {
		t.Fatal("Chunks on nil set yielded")
		return false
	})

	var m Members[member]
	assert.Nil(t, m.Load(), "the zero Members is empty")
	assert.False(t, m.Remove(1, &member{}))
}

func TestMembersRangeStops(t *testing.T) {
	var m Members[member]
	for _, v := range newMembers(500, hashing.XXH3) {
		m.Add(v.h, v)
	}
	visits := 0
	m.Load().Range(func(*member) bool {
		visits++
		return visits < 7
	})
	assert.Equal(t, 7, visits)

	chunks := 0
	m.Load().Chunks(func([]*member) bool {
		chunks++
		return false
	})
	assert.Equal(t, 1, chunks)
}

// A change to a set of 15,000 members must copy one path of the trie,
// not the set: every node of the new snapshot but those on the path to
// the changed member (plus, when a full leaf splits, the new leaves under
// it) is shared with the old snapshot.
func TestMembersChangeCopiesBoundedPath(t *testing.T) {
	const size = 15_000
	pool := newMembers(size+200, hashing.XXH3)
	var m Members[member]
	for _, v := range pool[:size] {
		m.Add(v.h, v)
	}
	total := len(nodesOf(m.Load()))
	require.Greater(t, total, 100, "a 15,000-member trie has many nodes")

	check := func(op string, v *member, before, after *Set[member], split bool) {
		t.Helper()
		old := nodesOf(before)
		fresh := 0
		words := 0
		for n := range nodesOf(after) {
			if old[n] {
				continue
			}
			fresh++
			if n.kids != nil {
				words += fanout
			} else {
				words += len(n.vs) + len(n.hs)
			}
		}

		// The deeper of the two paths bounds the copy.
		path := max(len(pathTo(before, v.h)), len(pathTo(after, v.h)))
		bound := path
		if split {
			bound += fanout
		}
		assert.LessOrEqual(t, fresh, bound,
			"%s %q: %d new nodes of %d, path %d", op, v.id, fresh, total, path)
		assert.LessOrEqual(t, words, path*fanout+2*(leafMax+1),
			"%s %q: copied %d words", op, v.id, words)
	}

	// Adds, each onto the set as it stands.
	for _, v := range pool[size:] {
		before := m.Load()
		leaf := pathTo(before, v.h)
		split := len(leaf) > 0 && len(leaf[len(leaf)-1].vs) >= leafMax
		require.True(t, m.Add(v.h, v))
		check("add", v, before, m.Load(), split)
	}

	// Removes, spread over the set.
	for i := 0; i < size; i += size / 200 {
		v := pool[i]
		before := m.Load()
		require.True(t, m.Remove(v.h, v))
		check("remove", v, before, m.Load(), false)
	}
}

// nodesOf returns every node of s.
func nodesOf(s *Set[member]) map[*node[member]]bool {
	out := map[*node[member]]bool{}
	if s == nil {
		return out
	}
	var walk func(n *node[member])
	walk = func(n *node[member]) {
		if n == nil {
			return
		}
		out[n] = true
		if n.kids != nil {
			for _, k := range n.kids {
				walk(k)
			}
		}
	}
	walk(s.root)
	return out
}

// pathTo returns the nodes from the root to the leaf where hash h lives.
func pathTo(s *Set[member], h uint64) []*node[member] {
	var path []*node[member]
	if s == nil {
		return nil
	}
	n := s.root
	for depth := 0; n != nil; depth++ {
		path = append(path, n)
		if n.kids == nil {
			break
		}
		n = n.kids[slot(h, depth)]
	}
	return path
}
