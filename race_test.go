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

// The tests in this file each stage one race that a concurrent registry
// must win, many rounds over, under -race. In every round the racing
// goroutines wait at a gate and start together; every round is bounded
// by a count and all of them by a deadline; results travel back over
// channels and are checked after the round.

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

// TestRaceBindUnregisterServer races binds to a server with its removal:
// Bind of unbound transports, Bind of transports that move from another
// server, and RegisterBoundTransport, against UnregisterServer, the
// server's own Unregister or the end of its context. Whatever the
// interleaving, once the removal is complete nothing is bound to the
// gone server, a transport whose move failed is still on its old server,
// and a failed bound registration left nothing behind.
func TestRaceBindUnregisterServer(t *testing.T) {
	const binders, movers, newcomers = 6, 4, 3
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		want := newRefModel(registry.DefaultMaxIDLen)
		bg := context.Background()
		var gens atomic.Int64
		gen := func() int { return int(gens.Add(1)) }

		register := func(id, server string) {
			t.Helper()
			g := gen()
			_, err := r.RegisterBoundTransport(bg, id, server, &probe{id: id, gen: g}, g)
			if server == "" {
				_, err = r.RegisterTransport(bg, id, &probe{id: id, gen: g}, g)
			}
			require.NoError(t, err)
			want.putTransport(id, server, g)
		}
		g := gen()
		_, err := r.RegisterServer(bg, "other", &probe{id: "other", gen: g}, g)
		require.NoError(t, err)
		require.NoError(t, want.RegisterServer("other", false, refEntry{gen: g}))

		n, deadline := rounds(40, 400)
		for round := 0; round < n && time.Now().Before(deadline); round++ {
			sid := fmt.Sprintf("s%d", round)
			ctx, cancel := context.WithCancel(bg)
			g := gen()
			s, err := r.RegisterServer(ctx, sid, &probe{id: sid, gen: g}, g)
			require.NoError(t, err)
			for i := range binders {
				register(fmt.Sprintf("b%d.%d", round, i), "")
			}
			for i := range movers {
				register(fmt.Sprintf("m%d.%d", round, i), "other")
			}

			bound := make(chan string, binders+movers+newcomers)
			var racers []func()
			for i := range binders + movers {
				tid := fmt.Sprintf("b%d.%d", round, i)
				if i >= binders {
					tid = fmt.Sprintf("m%d.%d", round, i-binders)
				}
				racers = append(racers, func() {
					switch err := r.Bind(tid, sid); {
					case err == nil:
						bound <- tid
					case !errors.Is(err, registry.ErrServerNotFound):
						t.Errorf("Bind(%q, %q) = %v", tid, sid, err)
					}
				})
			}
			for i := range newcomers {
				tid := fmt.Sprintf("n%d.%d", round, i)
				g := gen()
				racers = append(racers, func() {
					_, err := r.RegisterBoundTransport(bg, tid, sid, &probe{id: tid, gen: g}, g)
					switch {
					case err == nil:
						bound <- tid
						want.putTransport(tid, "", g)
					case !errors.Is(err, registry.ErrServerNotFound):
						t.Errorf("RegisterBoundTransport(%q, %q) = %v", tid, sid, err)
					}
				})
			}

			// The removal, three ways in turn.
			racers = append(racers, func() {
				switch round % 3 {
				case 0:
					assert.NoError(t, r.UnregisterServer(sid))
				case 1:
					assert.True(t, s.Unregister())
				case 2:
					cancel()
				}
			})
			together(racers...)
			cancel()

			// A bind that won moved its transport off "other" before
			// the cascade unbound it.
			close(bound)
			for tid := range bound {
				if e, ok := want.Transport(tid); ok && e.server == "other" {
					require.NoError(t, want.Unbind(tid))
				}
			}
			if !await(5*time.Second, func() bool { return registryDiff(r, want) == "" }) {
				t.Fatalf("round %d: after binds raced the removal of %q:\n%s",
					round, sid, registryDiff(r, want))
			}
		}
	})
}

