package registry_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mcpshard/registry"
)

// waitFor bounds every poll in this package.
const waitFor = 5 * time.Second

const tick = time.Millisecond

func TestServerContextEndRemovesItAndItsBindings(t *testing.T) {
	r := newReg(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := r.RegisterServer(ctx, "srv", &recorder{}, srvCfg{})
	require.NoError(t, err)
	mustBound(t, r, "tr-1", "srv", &recorder{})
	mustBound(t, r, "tr-2", "srv", &recorder{})
	require.Len(t, boundIDs(r, "srv"), 2)

	cancel()
	require.Eventually(t, func() bool {
		_, found := r.FindServer("srv")
		_, b1 := r.ServerOf("tr-1")
		_, b2 := r.ServerOf("tr-2")
		return !found && !b1 && !b2
	}, waitFor, tick)

	// The transports stay, unbound.
	_, ok := r.FindTransport("tr-1")
	assert.True(t, ok)
	assert.Zero(t, r.ServerCount())
	assert.Equal(t, 2, r.TransportCount())
}

func TestTransportContextEndRemovesItFromItsServer(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := r.RegisterBoundTransport(ctx, "tr-1", "srv", &recorder{}, trCfg{})
	require.NoError(t, err)
	mustBound(t, r, "tr-2", "srv", &recorder{})

	cancel()
	require.Eventually(t, func() bool {
		_, found := r.FindTransport("tr-1")
		return !found && len(boundIDs(r, "srv")) == 1
	}, waitFor, tick)
	assert.Equal(t, []string{"tr-2"}, boundIDs(r, "srv"))

	res, err := r.Broadcast(context.Background(), "srv", "hello")
	require.NoError(t, err)
	assert.Equal(t, 1, res.Delivered)
}

// A deadline is a context end like any other.
func TestDeadlineRemovesEntry(t *testing.T) {
	r := newReg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := r.RegisterTransport(ctx, "tr", &recorder{}, trCfg{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, found := r.FindTransport("tr")
		return !found
	}, waitFor, tick)
}

func TestRegisterWithEndedContext(t *testing.T) {
	r := newReg(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()

	tests := []struct {
		name string
		give context.Context
		want error
	}{
		{"canceled", canceled, context.Canceled},
		{"deadline", expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.RegisterServer(tt.give, "srv", &recorder{}, srvCfg{})
			requireIDError(t, err, tt.want, "srv")
			_, err = r.RegisterTransport(tt.give, "tr", &recorder{}, trCfg{})
			requireIDError(t, err, tt.want, "tr")
			assert.Zero(t, r.ServerCount())
			assert.Zero(t, r.TransportCount())
		})
	}
}

// The case, step by step: the old registration's context ends
// after the ID was registered again, and the new one stays.
func TestOldContextEndKeepsNewerRegistration(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()

	_, err := r.RegisterBoundTransport(ctx1, "tr-1", "srv", &recorder{}, trCfg{Port: 1})
	require.NoError(t, err)
	require.NoError(t, r.UnregisterTransport("tr-1"))
	second := &recorder{}
	_, err = r.RegisterBoundTransport(ctx2, "tr-1", "srv", second, trCfg{Port: 2})
	require.NoError(t, err)

	// Cancel ctx1 and wait until any callback it started has returned.
	quiet := goleak.IgnoreCurrent()
	cancel1()
	require.NoError(t, goleak.Find(quiet))

	got, ok := r.FindTransport("tr-1")
	require.True(t, ok)
	assert.Same(t, second, got.Handle())
	assert.Equal(t, 2, got.Config().Port)
	owner, ok := r.ServerOf("tr-1")
	require.True(t, ok)
	assert.Equal(t, "srv", owner)
	assert.Equal(t, []string{"tr-1"}, boundIDs(r, "srv"))
}

// writeGate blocks the first registry write after it is armed, so a test
// can hold a context callback just before it touches the map.
type writeGate struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func newWriteGate() *writeGate {
	return &writeGate{
		entered: make(chan struct{}, 1),
		release: make(chan struct{}),
	}
}

func (g *writeGate) delay(int) time.Duration {
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	return 0
}

// The late cleanup really runs here: the old context's callback has
// started, and is held, when the ID is unregistered and registered
// again; released, it must leave the newer registration alone.
func TestLateCleanupRacingReRegistration(t *testing.T) {
	t.Run("transport", func(t *testing.T) {
		g := newWriteGate()
		r := newReg(t, registry.WithWriteDelay(g.delay))
		mustServer(t, r, "srv", &recorder{})
		ctx1, cancel1 := context.WithCancel(context.Background())
		defer cancel1()
		_, err := r.RegisterBoundTransport(ctx1, "tr-1", "srv", &recorder{}, trCfg{})
		require.NoError(t, err)

		quiet := goleak.IgnoreCurrent()
		g.armed.Store(true)
		cancel1()
		<-g.entered // the callback waits inside its write

		require.NoError(t, r.UnregisterTransport("tr-1"))
		second := mustBound(t, r, "tr-1", "srv", &recorder{})
		close(g.release)
		require.NoError(t, goleak.Find(quiet), "callback returned")

		got, ok := r.FindTransport("tr-1")
		require.True(t, ok)
		assert.Same(t, second, got)
		owner, ok := r.ServerOf("tr-1")
		require.True(t, ok)
		assert.Equal(t, "srv", owner)
		assert.Equal(t, []string{"tr-1"}, boundIDs(r, "srv"))
	})

	t.Run("server", func(t *testing.T) {
		g := newWriteGate()
		r := newReg(t, registry.WithWriteDelay(g.delay))
		ctx1, cancel1 := context.WithCancel(context.Background())
		defer cancel1()
		_, err := r.RegisterServer(ctx1, "srv", &recorder{}, srvCfg{})
		require.NoError(t, err)

		quiet := goleak.IgnoreCurrent()
		g.armed.Store(true)
		cancel1()
		<-g.entered

		require.NoError(t, r.UnregisterServer("srv"))
		second := mustServer(t, r, "srv", &recorder{})
		mustBound(t, r, "tr-1", "srv", &recorder{})
		close(g.release)
		require.NoError(t, goleak.Find(quiet), "callback returned")

		got, ok := r.FindServer("srv")
		require.True(t, ok)
		assert.Same(t, second, got)
		owner, ok := r.ServerOf("tr-1")
		require.True(t, ok, "the stale cleanup must not unbind")
		assert.Equal(t, "srv", owner)
	})
}

// Unregister on a registration removes that one and no other.
func TestUnregisterRemovesExactlyThatRegistration(t *testing.T) {
	r := newReg(t)

	s1 := mustServer(t, r, "srv", &recorder{})
	require.True(t, s1.Unregister())
	assert.False(t, s1.Unregister(), "already gone")
	s2 := mustServer(t, r, "srv", &recorder{})
	assert.False(t, s1.Unregister(), "stale value leaves the newer entry")

	t1 := mustBound(t, r, "tr", "srv", &recorder{})
	require.True(t, t1.Unregister())
	t2 := mustBound(t, r, "tr", "srv", &recorder{})
	assert.False(t, t1.Unregister())

	got, ok := r.FindServer("srv")
	require.True(t, ok)
	assert.Same(t, s2, got)
	gotT, ok := r.FindTransport("tr")
	require.True(t, ok)
	assert.Same(t, t2, gotT)
	owner, ok := r.ServerOf("tr")
	require.True(t, ok)
	assert.Equal(t, "srv", owner)

	// The live value's Unregister cascades like UnregisterServer.
	require.True(t, s2.Unregister())
	_, ok = r.ServerOf("tr")
	assert.False(t, ok)
	require.True(t, t2.Unregister())
	assert.Zero(t, r.TransportCount())
}

// Registering N entries with cancellable contexts starts no goroutine
// per entry: the registry uses context.AfterFunc.
func TestNoGoroutinePerEntry(t *testing.T) {
	r := newReg(t)
	const n = 1000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	before := runtime.NumGoroutine()
	cancels := make([]context.CancelFunc, 0, 2*n)
	for i := range n {
		sctx, c1 := context.WithCancel(ctx)
		tctx, c2 := context.WithCancel(ctx)
		cancels = append(cancels, c1, c2)
		id := strconv.Itoa(i)
		_, err := r.RegisterServer(sctx, "srv-"+id, &recorder{}, srvCfg{})
		require.NoError(t, err)
		_, err = r.RegisterTransport(tctx, "tr-"+id, &recorder{}, trCfg{})
		require.NoError(t, err)
	}
	assert.Less(t, runtime.NumGoroutine()-before, n/10,
		"%d entries must not cost a goroutine each", 2*n)

	// Ending every context removes every entry; the callbacks then exit.
	quiet := goleak.IgnoreCurrent()
	for _, c := range cancels {
		c()
	}
	require.Eventually(t, func() bool {
		return r.ServerCount() == 0 && r.TransportCount() == 0
	}, waitFor, tick)
	require.NoError(t, goleak.Find(quiet))
}
