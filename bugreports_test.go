package registry_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// The tests in this file, in bugreports_cancel_test.go and in
// bugreports_handles_test.go replay failures reported against similar
// registries and connection managers, one named test each, so that a
// regression here shows up under the name of the bug it brings back.
// This file holds the helper they share and the reports about iteration
// and duplicate registrations.

// within runs f on a goroutine of its own and fails the test if f has
// not returned after d. A hung f is left behind; goleak reports it.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// TestBugReport_IterateStopEarlyThenRegister: iterations that kept a
// read lock after the loop body stopped them early, or while the body
// unregistered the entry it was visiting, deadlocked the next write.
// Here an iteration of each kind stops at once, then one unregisters
// every entry it visits (and registers a few new ones as it goes), then
// a registration follows; each returns within a second, and what is left
// is exactly what the loops registered.
func TestBugReport_IterateStopEarlyThenRegister(t *testing.T) {
	const n = 200
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		bg := context.Background()
		for i := range n {
			sid, tid := fmt.Sprintf("s%d", i), fmt.Sprintf("t%d", i)
			_, err := r.RegisterServer(bg, sid, &probe{id: sid}, 0)
			require.NoError(t, err)
			_, err = r.RegisterBoundTransport(bg, tid, sid, &probe{id: tid}, 0)
			require.NoError(t, err)
		}

		within(t, time.Second, "stopping iterations early", func() {
			for range r.Servers() {
				break
			}
			for range r.Transports() {
				break
			}
		})

		added := make(chan string, 10)
		within(t, time.Second, "unregistering while iterating", func() {
			removed := 0
			for id, s := range r.Servers() {
				if len(id) > 1 && id[0] == 'x' {
					continue // one the loop itself added
				}
				if !s.Unregister() {
					t.Errorf("Unregister of %q, being visited, failed", id)
				}
				if removed++; removed%20 == 0 && len(added) < cap(added) {
					x := fmt.Sprintf("x%d", removed)
					if _, err := r.RegisterServer(bg, x, &probe{id: x}, 0); err != nil {
						t.Errorf("registering %q while iterating: %v", x, err)
					}
					added <- x
				}
			}
			for id := range r.Transports() {
				if err := r.UnregisterTransport(id); err != nil {
					t.Errorf("UnregisterTransport(%q) while iterating: %v", id, err)
				}
			}
		})

		within(t, time.Second, "registering afterwards", func() {
			if _, err := r.RegisterServer(bg, "fresh", &probe{id: "fresh"}, 0); err != nil {
				t.Errorf("registering after the iterations: %v", err)
			}
		})
		close(added)
		assert.Equal(t, 1+len(added), r.ServerCount(), "left: the new servers only")
		assert.Zero(t, r.TransportCount())
		_, ok := r.FindServer("fresh")
		assert.True(t, ok)
	})
}

// TestBugReport_DuplicateRegistrationsRefused: registries have let a
// duplicate registration replace or shadow the live one, counted it, or
// kept something of it alive for ever. Here 16 goroutines try 10,000
// registrations of a live server ID and a live transport ID, all under
// one long-lived context, so that a refused registration that left its
// context callback armed would stay reachable. All are refused; shard
// sizes, counts and the server's set are unchanged; the heap is flat.
func TestBugReport_DuplicateRegistrationsRefused(t *testing.T) {
	const goroutines, attempts = 16, 10_000
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := r.RegisterServer(ctx, "dup", &probe{id: "dup", gen: 1}, 1)
		require.NoError(t, err)
		_, err = r.RegisterBoundTransport(ctx, "dupT", "dup", &probe{id: "dupT", gen: 1}, 1)
		require.NoError(t, err)

		stats := r.PartitionStats()
		heap := heapAfterGC()
		errs := make(chan error, goroutines)
		together(times(goroutines, func() {
			for i := range attempts / goroutines {
				gen := i + 2
				var err error
				switch i % 3 {
				case 0:
					_, err = r.RegisterServer(ctx, "dup", &probe{id: "dup", gen: gen}, gen)
				case 1:
					_, err = r.RegisterTransport(ctx, "dupT", &probe{id: "dupT", gen: gen}, gen)
				case 2:
					_, err = r.RegisterBoundTransport(ctx, "dupT", "dup",
						&probe{id: "dupT", gen: gen}, gen)
				}
				var ie *registry.IDError
				if !errors.As(err, &ie) || !errors.Is(err, registry.ErrAlreadyRegistered) {
					errs <- fmt.Errorf("attempt %d: %v, want ErrAlreadyRegistered", i, err)
					return
				}
			}
		})...)
		close(errs)
		for err := range errs {
			t.Error(err)
		}

		grown := heapAfterGC() - heap
		for i, st := range r.PartitionStats() {
			assert.Equal(t, stats[i].Servers, st.Servers, "shard %d servers", i)
			assert.Equal(t, stats[i].Transports, st.Transports, "shard %d transports", i)
		}
		s, _ := r.FindServer("dup")
		tr, _ := r.FindTransport("dupT")
		assert.Equal(t, 1, s.Config(), "the live server was replaced")
		assert.Equal(t, 1, tr.Config(), "the live transport was replaced")
		b, _ := r.TransportsOf("dup")
		assert.Equal(t, 1, b.Len(), "refused bound registrations left members")
		assert.Less(t, grown, int64(256<<10),
			"the heap grew by %d bytes over %d refused registrations", grown, attempts)
	})
}

// heapAfterGC returns the live heap after a collection.
func heapAfterGC() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
