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

// This file races binds to a server with the server's removal. It
// follows the pattern, and uses the helpers, of race_test.go.

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