// receipts is a handle that keeps every message a broadcast from server
// "A" brought it, to check afterwards which broadcasts reached whom.
type receipts struct {
	mu  sync.Mutex
	got map[int]int // message -> times received
}

func (h *receipts) Write(context.Context, int) error { return nil }

func (h *receipts) WriteFrom(_ context.Context, from string, msg int) error {
	if from != "A" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.got == nil {
		h.got = map[int]int{}
	}
	h.got[msg]++
	return nil
}

func (h *receipts) times(msg int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[msg]
}

// span is an interval on the test's logical clock.
type span struct{ call, ret int64 }

// moverLog is what one mover did: after op j, whose span is spans[j], it
// was bound to A when onA[j]. It started bound to B.
type moverLog struct {
	id    string
	spans []span
	onA   []bool
}

// boundToA says whether the mover was surely bound to A throughout s
// (yes), surely not (no), or changed during it (either).
func (l moverLog) boundToA(s span) (yes, no bool) {
	state, from := false, int64(-1)
	for j, op := range l.spans {
		if s.call > from && s.ret < op.call {
			return state, !state
		}
		state, from = l.onA[j], op.ret
	}
	if s.call > from {
		return state, !state
	}
	return false, false
}

// TestRaceBroadcastDuringBindUnbind broadcasts from server A while
// movers bind to A, unbind and bind to B, over and over. Each broadcast
// reads one snapshot of A's set, so: every anchor (bound to A
// throughout) gets every message exactly once; no transport gets a
// message twice; Delivered counts exactly the receivers; a mover bound
// to A for a broadcast's whole span gets it, and one away from A for the
// whole span does not. A reader checks meanwhile that a snapshot from
// TransportsOf never changes under it.
func TestRaceBroadcastDuringBindUnbind(t *testing.T) {
	const anchors, movers = 4, 4
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		bg := context.Background()
		for _, id := range []string{"A", "B"} {
			_, err := r.RegisterServer(bg, id, &probe{id: id}, 0)
			require.NoError(t, err)
		}
		handles := map[string]*receipts{}
		for i := range anchors + movers {
			id, server := fmt.Sprintf("anchor%d", i), "A"
			if i >= anchors {
				id, server = fmt.Sprintf("mover%d", i-anchors), "B"
			}
			handles[id] = &receipts{}
			_, err := r.RegisterBoundTransport(bg, id, server, handles[id], i)
			require.NoError(t, err)
		}

		// One broadcaster, the movers and a snapshot reader; the
		// broadcaster's end stops the others.
		type sent struct {
			span
			msg, delivered int
		}
		var clock atomic.Int64
		n, deadline := rounds(300, 3000)
		sends := make(chan []sent, 1)
		moves := make(chan moverLog, movers)
		stop := make(chan struct{})
		fs := []func(){func() {
			defer close(stop)
			var log []sent
			for msg := 1; msg <= n && time.Now().Before(deadline); msg++ {
				call := clock.Add(1)
				res, err := r.Broadcast(bg, "A", msg)
				ret := clock.Add(1)
				assert.NoError(t, err)
				assert.Empty(t, res.Failed)
				log = append(log, sent{span{call, ret}, msg, res.Delivered})
			}
			sends <- log
		}}
		for i := range movers {
			l := moverLog{id: fmt.Sprintf("mover%d", i)}
			fs = append(fs, func() {
				defer func() { moves <- l }()
				for step := 0; step < 100*n; step++ {
					select {
					case <-stop:
						return
					default:
					}
					call := clock.Add(1)
					var err error
					switch step % 3 {
					case 0:
						err = r.Bind(l.id, "A")
					case 1:
						err = r.Unbind(l.id)
					case 2:
						err = r.Bind(l.id, "B")
					}
					l.spans = append(l.spans, span{call, clock.Add(1)})
					l.onA = append(l.onA, step%3 == 0)
					assert.NoError(t, err)
				}
			})
		}
		fs = append(fs, func() {
			for i := 0; i < 100*n; i++ {
				select {
				case <-stop:
					return
				default:
				}
				b, ok := r.TransportsOf("A")
				if !assert.True(t, ok, "server A is gone") {
					return
				}
				var first, second []string
				for id := range b.All() {
					first = append(first, id)
				}
				for id := range b.All() {
					second = append(second, id)
				}
				assert.Equal(t, first, second, "a snapshot changed while read")
				assert.Len(t, first, b.Len())
				runtime.Gosched()
			}
		})
		together(fs...)

		logs := map[string]moverLog{}
		for range movers {
			l := <-moves
			logs[l.id] = l
		}
		for _, s := range <-sends {
			receivers := 0
			for id, h := range handles {
				k := h.times(s.msg)
				receivers += k
				yes, no := true, false
				if l, ok := logs[id]; ok {
					yes, no = l.boundToA(s.span)
				}
				switch {
				case k > 1:
					t.Errorf("%s got message %d %d times", id, s.msg, k)
				case yes && k == 0:
					t.Errorf("%s, bound to A throughout, missed message %d", id, s.msg)
				case no && k == 1:
					t.Errorf("%s, away from A throughout, got message %d", id, s.msg)
				}
			}
			if receivers != s.delivered {
				t.Errorf("message %d: Delivered = %d, but %d handles got it",
					s.msg, s.delivered, receivers)
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

// TestRaceMailboxWriteVersusClose writes to a mailbox from eight
// goroutines while it is closed, under each overflow policy. No write
// panics or blocks; once one write has seen ErrClosed every later one
// does; and every message is accounted for exactly once: each accepted
// write is delivered, failed or dropped, and each refused one is counted
// as rejected.
func TestRaceMailboxWriteVersusClose(t *testing.T) {
	const writers = 8
	policies := map[string]registry.OverflowPolicy{
		"policy=reject-newest": registry.RejectNewest,
		"policy=drop-oldest":   registry.DropOldest,
	}
	for name, policy := range policies {
		t.Run(name, func(t *testing.T) {
			n, deadline := rounds(50, 500)
			for round := 0; round < n && time.Now().Before(deadline); round++ {
				sink := &probe{id: "sink"}
				mb, err := registry.NewMailbox[int](sink,
					registry.MailboxOptions{Capacity: 2, Policy: policy})
				require.NoError(t, err)

				type tally struct{ ok, full int }
				tallies := make(chan tally, writers)
				busy := make(chan struct{})
				var writes atomic.Int64
				fs := []func(){func() {
					<-busy
					assert.NoError(t, mb.Close())
					assert.ErrorIs(t, mb.Write(context.Background(), -1), registry.ErrClosed)
					assert.NoError(t, mb.Close(), "a second Close")
				}}
				for w := range writers {
					fs = append(fs, func() {
						var c tally
						defer func() { tallies <- c }()
						closed := 0
						for i := 0; i < 2000 && closed < 3; i++ {
							if writes.Add(1) == 50 {
								close(busy)
							}
							switch err := mb.Write(context.Background(), w*10000+i); {
							case err == nil && closed == 0:
								c.ok++
							case errors.Is(err, registry.ErrMailboxFull) && closed == 0:
								c.full++
							case errors.Is(err, registry.ErrClosed):
								closed++
							default:
								t.Errorf("round %d: write %d got %v after %d ErrClosed",
									round, i, err, closed)
							}
						}
					})
				}
				together(fs...)

				var sum tally
				for range writers {
					c := <-tallies
					sum.ok += c.ok
					sum.full += c.full
				}
				st := mb.Stats()
				assert.Equal(t, uint64(sum.full), st.Rejected, "round %d: rejections", round)
				assert.Equal(t, uint64(sum.ok), st.Delivered+st.Failed+st.Dropped,
					"round %d: %d writes accepted, stats %+v", round, sum.ok, st)
				assert.Equal(t, int64(st.Delivered), sink.got.Load(), "round %d", round)
				assert.Zero(t, mb.Len(), "round %d: letters left after Close", round)
			}
		})
	}
}
