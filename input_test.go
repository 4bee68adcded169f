package registry_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/admission"
)

// Bad registrations fail with a typed error naming the ID, change
// nothing and never panic.
func TestRegisterBadInput(t *testing.T) {
	const maxLen = 8
	r := newReg(t, registry.WithMaxIDLen(maxLen))
	mustServer(t, r, "srv", &recorder{})
	h := &recorder{}
	bg := context.Background()
	var nilCtx context.Context
	long := strings.Repeat("x", maxLen+1)

	type call func(ctx context.Context, id string, h registry.Handle[string]) error
	kinds := []struct {
		name string
		give call
	}{
		{"server", func(ctx context.Context, id string, h registry.Handle[string]) error {
			_, err := r.RegisterServer(ctx, id, h, srvCfg{})
			return err
		}},
		{"transport", func(ctx context.Context, id string, h registry.Handle[string]) error {
			_, err := r.RegisterTransport(ctx, id, h, trCfg{})
			return err
		}},
		{"bound transport", func(ctx context.Context, id string, h registry.Handle[string]) error {
			_, err := r.RegisterBoundTransport(ctx, id, "srv", h, trCfg{})
			return err
		}},
	}
	tests := []struct {
		name string
		ctx  context.Context
		id   string
		h    registry.Handle[string]
		want error
	}{
		{"empty ID", bg, "", h, registry.ErrInvalidID},
		{"ID over max length", bg, long, h, registry.ErrInvalidID},
		{"multi-byte ID over max bytes", bg, strings.Repeat("é", maxLen/2) + "x", h,
			registry.ErrInvalidID},
		{"nil handle", bg, "ok", nil, registry.ErrNilHandle},
		{"nil context", nilCtx, "ok", h, registry.ErrNilContext},
	}
	for _, k := range kinds {
		for _, tt := range tests {
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				var err error
				require.NotPanics(t, func() { err = k.give(tt.ctx, tt.id, tt.h) })
				ie := requireIDError(t, err, tt.want, tt.id)
				assert.NotEmpty(t, ie.Op)
				assert.True(t, strings.HasPrefix(err.Error(), "registry:"), err.Error())

				assert.Equal(t, 1, r.ServerCount(), "nothing changed")
				assert.Zero(t, r.TransportCount(), "nothing changed")
				assert.Empty(t, boundIDs(r, "srv"))
			})
		}
	}

	// The limit is inclusive, and counts bytes.
	mustServer(t, r, strings.Repeat("x", maxLen), h)
	mustServer(t, r, strings.Repeat("é", maxLen/2), h)

	// A bound registration with no server ID names the empty server ID.
	_, err := r.RegisterBoundTransport(bg, "tr", "", h, trCfg{})
	requireIDError(t, err, registry.ErrInvalidID, "")
	assert.Zero(t, r.TransportCount())
}

// Unknown and empty IDs are not-found errors for every operation that
// takes an ID, and plain misses for lookups.
func TestUnknownIDs(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	mustTransport(t, r, "tr", &recorder{})
	ctx := context.Background()

	for _, id := range []string{"", "ghost", strings.Repeat("y", 10_000)} {
		srvNF, trNF := registry.ErrServerNotFound, registry.ErrTransportNotFound
		tests := []struct {
			name string
			give func() error
			want error
		}{
			{"UnregisterServer", func() error { return r.UnregisterServer(id) }, srvNF},
			{"UnregisterTransport", func() error { return r.UnregisterTransport(id) }, trNF},
			{"Bind transport", func() error { return r.Bind(id, "srv") }, trNF},
			{"Bind server", func() error { return r.Bind("tr", id) }, srvNF},
			{"Unbind", func() error { return r.Unbind(id) }, trNF},
			{"RouteToServer", func() error {
				return r.RouteToServer(ctx, id, "tr", "m")
			}, srvNF},
			{"RouteToTransport", func() error {
				return r.RouteToTransport(ctx, id, "srv", "m")
			}, trNF},
			{"Broadcast", func() error {
				_, err := r.Broadcast(ctx, id, "m")
				return err
			}, srvNF},
		}
		for _, tt := range tests {
			t.Run(tt.name+"/len="+strconv.Itoa(len(id)), func(t *testing.T) {
				var err error
				require.NotPanics(t, func() { err = tt.give() })
				requireIDError(t, err, tt.want, id)
				assert.ErrorIs(t, err, registry.ErrNotFound)
			})
		}

		_, ok := r.FindServer(id)
		assert.False(t, ok)
		_, ok = r.FindTransport(id)
		assert.False(t, ok)
		_, ok = r.ServerOf(id)
		assert.False(t, ok)
		_, ok = r.TransportsOf(id)
		assert.False(t, ok)
	}
	assert.Equal(t, 1, r.ServerCount())
	assert.Equal(t, 1, r.TransportCount())
	_, bound := r.ServerOf("tr")
	assert.False(t, bound)
}

