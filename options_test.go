package registry

// These tests sit inside the package: presizing is only observable
// through the shard tables' growth count.

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry/admission"
)

// optNop is a handle that does nothing.
type optNop struct{}

func (optNop) Write(context.Context, string) error { return nil }

// optPanic is a handle that panics.
type optPanic struct{}

func (optPanic) Write(context.Context, string) error { panic("kaboom") }

type optRegistry = Registry[string, struct{}, struct{}]

func newOptReg(t *testing.T, opts ...Option) *optRegistry {
	t.Helper()
	r, err := New[string, struct{}, struct{}](opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestWithShards(t *testing.T) {
	tests := []struct {
		name string
		give []Option
		want int
	}{
		{"default", nil, 16},
		{"light", []Option{WithShards(ShardsLight)}, 8},
		{"default named", []Option{WithShards(ShardsDefault)}, 16},
		{"heavy", []Option{WithShards(ShardsHeavy)}, 32},
		{"extreme", []Option{WithShards(ShardsExtreme)}, 64},
		{"one", []Option{WithShards(1)}, 1},
		{"max", []Option{WithShards(256)}, 256},
		{"last wins", []Option{WithShards(8), WithShards(32)}, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newOptReg(t, tt.give...)
			assert.Equal(t, tt.want, r.Shards())
			assert.Len(t, r.PartitionStats(), tt.want)

			// Every shard count holds and finds entries.
			for i := range 100 {
				id := strconv.Itoa(i)
				_, err := r.RegisterServer(context.Background(), id, optNop{}, struct{}{})
				require.NoError(t, err)
			}
			for i := range 100 {
				_, ok := r.FindServer(strconv.Itoa(i))
				require.True(t, ok)
			}
		})
	}
}

// growths sums the growth counts of every shard table of r.
func growths[M, S, T any](r *Registry[M, S, T]) int64 {
	var n int64
	for i := range r.shards {
		n += r.shards[i].Servers.Growths() + r.shards[i].Transports.Growths()
	}
	return n
}

// WithCapacity presizes the shard maps: registering the hinted number of
// servers and transports grows no map. The same load without the hint
// does grow them, which shows the check can fail.
func TestWithCapacityPresizes(t *testing.T) {
	const n = 8_000
	tests := []struct {
		name        string
		give        []Option
		wantGrowths bool
	}{
		{"hinted", []Option{WithCapacity(n)}, false},
		{"hinted, 64 shards", []Option{WithCapacity(n), WithShards(64)}, false},
		{"hinted, 1 shard", []Option{WithCapacity(n), WithShards(1)}, false},
		{"no hint", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newOptReg(t, append(tt.give, WithoutAdmission())...)
			ctx := context.Background()
			for i := range n {
				id := "id-" + strconv.Itoa(i)
				_, err := r.RegisterServer(ctx, id, optNop{}, struct{}{})
				require.NoError(t, err)
				_, err = r.RegisterTransport(ctx, id, optNop{}, struct{}{})
				require.NoError(t, err)
			}
			require.Equal(t, n, r.ServerCount())
			if tt.wantGrowths {
				assert.Positive(t, growths(r))
				return
			}
			assert.Zero(t, growths(r))
		})
	}
}

// recordingHandler is a slog.Handler that keeps every record.
type recordingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.recs...)
}

// panicEverywhere makes a registry's handles panic through each path
// that recovers: route to a server, to a transport, and broadcast.
func panicEverywhere(t *testing.T, r *optRegistry) {
	t.Helper()
	ctx := context.Background()
	_, err := r.RegisterServer(ctx, "srv", optPanic{}, struct{}{})
	require.NoError(t, err)
	_, err = r.RegisterBoundTransport(ctx, "tr", "srv", optPanic{}, struct{}{})
	require.NoError(t, err)

	require.ErrorIs(t, r.RouteToServer(ctx, "srv", "tr", "m"), ErrPanic)
	require.ErrorIs(t, r.RouteToTransport(ctx, "tr", "srv", "m"), ErrPanic)
	res, err := r.Broadcast(ctx, "srv", "m")
	require.NoError(t, err)
	require.Len(t, res.Failed, 1)
}

func TestWithLoggerWarnsOnPanic(t *testing.T) {
	h := &recordingHandler{}
	r := newOptReg(t, WithLogger(slog.New(h)))
	panicEverywhere(t, r)

	recs := h.records()
	require.Len(t, recs, 3, "one record per recovered panic")
	wantIDs := []string{"srv", "tr", "tr"}
	for i, rec := range recs {
		assert.Equal(t, slog.LevelWarn, rec.Level)
		assert.True(t, strings.HasPrefix(rec.Message, "registry:"), rec.Message)
		got := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool {
			got[a.Key] = a.Value.String()
			return true
		})
		assert.Equal(t, wantIDs[i], got["id"])
		assert.Equal(t, "kaboom", got["panic"])
	}
}

// Without WithLogger the registry logs nothing, not even to the
// process's default logger.
func TestSilentByDefault(t *testing.T) {
	h := &recordingHandler{}
	old := slog.Default()
	slog.SetDefault(slog.New(h))
	defer slog.SetDefault(old)

	r := newOptReg(t)
	panicEverywhere(t, r)
	_ = r.UnregisterServer("ghost")
	assert.Empty(t, h.records())
}

// With admission on, every registration and unregistration is counted
// in its shard's stats; WithoutAdmission measures nothing.
func TestAdmissionOnOff(t *testing.T) {
	// A clock that never moves keeps every write in one window.
	frozen := admission.Config{Clock: func() int64 { return 1_000_000_000 }}
	tests := []struct {
		name       string
		give       []Option
		wantWrites uint64
	}{
		{"on", []Option{WithAdmission(frozen)}, 30},
		{"off", []Option{WithoutAdmission()}, 0},
		{"off after on", []Option{WithAdmission(frozen), WithoutAdmission()}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newOptReg(t, tt.give...)
			ctx := context.Background()
			for i := range 10 {
				id := strconv.Itoa(i)
				_, err := r.RegisterServer(ctx, id, optNop{}, struct{}{})
				require.NoError(t, err)
				_, err = r.RegisterTransport(ctx, id, optNop{}, struct{}{})
				require.NoError(t, err)
				require.NoError(t, r.UnregisterTransport(id))
			}

			var writes uint64
			for _, st := range r.PartitionStats() {
				writes += st.Writes
			}
			assert.Equal(t, tt.wantWrites, writes)
			assert.False(t, r.ContentionStatus().AdmissionActive)
			assert.Equal(t, 10, r.ServerCount(), "counts do not depend on admission")
		})
	}
}

func TestWithMaxIDLen(t *testing.T) {
	tests := []struct {
		name   string
		give   []Option
		maxLen int
	}{
		{"default", nil, DefaultMaxIDLen},
		{"short", []Option{WithMaxIDLen(4)}, 4},
		{"long", []Option{WithMaxIDLen(1 << 16)}, 1 << 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newOptReg(t, tt.give...)
			ctx := context.Background()
			_, err := r.RegisterServer(ctx, strings.Repeat("a", tt.maxLen), optNop{}, struct{}{})
			require.NoError(t, err)
			over := strings.Repeat("b", tt.maxLen+1)
			_, err = r.RegisterServer(ctx, over, optNop{}, struct{}{})
			require.ErrorIs(t, err, ErrInvalidID)
			var ie *IDError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, over, ie.ID)
		})
	}
}
