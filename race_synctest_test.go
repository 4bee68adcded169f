//go:build go1.25

package registry_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// The races in this file involve the removal that the end of a context
// schedules on a goroutine of its own. They run inside a synctest bubble:
// synctest.Wait returns once every goroutine of the bubble, callbacks
// included, has finished or blocked for good, so the state can be
// checked exactly, with no polling and no guess at how long a callback
// may take.

// TestRaceContextEndIsStaleAfterReregister ends a server's context while
// the same ID is unregistered and registered again, with a transport
// bound to the new registration. When the callback arrives late, after
// the ID is registered again, it must leave the newer registration and
// its binding alone; when it wins, the re-registration waits for it.
func TestRaceContextEndIsStaleAfterReregister(t *testing.T) {
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		n, _ := rounds(50, 500)
		synctest.Test(t, func(t *testing.T) {
			r, err := registry.New[int, int, int](with(opts, registry.WithoutAdmission())...)
			require.NoError(t, err)
			defer r.Close()
			want := newRefModel(registry.DefaultMaxIDLen)
			bg := context.Background()

			for round := range n {
				id := fmt.Sprintf("s%d", round%4)
				old, fresh := fmt.Sprintf("old%d", round), fmt.Sprintf("new%d", round)
				g := 4*round + 1
				if round >= 4 {
					// The previous registration of id is live; remove it.
					require.NoError(t, r.UnregisterServer(id))
					require.NoError(t, want.UnregisterServer(id))
				}
				ctx, cancel := context.WithCancel(bg)
				_, err := r.RegisterServer(ctx, id, &probe{id: id, gen: g}, g)
				require.NoError(t, err)
				_, err = r.RegisterBoundTransport(bg, old, id, &probe{id: old, gen: g + 1}, g+1)
				require.NoError(t, err)
				_, err = r.RegisterTransport(bg, fresh, &probe{id: fresh, gen: g + 2}, g+2)
				require.NoError(t, err)

				together(cancel, func() {
					_ = r.UnregisterServer(id) // may lose to the callback
					for range 100_000 {
						_, err := r.RegisterServer(bg, id, &probe{id: id, gen: g + 3}, g+3)
						if err == nil {
							break
						}
						runtime.Gosched()
					}
					if err := r.Bind(fresh, id); err != nil {
						t.Errorf("round %d: Bind(%q, %q): %v", round, fresh, id, err)
					}
				})
				synctest.Wait()

				want.putServer(id, g+3)
				want.putTransport(old, "", g+1)
				want.putTransport(fresh, id, g+2)
				if d := registryDiff(r, want); d != "" {
					t.Fatalf("round %d: once every callback has run:\n%s", round, d)
				}
			}
		})
	})
}

// TestRaceContextEndVersusUnregisterOnce ends a server's context while
// UnregisterServer and the server's own Unregister remove it. At most one
// of the synchronous removers reports success, and once every callback
// has run the server, its bindings and its count are gone exactly: the
// cascade ran once, and no count went below zero.
func TestRaceContextEndVersusUnregisterOnce(t *testing.T) {
	const members = 3
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		n, _ := rounds(50, 500)
		synctest.Test(t, func(t *testing.T) {
			r, err := registry.New[int, int, int](with(opts, registry.WithoutAdmission())...)
			require.NoError(t, err)
			defer r.Close()
			want := newRefModel(registry.DefaultMaxIDLen)
			bg := context.Background()

			for round := range n {
				id := fmt.Sprintf("s%d", round)
				ctx, cancel := context.WithCancel(bg)
				s, err := r.RegisterServer(ctx, id, &probe{id: id, gen: 1}, 1)
				require.NoError(t, err)
				for i := range members {
					tid := fmt.Sprintf("t%d.%d", round, i)
					_, err := r.RegisterBoundTransport(bg, tid, id, &probe{id: tid, gen: 2}, 2)
					require.NoError(t, err)
					want.putTransport(tid, "", 2)
				}

				claims := make(chan string, 3)
				unregister := func() {
					if s.Unregister() {
						claims <- "Server.Unregister"
					}
				}
				together(cancel, unregister, unregister, func() {
					if r.UnregisterServer(id) == nil {
						claims <- "UnregisterServer"
					}
				})
				synctest.Wait()

				close(claims)
				require.LessOrEqual(t, len(claims), 1, "round %d: removed more than once", round)
				if d := registryDiff(r, want); d != "" {
					t.Fatalf("round %d: once every callback has run:\n%s", round, d)
				}
			}
		})
	})
}
