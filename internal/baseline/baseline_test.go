package baseline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/internal/baseline"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// each runs f as a subtest for every implementation, fresh and closed
// when the subtest ends.
func each(t *testing.T, bindings bool, f func(t *testing.T, r baseline.Registry)) {
	for _, impl := range baseline.Impls() {
		if bindings && !impl.Bindings {
			continue
		}
		t.Run(impl.Label(), func(t *testing.T) {
			r, err := impl.New(0)
			require.NoError(t, err)
			t.Cleanup(func() { _ = r.Close() })
			f(t, r)
		})
	}
}

var bg = context.Background()

func TestRegisterFindUnregister(t *testing.T) {
	each(t, false, func(t *testing.T, r baseline.Registry) {
		h := &baseline.Counter{}
		require.NoError(t, r.RegisterServer(bg, "s1", h, baseline.ServerConfig{Name: "s1"}))
		require.NoError(t, r.RegisterTransport(bg, "t1", h, baseline.TransportConfig{}))

		got, ok := r.FindServer("s1")
		assert.True(t, ok)
		assert.Same(t, h, got)
		_, ok = r.FindTransport("t1")
		assert.True(t, ok)
		_, ok = r.FindServer("t1")
		assert.False(t, ok, "servers and transports are apart")

		err := r.RegisterServer(bg, "s1", h, baseline.ServerConfig{})
		assert.ErrorIs(t, err, registry.ErrAlreadyRegistered)

		s, tr := r.Counts()
		assert.Equal(t, [2]int{1, 1}, [2]int{s, tr})
		require.NoError(t, r.UnregisterServer("s1"))
		require.NoError(t, r.UnregisterTransport("t1"))
		assert.ErrorIs(t, r.UnregisterServer("s1"), registry.ErrServerNotFound)
		assert.ErrorIs(t, r.UnregisterServer("s1"), registry.ErrNotFound)
		s, tr = r.Counts()
		assert.Equal(t, [2]int{0, 0}, [2]int{s, tr})
	})
}

// gone waits until find reports the ID missing. context.AfterFunc runs
// its callback on a goroutine of its own and says nothing when it is
// done, so the only signal is the entry's absence; the wait is bounded.
func gone(t *testing.T, find func() bool) {
	t.Helper()
	require.Eventually(t, func() bool { return !find() },
		5*time.Second, 100*time.Microsecond)
}

func TestContextEndRemoves(t *testing.T) {
	each(t, false, func(t *testing.T, r baseline.Registry) {
		ctx, cancel := context.WithCancel(bg)
		require.NoError(t, r.RegisterServer(ctx, "s", baseline.Nop{}, baseline.ServerConfig{}))
		require.NoError(t, r.RegisterTransport(ctx, "t", baseline.Nop{}, baseline.TransportConfig{}))
		cancel()
		gone(t, func() bool { _, ok := r.FindServer("s"); return ok })
		gone(t, func() bool { _, ok := r.FindTransport("t"); return ok })
	})
}

// TestLateCleanupKeepsNewer: register with ctx1, unregister, register
// again without ctx1, end ctx1: the second registration stays. A
// sentinel registered on ctx1 shows that ctx1's cleanups have run.
func TestLateCleanupKeepsNewer(t *testing.T) {
	each(t, false, func(t *testing.T, r baseline.Registry) {
		ctx1, cancel1 := context.WithCancel(bg)
		h2 := &baseline.Counter{}
		require.NoError(t, r.RegisterTransport(ctx1, "t", &baseline.Counter{}, baseline.TransportConfig{}))
		require.NoError(t, r.RegisterTransport(ctx1, "sentinel", baseline.Nop{}, baseline.TransportConfig{}))
		require.NoError(t, r.UnregisterTransport("t"))
		require.NoError(t, r.RegisterTransport(bg, "t", h2, baseline.TransportConfig{}))
		cancel1()
		gone(t, func() bool { _, ok := r.FindTransport("sentinel"); return ok })

		got, ok := r.FindTransport("t")
		require.True(t, ok)
		assert.Same(t, h2, got)
	})
}

func TestBindRouteBroadcast(t *testing.T) {
	each(t, true, func(t *testing.T, r baseline.Registry) {
		srv := &originRecorder{}
		require.NoError(t, r.RegisterServer(bg, "s", srv, baseline.ServerConfig{}))
		require.NoError(t, r.RegisterServer(bg, "s2", &baseline.Counter{}, baseline.ServerConfig{}))
		hs := make([]*baseline.Counter, 5)
		for i := range hs {
			hs[i] = &baseline.Counter{}
			id := fmt.Sprint("t", i)
			require.NoError(t, r.RegisterTransport(bg, id, hs[i], baseline.TransportConfig{}))
			require.NoError(t, r.Bind(id, "s"))
		}
		assert.ErrorIs(t, r.Bind("t0", "nope"), registry.ErrServerNotFound)
		assert.ErrorIs(t, r.Bind("nope", "s"), registry.ErrTransportNotFound)

		sid, ok := r.ServerOf("t3")
		assert.True(t, ok)
		assert.Equal(t, "s", sid)

		require.NoError(t, r.RouteToServer(bg, "s", "t2", baseline.Msg("hi")))
		assert.Equal(t, []string{"t2"}, srv.from)
		require.NoError(t, r.RouteToTransport(bg, "t1", "s", baseline.Msg("yo")))
		assert.EqualValues(t, 1, hs[1].Count())
		assert.ErrorIs(t, r.RouteToServer(bg, "x", "t2", nil), registry.ErrNotFound)

		// Rebind one, unbind one: the broadcast reaches the other three.
		require.NoError(t, r.Bind("t0", "s2"))
		require.NoError(t, r.Unbind("t4"))
		d, f, err := r.Broadcast(bg, "s", baseline.Msg("n"))
		require.NoError(t, err)
		assert.Equal(t, 3, d)
		assert.Zero(t, f)

		// Removing the server unbinds its transports.
		require.NoError(t, r.UnregisterServer("s"))
		_, ok = r.ServerOf("t1")
		assert.False(t, ok)
		sid, ok = r.ServerOf("t0")
		assert.True(t, ok)
		assert.Equal(t, "s2", sid)
	})
}

