package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/internal/baseline"
)

// refLabel is the implementation every ratio is taken against: the
// registry at its default shard count.
const refLabel = "sharded-16"

// latency runs scenarios a (lookup latency) and b (register and
// unregister latency) at each size, on one fill per implementation and
// size.
func (r *runner) latency() {
	p := r.plan
	ctx := context.Background()
	for _, impl := range p.impls {
		label := impl.Label()
		for _, n := range p.sizes {
			if r.ctx.Err() != nil {
				return
			}
			r.prog.step(fmt.Sprintf("a/b %s %s entries", label, sizeName(n)))
			reg, err := impl.New(0)
			if err != nil {
				r.rep.check("a", label+" new", false, "%v", err)
				continue
			}
			ids := baseline.IDs("srv-", n, r.opts.seed)
			fillErr := fill(ctx, reg, ids)
			r.rep.check("a", fmt.Sprintf("%s fill %s", label, sizeName(n)), fillErr == nil,
				"registered %s servers: %v", count(n), errOr(fillErr))

			r.lookupAt(reg, label, n, ids)
			r.writesAt(reg, label, n)
			_ = reg.Close()
			gc()
		}
	}
	r.latencyTables()
}

func fill(ctx context.Context, reg baseline.Registry, ids []string) error {
	for _, id := range ids {
		if err := reg.RegisterServer(ctx, id, baseline.Nop{}, baseline.ServerConfig{Name: id}); err != nil {
			return err
		}
	}
	return nil
}

