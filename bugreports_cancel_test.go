package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mcpshard/registry"
)

// This file replays the bug reports about contexts that end: during
// Close and broadcasts, all at once through a parent, and right before
// a route. See bugreports_test.go.

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
