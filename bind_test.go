package registry_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

func TestBindUnbindServerOfTransportsOf(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	tr := mustTransport(t, r, "tr-1", &recorder{})
	mustTransport(t, r, "tr-2", &recorder{})

	_, ok := r.ServerOf("tr-1")
	assert.False(t, ok, "unbound")
	b, ok := r.TransportsOf("srv")
	require.True(t, ok)
	assert.Zero(t, b.Len())

	require.NoError(t, r.Bind("tr-1", "srv"))
	require.NoError(t, r.Bind("tr-2", "srv"))
	require.NoError(t, r.Bind("tr-2", "srv"), "binding again is a no-op")

	owner, ok := r.ServerOf("tr-1")
	require.True(t, ok)
	assert.Equal(t, "srv", owner)
	id, ok := tr.ServerID()
	require.True(t, ok)
	assert.Equal(t, "srv", id)

	b, ok = r.TransportsOf("srv")
	require.True(t, ok)
	assert.Equal(t, 2, b.Len())
	got := map[string]handle{}
	for id, h := range b.All() {
		got[id] = h
	}
	assert.Len(t, got, 2)
	assert.Same(t, tr.Handle(), got["tr-1"], "All yields each handle")

	// Unbind, and again: the second is a no-op.
	require.NoError(t, r.Unbind("tr-1"))
	require.NoError(t, r.Unbind("tr-1"))
	_, ok = r.ServerOf("tr-1")
	assert.False(t, ok)
	assert.Equal(t, []string{"tr-2"}, boundIDs(r, "srv"))
	_, ok = r.FindTransport("tr-1")
	assert.True(t, ok, "unbinding keeps the transport")

	// The snapshot taken before the unbind still holds both.
	assert.Equal(t, 2, b.Len())

	// Early break from All.
	require.NoError(t, r.Bind("tr-1", "srv"))
	n := 0
	b, _ = r.TransportsOf("srv")
	for range b.All() {
		n++
		break
	}
	assert.Equal(t, 1, n)
}

func TestBindErrors(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	mustTransport(t, r, "tr", &recorder{})

	tests := []struct {
		name      string
		transport string
		server    string
		want      error
		wantID    string
	}{
		{"unknown transport", "ghost", "srv", registry.ErrTransportNotFound, "ghost"},
		{"unknown server", "tr", "ghost", registry.ErrServerNotFound, "ghost"},
		{"both unknown", "ghost-t", "ghost-s", registry.ErrTransportNotFound, "ghost-t"},
		{"server ID is a transport", "tr", "tr", registry.ErrServerNotFound, "tr"},
		{"transport ID is a server", "srv", "srv", registry.ErrTransportNotFound, "srv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Bind(tt.transport, tt.server)
			requireIDError(t, err, tt.want, tt.wantID)
			assert.ErrorIs(t, err, registry.ErrNotFound)

			_, ok := r.ServerOf("tr")
			assert.False(t, ok, "a failed bind binds nothing")
			assert.Empty(t, boundIDs(r, "srv"))
		})
	}

	err := r.Unbind("ghost")
	requireIDError(t, err, registry.ErrTransportNotFound, "ghost")

	_, ok := r.ServerOf("ghost")
	assert.False(t, ok)
	_, ok = r.TransportsOf("ghost")
	assert.False(t, ok)
}

// A failed bind to a missing server keeps the transport's old binding.
func TestBindToMissingServerKeepsOldBinding(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "a", &recorder{})
	mustBound(t, r, "tr", "a", &recorder{})

	err := r.Bind("tr", "gone")
	requireIDError(t, err, registry.ErrServerNotFound, "gone")
	owner, ok := r.ServerOf("tr")
	require.True(t, ok)
	assert.Equal(t, "a", owner)
	assert.Equal(t, []string{"tr"}, boundIDs(r, "a"))
}

func TestRebindMoves(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "a", &recorder{})
	mustServer(t, r, "b", &recorder{})
	mustBound(t, r, "tr", "a", &recorder{})
	mustBound(t, r, "stay", "a", &recorder{})

	require.NoError(t, r.Bind("tr", "b"))
	owner, ok := r.ServerOf("tr")
	require.True(t, ok)
	assert.Equal(t, "b", owner)
	assert.Equal(t, []string{"stay"}, boundIDs(r, "a"), "moved out of a")
	assert.Equal(t, []string{"tr"}, boundIDs(r, "b"), "moved into b")

	// A broadcast from a now misses it.
	res, err := r.Broadcast(context.Background(), "a", "hi")
	require.NoError(t, err)
	assert.Equal(t, 1, res.Delivered)
}

