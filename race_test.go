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

	"github.com/mcpshard/registry"
)

// The race tests, in this file and in race_bind_test.go,
// race_broadcast_test.go, race_close_test.go and race_mailbox_test.go,
// each stage one race that a concurrent registry must win, many rounds
// over, under -race. In every round the racing goroutines wait at a gate
// and start together; every round is bounded by a count and all of them
// by a deadline; results travel back over channels and are checked after
// the round. This file holds the helpers they share and the races to
// register, unregister and register again one ID.

// rounds returns how many rounds to run, fewer under -short, and a
// deadline that ends them early on a slow machine.
func rounds(short, full int) (int, time.Time) {
	n := full
	if testing.Short() {
		n = short
	}
	return n, time.Now().Add(20 * time.Second)
}

// together runs each f on a goroutine of its own, releases them all at
// once and returns when every one has.
func together(fs ...func()) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			f()
		}()
	}
	close(gate)
	wg.Wait()
}

// times returns n copies of f, for together.
func times(n int, f func()) []func() {
	fs := make([]func(), n)
	for i := range fs {
		fs[i] = f
	}
	return fs
}

// TestRaceRegisterOneID races 16 registrations of one ID, of each kind,
// then 16 removals of the winner: exactly one of each wins, the losers
// get typed errors naming the ID, and lookups, counts and the hub
// server's set show the winner and nothing else.
func TestRaceRegisterOneID(t *testing.T) {
	const racers = 16
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		ctx := context.Background()
		_, err := r.RegisterServer(ctx, "hub", &probe{id: "hub", gen: -1}, -1)
		require.NoError(t, err)

		var gens atomic.Int64
		n, deadline := rounds(40, 400)
		for round := 0; round < n && time.Now().Before(deadline); round++ {
			id := fmt.Sprintf("one-%d", round%8)

			// Registration: servers, then transports bound to the hub.
			won := make(chan int, racers)
			lost := make(chan error, racers)
			together(times(racers, func() {
				gen := int(gens.Add(1))
				if _, err := r.RegisterServer(ctx, id, &probe{id: id, gen: gen}, gen); err != nil {
					lost <- err
					return
				}
				won <- gen
			})...)
			sgen := checkOneWinner(t, id, won, lost, registry.ErrAlreadyRegistered)
			s, ok := r.FindServer(id)
			require.True(t, ok, "round %d: the winner of %q is not found", round, id)
			assert.Equal(t, sgen, s.Config(),
				"round %d: FindServer(%q) is not the winner", round, id)

			together(times(racers, func() {
				gen := int(gens.Add(1))
				hd := &probe{id: id, gen: gen}
				var err error
				if gen%2 == 0 {
					_, err = r.RegisterBoundTransport(ctx, id, "hub", hd, gen)
				} else if _, err = r.RegisterTransport(ctx, id, hd, gen); err == nil {
					err = r.Bind(id, "hub")
				}
				if err != nil {
					lost <- err
					return
				}
				won <- gen
			})...)
			tgen := checkOneWinner(t, id, won, lost, registry.ErrAlreadyRegistered)
			b, _ := r.TransportsOf("hub")
			require.Equal(t, 1, b.Len(), "round %d: the hub holds other than the winner", round)
			for tid, h := range b.All() {
				assert.Equal(t, id, tid)
				assert.Equal(t, tgen, probeOf(h).gen, "round %d: the hub holds a loser", round)
			}
			assert.Equal(t, 2, r.ServerCount())
			assert.Equal(t, 1, r.TransportCount())

			// Removal: by ID and by the registration itself.
			tr, _ := r.FindTransport(id)
			together(times(racers, func() {
				var err error
				if gens.Add(1)%2 == 0 {
					err = r.UnregisterServer(id)
				} else if !s.Unregister() {
					err = &registry.IDError{Op: "unregister", Kind: "server", ID: id,
						Err: registry.ErrServerNotFound}
				}
				if err != nil {
					lost <- err
					return
				}
				won <- 0
			})...)
			checkOneWinner(t, id, won, lost, registry.ErrServerNotFound)
			together(times(racers, func() {
				var err error
				if gens.Add(1)%2 == 0 {
					err = r.UnregisterTransport(id)
				} else if !tr.Unregister() {
					err = &registry.IDError{Op: "unregister", Kind: "transport", ID: id,
						Err: registry.ErrTransportNotFound}
				}
				if err != nil {
					lost <- err
					return
				}
				won <- 0
			})...)
			checkOneWinner(t, id, won, lost, registry.ErrTransportNotFound)

			b, _ = r.TransportsOf("hub")
			require.Zero(t, b.Len(), "round %d: the hub still holds %q", round, id)
			require.Equal(t, 1, r.ServerCount(), "round %d", round)
			require.Zero(t, r.TransportCount(), "round %d", round)
		}
	})
}

