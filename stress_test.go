package registry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpshard/registry"
)

// TestStress runs 1,000 goroutines, then 10,000, half writing and half
// reading, on one registry, with the admission gate on. It then checks
// the exact final state.
//
// Each writer owns two server IDs and three transport IDs and keeps a
// model of them (see harness): it registers, unregisters (by ID, by a
// kept registration, by ending a context), binds to its own servers or
// to eight shared hub servers, routes and broadcasts, and checks every
// answer against its model. The models of all writers, merged, are the
// expected final state: no entry lost, none left over, no binding to a
// missing server, and lookups, iteration, both sides of every binding
// and every count agreeing. Readers meanwhile check what any moment may
// show: entries under their own IDs, bindings only to servers, typed
// errors. Under -short the runs are smaller; `make stress` runs them at
// full size.
func TestStress(t *testing.T) {
	total, budget := 400_000, time.Minute
	if testing.Short() {
		total, budget = 16_000, 5*time.Second
	}
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		for _, n := range []int{1_000, 10_000} {
			t.Run(fmt.Sprintf("goroutines=%d", n), func(t *testing.T) {
				stress(t, opts, n, max(total/n, 2), budget)
			})
		}
	})
}

// stressHubs is how many shared servers the writers bind to.
const stressHubs = 8

// stress runs goroutines goroutines, each doing up to ops operations and
// stopping at the deadline that budget sets, and checks the result.
func stress(t *testing.T, opts []registry.Option, goroutines, ops int, budget time.Duration) {
	r := newProofRegistry(t, opts...)
	bg := context.Background()
	gens := new(atomic.Int64)
	deadline := time.Now().Add(budget)

	// The hubs live throughout; every writer's model holds them.
	hubs := make([]string, stressHubs)
	base := newRefModel(registry.DefaultMaxIDLen)
	for i := range hubs {
		hubs[i] = fmt.Sprintf("hub%d", i)
		g := int(gens.Add(1))
		if _, err := r.RegisterServer(bg, hubs[i], &probe{id: hubs[i], gen: g}, g); err != nil {
			t.Fatalf("registering %s: %v", hubs[i], err)
		}
		_ = base.RegisterServer(hubs[i], false, refEntry{gen: g})
	}

	writers := goroutines / 2
	done := make(chan *harness, writers)
	failures := make(chan error, 16)
	report := func(err error) {
		select {
		case failures <- err:
		default: // enough to go on
		}
	}
	var fs []func()
	for w := range writers {
		fs = append(fs, func() {
			h := newStressHarness(r, w, hubs, base, gens)
			defer func() { done <- h }()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; i < ops && time.Now().Before(deadline); i++ {
				o := stressOp(rng)
				if err := h.apply(o); err != nil {
					report(fmt.Errorf("writer %d, step %d, %v: %w", w, i, o, err))
					return
				}
			}
		})
	}
	for rd := range goroutines - writers {
		fs = append(fs, func() {
			rng := rand.New(rand.NewPCG(uint64(rd), 2))
			for i := 0; i < 2*ops && time.Now().Before(deadline); i++ {
				if err := stressRead(r, rng, writers, hubs, i); err != nil {
					report(fmt.Errorf("reader %d, step %d: %w", rd, i, err))
					return
				}
			}
		})
	}
	together(fs...)

	close(failures)
	for err := range failures {
		t.Error(err)
	}
	want := newRefModel(registry.DefaultMaxIDLen)
	want.merge(base)
	for range writers {
		h := <-done
		want.merge(h.ref)
		t.Cleanup(h.finish)
	}

	// Removals that ended contexts scheduled have all been waited for by
	// their writers; wait a little in case one was still unbinding.
	if !await(10*time.Second, func() bool { return registryDiff(r, want) == "" }) {
		t.Fatalf("final state differs from the writers' models:\n%s", registryDiff(r, want))
	}
}

// newStressHarness returns writer w's harness: its own IDs, the hubs as
// further targets, and a model that starts with the hubs.
func newStressHarness(r *proofRegistry, w int, hubs []string, base *refModel,
	gens *atomic.Int64) *harness {
	id := func(kind string, i int) string { return fmt.Sprintf("w%d/%s%d", w, kind, i) }
	h := &harness{
		reg:        r,
		ref:        newRefModel(registry.DefaultMaxIDLen),
		servers:    []string{id("s", 0), id("s", 1)},
		transports: []string{id("t", 0), id("t", 1), id("t", 2)},
		gens:       gens,
		admission:  true,
	}
	h.ref.merge(base)
	h.targets = append(append([]string{}, h.servers...), hubs...)
	return h
}

