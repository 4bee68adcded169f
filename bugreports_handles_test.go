package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// This file replays the bug reports about handles that misbehave: a
// peer that stops reading, and a handle that panics. See
// bugreports_test.go.

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