func errOr(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// lookupAt measures lookups of random registered IDs: the mean from an
// untimed loop (baseline.Find, direct calls), and the distribution from
// timing each of lookupSamples lookups.
func (r *runner) lookupAt(reg baseline.Registry, label string, n int, ids []string) {
	probe := baseline.Probe(ids, r.opts.seed+1)
	found := baseline.Find(reg, probe, 0, len(probe)) // warm
	missed := len(probe) - found
	from := 0
	mean := bulk(r.plan.bulkDur, 5, func(k int) {
		if baseline.Find(reg, probe, from, k) != k {
			missed++
		}
		from += k
	})

	h := newHist()
	mask := len(probe) - 1
	for i := range r.plan.lookupSamples {
		id := probe[(i*7919)&mask]
		t := time.Now()
		_, ok := reg.FindServer(id)
		record(h, int64(time.Since(t)))
		if !ok {
			missed++
		}
	}
	r.rep.check("a", fmt.Sprintf("%s lookups %s", label, sizeName(n)), missed == 0,
		"%d lookups of registered IDs missed", missed)
	nested(&r.res.lookup, label, n, summarize(h))
	nested(&r.res.lookupMn, label, n, mean)
}

// writesAt times registrations of new IDs and their unregistrations,
// in batches of a tenth of the size, so the registry stays near n.
func (r *runner) writesAt(reg baseline.Registry, label string, n int) {
	ctx := context.Background()
	fresh := baseline.IDs(fmt.Sprintf("new%d-", n), r.plan.writeSamples, r.opts.seed+2)
	batch := min(max(n/10, 1), len(fresh))
	hr, hu := newHist(), newHist()
	var errs, refused int
	for lo := 0; lo < len(fresh); lo += batch {
		part := fresh[lo:min(lo+batch, len(fresh))]
		for _, id := range part {
			t := time.Now()
			err := reg.RegisterServer(ctx, id, baseline.Nop{}, baseline.ServerConfig{Name: id})
			record(hr, int64(time.Since(t)))
			switch {
			case errors.Is(err, registry.ErrAdmissionControlActive):
				refused++
			case err != nil:
				errs++
			}
		}
		for _, id := range part {
			t := time.Now()
			err := reg.UnregisterServer(id)
			record(hu, int64(time.Since(t)))
			if err != nil && !errors.Is(err, registry.ErrNotFound) {
				errs++
			}
		}
	}
	s, _ := reg.Counts()
	r.rep.check("b", fmt.Sprintf("%s writes %s", label, sizeName(n)), errs == 0 && s == n,
		"%d errors, %d refused by admission, %s servers left (want %s)",
		errs, refused, count(s), count(n))
	nested(&r.res.register, label, n, summarize(hr))
	nested(&r.res.unreg, label, n, summarize(hu))
}

func (r *runner) latencyTables() {
	p := r.plan
	ref := 10_000
	if !contains(p.sizes, ref) {
		ref = p.sizes[len(p.sizes)-1]
	}
	refMean := r.res.lookupMn[refLabel][ref]
	refReg := r.res.register[refLabel][ref].Mean

	// a.1: the published percentiles at one size.
	t := Table{
		ID:    "a.1",
		Title: fmt.Sprintf("Lookup latency at %s entries (FindServer of a random registered ID)", count(ref)),
		Head: []string{"implementation", "mean", "p50", "p95", "p99", "p99.9", "max",
			"mean ÷ " + refLabel, "published mean ÷ mean"},
	}
	t.Rows = append(t.Rows,
		[]string{"published: sharded (Erlang ETS)", ns(pubLookupMean), ns(pubLookupP50), ns(pubLookupP95),
			ns(pubLookupP99), ns(pubLookupP999), "<" + ns(pubLookupMax), ratio(pubLookupMean, refMean), "1×"},
		[]string{"published: original (gen_server)", "5–10 µs (summary: 5–10 ms)", "—", "—",
			"50–100 ms", "—", "—", "—", "—"})
	for _, impl := range p.impls {
		l := impl.Label()
		lat, mean := r.res.lookup[l][ref], r.res.lookupMn[l][ref]
		t.Rows = append(t.Rows, []string{l, ns(mean), nsi(lat.P50), nsi(lat.P95), nsi(lat.P99),
			nsi(lat.P999), nsi(lat.Max), ratio(mean, refMean), ratio(pubLookupMean, mean)})
	}
	t.Note = fmt.Sprintf("mean: an untimed loop of direct calls (no interface dispatch), the fastest of 5 runs of about %s (other processes only add time). "+
		"Percentiles: %s lookups, each timed with time.Now, so they include the clock's own cost (the timer floor printed at the top of the run, about 20-40 ns); "+
		"max is the single worst sample and on a shared machine usually a preemption. chan answers each lookup on one goroutine over a channel.",
		p.bulkDur, count(p.lookupSamples))
	r.rep.Tables = append(r.rep.Tables, t)

	// a.2: mean and p99 by size.
	r.rep.Tables = append(r.rep.Tables,
		r.bySize("a.2", "Lookup mean latency by entries (ratio to "+refLabel+" at the same size)",
			pubLookupBySize, func(l string, n int) float64 { return r.res.lookupMn[l][n] }),
		r.bySize("a.3", "Lookup p99 latency by entries (timed one by one; ratio to "+refLabel+")",
			map[int]float64{1e4: pubLookupP99}, func(l string, n int) float64 { return float64(r.res.lookup[l][n].P99) }),
	)

	// b.1: register and unregister at one size.
	t = Table{
		ID:    "b.1",
		Title: fmt.Sprintf("Register and unregister latency at %s entries", count(ref)),
		Head: []string{"implementation", "register mean", "p50", "p95", "p99", "max",
			"unregister mean", "p99", "max", "register mean ÷ " + refLabel, "published ÷ register mean"},
	}
	t.Rows = append(t.Rows,
		[]string{"published: sharded (ETS + gproc)", ns(pubWriteMean), "—", ns(pubWriteP95), ns(pubWriteP99),
			"~" + ns(pubWriteMax), "—", "—", "—", ratio(pubWriteMean, refReg), "1×"},
		[]string{"published: original (gen_server)", "50–200 ms", "—", "—", "—", "—", "—", "—", "—", "—", "—"})
	for _, impl := range p.impls {
		l := impl.Label()
		rg, un := r.res.register[l][ref], r.res.unreg[l][ref]
		t.Rows = append(t.Rows, []string{l, ns(rg.Mean), nsi(rg.P50), nsi(rg.P95), nsi(rg.P99), nsi(rg.Max),
			ns(un.Mean), nsi(un.P99), nsi(un.Max), ratio(rg.Mean, refReg), ratio(pubWriteMean, rg.Mean)})
	}
	t.Note = fmt.Sprintf("%s registrations of new IDs, then their unregistrations, in batches of a tenth of the size, each timed with time.Now. "+
		"The sharded registry runs with admission on (its default), so its writes include the admission meter. "+
		"The published write figure includes gproc registration, which its own note says is most of it.", count(p.writeSamples))
	r.rep.Tables = append(r.rep.Tables, t,
		r.bySize("b.2", "Register mean latency by entries (ratio to "+refLabel+")",
			pubWriteBySize, func(l string, n int) float64 { return r.res.register[l][n].Mean }))
}

// bySize tabulates one figure per implementation and size, each cell
// with its ratio to the reference implementation at that size.
func (r *runner) bySize(id, title string, pub map[int]float64, get func(label string, n int) float64) Table {
	t := Table{ID: id, Title: title, Head: []string{"implementation"}}
	for _, n := range r.plan.sizes {
		t.Head = append(t.Head, sizeName(n))
	}
	row := []string{"published: sharded"}
	for _, n := range r.plan.sizes {
		if v, ok := pub[n]; ok {
			row = append(row, withRatio(ns(v), v, get(refLabel, n)))
		} else {
			row = append(row, "—")
		}
	}
	t.Rows = append(t.Rows, row)
	for _, impl := range r.plan.impls {
		l := impl.Label()
		row := []string{l}
		for _, n := range r.plan.sizes {
			v := get(l, n)
			row = append(row, withRatio(ns(v), v, get(refLabel, n)))
		}
		t.Rows = append(t.Rows, row)
	}
	t.Note = "Each cell: value (value ÷ " + refLabel + " at the same size; above 1× is slower than " + refLabel + ")."
	return t
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
