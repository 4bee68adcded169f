package registry_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mcpshard/registry"
)

// The tests in this file replay failures reported against similar
// registries and connection managers, one named test each, so that a
// regression here shows up under the name of the bug it brings back.

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

// ownedMailbox is a handle its owner closes when the owner's context
// ends, as a connection's owner would. It counts the Close calls and
// sorts the answers to its writes, so that every message can be
// accounted for.
type ownedMailbox struct {
	*registry.Mailbox[int]
	closes         atomic.Int32
	accepted, shut atomic.Int64
}

func (h *ownedMailbox) WriteFrom(ctx context.Context, from string, msg int) error {
	err := h.Mailbox.WriteFrom(ctx, from, msg)
	switch {
	case err == nil:
		h.accepted.Add(1)
	case errors.Is(err, registry.ErrClosed):
		h.shut.Add(1)
	}
	return err
}

func (h *ownedMailbox) Close() error {
	h.closes.Add(1)
	return h.Mailbox.Close()
}

// TestBugReport_CancelDuringCloseAndBroadcast: connection managers have
// closed a closed channel, sent on one, or closed a handle twice when
// handles went away while the manager shut down and a broadcast ran.
// Here 100 transports, each a mailbox its owner closes when its context
// ends, lose their contexts while Close runs and two broadcasters loop.
// Nothing panics; each handle is closed once, by its owner, never by the
// registry; every message is delivered, dropped or refused and counted
// so; and afterwards the handles and the registry answer ErrClosed.
func TestBugReport_CancelDuringCloseAndBroadcast(t *testing.T) {
	const transports = 100
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		bg := context.Background()
		_, err := r.RegisterServer(bg, "hub", &probe{id: "hub"}, 0)
		require.NoError(t, err)

		handles := make([]*ownedMailbox, transports)
		cancels := make([]context.CancelFunc, transports)
		var owners sync.WaitGroup
		for i := range handles {
			mb, err := registry.NewMailbox[int](&probe{id: "sink"},
				registry.MailboxOptions{Capacity: 4, Policy: registry.OverflowPolicy(i % 2)})
			require.NoError(t, err)
			h := &ownedMailbox{Mailbox: mb}
			handles[i] = h
			ctx, cancel := context.WithCancel(bg)
			cancels[i] = cancel
			_, err = r.RegisterBoundTransport(ctx, fmt.Sprintf("t%d", i), "hub", h, i)
			require.NoError(t, err)
			owners.Add(1)
			go func() {
				defer owners.Done()
				<-ctx.Done()
				assert.NoError(t, h.Close())
			}()
		}

		broadcast := func() {
			for i := range 10_000 {
				_, err := r.Broadcast(bg, "hub", i)
				if errors.Is(err, registry.ErrClosed) ||
					errors.Is(err, registry.ErrServerNotFound) {
					return
				}
				assert.NoError(t, err)
			}
		}
		together(broadcast, broadcast,
			func() { assert.NoError(t, r.Close()) },
			func() {
				for _, cancel := range cancels {
					cancel()
				}
			})
		owners.Wait()

		for i, h := range handles {
			assert.EqualValues(t, 1, h.closes.Load(), "handle %d closed other than once", i)
			assert.ErrorIs(t, h.Write(bg, 0), registry.ErrClosed, "handle %d", i)
			st := h.Stats()
			assert.EqualValues(t, h.accepted.Load(), st.Delivered+st.Failed+st.Dropped,
				"handle %d: accepted writes and stats %+v disagree", i, st)
			assert.Zero(t, h.Len(), "handle %d holds letters after Close", i)
		}
		assert.ErrorIs(t, r.Close(), registry.ErrClosed)
		_, err = r.Broadcast(bg, "hub", 0)
		assert.ErrorIs(t, err, registry.ErrClosed)
		assert.Zero(t, r.TransportCount())
	})
}

// TestBugReport_ParentCancelEmptiesRegistry: registries that watched each
// entry's context with a goroutine of their own leaked those goroutines,
// or missed entries, when one parent context ended. Here a server and
// 1,000 transports, half under the parent itself and half under children
// of it, all go within a second of the parent's end, and no goroutine is
// left behind.
func TestBugReport_ParentCancelEmptiesRegistry(t *testing.T) {
	const transports = 1_000
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		before := goleak.IgnoreCurrent()
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := r.RegisterServer(parent, "srv", &probe{id: "srv"}, 0)
		require.NoError(t, err)
		for i := range transports {
			ctx := parent
			if i%2 == 1 {
				child, stop := context.WithCancel(parent)
				defer stop()
				ctx = child
			}
			tid := fmt.Sprintf("t%d", i)
			_, err := r.RegisterBoundTransport(ctx, tid, "srv", &probe{id: tid}, 0)
			require.NoError(t, err)
		}
		require.Equal(t, transports, r.TransportCount())

		cancel()
		require.Eventually(t, func() bool {
			return r.ServerCount() == 0 && r.TransportCount() == 0
		}, time.Second, time.Millisecond, "entries left a second after the parent ended")
		for id := range r.Transports() {
			t.Errorf("transport %q outlived its context", id)
		}
		goleak.VerifyNone(t, before)
	})
}

