package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/internal/baseline"
)

// loadResult is one phase of scenario c on one implementation.
type loadResult struct {
	readers, writers int
	reads, writes    int64
	refused          int64
	violations       int64 // failed unregister of an owned ID, base ID missed
	maxOp            int64 // ns
	minOps           int64 // fewest operations any goroutine completed
	p99              int64 // ns, of sampled operations
	wall             time.Duration
	hung             bool
	exact            bool // final contents are what the writers left
	detail           string
}

// load runs scenario c: readers and writers together for loadDur, then
// checks that every goroutine finished and the registry holds exactly
// what the writers left.
func (r *runner) load() {
	p := r.plan
	rows := map[string][]loadResult{}
	for _, impl := range p.impls {
		for _, ph := range p.loadPhases {
			if r.ctx.Err() != nil {
				return
			}
			r.prog.step(fmt.Sprintf("c %s %d readers + %d writers", impl.Label(), ph[0], ph[1]))
			res := r.loadPhase(impl, ph[0], ph[1])
			rows[impl.Label()] = append(rows[impl.Label()], res)
			r.rep.check("c", fmt.Sprintf("%s %d+%d", impl.Label(), ph[0], ph[1]),
				!res.hung && res.exact && res.violations == 0 && res.minOps > 0, "%s", res.detail)
			ok, seen := r.res.loadOK[impl.Label()]
			put(&r.res.loadOK, impl.Label(), (ok || !seen) && !res.hung && res.exact && res.violations == 0)
			gc()
		}
	}

	t := Table{
		ID:    "c",
		Title: fmt.Sprintf("Concurrent load: readers and writers together for %s", p.loadDur),
		Head: []string{"implementation", "readers+writers", "lookups/s", "writes/s", "refused (admission)",
			"op p99", "op max", "fewest ops by one goroutine", "wall", "hung", "contents exact", "lookups/s ÷ " + refLabel},
	}
	t.Rows = append(t.Rows,
		[]string{"published: sharded", "500+500", "—", "—", "—", "—", "—", "—", "4.8 s (of 5 s)", "no", "not checked", "—"},
		[]string{"published: original", "~200 ops", "—", "—", "—", "—", "—", "—", "—", "deadlock", "—", "—"})
	for _, impl := range p.impls {
		for i, res := range rows[impl.Label()] {
			ref := rows[refLabel][i]
			rd := float64(res.reads) / res.wall.Seconds()
			t.Rows = append(t.Rows, []string{
				impl.Label(),
				fmt.Sprintf("%d+%d", res.readers, res.writers),
				rate(rd),
				rate(float64(res.writes) / res.wall.Seconds()),
				count(int(res.refused)),
				nsi(res.p99), nsi(res.maxOp), count(int(res.minOps)),
				res.wall.Round(time.Millisecond).String(),
				yesNo(res.hung), yesNo(res.exact && res.violations == 0),
				ratio(rd, float64(ref.reads)/ref.wall.Seconds()),
			})
		}
	}
	t.Note = fmt.Sprintf("Each reader looks up random IDs: half from %s servers registered before the phase, which must always be found, half from the writers' IDs. "+
		"Each writer owns %d IDs and registers or unregisters one at random, keeping its own record; an unregister of an ID it holds must succeed. "+
		"Every goroutine yields (runtime.Gosched) every 64 operations, as one blocked on I/O would. Every 16th operation is timed for the p99; every operation's time counts for max. "+
		"The phase ends after the duration once every goroutine has completed an operation (wall shows any wait); then every goroutine must return (hung: not within 30 s) having completed at least one, and each writer's IDs must be registered exactly as its record says, with nothing else beside the base servers. "+
		"A registration refused by the admission gate (sharded only) changes nothing and is counted, not retried. "+
		"On %d cores, %s goroutines are runnable at once, so op max is mostly time spent waiting for a CPU.",
		count(p.loadBase), p.loadOwn, r.rep.Env.Cores, count(p.loadPhases[len(p.loadPhases)-1][0]*2))
	r.rep.Tables = append(r.rep.Tables, t)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// opStats is what one load goroutine reports when it returns.
type opStats struct {
	ops, refused, violations int64
	max                      int64
	sample                   []int64
	seen                     int64
}

func (r *runner) loadPhase(impl baseline.Impl, readers, writers int) loadResult {
	p := r.plan
	res := loadResult{readers: readers, writers: writers}
	reg, err := impl.New(0)
	if err != nil {
		res.detail = err.Error()
		return res
	}
	defer reg.Close()
	ctx := context.Background()
	base := baseline.IDs("base-", p.loadBase, r.opts.seed)
	if err := fill(ctx, reg, base); err != nil {
		res.detail = "fill: " + err.Error()
		return res
	}
	own := make([][]string, writers)
	var all []string
	for w := range own {
		own[w] = baseline.IDs(fmt.Sprintf("w%d-", w), p.loadOwn, r.opts.seed)
		all = append(all, own[w]...)
	}

	// Each goroutine keeps at most keep sampled timings: 400k in all.
	keep := max(64, 400_000/(readers+writers))
	start := make(chan struct{})
	var stop atomic.Bool
	var progressed atomic.Int64 // goroutines that completed an operation
	results := make(chan opStats, readers+writers)
	states := make([][]bool, writers) // each written by its writer only
	var wg sync.WaitGroup
	for g := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- readLoop(reg, base, all, uint64(g), keep, start, &stop, &progressed)
		}()
	}
	for w := range writers {
		states[w] = make([]bool, p.loadOwn)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- writeLoop(reg, own[w], states[w], uint64(w), keep, start, &stop, &progressed)
		}()
	}

	// Release everyone and stop them after loadDur, but not before every
	// goroutine has completed an operation (for at most 30 s more): the
	// check that none starves must not depend on how busy the machine is.
	t0 := time.Now()
	close(start)
	timer := time.NewTimer(p.loadDur)
	select {
	case <-timer.C:
	case <-r.ctx.Done():
	}
	for deadline := time.Now().Add(30 * time.Second); progressed.Load() < int64(readers+writers) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		res.hung = true
	}
	res.wall = time.Since(t0)
	if res.hung {
		res.detail = fmt.Sprintf("goroutines still running %s after the stop", 30*time.Second)
		return res
	}

	// Collect the goroutines' figures.
	close(results)
	var samples []int64
	res.minOps = -1
	for range readers + writers {
		s := <-results
		if o := max(s.ops, -s.ops); res.minOps < 0 || o < res.minOps {
			res.minOps = o
		}
		res.maxOp = max(res.maxOp, s.max)
		res.refused += s.refused
		res.violations += s.violations
		samples = append(samples, s.sample...)
		if s.ops < 0 {
			res.writes += -s.ops
		} else {
			res.reads += s.ops
		}
	}
	slices.Sort(samples)
	if len(samples) > 0 {
		res.p99 = samples[len(samples)*99/100]
	}

	// The registry must hold the base servers and exactly the IDs each
	// writer's record says it holds.
	wrong := 0
	want := p.loadBase
	for w := range own {
		for k, id := range own[w] {
			_, ok := reg.FindServer(id)
			if ok != states[w][k] {
				wrong++
			}
			if states[w][k] {
				want++
			}
		}
	}
	for _, id := range base {
		if _, ok := reg.FindServer(id); !ok {
			wrong++
		}
	}
	got, _ := reg.Counts()
	res.exact = wrong == 0 && got == want
	res.detail = fmt.Sprintf("%d IDs differ from the writers' records; %s servers, want %s; %d violations; %s ops, at least %s per goroutine",
		wrong, count(got), count(want), res.violations, count(int(res.reads+res.writes)), count(int(res.minOps)))
	return res
}

