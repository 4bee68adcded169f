package main

import (
	"context"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/mcpshard/registry/internal/baseline"
)

// memResult is scenario g on one implementation.
type memResult struct {
	total    float64 // bytes: the registry with memEntries servers, empty structure included
	perEntry float64 // bytes each server added
	withCtx  float64 // bytes each server added when registered with a cancellable context
}

// payload is what the caller hands the registry per server: its handle
// (an interface value) and its config. Overhead is what an entry costs
// beyond that.
const payload = int(unsafe.Sizeof(baseline.Handle(nil)) + unsafe.Sizeof(baseline.ServerConfig{}))

type spreadResult struct {
	n, shards int
	maxDev    float64 // largest |count - mean| / mean over shards
}

// memory runs scenario g: the live heap a registry of memEntries servers
// holds, after a full collection, per implementation.
func (r *runner) memory() {
	p := r.plan
	ids := baseline.IDs("mem-", p.memEntries, r.opts.seed)
	for _, impl := range p.impls {
		if r.ctx.Err() != nil {
			return
		}
		r.prog.step("g " + impl.Label())
		put(&r.res.mem, impl.Label(), memOf(impl, ids))
	}
	r.res.spread = spread(1000)

	ref := r.res.mem[refLabel]
	t := Table{
		ID:    "g",
		Title: fmt.Sprintf("Memory for %s servers (live heap after GC)", count(p.memEntries)),
		Head: []string{"implementation", "heap, whole registry", "bytes/entry", "overhead bytes/entry",
			"bytes/entry, cancellable ctx", "heap ÷ " + refLabel},
	}
	t.Rows = append(t.Rows,
		[]string{"published: sharded", fmt.Sprintf("%.1f MiB", pubMemSharded), "—", "—", "—",
			ratio(pubMemSharded*(1<<20), ref.total)},
		[]string{"published: original", fmt.Sprintf("%.1f MiB", pubMemOriginal), "—", "—", "—",
			ratio(pubMemOriginal*(1<<20), ref.total)})
	for _, impl := range p.impls {
		m := r.res.mem[impl.Label()]
		t.Rows = append(t.Rows, []string{impl.Label(),
			fmt.Sprintf("%.2f MiB", m.total/(1<<20)),
			fmt.Sprintf("%.0f", m.perEntry),
			fmt.Sprintf("%.0f", m.perEntry-float64(payload)),
			fmt.Sprintf("%.0f", m.withCtx),
			ratio(m.total, ref.total)})
	}
	t.Note = fmt.Sprintf("runtime.MemStats.HeapAlloc after two runtime.GC calls: before the registry exists, once it is empty, and once it holds the servers. "+
		"Whole registry includes the empty structure (%d shards × 2 maps for sharded-64, for instance). bytes/entry: (full − empty) ÷ %s. "+
		"Overhead: bytes/entry minus the %d bytes of the caller's handle (an interface value) and config (ServerConfig) that every entry must hold; "+
		"the IDs' bytes belong to the caller and are not counted. Per-entry figures move in steps as hash tables double. "+
		"A cancellable context adds context.AfterFunc's registration to each entry (the registry keeps no goroutine per entry).",
		64, count(p.memEntries), payload)
	r.rep.Tables = append(r.rep.Tables, t)
}

func memOf(impl baseline.Impl, ids []string) memResult {
	ctx := context.Background()
	before := heapAlloc()
	reg, err := impl.New(0)
	if err != nil {
		return memResult{}
	}
	empty := heapAlloc()
	_ = fill(ctx, reg, ids)
	full := heapAlloc()
	runtime.KeepAlive(reg)
	_ = reg.Close()

	// Again, with every entry tied to a context that can end.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reg2, _ := impl.New(0)
	empty2 := heapAlloc()
	for _, id := range ids {
		_ = reg2.RegisterServer(cctx, id, baseline.Nop{}, baseline.ServerConfig{Name: id})
	}
	full2 := heapAlloc()
	runtime.KeepAlive(reg2)
	_ = reg2.Close()

	n := float64(len(ids))
	return memResult{
		total:    float64(full) - float64(before),
		perEntry: (float64(full) - float64(empty)) / n,
		withCtx:  (float64(full2) - float64(empty2)) / n,
	}
}

// spread registers n servers in the default registry and reports how far
// the fullest or emptiest shard is from the mean, for the published
// claim of "<5% max deviation" at 1,000 servers.
func spread(n int) spreadResult {
	reg, err := baseline.ShardedImpl(16).New(0)
	if err != nil {
		return spreadResult{}
	}
	defer reg.Close()
	_ = fill(context.Background(), reg, baseline.IDs("srv-", n, 9))
	st := reg.(*baseline.Sharded).R.PartitionStats()
	mean := float64(n) / float64(len(st))
	dev := 0.0
	for _, s := range st {
		d := (float64(s.Servers) - mean) / mean
		dev = max(dev, d, -d)
	}
	return spreadResult{n: n, shards: len(st), maxDev: dev}
}
