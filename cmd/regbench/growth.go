package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpshard/registry/internal/baseline"
)

// growth runs scenario h: registration latency while a registry grows
// from empty to growTo servers, with and without a capacity hint.
func (r *runner) growth() {
	p := r.plan
	type row struct {
		label string
		hint  bool
		lat   latency
		wall  time.Duration
		errs  int
	}
	var rows []row
	ids := baseline.IDs("grow-", p.growTo, r.opts.seed)
	for _, impl := range p.impls {
		for _, hint := range []bool{false, true} {
			if r.ctx.Err() != nil {
				return
			}
			what := "no hint"
			if hint {
				what = "capacity hint"
			}
			r.prog.step(fmt.Sprintf("h %s %s", impl.Label(), what))
			if hint && impl.Name == "syncmap" {
				continue // sync.Map takes no size hint
			}
			c := 0
			if hint {
				c = p.growTo
			}
			reg, err := impl.New(c)
			if err != nil {
				continue
			}
			h := newHist()
			errs := 0
			ctx := context.Background()
			t0 := time.Now()
			for _, id := range ids {
				t := time.Now()
				err := reg.RegisterServer(ctx, id, baseline.Nop{}, baseline.ServerConfig{Name: id})
				record(h, int64(time.Since(t)))
				if err != nil {
					errs++
				}
			}
			rows = append(rows, row{impl.Label(), hint, summarize(h), time.Since(t0), errs})
			r.rep.check("h", fmt.Sprintf("%s grow %s", impl.Label(), what), errs == 0,
				"%d of %s registrations failed", errs, count(p.growTo))
			_ = reg.Close()
			gc()
		}
	}

	var refP9999 float64
	for _, rw := range rows {
		if rw.label == refLabel && !rw.hint {
			refP9999 = float64(rw.lat.P9999)
		}
	}
	t := Table{
		ID:    "h",
		Title: fmt.Sprintf("Register latency while growing from 0 to %s servers", count(p.growTo)),
		Head:  []string{"implementation", "capacity hint", "p50", "p99", "p99.9", "p99.99", "max", "total", "p99.99 ÷ " + refLabel + " (no hint)"},
	}
	t.Rows = append(t.Rows, []string{"published: sharded", "—", "—", ns(pubWriteP99), "—", "—", "~" + ns(pubWriteMax), "—", "—"})
	for _, rw := range rows {
		t.Rows = append(t.Rows, []string{rw.label, yesNo(rw.hint), nsi(rw.lat.P50), nsi(rw.lat.P99),
			nsi(rw.lat.P999), nsi(rw.lat.P9999), nsi(rw.lat.Max), rw.wall.Round(time.Millisecond).String(),
			ratio(float64(rw.lat.P9999), refP9999)})
	}
	t.Note = "One goroutine registers every server, each call timed. Without a hint each map grows by doubling, and a registration that triggers a resize waits for it: " +
		"the sharded registry resizes one shard's map (1/16 of the entries at the default), a single map resizes all of them. " +
		"The hint (registry.WithCapacity, WithPresize, make(map, n)) sizes the maps for the final count up front; sync.Map takes none. " +
		"GC pauses and preemption land in every column from p99.9 up. The published figures are its write p99 and max at 10,000 entries."
	r.rep.Tables = append(r.rep.Tables, t)
}
