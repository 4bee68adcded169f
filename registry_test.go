package registry_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/hashing"
)

// The main behaviours must not depend on how IDs spread: each runs with
// the real hash, with every ID in shard 0 (hashing.OneShard, at 16 and
// 256 shards), with a single shard, and with every ID in one map bucket
// chain (hashing.Constant, at a small size since lookups then scan).
func TestBehavioursUnderEveryHasher(t *testing.T) {
	configs := []struct {
		name string
		opts []registry.Option
		size int
	}{
		{"xxh3", nil, 200},
		{"OneShard", []registry.Option{registry.WithHasher(hashing.OneShard)}, 200},
		{"OneShard/shards=256", []registry.Option{
			registry.WithShards(256), registry.WithHasher(hashing.OneShard)}, 200},
		{"shards=1", []registry.Option{registry.WithShards(1)}, 200},
		{"Constant(42)", []registry.Option{registry.WithHasher(hashing.Constant(42))}, 16},
	}
	behaviours := []struct {
		name string
		run  func(t *testing.T, r *testRegistry, size int)
	}{
		{"entries", checkEntries},
		{"bindings", checkBindings},
		{"routing", checkRouting},
		{"broadcast", checkBroadcast},
		{"lifecycle", checkLifecycle},
		{"listing", checkListing},
		{"close", checkClose},
	}
	for _, cfg := range configs {
		for _, b := range behaviours {
			t.Run(cfg.name+"/"+b.name, func(t *testing.T) {
				b.run(t, newReg(t, cfg.opts...), cfg.size)
			})
		}
	}
}

