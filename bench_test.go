package registry_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/puzpuzpuz/xsync/v3"
	"github.com/zeebo/xxh3"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/hashing"
	"github.com/mcpshard/registry/internal/baseline"
)

// The benchmarks run the registry and its baselines (package
// internal/baseline, shared with cmd/regbench) in one binary. Names split
// on key=value so that benchstat can group them:
//
//	go test -run '^$' -bench . -count 6 . | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt
//
// Parallel cases use b.RunParallel; set the goroutine count with -cpu.
// BENCHMARKS.md records a run.

// benchCase is one implementation under one name.
type benchCase struct {
	name string // "impl=sharded/shards=16"
	impl baseline.Impl
}

// benchCases returns the sharded registry at the given shard counts, then
// the baselines (xsyncmap only when raw is set: it has no bindings).
func benchCases(shards []int, raw bool) []benchCase {
	var out []benchCase
	for _, n := range shards {
		out = append(out, benchCase{
			fmt.Sprintf("impl=sharded/shards=%d", n), baseline.ShardedImpl(n)})
	}
	for _, impl := range baseline.Impls() {
		if impl.Shards > 0 || (!impl.Bindings && !raw) {
			continue
		}
		out = append(out, benchCase{"impl=" + impl.Name, impl})
	}
	return out
}

// sci names a size as benchstat-friendly short text: 1e4, 15e3.
func sci(n int) string {
	e := 0
	for n >= 10 && n%10 == 0 {
		n /= 10
		e++
	}
	return fmt.Sprintf("%de%d", n, e)
}

// newBench returns an empty registry of impl, closed when b ends.
func newBench(b *testing.B, impl baseline.Impl) baseline.Registry {
	b.Helper()
	r, err := impl.New(0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r
}

// withServers returns a registry of impl holding n servers, and their IDs.
func withServers(b *testing.B, impl baseline.Impl, n int) (baseline.Registry, []string) {
	b.Helper()
	r := newBench(b, impl)
	ids := baseline.IDs("srv-", n, 1)
	for _, id := range ids {
		err := r.RegisterServer(context.Background(), id, baseline.Nop{},
			baseline.ServerConfig{Name: id})
		if err != nil {
			b.Fatal(err)
		}
	}
	return r, ids
}

func BenchmarkFindServer(b *testing.B) {
	type size struct {
		shards []int
		n      int
	}
	for _, sz := range []size{
		{[]int{16}, 1e3},
		{baseline.ShardCounts, 1e4},
		{[]int{16}, 1e5},
	} {
		for _, c := range benchCases(sz.shards, true) {
			r, ids := withServers(b, c.impl, sz.n)
			probe := baseline.Probe(ids, 2)
			b.Run(fmt.Sprintf("%s/entries=%s", c.name, sci(sz.n)), func(b *testing.B) {
				b.ReportAllocs()
				if baseline.Find(r, probe, 0, b.N) != b.N {
					b.Fatal("lookup missed")
				}
			})
			_ = r.Close()
		}
	}
}

func BenchmarkFindServerParallel(b *testing.B) {
	const n = 1e4
	for _, c := range benchCases([]int{16, 64}, true) {
		r, ids := withServers(b, c.impl, n)
		probe := baseline.Probe(ids, 2)
		b.Run(fmt.Sprintf("%s/entries=%s", c.name, sci(n)), func(b *testing.B) {
			b.ReportAllocs()
			var start, missed atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				off := int(start.Add(7919))
				got := baseline.FindPB(r, probe, off, pb)
				_ = got
			})
			if missed.Load() != 0 {
				b.Fatal("lookup missed")
			}
		})
		_ = r.Close()
	}
}

// BenchmarkRegisterUnregister registers and unregisters one server per
// op beside 10,000 others. The sharded registry runs with admission on
// (its default) and off, which measures admission's cost.
func BenchmarkRegisterUnregister(b *testing.B) {
	const n = 1e4
	cases := benchCases(nil, true)
	cases = append([]benchCase{
		{"impl=sharded/shards=16/admission=on", baseline.ShardedImpl(16)},
		{"impl=sharded/shards=16/admission=off",
			baseline.ShardedImpl(16, registry.WithoutAdmission())},
	}, cases...)
	fresh := baseline.IDs("new-", 1<<12, 3)
	for _, c := range cases {
		r, _ := withServers(b, c.impl, n)
		b.Run(fmt.Sprintf("%s/entries=%s", c.name, sci(n)), func(b *testing.B) {
			b.ReportAllocs()
			if err := baseline.RegisterUnregister(r, fresh, baseline.Nop{}, b.N); err != nil {
				b.Fatal(err)
			}
		})
		_ = r.Close()
	}
}

