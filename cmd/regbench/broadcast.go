package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpshard/registry/internal/baseline"
)

// notification is what scenario e broadcasts.
var notification = baseline.Msg(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`)

// broadcast runs scenario e: Broadcast to a server's bound transports at
// each subscriber count, and Bind/Unbind of one more transport beside
// them.
func (r *runner) broadcast() {
	p := r.plan
	for _, impl := range p.impls {
		if !impl.Bindings {
			continue
		}
		l := impl.Label()
		for _, n := range p.subscribers {
			if r.ctx.Err() != nil {
				return
			}
			r.prog.step(fmt.Sprintf("e %s %s subscribers", l, sizeName(n)))
			r.broadcastAt(impl, n)
			gc()
		}
	}
	r.broadcastTables()
}

func (r *runner) broadcastAt(impl baseline.Impl, n int) {
	l := impl.Label()
	ctx := context.Background()
	reg, err := impl.New(0)
	if err != nil {
		return
	}
	defer reg.Close()
	if err := bound(ctx, reg, "srv", n); err != nil {
		r.rep.check("e", fmt.Sprintf("%s setup %s", l, sizeName(n)), false, "%v", err)
		return
	}

	// Broadcast: the fastest of 5 timed runs of enough calls to last
	// bulkDur.
	var short, calls int
	per := bulk(max(r.plan.bulkDur, 5*time.Millisecond), 5, func(k int) {
		for range k {
			d, f, err := reg.Broadcast(ctx, "srv", notification)
			if err != nil || d != n || f != 0 {
				short++
			}
			calls++
		}
	})
	r.rep.check("e", fmt.Sprintf("%s broadcast %s", l, sizeName(n)), short == 0,
		"%d of %s broadcasts did not deliver to all %s transports exactly", short, count(calls), count(n))
	nested(&r.res.bcastOp, l, n, per)
	nested(&r.res.bcastPer, l, n, per/float64(n))

	// Bind and Unbind of one more transport, each timed.
	hb, hu := newHist(), newHist()
	var errs int
	for range r.plan.bindSamples {
		t := time.Now()
		e1 := reg.Bind("extra", "srv")
		record(hb, int64(time.Since(t)))
		t = time.Now()
		e2 := reg.Unbind("extra")
		record(hu, int64(time.Since(t)))
		if e1 != nil || e2 != nil {
			errs++
		}
	}
	sid, stillBound := reg.ServerOf("extra")
	r.rep.check("e", fmt.Sprintf("%s bind/unbind %s", l, sizeName(n)), errs == 0 && !stillBound,
		"%d failed pairs; extra bound afterwards: %v %s", errs, stillBound, sid)
	nested(&r.res.bind, l, n, summarize(hb))
	nested(&r.res.unbind, l, n, summarize(hu))
}

// bound registers server sid and n transports bound to it, all with
// handles that do nothing, plus one unbound transport "extra".
func bound(ctx context.Context, reg baseline.Registry, sid string, n int) error {
	if err := reg.RegisterServer(ctx, sid, baseline.Nop{}, baseline.ServerConfig{Name: sid}); err != nil {
		return err
	}
	for _, id := range baseline.IDs("tr-", n, 5) {
		if err := reg.RegisterTransport(ctx, id, baseline.Nop{}, baseline.TransportConfig{Kind: "stdio"}); err != nil {
			return err
		}
		if err := reg.Bind(id, sid); err != nil {
			return err
		}
	}
	return reg.RegisterTransport(ctx, "extra", baseline.Nop{}, baseline.TransportConfig{})
}

func (r *runner) broadcastTables() {
	p := r.plan
	sizes := []int{1000, 15000}
	if r.opts.quick {
		sizes = []int{100, 1000}
	}
	var impls []string
	for _, impl := range p.impls {
		if impl.Bindings {
			impls = append(impls, impl.Label())
		}
	}

	t := Table{
		ID:    "e.1",
		Title: "Broadcast to every bound transport",
		Head:  []string{"implementation"},
	}
	for _, n := range sizes {
		t.Head = append(t.Head, fmt.Sprintf("per broadcast, %s", sizeName(n)),
			fmt.Sprintf("per transport, %s", sizeName(n)))
	}
	row := []string{"published: sharded", withRatio(ns(pubBroadcast1k), pubBroadcast1k, r.res.bcastOp[refLabel][1000]),
		withRatio(ns(pubBroadcastPer), pubBroadcastPer, r.res.bcastPer[refLabel][1000]), "—", "~3 µs (SLA: linear)"}
	if r.opts.quick {
		row = []string{"published: sharded", "—", "—", withRatio(ns(pubBroadcast1k), pubBroadcast1k, r.res.bcastOp[refLabel][1000]),
			withRatio(ns(pubBroadcastPer), pubBroadcastPer, r.res.bcastPer[refLabel][1000])}
	}
	t.Rows = append(t.Rows, row)
	for _, l := range impls {
		row := []string{l}
		for _, n := range sizes {
			row = append(row,
				withRatio(ns(r.res.bcastOp[l][n]), r.res.bcastOp[l][n], r.res.bcastOp[refLabel][n]),
				withRatio(ns(r.res.bcastPer[l][n]), r.res.bcastPer[l][n], r.res.bcastPer[refLabel][n]))
		}
		t.Rows = append(t.Rows, row)
	}
	t.Note = fmt.Sprintf("One server with N bound transports whose handles do nothing (a direct handle: the registry's own cost). "+
		"Fastest of 5 runs of back-to-back broadcasts lasting about %s each; every call must report N delivered and none failed. "+
		"Each cell: value (÷ %s). rwmutex and chan copy the targets into a pooled buffer under the lock (or on the owning goroutine) and write after; syncmap ranges over a sync.Map of members.",
		max(p.bulkDur, 5*time.Millisecond), refLabel)

	b := Table{
		ID:    "e.2",
		Title: "Bind and unbind one more transport beside N bound ones (median and p99)",
		Head:  []string{"implementation"},
	}
	for _, n := range sizes {
		b.Head = append(b.Head, fmt.Sprintf("bind p50, %s", sizeName(n)), fmt.Sprintf("unbind p50, %s", sizeName(n)),
			fmt.Sprintf("bind p99, %s", sizeName(n)), fmt.Sprintf("bind mean, %s", sizeName(n)))
	}
	b.Rows = append(b.Rows, []string{"published", "not measured", "", "", "", "", "", "", ""}[:1+4*len(sizes)])
	for _, l := range impls {
		row := []string{l}
		for _, n := range sizes {
			bd, ub := r.res.bind[l][n], r.res.unbind[l][n]
			rb := r.res.bind[refLabel][n]
			row = append(row, withRatio(nsi(bd.P50), float64(bd.P50), float64(rb.P50)), nsi(ub.P50), nsi(bd.P99), ns(bd.Mean))
		}
		b.Rows = append(b.Rows, row)
	}
	b.Note = fmt.Sprintf("%s Bind/Unbind pairs of one transport to the same server, each call timed with time.Now. "+
		"Bind p50 cell: value (÷ %s). The mean includes the garbage collection that each call's allocations bring on. The sharded registry keeps each server's set as a copy-on-write trie, so a change copies one path; the baselines change a map in place under a lock.",
		count(p.bindSamples), refLabel)
	r.rep.Tables = append(r.rep.Tables, t, b)
}
