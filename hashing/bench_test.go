package hashing_test

import (
	"strconv"
	"testing"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/mcpshard/registry/hashing"
)

// BenchmarkShardLookup measures the decision behind hashing.Key: whether
// a sharded lookup should hash the ID once and let the map reuse it
// (hash=once, what the registry does), or pick the shard with xxh3 and
// let the map hash the string again (hash=twice). raw is one unsharded
// xsync map with its built-in string hash, the floor.
func BenchmarkShardLookup(b *testing.B) {
	const shards = 16
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = "server-" + strconv.Itoa(i)
	}
	p, err := hashing.NewPicker(shards, nil)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("hash=once", func(b *testing.B) {
		var ms [shards]*xsync.MapOf[hashing.Key, *int]
		for i := range ms {
			ms[i] = xsync.NewMapOfWithHasher[hashing.Key, *int](hashing.MapHasher)
		}
		for _, id := range ids {
			k := p.Key(id)
			ms[p.Shard(k)].Store(k, new(int))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := p.Key(ids[i%len(ids)])
			if _, ok := ms[p.Shard(k)].Load(k); !ok {
				b.Fatal("missing")
			}
		}
	})

	b.Run("hash=twice", func(b *testing.B) {
		var ms [shards]*xsync.MapOf[string, *int]
		for i := range ms {
			ms[i] = xsync.NewMapOf[string, *int]()
		}
		for _, id := range ids {
			ms[p.Shard(p.Key(id))].Store(id, new(int))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := ids[i%len(ids)]
			if _, ok := ms[p.Shard(p.Key(id))].Load(id); !ok {
				b.Fatal("missing")
			}
		}
	})

	b.Run("hash=raw", func(b *testing.B) {
		m := xsync.NewMapOf[string, *int]()
		for _, id := range ids {
			m.Store(id, new(int))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, ok := m.Load(ids[i%len(ids)]); !ok {
				b.Fatal("missing")
			}
		}
	})
}
