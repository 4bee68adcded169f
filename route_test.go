package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

func TestRouteDelivers(t *testing.T) {
	r := newReg(t)
	srv, tr := &recorder{}, &recorder{}
	mustServer(t, r, "srv", srv)
	mustBound(t, r, "tr", "srv", tr)
	ctx := context.Background()

	require.NoError(t, r.RouteToServer(ctx, "srv", "tr", "request"))
	require.NoError(t, r.RouteToTransport(ctx, "tr", "srv", "response"))
	assert.Equal(t, []string{"request"}, srv.messages())
	assert.Equal(t, []string{"response"}, tr.messages())

	// Routing needs no binding: the IDs name the targets.
	other := &recorder{}
	mustTransport(t, r, "loose", other)
	require.NoError(t, r.RouteToTransport(ctx, "loose", "anyone", "direct"))
	assert.Equal(t, []string{"direct"}, other.messages())
}

// ctxKey marks the context a test passes, so a handle can check it got
// the caller's.
type ctxKey struct{}

type ctxChecker struct{ got chan any }

func (h ctxChecker) Write(ctx context.Context, _ string) error {
	h.got <- ctx.Value(ctxKey{})
	return nil
}

func TestRoutePassesCallerContext(t *testing.T) {
	r := newReg(t)
	h := ctxChecker{make(chan any, 2)}
	mustServer(t, r, "srv", h)
	mustTransport(t, r, "tr", h)
	ctx := context.WithValue(context.Background(), ctxKey{}, "mine")

	require.NoError(t, r.RouteToServer(ctx, "srv", "", "m"))
	require.NoError(t, r.RouteToTransport(ctx, "tr", "", "m"))
	assert.Equal(t, "mine", <-h.got)
	assert.Equal(t, "mine", <-h.got)
}

func TestRouteNotFound(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	mustTransport(t, r, "tr", &recorder{})
	ctx := context.Background()

	tests := []struct {
		name string
		give func() error
		want error
		id   string
		kind string
	}{
		{"server", func() error { return r.RouteToServer(ctx, "ghost", "tr", "m") },
			registry.ErrServerNotFound, "ghost", "server"},
		{"transport", func() error { return r.RouteToTransport(ctx, "ghost", "srv", "m") },
			registry.ErrTransportNotFound, "ghost", "transport"},
		{"server ID as transport", func() error { return r.RouteToTransport(ctx, "srv", "", "m") },
			registry.ErrTransportNotFound, "srv", "transport"},
		{"transport ID as server", func() error { return r.RouteToServer(ctx, "tr", "", "m") },
			registry.ErrServerNotFound, "tr", "server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give()
			ie := requireIDError(t, err, tt.want, tt.id)
			assert.ErrorIs(t, err, registry.ErrNotFound)
			assert.Equal(t, tt.kind, ie.Kind)
			assert.Contains(t, err.Error(), "registry:")
			assert.Contains(t, err.Error(), tt.id)
		})
	}

	// The two not-found sentinels differ, and both are ErrNotFound.
	assert.NotErrorIs(t, registry.ErrServerNotFound, registry.ErrTransportNotFound)
	assert.ErrorIs(t, registry.ErrServerNotFound, registry.ErrNotFound)
	assert.ErrorIs(t, registry.ErrTransportNotFound, registry.ErrNotFound)
}

func TestRouteWrapsHandleError(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", failing{errHandle})
	mustTransport(t, r, "tr", failing{errHandle})
	ctx := context.Background()

	tests := []struct {
		name string
		give error
		id   string
	}{
		{"to server", r.RouteToServer(ctx, "srv", "tr", "m"), "srv"},
		{"to transport", r.RouteToTransport(ctx, "tr", "srv", "m"), "tr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireIDError(t, tt.give, errHandle, tt.id)
			assert.NotErrorIs(t, tt.give, registry.ErrNotFound)
			assert.Contains(t, tt.give.Error(), errHandle.Error())
		})
	}
}

func TestRouteOrigin(t *testing.T) {
	r := newReg(t)
	srv, tr := &originRecorder{}, &originRecorder{}
	mustServer(t, r, "srv", srv)
	mustBound(t, r, "tr", "srv", tr)
	ctx := context.Background()

	require.NoError(t, r.RouteToServer(ctx, "srv", "tr", "req"))
	require.NoError(t, r.RouteToTransport(ctx, "tr", "srv", "resp"))
	_, err := r.Broadcast(ctx, "srv", "note")
	require.NoError(t, err)

	assert.Equal(t, []letter{{"tr", "req"}}, srv.letters())
	assert.Equal(t, []letter{{"srv", "resp"}, {"srv", "note"}}, tr.letters())
}

func TestRoutePanickingHandle(t *testing.T) {
	r := newReg(t)
	boom := errors.New("boom")
	mustServer(t, r, "srv", panicking{"server exploded"})
	mustTransport(t, r, "tr", panicking{boom})
	ctx := context.Background()

	tests := []struct {
		name  string
		give  func() error
		id    string
		value any
	}{
		{"to server", func() error { return r.RouteToServer(ctx, "srv", "tr", "m") },
			"srv", "server exploded"},
		{"to transport", func() error { return r.RouteToTransport(ctx, "tr", "srv", "m") },
			"tr", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tt.give() })
			requireIDError(t, err, registry.ErrPanic, tt.id)
			var pe *registry.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.value, pe.Value)
		})
	}

	// The registry stays usable: nothing was left locked.
	require.NoError(t, r.UnregisterServer("srv"))
	mustServer(t, r, "srv", &recorder{})
	require.NoError(t, r.Bind("tr", "srv"))
}

func TestRouteAfterClose(t *testing.T) {
	r := newReg(t)
	h := &recorder{}
	mustServer(t, r, "srv", h)
	mustTransport(t, r, "tr", h)
	require.NoError(t, r.Close())
	ctx := context.Background()

	requireIDError(t, r.RouteToServer(ctx, "srv", "tr", "m"), registry.ErrClosed, "srv")
	requireIDError(t, r.RouteToTransport(ctx, "tr", "srv", "m"), registry.ErrClosed, "tr")
	assert.Empty(t, h.messages(), "nothing is sent after Close")
}
