package registry_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/admission"
)

// fakeClock is an admission clock that slow writes advance.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() int64              { return c.ns.Load() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type msgSink struct{ n atomic.Int64 }

func (s *msgSink) Write(context.Context, string) error {
	s.n.Add(1)
	return nil
}

// contendedRegistry returns a registry whose writes on the shards for
// which slow reports true take 3 ms of fake time while slowOn is set.
func contendedRegistry(t testing.TB, slow func(shard int) bool, opts ...registry.Option) (*registry.Registry[string, int, int], *fakeClock, *atomic.Bool) {
	t.Helper()
	clk := &fakeClock{}
	clk.Advance(time.Second)
	var slowOn atomic.Bool
	cfg := admission.DefaultConfig()
	cfg.Clock = clk.Now
	base := []registry.Option{
		registry.WithAdmission(cfg),
		registry.WithWriteDelay(func(shard int) time.Duration {
			if slowOn.Load() && slow(shard) {
				clk.Advance(3 * time.Millisecond)
			}
			return 0
		}),
	}
	reg, err := registry.New[string, int, int](append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	return reg, clk, &slowOn
}

// churn registers and unregisters servers until a registration is
// refused or n attempts pass, and returns the refusal.
func churn(reg *registry.Registry[string, int, int], prefix string, n int) error {
	ctx := context.Background()
	for i := range n {
		s, err := reg.RegisterServer(ctx, fmt.Sprintf("%s-%d", prefix, i), &msgSink{}, i)
		if err != nil {
			return err
		}
		s.Unregister()
	}
	return nil
}

func TestAdmissionOneHotShardNeverTrips(t *testing.T) {
	reg, _, slowOn := contendedRegistry(t, func(shard int) bool { return shard == 0 })
	slowOn.Store(true)
	require.NoError(t, churn(reg, "hot", 5_000))

	st, err := reg.PartitionStat(0)
	require.NoError(t, err)
	assert.True(t, st.Alarmed, "shard 0 is hot")
	assert.False(t, reg.ContentionStatus().AdmissionActive)
}

func TestAdmissionDisabledNeverRefuses(t *testing.T) {
	reg, _, slowOn := contendedRegistry(t, func(int) bool { return true },
		registry.WithoutAdmission())
	slowOn.Store(true)
	require.NoError(t, churn(reg, "free", 5_000))

	st := reg.ContentionStatus()
	assert.False(t, st.AdmissionActive)
	assert.Empty(t, st.AlarmedShards)
	for _, p := range reg.PartitionStats() {
		assert.Zero(t, p.Writes, "no measurement when admission is off")
	}
}

func TestPartitionStats(t *testing.T) {
	reg, err := registry.New[string, int, int](registry.WithShards(8))
	require.NoError(t, err)
	defer reg.Close()
	ctx := context.Background()

	for i := range 100 {
		_, err := reg.RegisterServer(ctx, fmt.Sprintf("s-%d", i), &msgSink{}, i)
		require.NoError(t, err)
		_, err = reg.RegisterTransport(ctx, fmt.Sprintf("t-%d", i), &msgSink{}, i)
		require.NoError(t, err)
	}

	stats := reg.PartitionStats()
	require.Len(t, stats, 8)
	var servers, transports int
	var writes uint64
	for i, p := range stats {
		assert.Equal(t, i, p.Index)
		servers += p.Servers
		transports += p.Transports
		writes += p.Writes
		assert.LessOrEqual(t, p.MinNs, p.MaxNs)
		assert.False(t, p.Alarmed)
	}
	assert.Equal(t, 100, servers)
	assert.Equal(t, 100, transports)
	assert.Equal(t, uint64(200), writes)

	one, err := reg.PartitionStat(3)
	require.NoError(t, err)
	assert.Equal(t, 3, one.Index)
	for _, bad := range []int{-1, 8, 1 << 20} {
		_, err := reg.PartitionStat(bad)
		assert.ErrorIs(t, err, registry.ErrInvalidOption, "index %d", bad)
	}

	reg.ResetStats()
	for _, p := range reg.PartitionStats() {
		assert.Zero(t, p.Writes)
		assert.Zero(t, p.Samples)
		assert.Zero(t, p.EWMANs)
	}
	assert.Equal(t, 100, reg.ServerCount(), "entry counts are not stats")
}

// BenchmarkAdmissionOverhead compares registration with write measurement
// and the gate on and off (target: on/off at most 1.15).
func BenchmarkAdmissionOverhead(b *testing.B) {
	for _, tt := range []struct {
		name string
		opts []registry.Option
	}{
		{"admission=off", []registry.Option{registry.WithoutAdmission()}},
		{"admission=on", nil},
	} {
		b.Run(tt.name, func(b *testing.B) {
			reg, err := registry.New[string, int, int](tt.opts...)
			require.NoError(b, err)
			defer reg.Close()
			ids := make([]string, 1024)
			for i := range ids {
				ids[i] = fmt.Sprintf("server-%d", i)
			}
			ctx, sink := context.Background(), &msgSink{}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := reg.RegisterServer(ctx, ids[i&1023], sink, i)
				if err != nil {
					b.Fatal(err)
				}
				s.Unregister()
			}
		})
	}
}