func BenchmarkRegisterUnregisterParallel(b *testing.B) {
	const n = 1e4
	for _, c := range benchCases([]int{16, 64}, true) {
		r, _ := withServers(b, c.impl, n)
		var worker atomic.Int64
		b.Run(fmt.Sprintf("%s/entries=%s", c.name, sci(n)), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine cycles through IDs of its own.
				ids := baseline.IDs(fmt.Sprintf("w%d-", worker.Add(1)), 256, 4)
				ctx := context.Background()
				for i := 0; pb.Next(); i++ {
					id := ids[i&255]
					if err := r.RegisterServer(ctx, id, baseline.Nop{}, baseline.ServerConfig{}); err != nil {
						b.Error(err)
						return
					}
					if err := r.UnregisterServer(id); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		_ = r.Close()
	}
}

// withMembers returns a registry of impl with one server, "srv", and
// members transports bound to it, plus one unbound transport "extra".
func withMembers(b *testing.B, impl baseline.Impl, members int, h baseline.Handle) baseline.Registry {
	b.Helper()
	r := newBench(b, impl)
	ctx := context.Background()
	if err := r.RegisterServer(ctx, "srv", baseline.Nop{}, baseline.ServerConfig{}); err != nil {
		b.Fatal(err)
	}
	for _, id := range append(baseline.IDs("tr-", members, 5), "extra") {
		if err := r.RegisterTransport(ctx, id, h, baseline.TransportConfig{}); err != nil {
			b.Fatal(err)
		}
		if id == "extra" {
			break
		}
		if err := r.Bind(id, "srv"); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// BenchmarkBindUnbind binds one more transport to a server that has
// members bound transports, and unbinds it: one op is both.
func BenchmarkBindUnbind(b *testing.B) {
	for _, members := range []int{1e3, 15e3} {
		for _, c := range benchCases([]int{16}, false) {
			r := withMembers(b, c.impl, members, baseline.Nop{})
			b.Run(fmt.Sprintf("%s/members=%s", c.name, sci(members)), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := r.Bind("extra", "srv"); err != nil {
						b.Fatal(err)
					}
					if err := r.Unbind("extra"); err != nil {
						b.Fatal(err)
					}
				}
			})
			_ = r.Close()
		}
	}
}

// BenchmarkBroadcast writes one message to every bound transport through
// a direct handle that does nothing, and reports the registry's cost per
// transport.
func BenchmarkBroadcast(b *testing.B) {
	msg := baseline.Msg(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`)
	for _, members := range []int{1e3, 15e3} {
		for _, c := range benchCases([]int{16}, false) {
			r := withMembers(b, c.impl, members, baseline.Nop{})
			b.Run(fmt.Sprintf("%s/members=%s", c.name, sci(members)), func(b *testing.B) {
				b.ReportAllocs()
				ctx := context.Background()
				for i := 0; i < b.N; i++ {
					d, _, err := r.Broadcast(ctx, "srv", msg)
					if err != nil || d != members {
						b.Fatalf("delivered %d of %d: %v", d, members, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(members), "ns/transport")
			})
			_ = r.Close()
		}
	}
}

// BenchmarkRouteToServer routes one message to a random one of 10,000
// servers whose handles do nothing.
func BenchmarkRouteToServer(b *testing.B) {
	const n = 1e4
	msg := baseline.Msg(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	for _, c := range benchCases([]int{16}, true) {
		r, ids := withServers(b, c.impl, n)
		probe := baseline.Probe(ids, 6)
		mask := len(probe) - 1
		b.Run(fmt.Sprintf("%s/entries=%s", c.name, sci(n)), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				if err := r.RouteToServer(ctx, probe[i&mask], "tr-1", msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		_ = r.Close()
	}
}

// BenchmarkShardLookup compares hashing each ID once (the shard's map
// reuses the hash the shard was picked with, as package shard does) with
// hashing it twice (xxh3 to pick the shard, then the map's own hash), on
// the UUID-shaped IDs of the other benchmarks; hash=raw is one unsharded
// xsync map with its built-in hash, the floor. (package hashing has the
// same comparison on short "server-N" IDs.)
func BenchmarkShardLookup(b *testing.B) {
	const shards, n = 16, 1e4
	ids := baseline.IDs("srv-", n, 1)
	probe := baseline.Probe(ids, 2)
	mask := len(probe) - 1
	v := new(int)

	b.Run(fmt.Sprintf("hash=once/shards=%d/entries=%s", shards, sci(n)), func(b *testing.B) {
		picker, err := hashing.NewPicker(shards, nil)
		if err != nil {
			b.Fatal(err)
		}
		maps := make([]*xsync.MapOf[hashing.Key, *int], shards)
		for i := range maps {
			maps[i] = xsync.NewMapOfWithHasher[hashing.Key, *int](hashing.MapHasher)
		}
		for _, id := range ids {
			k := picker.Key(id)
			maps[picker.Shard(k)].Store(k, v)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := picker.Key(probe[i&mask])
			if _, ok := maps[picker.Shard(k)].Load(k); !ok {
				b.Fatal("missed")
			}
		}
	})

	b.Run(fmt.Sprintf("hash=twice/shards=%d/entries=%s", shards, sci(n)), func(b *testing.B) {
		maps := make([]*xsync.MapOf[string, *int], shards)
		for i := range maps {
			maps[i] = xsync.NewMapOf[string, *int]()
		}
		shard := func(id string) int { return int(xxh3.HashString(id) >> 60) }
		for _, id := range ids {
			maps[shard(id)].Store(id, v)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := probe[i&mask]
			if _, ok := maps[shard(id)].Load(id); !ok {
				b.Fatal("missed")
			}
		}
	})

	b.Run(fmt.Sprintf("hash=raw/shards=1/entries=%s", sci(n)), func(b *testing.B) {
		m := xsync.NewMapOf[string, *int]()
		for _, id := range ids {
			m.Store(id, v)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, ok := m.Load(probe[i&mask]); !ok {
				b.Fatal("missed")
			}
		}
	})
}