// checkOneWinner drains a round's results: exactly one winner, whose
// value it returns, and losers that each fail with want, naming id.
func checkOneWinner(t *testing.T, id string, won <-chan int, lost <-chan error, want error) int {
	t.Helper()
	var wins []int
	for len(won) > 0 {
		wins = append(wins, <-won)
	}
	for len(lost) > 0 {
		err := <-lost
		var ie *registry.IDError
		if !errors.As(err, &ie) || !errors.Is(err, want) || ie.ID != id {
			t.Errorf("a loser for %q got %v, want %v naming it", id, err, want)
		}
	}
	if len(wins) != 1 {
		t.Fatalf("%d winners for %q, want exactly one", len(wins), id)
	}
	return wins[0]
}

// TestRaceUnregisterVersusReregister is the stale-cleanup race. A server
// registered under a context that ends, with a transport bound to it, is
// removed at once by its own Unregister (twice), by the end of its
// context and by UnregisterServer, while the same ID is registered
// again. A remover that loses, arriving late, must leave the newer
// registration and its binding alone; the last one is called after the
// newer registration exists, so it is late by construction.
func TestRaceUnregisterVersusReregister(t *testing.T) {
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		want := newRefModel(registry.DefaultMaxIDLen)
		bg := context.Background()

		n, deadline := rounds(40, 400)
		for round := 0; round < n && time.Now().Before(deadline); round++ {
			id := fmt.Sprintf("s%d", round)
			old, fresh := fmt.Sprintf("old%d", round), fmt.Sprintf("new%d", round)
			g1, g2 := 4*round+1, 4*round+2
			ctx, cancel := context.WithCancel(bg)
			s1, err := r.RegisterServer(ctx, id, &probe{id: id, gen: g1}, g1)
			require.NoError(t, err)
			_, err = r.RegisterBoundTransport(bg, old, id, &probe{id: old, gen: g1 + 2}, g1+2)
			require.NoError(t, err)
			_, err = r.RegisterTransport(bg, fresh, &probe{id: fresh, gen: g1 + 3}, g1+3)
			require.NoError(t, err)

			claims := make(chan string, 4)
			newer := make(chan struct{})
			unregister := func() {
				if s1.Unregister() {
					claims <- "Server.Unregister"
				}
			}
			together(cancel, unregister, unregister,
				func() {
					// Remove by ID, then register the ID again as soon
					// as the old registration is gone, and bind to it.
					defer close(newer)
					if r.UnregisterServer(id) == nil {
						claims <- "UnregisterServer"
					}
					for i := 0; i < 100_000; i++ {
						_, err := r.RegisterServer(bg, id, &probe{id: id, gen: g2}, g2)
						if err == nil {
							assert.NoError(t, r.Bind(fresh, id),
								"round %d: bind to the newer server", round)
							return
						}
						if !errors.Is(err, registry.ErrAlreadyRegistered) {
							t.Errorf("round %d: registering %q again: %v", round, id, err)
							return
						}
						runtime.Gosched()
					}
					t.Errorf("round %d: %q never became free", round, id)
				},
				func() {
					<-newer
					if s1.Unregister() {
						claims <- "late Server.Unregister"
					}
				})

			close(claims)
			var who []string
			for c := range claims {
				who = append(who, c)
			}
			require.LessOrEqual(t, len(who), 1, "round %d: removed more than once: %v", round, who)

			want.putServer(id, g2)
			want.putTransport(old, "", g1+2)
			want.putTransport(fresh, id, g1+3)
			if d := registryDiff(r, want); d != "" && !await(5*time.Second, func() bool {
				return registryDiff(r, want) == ""
			}) {
				t.Fatalf("round %d: after the race:\n%s", round, registryDiff(r, want))
			}
		}
	})
}

