package registry_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// The MCP Go SDK's connection is an interface over jsonrpc.Message, an
// interface type, with Write(ctx, msg) error among other methods. These
// stand-ins have the same shape, so the checks below prove that such a
// connection is a Handle with no adapter.
type (
	jsonrpcMessage interface{ isJSONRPC() }
	mcpConnection  interface {
		Read(context.Context) (jsonrpcMessage, error)
		Write(context.Context, jsonrpcMessage) error
		Close() error
		SessionID() string
	}
	// writerOnly is the smallest type that satisfies Handle.
	writerOnly struct{}
)

func (writerOnly) Write(context.Context, jsonrpcMessage) error { return nil }

var (
	_ registry.Handle[jsonrpcMessage]       = mcpConnection(nil)
	_ registry.Handle[jsonrpcMessage]       = writerOnly{}
	_ registry.Handle[string]               = (*recorder)(nil)
	_ registry.OriginWriter[string]         = (*originRecorder)(nil)
	_ registry.Handle[string]               = (*registry.Mailbox[string])(nil)
	_ registry.OriginWriter[jsonrpcMessage] = (*registry.Mailbox[jsonrpcMessage])(nil)
)

func TestServerRegisterFindUnregister(t *testing.T) {
	r := newReg(t)
	h := &recorder{}
	cfg := srvCfg{Name: "weather", Tools: []string{"forecast", "alerts"}}

	s, err := r.RegisterServer(context.Background(), "weather", h, cfg)
	require.NoError(t, err)
	assert.Equal(t, "weather", s.ID())
	assert.Same(t, h, s.Handle())
	assert.Equal(t, cfg, s.Config())

	got, ok := r.FindServer("weather")
	require.True(t, ok)
	assert.Same(t, s, got)
	assert.Equal(t, cfg, got.Config(), "typed config round-trips")
	assert.Equal(t, 1, r.ServerCount())

	// The kinds are separate: no transport of that ID exists.
	_, ok = r.FindTransport("weather")
	assert.False(t, ok)

	require.NoError(t, r.UnregisterServer("weather"))
	_, ok = r.FindServer("weather")
	assert.False(t, ok)
	assert.Zero(t, r.ServerCount())

	// A kept *Server still reads after it is gone.
	assert.Equal(t, "weather", s.ID())
	assert.Equal(t, cfg, s.Config())

	err = r.UnregisterServer("weather")
	requireIDError(t, err, registry.ErrServerNotFound, "weather")
	assert.ErrorIs(t, err, registry.ErrNotFound)
}

func TestTransportRegisterFindUnregister(t *testing.T) {
	r := newReg(t)
	h := &recorder{}
	cfg := trCfg{Kind: "stdio", Port: 7}

	tr, err := r.RegisterTransport(context.Background(), "stdio-1", h, cfg)
	require.NoError(t, err)
	assert.Equal(t, "stdio-1", tr.ID())
	assert.Same(t, h, tr.Handle())
	assert.Equal(t, cfg, tr.Config())
	_, bound := tr.ServerID()
	assert.False(t, bound, "RegisterTransport leaves it unbound")

	got, ok := r.FindTransport("stdio-1")
	require.True(t, ok)
	assert.Same(t, tr, got)
	assert.Equal(t, cfg, got.Config())
	assert.Equal(t, 1, r.TransportCount())

	_, ok = r.FindServer("stdio-1")
	assert.False(t, ok)

	require.NoError(t, r.UnregisterTransport("stdio-1"))
	_, ok = r.FindTransport("stdio-1")
	assert.False(t, ok)
	assert.Zero(t, r.TransportCount())

	err = r.UnregisterTransport("stdio-1")
	requireIDError(t, err, registry.ErrTransportNotFound, "stdio-1")
	assert.ErrorIs(t, err, registry.ErrNotFound)
}

// One ID may name a server and a transport at once; each kind's
// operations touch only its own entry.
func TestSameIDBothKinds(t *testing.T) {
	r := newReg(t)
	s := mustServer(t, r, "x", &recorder{})
	tr := mustTransport(t, r, "x", &recorder{})

	require.NoError(t, r.UnregisterTransport("x"))
	got, ok := r.FindServer("x")
	require.True(t, ok)
	assert.Same(t, s, got)
	assert.False(t, tr.Unregister())
}

// Registering a live ID again fails with ErrAlreadyRegistered and
// changes nothing: the original handle, config and bindings stay.
func TestRegisterTwiceChangesNothing(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	first := &recorder{}
	s := mustServer(t, r, "srv", first)
	tr := mustBound(t, r, "tr", "srv", first)
	mustServer(t, r, "other", &recorder{})

	tests := []struct {
		name string
		give func() error
		id   string
	}{
		{"server", func() error {
			_, err := r.RegisterServer(ctx, "srv", &recorder{}, srvCfg{Name: "imposter"})
			return err
		}, "srv"},
		{"transport", func() error {
			_, err := r.RegisterTransport(ctx, "tr", &recorder{}, trCfg{Kind: "imposter"})
			return err
		}, "tr"},
		{"bound transport", func() error {
			_, err := r.RegisterBoundTransport(ctx, "tr", "other",
				&recorder{}, trCfg{Kind: "imposter"})
			return err
		}, "tr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireIDError(t, tt.give(), registry.ErrAlreadyRegistered, tt.id)

			gotS, ok := r.FindServer("srv")
			require.True(t, ok)
			assert.Same(t, s, gotS)
			assert.Same(t, first, gotS.Handle())
			assert.Equal(t, "srv", gotS.Config().Name)

			gotT, ok := r.FindTransport("tr")
			require.True(t, ok)
			assert.Same(t, tr, gotT)
			assert.Same(t, first, gotT.Handle())
			assert.Equal(t, "tr", gotT.Config().Kind)

			owner, ok := r.ServerOf("tr")
			require.True(t, ok)
			assert.Equal(t, "srv", owner)
			assert.Equal(t, []string{"tr"}, boundIDs(r, "srv"))
			assert.Empty(t, boundIDs(r, "other"), "the refused binding left nothing")
			assert.Equal(t, 2, r.ServerCount())
			assert.Equal(t, 1, r.TransportCount())
		})
	}
}

// An ID is free again once its entry is gone, and the new registration
// is a new value.
func TestReRegisterAfterUnregister(t *testing.T) {
	r := newReg(t)
	old := mustServer(t, r, "srv", &recorder{})
	require.NoError(t, r.UnregisterServer("srv"))

	h := &recorder{}
	s := mustServer(t, r, "srv", h)
	assert.NotSame(t, old, s)
	got, ok := r.FindServer("srv")
	require.True(t, ok)
	assert.Same(t, h, got.Handle())
}
