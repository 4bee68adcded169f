package registry_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/hashing"
)

func TestListAll(t *testing.T) {
	r := newReg(t)
	const n = 300
	want := map[string]bool{}
	for i := range n {
		id := "srv-" + strconv.Itoa(i)
		mustServer(t, r, id, &recorder{})
		mustTransport(t, r, "tr-"+strconv.Itoa(i), &recorder{})
		want[id] = true
	}
	mustTransport(t, r, "extra", &recorder{})

	got := map[string]bool{}
	for id, s := range r.Servers() {
		require.False(t, got[id], "%q twice", id)
		got[id] = true
		assert.Equal(t, id, s.ID())
		assert.Equal(t, id, s.Config().Name, "the value is the registration")
	}
	assert.Equal(t, want, got)

	nt := 0
	for id, tr := range r.Transports() {
		assert.Equal(t, id, tr.ID())
		nt++
	}
	assert.Equal(t, n+1, nt)
	assert.Equal(t, n, r.ServerCount())
	assert.Equal(t, n+1, r.TransportCount())
}

func TestListEarlyBreak(t *testing.T) {
	r := newReg(t)
	for i := range 100 {
		mustServer(t, r, strconv.Itoa(i), &recorder{})
		mustTransport(t, r, strconv.Itoa(i), &recorder{})
	}
	tests := []struct {
		name string
		give func(yield func() bool)
	}{
		{"servers", func(yield func() bool) {
			for range r.Servers() {
				if !yield() {
					break
				}
			}
		}},
		{"transports", func(yield func() bool) {
			for range r.Transports() {
				if !yield() {
					break
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A range-over-func loop panics if the iterator yields after
			// the body broke, so reaching the end proves it stopped.
			for _, stop := range []int{1, 5, 99} {
				visits := 0
				require.NotPanics(t, func() {
					tt.give(func() bool {
						visits++
						return visits < stop
					})
				})
				assert.Equal(t, stop, visits)
			}
		})
	}
}

// The loop body may call any method: here it unregisters what it sees
// and registers new entries. No ID comes twice and nothing deadlocks.
func TestListBodyMayWrite(t *testing.T) {
	r := newReg(t)
	const n = 500
	for i := range n {
		mustServer(t, r, "old-"+strconv.Itoa(i), &recorder{})
		mustBound(t, r, "tr-"+strconv.Itoa(i), "old-"+strconv.Itoa(i), &recorder{})
	}

	seen := map[string]bool{}
	added := 0
	for id := range r.Servers() {
		require.False(t, seen[id], "%q twice", id)
		seen[id] = true
		require.NoError(t, r.UnregisterServer(id))
		if added < n {
			mustServer(t, r, "new-"+strconv.Itoa(added), &recorder{})
			added++
		}
	}
	for i := range n {
		assert.True(t, seen["old-"+strconv.Itoa(i)], "old-%d not yielded", i)
	}
	_, ok := r.FindServer("old-0")
	assert.False(t, ok)

	// Transports too, removing each and binding nothing.
	count := 0
	for id, tr := range r.Transports() {
		count++
		require.True(t, tr.Unregister(), id)
	}
	assert.Equal(t, n, count)
	assert.Zero(t, r.TransportCount())
}

// PartitionStats counts each kind per shard, and each entry sits in the
// shard its ID hashes to.
func TestPartitionStatsCounts(t *testing.T) {
	tests := []struct {
		name   string
		shards int
		hasher hashing.Hasher
	}{
		{"default", 16, nil},
		{"light", 8, nil},
		{"extreme", 64, nil},
		{"one shard", 16, hashing.OneShard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []registry.Option{registry.WithShards(tt.shards)}
			if tt.hasher != nil {
				opts = append(opts, registry.WithHasher(tt.hasher))
			}
			r := newReg(t, opts...)
			p, err := hashing.NewPicker(tt.shards, tt.hasher)
			require.NoError(t, err)

			wantS := make([]int, tt.shards)
			wantT := make([]int, tt.shards)
			for i := range 400 {
				id := "srv-" + strconv.Itoa(i)
				mustServer(t, r, id, &recorder{})
				wantS[p.Shard(p.Key(id))]++
			}
			for i := range 250 {
				id := "tr-" + strconv.Itoa(i)
				mustTransport(t, r, id, &recorder{})
				wantT[p.Shard(p.Key(id))]++
			}

			stats := r.PartitionStats()
			require.Len(t, stats, tt.shards)
			for i, st := range stats {
				assert.Equal(t, i, st.Index)
				assert.Equal(t, wantS[i], st.Servers, "servers in shard %d", i)
				assert.Equal(t, wantT[i], st.Transports, "transports in shard %d", i)
				one, err := r.PartitionStat(i)
				require.NoError(t, err)
				assert.Equal(t, st.Servers, one.Servers)
				assert.Equal(t, st.Transports, one.Transports)
			}
			if tt.hasher != nil {
				assert.Equal(t, 400, stats[0].Servers, "all in shard 0")
			}
		})
	}
}

func TestPartitionStatOutOfRange(t *testing.T) {
	r := newReg(t, registry.WithShards(8))
	for _, give := range []int{-1, 8, 1000} {
		_, err := r.PartitionStat(give)
		require.ErrorIs(t, err, registry.ErrInvalidOption, "index %d", give)
		var oe *registry.OptionError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "shard index", oe.Option)
		assert.Equal(t, give, oe.Value)
	}
}

// Listing works on an empty registry and after Close.
func TestListEmpty(t *testing.T) {
	r := newReg(t)
	for range r.Servers() {
		t.Error("empty registry yielded a server")
	}
	mustServer(t, r, "s", &recorder{})
	mustTransport(t, r, "t", &recorder{})
	require.NoError(t, r.Close())
	for id := range r.Servers() {
		t.Errorf("closed registry yielded server %q", id)
	}
	for id := range r.Transports() {
		t.Errorf("closed registry yielded transport %q", id)
	}
	assert.Zero(t, r.ServerCount())
	assert.Zero(t, r.TransportCount())
}

// IDs come out of listing byte for byte as they went in.
func TestListKeepsIDBytes(t *testing.T) {
	r := newReg(t)
	ids := []string{"\x00", "a\x00b", "\xff\xfe", "é", strconv.Itoa(7)}
	for _, id := range ids {
		_, err := r.RegisterServer(context.Background(), id, &recorder{}, srvCfg{})
		require.NoError(t, err)
	}
	var got []string
	for id := range r.Servers() {
		got = append(got, id)
	}
	slices.Sort(got)
	want := slices.Clone(ids)
	slices.Sort(want)
	assert.Equal(t, want, got)
}