// TestBugReport_RouteRightAfterCancel: registries that tore an entry down
// in pieces when its context ended let a lookup or a route catch it half
// torn down, and panic. Here, 10,000 times, a server's context ends and
// the server is at once looked up, routed to, broadcast from and asked
// for by its transport. The context's end is acted on by a callback, so
// the server may still be found; each answer is then a delivery, or a
// not-found error that is typed and names the server. Never a panic,
// and once the server is not found it stays not found. Every one of them
// is gone soon after.
func TestBugReport_RouteRightAfterCancel(t *testing.T) {
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		bg := context.Background()
		n, deadline := rounds(1_000, 10_000)
		stale := 0
		for i := 0; i < n && time.Now().Before(deadline); i++ {
			sid, tid := fmt.Sprintf("s%d", i), fmt.Sprintf("t%d", i)
			ctx, cancel := context.WithCancel(bg)
			_, err := r.RegisterServer(ctx, sid, &probe{id: sid}, 0)
			require.NoError(t, err)
			_, err = r.RegisterBoundTransport(bg, tid, sid, &probe{id: tid}, 0)
			require.NoError(t, err)

			cancel()
			_, found := r.FindServer(sid)
			if found {
				stale++
			}
			errs := []error{r.RouteToServer(bg, sid, tid, i), r.RouteToTransport(bg, tid, sid, i)}
			_, err = r.Broadcast(bg, sid, i)
			errs = append(errs, err)
			for _, err := range errs {
				if err == nil {
					continue
				}
				var ie *registry.IDError
				if !errors.As(err, &ie) || !errors.Is(err, registry.ErrServerNotFound) ||
					ie.ID != sid {
					t.Fatalf("iteration %d: %v, want delivery or a not-found naming %q",
						i, err, sid)
				}
			}
			if !found {
				if _, again := r.FindServer(sid); again {
					t.Fatalf("iteration %d: %q came back after it was gone", i, sid)
				}
				err := r.RouteToServer(bg, sid, tid, i)
				if !errors.Is(err, registry.ErrServerNotFound) {
					t.Fatalf("iteration %d: routing to gone %q: %v", i, sid, err)
				}
			}
		}
		t.Logf("the server was still found right after its cancel %d times", stale)
		require.Eventually(t, func() bool {
			if r.ServerCount() != 0 {
				return false
			}
			for tid := range r.Transports() {
				if _, bound := r.ServerOf(tid); bound {
					return false
				}
			}
			return true
		}, 5*time.Second, time.Millisecond, "servers or bindings outlived their contexts")
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

// stalled is a handle whose Write waits for its context to end: a peer
// that never reads.
type stalled struct{}

func (stalled) Write(ctx context.Context, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestBugReport_BroadcastToStalledMailbox: one peer that stops reading
// has blocked broadcasts to every peer, or had its drops go uncounted.
// Here a server broadcasts 1,000 times to two fast transports and one
// whose one-slot mailbox is never drained. The broadcasts finish
// promptly, the fast transports get all 1,000, and every message the
// slow one was given is counted as dropped, refused or failed.
func TestBugReport_BroadcastToStalledMailbox(t *testing.T) {
	const messages = 1_000
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		policies := map[string]registry.OverflowPolicy{
			"policy=drop-oldest":   registry.DropOldest,
			"policy=reject-newest": registry.RejectNewest,
		}
		for name, policy := range policies {
			t.Run(name, func(t *testing.T) {
				r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
				bg := context.Background()
				_, err := r.RegisterServer(bg, "s", &probe{id: "s"}, 0)
				require.NoError(t, err)
				fast := []*probe{{id: "fast0"}, {id: "fast1"}}
				for _, p := range fast {
					_, err := r.RegisterBoundTransport(bg, p.id, "s", p, 0)
					require.NoError(t, err)
				}
				slow, err := registry.NewMailbox[int](stalled{},
					registry.MailboxOptions{Capacity: 1, Policy: policy})
				require.NoError(t, err)
				_, err = r.RegisterBoundTransport(bg, "slow", "s", slow, 0)
				require.NoError(t, err)

				refused := 0
				within(t, 5*time.Second, "1,000 broadcasts past a stalled peer", func() {
					for i := range messages {
						res, err := r.Broadcast(bg, "s", i)
						if err != nil {
							t.Errorf("broadcast %d: %v", i, err)
							return
						}
						for _, f := range res.Failed {
							full := errors.Is(f.Err, registry.ErrMailboxFull)
							if f.TransportID != "slow" || !full {
								t.Errorf("broadcast %d: %s failed with %v", i, f.TransportID, f.Err)
							}
							refused++
						}
						if res.Delivered+len(res.Failed) != 3 {
							t.Errorf("broadcast %d reached %d of 3",
								i, res.Delivered+len(res.Failed))
						}
					}
				})
				for _, p := range fast {
					assert.EqualValues(t, messages, p.got.Load(), "%s missed messages", p.id)
				}

				require.NoError(t, slow.Close())
				st := slow.Stats()
				assert.Zero(t, st.Delivered, "the stalled peer delivered")
				assert.LessOrEqual(t, st.Failed, uint64(1), "only the letter in flight fails")
				assert.EqualValues(t, refused, st.Rejected)
				assert.EqualValues(t, messages, st.Delivered+st.Failed+st.Dropped+st.Rejected,
					"messages unaccounted for: %+v", st)
				if policy == registry.DropOldest {
					assert.Zero(t, refused, "DropOldest refused a message")
				}
			})
		}
	})
}

