package registry_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

func TestCloseIsIdempotent(t *testing.T) {
	r := newReg(t)
	require.NoError(t, r.Close())
	assert.ErrorIs(t, r.Close(), registry.ErrClosed)
	assert.ErrorIs(t, r.Close(), registry.ErrClosed)
}

// After Close every call that changes or routes returns ErrClosed, every
// lookup finds nothing, and no handle is written.
func TestCloseEveryLaterCall(t *testing.T) {
	r := newReg(t)
	h := &recorder{}
	s := mustServer(t, r, "srv", h)
	tr := mustBound(t, r, "tr", "srv", h)
	mustTransport(t, r, "loose", h)
	require.NoError(t, r.Close())
	ctx := context.Background()

	tests := []struct {
		name string
		give func() error
		id   string
	}{
		{"RegisterServer", func() error {
			_, err := r.RegisterServer(ctx, "new", h, srvCfg{})
			return err
		}, "new"},
		{"RegisterTransport", func() error {
			_, err := r.RegisterTransport(ctx, "new", h, trCfg{})
			return err
		}, "new"},
		{"RegisterBoundTransport", func() error {
			_, err := r.RegisterBoundTransport(ctx, "new", "srv", h, trCfg{})
			return err
		}, "new"},
		{"UnregisterServer", func() error { return r.UnregisterServer("srv") }, "srv"},
		{"UnregisterTransport", func() error { return r.UnregisterTransport("tr") }, "tr"},
		{"Bind", func() error { return r.Bind("loose", "srv") }, "loose"},
		{"Unbind", func() error { return r.Unbind("tr") }, "tr"},
		{"RouteToServer", func() error { return r.RouteToServer(ctx, "srv", "tr", "m") }, "srv"},
		{"RouteToTransport", func() error {
			return r.RouteToTransport(ctx, "tr", "srv", "m")
		}, "tr"},
		{"Broadcast", func() error {
			_, err := r.Broadcast(ctx, "srv", "m")
			return err
		}, "srv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tt.give() })
			requireIDError(t, err, registry.ErrClosed, tt.id)
		})
	}

	_, ok := r.FindServer("srv")
	assert.False(t, ok)
	_, ok = r.FindTransport("tr")
	assert.False(t, ok)
	_, ok = r.ServerOf("tr")
	assert.False(t, ok)
	_, ok = r.TransportsOf("srv")
	assert.False(t, ok)
	assert.Zero(t, r.ServerCount())
	assert.Zero(t, r.TransportCount())
	for _, st := range r.PartitionStats() {
		assert.Zero(t, st.Servers+st.Transports, "shard %d", st.Index)
	}

	// Kept values still read, and report that they are gone.
	assert.Equal(t, "srv", s.ID())
	assert.False(t, s.Unregister())
	assert.False(t, tr.Unregister())
	_, bound := tr.ServerID()
	assert.False(t, bound, "Close unbinds")

	assert.Empty(t, h.messages(), "no handle written after Close")
}

// Close removes entries with their context callbacks, so ending those
// contexts afterwards is harmless.
func TestCloseThenContextEnd(t *testing.T) {
	r := newReg(t)
	ctx, cancel := context.WithCancel(context.Background())
	for i := range 50 {
		_, err := r.RegisterServer(ctx, "srv-"+strconv.Itoa(i), &recorder{}, srvCfg{})
		require.NoError(t, err)
		_, err = r.RegisterTransport(ctx, "tr-"+strconv.Itoa(i), &recorder{}, trCfg{})
		require.NoError(t, err)
	}
	require.NoError(t, r.Close())
	require.NotPanics(t, func() { cancel() })
	assert.Zero(t, r.ServerCount())
}

// Close racing registrations, binds and routes: no panic, no error other
// than ErrClosed (or a not-found from an entry Close just removed), and
// nothing left behind.
func TestCloseRacingWriters(t *testing.T) {
	r := newReg(t)
	for i := range 20 {
		mustServer(t, r, "srv-"+strconv.Itoa(i), &counter{})
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range 200 {
				id := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				srv := "srv-" + strconv.Itoa(i%20)
				_, err := r.RegisterBoundTransport(context.Background(),
					id, srv, &counter{}, trCfg{})
				if err != nil && !errorsIsAny(err, registry.ErrClosed, registry.ErrNotFound) {
					t.Errorf("register %s: %v", id, err)
				}
				err = r.RouteToServer(context.Background(), srv, id, "m")
				if err != nil && !errorsIsAny(err, registry.ErrClosed, registry.ErrNotFound) {
					t.Errorf("route %s: %v", srv, err)
				}
			}
		}()
	}
	close(start)
	require.NoError(t, r.Close())
	wg.Wait()

	assert.Zero(t, r.ServerCount())
	assert.Zero(t, r.TransportCount())
}