// yield gives up the CPU every 64 operations. A server goroutine blocks
// on I/O between registry calls; these loops never would, and with
// thousands of them on two cores Go's 10 ms time slices would leave most
// goroutines unscheduled for whole seconds, measuring the scheduler's
// round instead of the registry.
func yield(i int) {
	if i&63 == 63 {
		runtime.Gosched()
	}
}

// keep records a sampled timing in a reservoir of n, so that the sample
// spans the whole phase uniformly.
func (s *opStats) keep(d int64, n int) {
	s.seen++
	if len(s.sample) < n {
		s.sample = append(s.sample, d)
	} else if j := rand.Int64N(s.seen); j < int64(n) {
		s.sample[j] = d
	}
}

// readLoop looks up IDs until stop; a base ID must always be found. It
// reports its op count as positive.
func readLoop(reg baseline.Registry, base, all []string, seed uint64, keep int, start <-chan struct{}, stop *atomic.Bool, progressed *atomic.Int64) opStats {
	rng := rand.New(rand.NewPCG(seed, 11))
	var s opStats
	<-start
	for i := 0; !stop.Load(); i++ {
		yield(i)
		var id string
		isBase := i&1 == 0 || len(all) == 0
		if isBase {
			id = base[rng.IntN(len(base))]
		} else {
			id = all[rng.IntN(len(all))]
		}
		t := time.Now()
		_, ok := reg.FindServer(id)
		d := int64(time.Since(t))
		s.max = max(s.max, d)
		if i&15 == 0 {
			s.keep(d, keep)
		}
		if isBase && !ok {
			s.violations++
		}
		s.ops++
		if i == 0 {
			progressed.Add(1)
		}
	}
	return s
}

// writeLoop registers or unregisters one of its own IDs at random until
// stop, keeping state[k] true while ids[k] is registered. It reports its
// op count as negative.
func writeLoop(reg baseline.Registry, ids []string, state []bool, seed uint64, keep int, start <-chan struct{}, stop *atomic.Bool, progressed *atomic.Int64) opStats {
	rng := rand.New(rand.NewPCG(seed, 13))
	ctx := context.Background()
	var s opStats
	<-start
	for i := 0; !stop.Load(); i++ {
		yield(i)
		k := rng.IntN(len(ids))
		t := time.Now()
		var err error
		if state[k] {
			err = reg.UnregisterServer(ids[k])
		} else {
			err = reg.RegisterServer(ctx, ids[k], baseline.Nop{}, baseline.ServerConfig{Name: ids[k]})
		}
		d := int64(time.Since(t))
		s.max = max(s.max, d)
		if i&15 == 0 {
			s.keep(d, keep)
		}
		switch {
		case err == nil:
			state[k] = !state[k]
		case errors.Is(err, registry.ErrAdmissionControlActive):
			s.refused++
		default:
			s.violations++
		}
		s.ops--
		if i == 0 {
			progressed.Add(1)
		}
	}
	return s
}