// TestRaceCancelVersusUnregister ends a server's context while
// UnregisterServer and the server's own Unregister (twice) remove it and
// a watcher reads the counts. At most one synchronous remover wins (the
// context's callback may win instead, and then none does); the server
// and its bindings are gone once the removal settles; no count is ever
// negative or above what was registered; and the ID, registered again
// at once, stays registered.
func TestRaceCancelVersusUnregister(t *testing.T) {
	const members = 4
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		want := newRefModel(registry.DefaultMaxIDLen)
		bg := context.Background()
		var gens atomic.Int64
		gen := func() int { return int(gens.Add(1)) }

		n, deadline := rounds(40, 400)
		for round := 0; round < n && time.Now().Before(deadline); round++ {
			id := fmt.Sprintf("s%d", round)
			ctx, cancel := context.WithCancel(bg)
			s, err := r.RegisterServer(ctx, id, &probe{id: id}, gen())
			require.NoError(t, err)
			tids := make([]string, members)
			for i := range tids {
				tids[i] = fmt.Sprintf("t%d.%d", round, i)
				g := gen()
				_, err := r.RegisterBoundTransport(bg, tids[i], id, &probe{id: tids[i], gen: g}, g)
				require.NoError(t, err)
				want.putTransport(tids[i], "", g)
			}

			claims := make(chan string, 3)
			unregister := func() {
				if s.Unregister() {
					claims <- "Server.Unregister"
				}
			}
			most := want.ServerCount() + 1
			together(cancel, unregister, unregister,
				func() {
					if r.UnregisterServer(id) == nil {
						claims <- "UnregisterServer"
					}
				},
				func() {
					for range 200 {
						total := 0
						for _, st := range r.PartitionStats() {
							if st.Servers < 0 || st.Transports < 0 {
								t.Errorf("round %d: shard %d counts %d servers, %d transports",
									round, st.Index, st.Servers, st.Transports)
							}
							total += st.Servers
						}
						if total < most-1 || total > most {
							t.Errorf("round %d: %d servers counted, want %d or %d",
								round, total, most-1, most)
						}
					}
				})
			close(claims)
			var who []string
			for c := range claims {
				who = append(who, c)
			}
			require.LessOrEqual(t, len(who), 1, "round %d: removed more than once: %v", round, who)
			if !await(5*time.Second, func() bool { return registryDiff(r, want) == "" }) {
				t.Fatalf("round %d: after the removal:\n%s", round, registryDiff(r, want))
			}

			// The ID is free; its new registration and binding stay.
			g := gen()
			_, err = r.RegisterServer(bg, id, &probe{id: id, gen: g}, g)
			require.NoError(t, err, "round %d: registering %q again", round, id)
			require.NoError(t, want.RegisterServer(id, false, refEntry{gen: g}))
			require.NoError(t, r.Bind(tids[0], id))
			require.NoError(t, want.Bind(tids[0], id))
			require.Empty(t, registryDiff(r, want), "round %d", round)
		}

		// By now any late callback has long run.
		if !await(5*time.Second, func() bool { return registryDiff(r, want) == "" }) {
			t.Fatalf("after every round:\n%s", registryDiff(r, want))
		}
	})
}