// RegisterBoundTransport to a missing server fails whole: no transport,
// no binding, and the ID is free.
func TestRegisterBoundToMissingServerLeavesNothing(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "other", &recorder{})

	_, err := r.RegisterBoundTransport(context.Background(), "tr", "gone", &recorder{}, trCfg{})
	requireIDError(t, err, registry.ErrServerNotFound, "gone")
	assert.ErrorIs(t, err, registry.ErrNotFound)

	_, ok := r.FindTransport("tr")
	assert.False(t, ok)
	assert.Zero(t, r.TransportCount())
	assert.Empty(t, boundIDs(r, "other"))
	for id := range r.Transports() {
		t.Errorf("listed %q", id)
	}

	// Registering it later, in either form, succeeds.
	mustBound(t, r, "tr", "other", &recorder{})

	// A server that went away is as missing as one never registered.
	mustServer(t, r, "brief", &recorder{})
	require.NoError(t, r.UnregisterServer("brief"))
	_, err = r.RegisterBoundTransport(context.Background(), "tr-2", "brief", &recorder{}, trCfg{})
	requireIDError(t, err, registry.ErrServerNotFound, "brief")
	_, ok = r.FindTransport("tr-2")
	assert.False(t, ok)
}

func TestServerRemovalUnbindsAll(t *testing.T) {
	tests := []struct {
		name   string
		remove func(r *testRegistry, s *testServer) error
	}{
		{"UnregisterServer", func(r *testRegistry, _ *testServer) error {
			return r.UnregisterServer("srv")
		}},
		{"Server.Unregister", func(_ *testRegistry, s *testServer) error {
			if !s.Unregister() {
				t.Error("Unregister reported false")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReg(t)
			s := mustServer(t, r, "srv", &recorder{})
			mustServer(t, r, "keep", &recorder{})
			const n = 100
			for i := range n {
				mustBound(t, r, "tr-"+strconv.Itoa(i), "srv", &recorder{})
			}
			mustBound(t, r, "kept", "keep", &recorder{})

			require.NoError(t, tt.remove(r, s))
			for i := range n {
				_, ok := r.ServerOf("tr-" + strconv.Itoa(i))
				require.False(t, ok, "tr-%d still bound", i)
			}
			assert.Equal(t, n+1, r.TransportCount(), "transports stay")
			owner, ok := r.ServerOf("kept")
			require.True(t, ok)
			assert.Equal(t, "keep", owner)

			// A new server of the same ID starts with no transports, and
			// the old ones bind to it again.
			mustServer(t, r, "srv", &recorder{})
			assert.Empty(t, boundIDs(r, "srv"))
			require.NoError(t, r.Bind("tr-0", "srv"))
			assert.Equal(t, []string{"tr-0"}, boundIDs(r, "srv"))
		})
	}
}

func TestTransportRemovalLeavesItsServerSet(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	mustBound(t, r, "tr-1", "srv", &recorder{})
	mustBound(t, r, "tr-2", "srv", &recorder{})

	require.NoError(t, r.UnregisterTransport("tr-1"))
	assert.Equal(t, []string{"tr-2"}, boundIDs(r, "srv"))

	// Operations on the removed ID fail as not found.
	requireIDError(t, r.Bind("tr-1", "srv"), registry.ErrTransportNotFound, "tr-1")
	requireIDError(t, r.Unbind("tr-1"), registry.ErrTransportNotFound, "tr-1")
}

// A server with 15,000 bound transports still binds, unbinds and
// rebinds correctly. (Timing is the benchmark's job; the shard package
// tests that a change copies a bounded path.)
func TestBindWithFifteenThousandTransports(t *testing.T) {
	const n = 15_000
	r := newReg(t)
	mustServer(t, r, "big", &recorder{})
	mustServer(t, r, "small", &recorder{})
	for i := range n {
		mustBound(t, r, "tr-"+strconv.Itoa(i), "big", &counter{})
	}
	b, ok := r.TransportsOf("big")
	require.True(t, ok)
	require.Equal(t, n, b.Len())

	mustTransport(t, r, "new", &counter{})
	require.NoError(t, r.Bind("new", "big"))
	b, _ = r.TransportsOf("big")
	assert.Equal(t, n+1, b.Len())

	// Unbind a spread of members, then move some to another server.
	for i := 0; i < n; i += 150 {
		require.NoError(t, r.Unbind("tr-"+strconv.Itoa(i)))
	}
	for i := 1; i < n; i += 1500 {
		require.NoError(t, r.Bind("tr-"+strconv.Itoa(i), "small"))
	}
	b, _ = r.TransportsOf("big")
	assert.Equal(t, n+1-100-10, b.Len())

	ids := boundIDs(r, "big")
	slices.Sort(ids)
	assert.Len(t, slices.Compact(ids), b.Len(), "no member twice")
	assert.False(t, slices.Contains(ids, "tr-0"))
	assert.False(t, slices.Contains(ids, "tr-1"))
	assert.True(t, slices.Contains(ids, "tr-2"))
	assert.True(t, slices.Contains(ids, "new"))
	assert.Len(t, boundIDs(r, "small"), 10)

	res, err := r.Broadcast(context.Background(), "big", "ping")
	require.NoError(t, err)
	assert.Equal(t, b.Len(), res.Delivered)
	assert.Empty(t, res.Failed)
}
