package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/admission"
	"github.com/mcpshard/registry/internal/baseline"
)

// Scenario i induces real write contention with registry.WithWriteDelay
// (every registration and unregistration sleeps inside its measured
// write while the delay is on) and watches registry.ContentionStatus.
const (
	admDelay   = 2 * time.Millisecond
	admPoll    = 50 * time.Microsecond
	admTimeout = 5 * time.Second
)

// admTrial is one trial's lags, in ns; a negative lag timed out.
type admTrial struct {
	detect, detect2 float64
	alarmedAt       int // alarmed shards when detected
	releaseRetry    float64
	releaseStopped  float64
	refused         int64
	pollMean        float64 // mean time between polls, ns
}

func (r *runner) admission() {
	p := r.plan
	var trials []admTrial
	for i := range p.admTrials {
		if r.ctx.Err() != nil {
			return
		}
		r.prog.step(fmt.Sprintf("i admission trial %d", i+1))
		tr, err := r.admissionTrial(i)
		if err != nil {
			r.rep.check("i", fmt.Sprintf("trial %d", i+1), false, "%v", err)
			continue
		}
		trials = append(trials, tr)
		ok := tr.detect >= 0 && tr.detect2 >= 0 && tr.releaseRetry >= 0 && tr.releaseStopped >= 0
		r.rep.check("i", fmt.Sprintf("trial %d gate engages and lifts", i+1), ok,
			"detect %s / %s, lift %s (writers retrying) / %s (writers stopped), each within %s",
			ns(tr.detect), ns(tr.detect2), ns(tr.releaseRetry), ns(tr.releaseStopped), admTimeout)
		r.res.detect = append(r.res.detect, tr.detect, tr.detect2)
		r.res.releaseRetry = append(r.res.releaseRetry, tr.releaseRetry)
		r.res.releaseStopped = append(r.res.releaseStopped, tr.releaseStopped)
	}

	cfg := admission.DefaultConfig()
	t := Table{
		ID:    "i",
		Title: "Admission control: detection and release lag under induced contention (sharded-16)",
		Head:  []string{"trial", "detection lag", "again", "alarmed shards at detection", "release, writers retrying", "release, writers stopped", "registrations refused", "poll interval"},
	}
	t.Rows = append(t.Rows,
		[]string{"published: sharded", "<100 ms (flag never enforced)", "—", ">50%", "never (no samples once all refused)", "—", "—", "1 s check"},
		[]string{"published: original", "30+ s", "—", "—", "—", "—", "—", "—"},
		[]string{"target (issue 3)", "≤ 10 ms", "≤ 10 ms", "> half", "≤ 1 s", "≤ 1 s", "—", "—"})
	for i, tr := range trials {
		t.Rows = append(t.Rows, []string{fmt.Sprint(i + 1), ns(tr.detect), ns(tr.detect2),
			fmt.Sprintf("%d of 16", tr.alarmedAt), ns(tr.releaseRetry), ns(tr.releaseStopped),
			count(int(tr.refused)), ns(tr.pollMean)})
	}
	if len(trials) > 1 {
		t.Rows = append(t.Rows, []string{"median", "**" + ns(median(r.res.detect)) + "**", "",
			"", "**" + ns(median(r.res.releaseRetry)) + "**", "**" + ns(median(r.res.releaseStopped)) + "**", "", ""})
	}
	t.Note = fmt.Sprintf("registry.New with WithShards(16), WithAdmission(admission.DefaultConfig()) (threshold %s, window %s, min writes %d, sample 1 in %d, fraction %.2f, release %.2f) "+
		"and WithWriteDelay, which makes each write sleep %s while the delay is on. %d writers register and unregister IDs of their own, pausing %s after each attempt, refused or not. "+
		"A poller calls ContentionStatus every %s. Detection lag: from switching the delay on to the first poll that sees AdmissionActive (measured twice per trial). "+
		"Release, writers retrying: the delay goes off while the writers keep retrying refused registrations, so no write reaches a shard; the gate must lift by time alone. "+
		"Release, writers stopped: the delay goes off and the writers stop. Both until the first poll that sees the gate off. "+
		"ContentionStatus evaluates the gate when called, so a registry nobody asks lifts at its next registration attempt instead. Baselines have no admission control.",
		cfg.Threshold, cfg.Window, cfg.MinWrites, cfg.SampleEvery, cfg.Fraction, cfg.Release, admDelay, p.admWriters, p.admPause, admPoll)
	r.rep.Tables = append(r.rep.Tables, t)
}

func (r *runner) admissionTrial(trial int) (admTrial, error) {
	var tr admTrial
	var delayOn atomic.Bool
	reg, err := baseline.NewSharded(
		registry.WithShards(16),
		registry.WithAdmission(admission.DefaultConfig()),
		registry.WithWriteDelay(func(int) time.Duration {
			if delayOn.Load() {
				return admDelay
			}
			return 0
		}),
	)
	if err != nil {
		return tr, err
	}
	defer reg.Close()

	// Writers run until stop; refused registrations are counted.
	var stop atomic.Bool
	var refused atomic.Int64
	var wg sync.WaitGroup
	for w := range r.plan.admWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := baseline.IDs(fmt.Sprintf("adm%d-%d-", trial, w), 16, 1)
			ctx := context.Background()
			for i := 0; !stop.Load(); i++ {
				id := ids[i&15]
				err := reg.RegisterServer(ctx, id, baseline.Nop{}, baseline.ServerConfig{})
				switch {
				case err == nil:
					_ = reg.UnregisterServer(id)
				case errors.Is(err, registry.ErrAdmissionControlActive):
					refused.Add(1)
				}
				time.Sleep(r.plan.admPause)
			}
		}()
	}
	stopWriters := func() {
		stop.Store(true)
		wg.Wait()
	}
	defer stopWriters()

	// Warm up with fast writes: the gate must be off, or lift soon.
	time.Sleep(100 * time.Millisecond)
	for t0 := time.Now(); reg.R.ContentionStatus().AdmissionActive; time.Sleep(time.Millisecond) {
		if time.Since(t0) > admTimeout {
			return tr, errors.New("gate active with no delay")
		}
	}

	var polls, pollTime float64
	watch := func(active bool) (float64, registry.ContentionStatus) {
		t0 := time.Now()
		for {
			st := reg.R.ContentionStatus()
			el := time.Since(t0)
			polls++
			if st.AdmissionActive == active {
				pollTime += float64(el)
				return float64(el), st
			}
			if el > admTimeout {
				return -1, st
			}
			// time.Sleep would oversleep by far more than admPoll here;
			// yield until it has passed instead.
			for next := time.Since(t0) + admPoll; time.Since(t0) < next; {
				runtime.Gosched()
			}
		}
	}

	delayOn.Store(true)
	d, st := watch(true)
	tr.detect, tr.alarmedAt = d, len(st.AlarmedShards)

	delayOn.Store(false) // writers keep retrying
	tr.releaseRetry, _ = watch(false)

	delayOn.Store(true)
	tr.detect2, _ = watch(true)

	delayOn.Store(false)
	stop.Store(true) // stopWriters waits for them at return
	tr.releaseStopped, _ = watch(false)

	tr.refused = refused.Load()
	tr.pollMean = pollTime / max(polls, 1)
	return tr, nil
}