func TestBroadcastSurvivesPanic(t *testing.T) {
	each(t, true, func(t *testing.T, r baseline.Registry) {
		require.NoError(t, r.RegisterServer(bg, "s", baseline.Nop{}, baseline.ServerConfig{}))
		c := &baseline.Counter{}
		require.NoError(t, r.RegisterTransport(bg, "ok", c, baseline.TransportConfig{}))
		require.NoError(t, r.RegisterTransport(bg, "bad", panicker{}, baseline.TransportConfig{}))
		require.NoError(t, r.Bind("ok", "s"))
		require.NoError(t, r.Bind("bad", "s"))

		d, f, err := r.Broadcast(bg, "s", nil)
		require.NoError(t, err)
		assert.Equal(t, [2]int{1, 1}, [2]int{d, f})
		assert.EqualValues(t, 1, c.Count())
		err = r.RouteToTransport(bg, "bad", "s", nil)
		assert.ErrorIs(t, err, registry.ErrPanic)
	})
}

// TestRaceBindUnregisterServer races Bind with the server's removal: the
// transport must never stay bound to a server that is gone.
func TestRaceBindUnregisterServer(t *testing.T) {
	each(t, true, func(t *testing.T, r baseline.Registry) {
		for i := range 200 {
			sid, tid := fmt.Sprint("s", i), fmt.Sprint("t", i)
			require.NoError(t, r.RegisterServer(bg, sid, baseline.Nop{}, baseline.ServerConfig{}))
			require.NoError(t, r.RegisterTransport(bg, tid, baseline.Nop{}, baseline.TransportConfig{}))

			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); _ = r.Bind(tid, sid) }()
			go func() { defer wg.Done(); _ = r.UnregisterServer(sid) }()
			wg.Wait()

			_, bound := r.ServerOf(tid)
			require.False(t, bound, "transport %s bound to removed %s", tid, sid)
		}
	})
}

func TestClose(t *testing.T) {
	each(t, true, func(t *testing.T, r baseline.Registry) {
		require.NoError(t, r.RegisterServer(bg, "s", baseline.Nop{}, baseline.ServerConfig{}))
		require.NoError(t, r.Close())
		assert.ErrorIs(t, r.Close(), registry.ErrClosed)
		err := r.RegisterServer(bg, "s2", baseline.Nop{}, baseline.ServerConfig{})
		assert.ErrorIs(t, err, registry.ErrClosed)
		_, ok := r.FindServer("s")
		assert.False(t, ok)
	})
}

func TestXSyncMapHasNoBindings(t *testing.T) {
	r := baseline.NewXSyncMap(0)
	assert.ErrorIs(t, r.Bind("t", "s"), errors.ErrUnsupported)
	_, _, err := r.Broadcast(bg, "s", nil)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}

func TestIDsDistinct(t *testing.T) {
	ids := baseline.IDs("srv-", 100_000, 1)
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}
	assert.Equal(t, ids, baseline.IDs("srv-", 100_000, 1), "deterministic")
	assert.Len(t, baseline.Probe(ids, 1), 1<<17)
}

// TestLoopsAllocateNothing pins the hot loops: a lookup allocates nothing
// in any implementation the targets compare.
func TestLoopsAllocateNothing(t *testing.T) {
	each(t, false, func(t *testing.T, r baseline.Registry) {
		ids := baseline.IDs("s-", 1024, 2)
		for _, id := range ids {
			require.NoError(t, r.RegisterServer(bg, id, baseline.Nop{}, baseline.ServerConfig{}))
		}
		if _, pooled := r.(*baseline.Chan); pooled && raceEnabled {
			t.Skip("sync.Pool drops items under the race detector")
		}
		probe := baseline.Probe(ids, 3)
		allocs := testing.AllocsPerRun(10, func() {
			if baseline.Find(r, probe, 0, 1000) != 1000 {
				t.Error("lookup missed")
			}
		})
		assert.Zero(t, allocs)
	})
}

type originRecorder struct {
	mu   sync.Mutex
	from []string
}

func (o *originRecorder) Write(context.Context, baseline.Msg) error { return nil }

func (o *originRecorder) WriteFrom(_ context.Context, from string, _ baseline.Msg) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.from = append(o.from, from)
	return nil
}

type panicker struct{}

func (panicker) Write(context.Context, baseline.Msg) error { panic("boom") }
