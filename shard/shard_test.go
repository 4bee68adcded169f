package shard

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry/hashing"
)

type entry struct{ id string }

func key(id string) hashing.Key {
	return hashing.Key{Hash: hashing.XXH3(id), ID: id}
}

func TestTableInsertLoadDelete(t *testing.T) {
	sh := New[entry, entry](0)
	tbl := sh.Servers
	k := key("server-1")
	first := &entry{"server-1"}

	got, loaded := tbl.Insert(k, first)
	require.False(t, loaded)
	assert.Same(t, first, got)

	// A second insert of the key keeps the first entry.
	second := &entry{"server-1"}
	got, loaded = tbl.Insert(k, second)
	require.True(t, loaded)
	assert.Same(t, first, got)

	v, ok := tbl.Load(k)
	require.True(t, ok)
	assert.Same(t, first, v)
	assert.Equal(t, 1, tbl.Len())
	assert.Zero(t, sh.Transports.Len(), "the kinds are separate tables")

	// A stale entry deletes nothing; the live one deletes once.
	assert.False(t, tbl.CompareAndDelete(k, second))
	assert.Equal(t, 1, tbl.Len())
	assert.True(t, tbl.CompareAndDelete(k, first))
	assert.False(t, tbl.CompareAndDelete(k, first))
	_, ok = tbl.Load(k)
	assert.False(t, ok)
	assert.Zero(t, tbl.Len())

	// Deleting a key that was never there stores nothing.
	assert.False(t, tbl.CompareAndDelete(key("ghost"), first))
	assert.Zero(t, tbl.Len())
}

func TestTableRangeWhileDeleting(t *testing.T) {
	tbl := New[entry, entry](0).Transports
	const n = 1000
	for i := range n {
		id := "tr-" + strconv.Itoa(i)
		_, loaded := tbl.Insert(key(id), &entry{id})
		require.False(t, loaded)
	}

	// The body deletes what it visits; no key comes twice.
	seen := map[string]bool{}
	tbl.Range(func(k hashing.Key, v *entry) bool {
		assert.False(t, seen[k.ID], "visited %q twice", k.ID)
		seen[k.ID] = true
		assert.Equal(t, k.ID, v.id)
		assert.True(t, tbl.CompareAndDelete(k, v))
		return true
	})
	assert.Len(t, seen, n)
	assert.Zero(t, tbl.Len())

	// Range stops when told.
	for i := range 10 {
		id := strconv.Itoa(i)
		tbl.Insert(key(id), &entry{id})
	}
	visits := 0
	tbl.Range(func(hashing.Key, *entry) bool {
		visits++
		return false
	})
	assert.Equal(t, 1, visits)
}

// A table built with a size hint holds that many entries without
// growing; the same load without the hint grows, which shows that the
// check can fail.
func TestTablePresize(t *testing.T) {
	tests := []struct {
		name        string
		give        int
		wantGrowths bool
	}{
		{"hinted", 5000, false},
		{"default", 0, true},
	}
	const n = 5000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := New[entry, entry](tt.give)
			for i := range n {
				id := "server-" + strconv.Itoa(i)
				sh.Servers.Insert(key(id), &entry{id})
				sh.Transports.Insert(key(id), &entry{id})
			}
			require.Equal(t, n, sh.Servers.Len())
			if tt.wantGrowths {
				assert.Positive(t, sh.Servers.Growths())
				return
			}
			assert.Zero(t, sh.Servers.Growths())
			assert.Zero(t, sh.Transports.Growths())
		})
	}
}

// Every ID in one hash still works: the table must not rely on spread.
func TestTableConstantHash(t *testing.T) {
	tbl := New[entry, entry](0).Servers
	const n = 200
	for i := range n {
		id := strconv.Itoa(i)
		_, loaded := tbl.Insert(hashing.Key{Hash: 42, ID: id}, &entry{id})
		require.False(t, loaded)
	}
	for i := range n {
		id := strconv.Itoa(i)
		v, ok := tbl.Load(hashing.Key{Hash: 42, ID: id})
		require.True(t, ok)
		assert.Equal(t, id, v.id)
	}
	assert.Equal(t, n, tbl.Len())
}

func TestTableLoadDoesNotAllocate(t *testing.T) {
	tbl := New[entry, entry](0).Servers
	hit, miss := key("server-1"), key("server-2")
	tbl.Insert(hit, &entry{"server-1"})
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = tbl.Load(hit)
		_, _ = tbl.Load(miss)
	})
	assert.Zero(t, allocs)
}