func TestRouteNilContext(t *testing.T) {
	r := newReg(t)
	h := &recorder{}
	mustServer(t, r, "srv", h)
	mustBound(t, r, "tr", "srv", h)
	var nilCtx context.Context

	requireIDError(t, r.RouteToServer(nilCtx, "srv", "tr", "m"), registry.ErrNilContext, "srv")
	requireIDError(t, r.RouteToTransport(nilCtx, "tr", "srv", "m"), registry.ErrNilContext, "tr")
	_, err := r.Broadcast(nilCtx, "srv", "m")
	requireIDError(t, err, registry.ErrNilContext, "srv")
	assert.Empty(t, h.messages())
}

func TestNewBadOptions(t *testing.T) {
	tests := []struct {
		name       string
		give       registry.Option
		wantOption string
		wantValue  any
	}{
		{"zero shards", registry.WithShards(0), "shard count", 0},
		{"negative shards", registry.WithShards(-16), "shard count", -16},
		{"three shards", registry.WithShards(3), "shard count", 3},
		{"512 shards", registry.WithShards(512), "shard count", 512},
		{"negative capacity", registry.WithCapacity(-1), "capacity", -1},
		{"zero max ID length", registry.WithMaxIDLen(0), "max ID length", 0},
		{"bad admission", registry.WithAdmission(admission.Config{Fraction: 2}),
			"admission config", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := registry.New[string, srvCfg, trCfg](tt.give)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.ErrorIs(t, err, registry.ErrInvalidOption)
			var oe *registry.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.wantOption, oe.Option)
			if tt.wantValue != nil {
				assert.Equal(t, tt.wantValue, oe.Value)
			}
			assert.Contains(t, err.Error(), tt.wantOption)
		})
	}
}

// IDs are opaque bytes: invalid UTF-8 and NUL bytes go in and come out
// unchanged, and never collide with their neighbours.
func TestIDsAreOpaqueBytes(t *testing.T) {
	r := newReg(t)
	ids := []string{
		"\xff", "\xff\xfe\xfd", "\xc3(", // invalid UTF-8
		"a\x00b", "a\x00c", "\x00", "\x00\x00", // NUL bytes
		"a", "é",
	}
	ctx := context.Background()

	for _, id := range ids {
		mustServer(t, r, id, &recorder{})
		mustBound(t, r, id+"/t", id, &recorder{})
	}
	for _, id := range ids {
		s, ok := r.FindServer(id)
		require.True(t, ok, "%q", id)
		assert.Equal(t, id, s.ID())
		owner, ok := r.ServerOf(id + "/t")
		require.True(t, ok, "%q", id)
		assert.Equal(t, id, owner)
		assert.Equal(t, []string{id + "/t"}, boundIDs(r, id))
		require.NoError(t, r.RouteToServer(ctx, id, id+"/t", "m"))
	}

	// Errors carry the exact bytes.
	err := r.UnregisterServer("\xff\x00missing")
	requireIDError(t, err, registry.ErrServerNotFound, "\xff\x00missing")

	for _, id := range ids {
		require.NoError(t, r.UnregisterServer(id), "%q", id)
	}
	assert.Zero(t, r.ServerCount())
}