// exploding is a handle whose Write panics, after doing what its
// callback says, if anything.
type exploding struct{ first func() }

func (h exploding) Write(context.Context, int) error {
	if h.first != nil {
		h.first()
	}
	panic("exploding handle")
}

// TestBugReport_PanickingHandleInShard: a handle that panicked while the
// registry held a shard's lock left that shard locked, so its other
// entries could no longer be found or removed. Here handles that panic
// (one after unregistering itself from inside Write) are routed to and
// broadcast to, and every neighbour in their shard can still be found
// and unregistered at once.
func TestBugReport_PanickingHandleInShard(t *testing.T) {
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		bg := context.Background()
		neighbours := sameShard(t, opts, "boom", 8)

		_, err := r.RegisterServer(bg, "boom", exploding{}, 0)
		require.NoError(t, err)
		_, err = r.RegisterServer(bg, "self", exploding{first: func() {
			_ = r.UnregisterServer("self")
		}}, 0)
		require.NoError(t, err)
		for _, id := range neighbours {
			_, err := r.RegisterServer(bg, id, &probe{id: id}, 0)
			require.NoError(t, err)
			_, err = r.RegisterBoundTransport(bg, "t-"+id, "boom", &probe{id: id}, 0)
			require.NoError(t, err)
		}
		_, err = r.RegisterBoundTransport(bg, "t-boom", "boom", exploding{}, 0)
		require.NoError(t, err)

		within(t, time.Second, "routing to panicking handles", func() {
			for i := range 100 {
				err := r.RouteToServer(bg, "boom", "", i)
				var pe *registry.PanicError
				if !errors.As(err, &pe) || !errors.Is(err, registry.ErrPanic) {
					t.Errorf("route %d to a panicking handle: %v", i, err)
				}
				res, err := r.Broadcast(bg, "boom", i)
				if err != nil || res.Delivered != len(neighbours) || len(res.Failed) != 1 ||
					!errors.Is(res.Failed[0].Err, registry.ErrPanic) {
					t.Errorf("broadcast %d past a panicking handle: %+v, %v", i, res, err)
				}
			}
			err := r.RouteToServer(bg, "self", "", 0)
			assert.ErrorIs(t, err, registry.ErrPanic)
		})

		within(t, time.Second, "finding and unregistering the neighbours", func() {
			_, ok := r.FindServer("self")
			assert.False(t, ok, "the handle's own unregistration was lost")
			for _, id := range neighbours {
				if _, ok := r.FindServer(id); !ok {
					t.Errorf("neighbour %q is lost", id)
				}
				assert.NoError(t, r.UnregisterServer(id))
				assert.NoError(t, r.UnregisterTransport("t-"+id))
			}
			assert.NoError(t, r.UnregisterServer("boom"))
		})
		assert.Zero(t, r.ServerCount())
		assert.Equal(t, 1, r.TransportCount(), "t-boom stays, unbound")
	})
}

// sameShard returns n IDs other than id that a registry built with opts
// puts in id's shard. It finds them through PartitionStats, on a registry
// of its own.
func sameShard(t *testing.T, opts []registry.Option, id string, n int) []string {
	t.Helper()
	r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
	bg := context.Background()
	shardOf := func(id string) int {
		before := r.PartitionStats()
		s, err := r.RegisterServer(bg, id, &probe{id: id}, 0)
		require.NoError(t, err)
		defer s.Unregister()
		for i, st := range r.PartitionStats() {
			if st.Servers > before[i].Servers {
				return i
			}
		}
		t.Fatalf("no shard counts %q", id)
		return -1
	}
	want := shardOf(id)
	var ids []string
	for i := 0; len(ids) < n && i < 10_000; i++ {
		if c := fmt.Sprintf("n%d", i); shardOf(c) == want {
			ids = append(ids, c)
		}
	}
	require.Len(t, ids, n)
	return ids
}