// TestOneShardPutsEverythingInShardZero shows that the suite above
// really ran with one shard.
func TestOneShardPutsEverythingInShardZero(t *testing.T) {
	r := newReg(t, registry.WithHasher(hashing.OneShard), registry.WithShards(64))
	for i := range 100 {
		mustServer(t, r, "srv-"+strconv.Itoa(i), &recorder{})
		mustTransport(t, r, "tr-"+strconv.Itoa(i), &recorder{})
	}
	stats := r.PartitionStats()
	assert.Equal(t, 100, stats[0].Servers)
	assert.Equal(t, 100, stats[0].Transports)
	for _, st := range stats[1:] {
		assert.Zero(t, st.Servers+st.Transports, "shard %d", st.Index)
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func checkEntries(t *testing.T, r *testRegistry, size int) {
	ctx := context.Background()
	for _, id := range ids("s", size) {
		_, err := r.RegisterServer(ctx, id, &recorder{}, srvCfg{Name: id})
		require.NoError(t, err)
		_, err = r.RegisterTransport(ctx, id, &recorder{}, trCfg{Kind: id})
		require.NoError(t, err)
	}
	for _, id := range ids("s", size) {
		s, ok := r.FindServer(id)
		require.True(t, ok, id)
		assert.Equal(t, id, s.Config().Name)
		tr, ok := r.FindTransport(id)
		require.True(t, ok, id)
		assert.Equal(t, id, tr.Config().Kind)

		_, err := r.RegisterServer(ctx, id, &recorder{}, srvCfg{Name: "dup"})
		require.ErrorIs(t, err, registry.ErrAlreadyRegistered)
	}
	assert.Equal(t, size, r.ServerCount())

	// Remove the even ones; the odd ones stay findable.
	for i, id := range ids("s", size) {
		if i%2 == 0 {
			require.NoError(t, r.UnregisterServer(id))
			require.NoError(t, r.UnregisterTransport(id))
		}
	}
	for i, id := range ids("s", size) {
		_, ok := r.FindServer(id)
		assert.Equal(t, i%2 == 1, ok, id)
		_, ok = r.FindTransport(id)
		assert.Equal(t, i%2 == 1, ok, id)
	}
	assert.Equal(t, size/2, r.ServerCount())
	assert.Equal(t, size/2, r.TransportCount())
}

func checkBindings(t *testing.T, r *testRegistry, size int) {
	mustServer(t, r, "a", &recorder{})
	mustServer(t, r, "b", &recorder{})
	trs := ids("t", size)
	for _, id := range trs {
		mustBound(t, r, id, "a", &recorder{})
	}
	require.Len(t, boundIDs(r, "a"), size)

	// Move the first half to b, unbind one, then remove a.
	for _, id := range trs[:size/2] {
		require.NoError(t, r.Bind(id, "b"))
	}
	require.NoError(t, r.Unbind(trs[size-1]))
	assert.Len(t, boundIDs(r, "b"), size/2)
	assert.Len(t, boundIDs(r, "a"), size-size/2-1)
	owner, ok := r.ServerOf(trs[0])
	require.True(t, ok)
	assert.Equal(t, "b", owner)

	require.NoError(t, r.UnregisterServer("a"))
	for _, id := range trs[size/2:] {
		_, ok := r.ServerOf(id)
		require.False(t, ok, id)
	}
	for _, id := range trs[:size/2] {
		owner, ok := r.ServerOf(id)
		require.True(t, ok, id)
		require.Equal(t, "b", owner)
	}

	_, err := r.RegisterBoundTransport(context.Background(), "x", "a", &recorder{}, trCfg{})
	require.ErrorIs(t, err, registry.ErrServerNotFound)
	_, ok = r.FindTransport("x")
	assert.False(t, ok)
	require.ErrorIs(t, r.Bind(trs[0], "a"), registry.ErrServerNotFound)
}

func checkRouting(t *testing.T, r *testRegistry, size int) {
	ctx := context.Background()
	srvs := ids("s", size)
	hs := make([]*originRecorder, size)
	for i, id := range srvs {
		hs[i] = &originRecorder{}
		mustServer(t, r, id, hs[i])
		mustTransport(t, r, id, &recorder{})
	}
	for i, id := range srvs {
		require.NoError(t, r.RouteToServer(ctx, id, "from-"+id, "m"))
		assert.Equal(t, []letter{{"from-" + id, "m"}}, hs[i].letters())
		require.NoError(t, r.RouteToTransport(ctx, id, "x", "m"))
	}
	err := r.RouteToServer(ctx, "ghost", "", "m")
	requireIDError(t, err, registry.ErrServerNotFound, "ghost")

	mustServer(t, r, "bad", failing{errHandle})
	requireIDError(t, r.RouteToServer(ctx, "bad", "", "m"), errHandle, "bad")
	mustServer(t, r, "boom", panicking{"x"})
	requireIDError(t, r.RouteToServer(ctx, "boom", "", "m"), registry.ErrPanic, "boom")
}

func checkBroadcast(t *testing.T, r *testRegistry, size int) {
	mustServer(t, r, "srv", &recorder{})
	recs := make([]*recorder, size)
	for i, id := range ids("t", size) {
		recs[i] = &recorder{}
		mustBound(t, r, id, "srv", recs[i])
	}
	mustBound(t, r, "bad", "srv", failing{errHandle})
	mustBound(t, r, "boom", "srv", panicking{"x"})

	res, err := r.Broadcast(context.Background(), "srv", "all")
	require.NoError(t, err)
	assert.Equal(t, size, res.Delivered)
	var failed []string
	for _, f := range res.Failed {
		failed = append(failed, f.TransportID)
	}
	slices.Sort(failed)
	assert.Equal(t, []string{"bad", "boom"}, failed)
	for i, rec := range recs {
		assert.Equal(t, []string{"all"}, rec.messages(), "t%d", i)
	}
}

func checkLifecycle(t *testing.T, r *testRegistry, size int) {
	mustServer(t, r, "srv", &recorder{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, id := range ids("t", size) {
		_, err := r.RegisterBoundTransport(ctx, id, "srv", &recorder{}, trCfg{})
		require.NoError(t, err)
	}

	// Re-register one ID under a second context before the first ends.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	require.NoError(t, r.UnregisterTransport("t0"))
	second, err := r.RegisterBoundTransport(ctx2, "t0", "srv", &recorder{}, trCfg{})
	require.NoError(t, err)

	quiet := goleak.IgnoreCurrent()
	cancel()
	require.Eventually(t, func() bool {
		return r.TransportCount() == 1
	}, waitFor, tick)
	require.NoError(t, goleak.Find(quiet))

	got, ok := r.FindTransport("t0")
	require.True(t, ok)
	assert.Same(t, second, got)
	assert.Equal(t, []string{"t0"}, boundIDs(r, "srv"))
}

func checkListing(t *testing.T, r *testRegistry, size int) {
	for _, id := range ids("s", size) {
		mustServer(t, r, id, &recorder{})
	}
	seen := map[string]bool{}
	for id := range r.Servers() {
		require.False(t, seen[id], "%q twice", id)
		seen[id] = true
		require.NoError(t, r.UnregisterServer(id))
		if !strings.HasPrefix(id, "new-") {
			mustServer(t, r, "new-"+id, &recorder{})
		}
	}
	for _, id := range ids("s", size) {
		assert.True(t, seen[id], id)
	}

	n := 0
	for range r.Servers() {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, min(3, size), n)
}

func checkClose(t *testing.T, r *testRegistry, size int) {
	for _, id := range ids("s", size) {
		mustServer(t, r, id, &recorder{})
		mustBound(t, r, "t-"+id, id, &recorder{})
	}
	require.NoError(t, r.Close())
	require.ErrorIs(t, r.Close(), registry.ErrClosed)
	for _, id := range ids("s", size) {
		_, ok := r.FindServer(id)
		require.False(t, ok, id)
		_, ok = r.FindTransport("t-" + id)
		require.False(t, ok, id)
	}
	_, err := r.RegisterServer(context.Background(), "x", &recorder{}, srvCfg{})
	require.ErrorIs(t, err, registry.ErrClosed)
	assert.Zero(t, r.ServerCount()+r.TransportCount())
}

// Each operation hashes its ID once; removals reuse the stored hash.
func TestHashOncePerOperation(t *testing.T) {
	var calls atomic.Int64
	counting := func(id string) uint64 {
		calls.Add(1)
		return hashing.XXH3(id)
	}
	r := newReg(t, registry.WithHasher(counting))
	ctx := context.Background()
	var srv *registry.Server[string, srvCfg]

	// The rows run in order: each builds on the state the last left.
	tests := []struct {
		name string
		give func()
		want int64
	}{
		{"RegisterServer", func() { srv = mustServer(t, r, "srv", &recorder{}) }, 1},
		{"RegisterTransport", func() { mustTransport(t, r, "tr", &recorder{}) }, 1},
		{"RegisterBoundTransport", func() { mustBound(t, r, "tr-2", "srv", &recorder{}) }, 2},
		{"FindServer", func() { _, _ = r.FindServer("srv") }, 1},
		{"FindTransport", func() { _, _ = r.FindTransport("tr") }, 1},
		{"Bind", func() { require.NoError(t, r.Bind("tr", "srv")) }, 2},
		{"ServerOf", func() { _, _ = r.ServerOf("tr") }, 1},
		{"TransportsOf", func() { _, _ = r.TransportsOf("srv") }, 1},
		{"RouteToServer", func() {
			require.NoError(t, r.RouteToServer(ctx, "srv", "tr", "m"))
		}, 1},
		{"RouteToTransport", func() {
			require.NoError(t, r.RouteToTransport(ctx, "tr", "srv", "m"))
		}, 1},
		{"Broadcast", func() {
			_, err := r.Broadcast(ctx, "srv", "m")
			require.NoError(t, err)
		}, 1},
		{"Unbind", func() { require.NoError(t, r.Unbind("tr")) }, 1},
		{"UnregisterTransport", func() { require.NoError(t, r.UnregisterTransport("tr")) }, 1},
		{"Server.Unregister", func() { require.True(t, srv.Unregister()) }, 0},
	}
	for _, tt := range tests {
		calls.Store(0)
		tt.give()
		assert.Equal(t, tt.want, calls.Load(), tt.name)
	}
}

func TestNewDefaults(t *testing.T) {
	r, err := registry.New[string, srvCfg, trCfg]()
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, registry.ShardsDefault, r.Shards())
	assert.Len(t, r.PartitionStats(), registry.ShardsDefault)
	assert.False(t, r.ContentionStatus().AdmissionActive)
}
