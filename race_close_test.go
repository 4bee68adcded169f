package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// This file races Close with every other operation. It follows the
// pattern, and uses the helpers, of race_test.go.

// TestRaceCloseVersusEverything runs every operation from eight workers,
// with registrations whose contexts end, while two goroutines call Close.
// Exactly one Close succeeds. Every answer during the race is a known,
// typed one. Afterwards the registry is empty, every operation fails
// with ErrClosed, lookups find nothing, and kept registrations report
// that they are already gone.
func TestRaceCloseVersusEverything(t *testing.T) {
	const workers, threshold = 8, 100
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		n, deadline := rounds(4, 40)
		for round := 0; round < n && time.Now().Before(deadline); round++ {
			r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
			var ops atomic.Int64
			busy := make(chan struct{}) // closed when Close should start
			closes := make(chan error, 2)
			kept := make(chan []func() bool, workers)

			fs := []func(){}
			for range 2 {
				fs = append(fs, func() {
					<-busy
					closes <- r.Close()
				})
			}
			for w := range workers {
				fs = append(fs, func() {
					var mine []func() bool
					defer func() { kept <- mine }()
					for i := range 400 {
						if ops.Add(1) == threshold {
							close(busy)
						}
						if u, err := anyOperation(r, w, i); err != nil {
							checkRaceAnswer(t, err)
						} else if u != nil {
							mine = append(mine, u)
						}
					}
				})
			}
			together(fs...)

			// Exactly one Close won.
			e1, e2 := <-closes, <-closes
			if (e1 == nil) == (e2 == nil) {
				t.Fatalf("round %d: Close returned %v and %v, want one nil and one ErrClosed",
					round, e1, e2)
			}
			require.ErrorIs(t, errors.Join(e1, e2), registry.ErrClosed)

			// Empty, and closed to everything.
			for id := range r.Servers() {
				t.Errorf("round %d: server %q outlived Close", round, id)
			}
			for id := range r.Transports() {
				t.Errorf("round %d: transport %q outlived Close", round, id)
			}
			require.Zero(t, r.ServerCount())
			require.Zero(t, r.TransportCount())
			for _, st := range r.PartitionStats() {
				require.Zero(t, st.Servers+st.Transports, "round %d: shard %d", round, st.Index)
			}
			for w := range workers {
				for i := range 12 {
					_, err := anyOperation(r, w, i)
					if lookup(i) {
						assert.ErrorIs(t, err, registry.ErrNotFound, "after Close, op %d", i)
						continue
					}
					var ie *registry.IDError
					assert.ErrorAs(t, err, &ie, "after Close, op %d", i)
					assert.ErrorIs(t, err, registry.ErrClosed, "after Close, op %d", i)
				}
			}
			for range workers {
				for _, unregister := range <-kept {
					assert.False(t, unregister(), "round %d: a registration outlived Close", round)
				}
			}
		}
	})
}

// anyOperation runs operation i%12 of worker w on a small pool of IDs
// that all workers share. It returns the registration's Unregister when
// it registered something.
func anyOperation(r *proofRegistry, w, i int) (func() bool, error) {
	bg := context.Background()
	sid := fmt.Sprintf("s%d", (w+i)%4)
	tid := fmt.Sprintf("t%d", (w*7+i)%6)
	hd := &probe{id: tid, gen: i + 1}
	switch i % 12 {
	case 0, 1:
		// Every other server lives under a context that ends at once,
		// so that its callback races whatever else runs.
		ctx, cancel := context.WithCancel(bg)
		s, err := r.RegisterServer(ctx, sid, hd, i+1)
		if i%2 == 1 {
			cancel()
		}
		if err != nil {
			cancel()
			return nil, err
		}
		return func() bool {
			defer cancel()
			return s.Unregister()
		}, nil
	case 2:
		tr, err := r.RegisterTransport(bg, tid, hd, i+1)
		if err != nil {
			return nil, err
		}
		return tr.Unregister, nil
	case 3:
		tr, err := r.RegisterBoundTransport(bg, tid, sid, hd, i+1)
		if err != nil {
			return nil, err
		}
		return tr.Unregister, nil
	case 4:
		return nil, r.Bind(tid, sid)
	case 5:
		return nil, r.Unbind(tid)
	case 6:
		return nil, r.RouteToServer(bg, sid, tid, i)
	case 7:
		return nil, r.RouteToTransport(bg, tid, sid, i)
	case 8:
		_, err := r.Broadcast(bg, sid, i)
		return nil, err
	case 9:
		if w%2 == 0 {
			return nil, r.UnregisterServer(sid)
		}
		return nil, r.UnregisterTransport(tid)
	case 10:
		n := 0
		for range r.Servers() {
			if n++; n == 2 {
				break
			}
		}
		if _, ok := r.FindServer(sid); !ok {
			return nil, registry.ErrServerNotFound
		}
		return nil, nil
	default:
		b, ok := r.TransportsOf(sid)
		for range b.All() {
		}
		if _, bound := r.ServerOf(tid); !ok || !bound {
			return nil, registry.ErrNotFound
		}
		return nil, nil
	}
}

// lookup reports the anyOperation cases that only look things up.
func lookup(i int) bool { return i%12 >= 10 }

// checkRaceAnswer checks an error from anyOperation: one of the answers
// a racing registry may give, typed.
func checkRaceAnswer(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, registry.ErrNotFound) && !errors.As(err, new(*registry.IDError)) {
		return // a lookup's miss, made up by anyOperation
	}
	var ie *registry.IDError
	switch {
	case !errors.As(err, &ie):
		t.Errorf("untyped error %v", err)
	case errors.Is(err, registry.ErrAlreadyRegistered), errors.Is(err, registry.ErrNotFound),
		errors.Is(err, registry.ErrClosed), errors.Is(err, context.Canceled):
	default:
		t.Errorf("unexpected error %v", err)
	}
}