// stressOps weights the writers' operations: mostly registration and
// binding, which make the state the readers see.
var stressOps = []opKind{
	opRegisterServer, opRegisterServer, opRegisterServer,
	opRegisterTransport, opRegisterTransport, opRegisterBound, opRegisterBound,
	opUnregisterServer, opUnregisterTransport, opDropKept, opDropKept, opCancelKept,
	opBind, opBind, opBind, opUnbind,
	opRouteToServer, opRouteToTransport, opBroadcast, opChurn,
}

func stressOp(rng *rand.Rand) op {
	o := op{
		kind:   stressOps[rng.IntN(len(stressOps))],
		a:      uint8(rng.UintN(256)),
		b:      uint8(rng.UintN(256)),
		ctx:    ctxKind(rng.IntN(2)),
		origin: rng.IntN(4) == 0,
	}
	switch n := rng.IntN(100); {
	case n < 3:
		o.mode = probePanic
	case n < 8:
		o.mode = probeFail
	}
	if rng.IntN(50) == 0 {
		o.ctx = ctxEnded
	}
	return o
}

// stressRead does one read on a random writer's IDs or a hub and checks
// what any moment may show.
func stressRead(r *proofRegistry, rng *rand.Rand, writers int, hubs []string, i int) error {
	bg := context.Background()
	w := rng.IntN(writers)
	sid := fmt.Sprintf("w%d/s%d", w, rng.IntN(2))
	tid := fmt.Sprintf("w%d/t%d", w, rng.IntN(3))
	hub := hubs[rng.IntN(len(hubs))]

	switch i % 8 {
	case 0:
		if s, ok := r.FindServer(sid); ok {
			if p := probeOf(s.Handle()); s.ID() != sid || p.id != sid || p.gen != s.Config() {
				return fmt.Errorf("FindServer(%q) found %q gen %d with handle %q gen %d",
					sid, s.ID(), s.Config(), p.id, p.gen)
			}
		}
	case 1:
		if tr, ok := r.FindTransport(tid); ok {
			if p := probeOf(tr.Handle()); tr.ID() != tid || p.id != tid || p.gen != tr.Config() {
				return fmt.Errorf("FindTransport(%q) found %q gen %d with handle %q gen %d",
					tid, tr.ID(), tr.Config(), p.id, p.gen)
			}
		}
	case 2:
		got, ok := r.ServerOf(tid)
		own := strings.HasPrefix(got, fmt.Sprintf("w%d/s", w))
		if ok && !own && !strings.HasPrefix(got, "hub") {
			return fmt.Errorf("ServerOf(%q) = %q, neither its writer's server nor a hub", tid, got)
		}
	case 3:
		b, ok := r.TransportsOf(hub)
		if !ok {
			return fmt.Errorf("hub %q is gone", hub)
		}
		n := 0
		for id, hd := range b.All() {
			n++
			if p := probeOf(hd); p == nil || p.id != id || !strings.Contains(id, "/t") {
				return fmt.Errorf("hub %q holds %q with a handle that is not its own", hub, id)
			}
		}
		if n != b.Len() {
			return fmt.Errorf("a snapshot of %q yields %d of its %d transports", hub, n, b.Len())
		}
	case 4:
		res, err := r.Broadcast(bg, hub, i)
		if err != nil {
			return fmt.Errorf("Broadcast(%q): %w", hub, err)
		}
		for _, f := range res.Failed {
			if !errors.Is(f.Err, errProbe) && !errors.Is(f.Err, registry.ErrPanic) {
				return fmt.Errorf("Broadcast(%q) to %q failed with %w", hub, f.TransportID, f.Err)
			}
		}
	case 5:
		return routeAnswer(r.RouteToServer(bg, sid, tid, i))
	case 6:
		return routeAnswer(r.RouteToTransport(bg, tid, sid, i))
	case 7:
		if i%64 != 7 {
			return nil
		}
		n := 0
		for id, s := range r.Servers() {
			if s.ID() != id {
				return fmt.Errorf("Servers() yields %q for %q", id, s.ID())
			}
			if n++; n == 3 {
				break
			}
		}
	}
	return nil
}

// routeAnswer checks a route's answer: delivered, not found, or the
// handle's own error or panic, typed.
func routeAnswer(err error) error {
	if err == nil {
		return nil
	}
	var ie *registry.IDError
	if !errors.As(err, &ie) {
		return fmt.Errorf("untyped route error %w", err)
	}
	if errors.Is(err, registry.ErrNotFound) || errors.Is(err, errProbe) ||
		errors.Is(err, registry.ErrPanic) {
		return nil
	}
	return fmt.Errorf("route failed with %w", err)
}
