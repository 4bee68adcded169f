package admission

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a clock that moves only when a test advances it. It is
// atomic so that race tests may read it from many goroutines.
type fakeClock struct {
	ns atomic.Int64
}

func (f *fakeClock) now() int64              { return f.ns.Load() }
func (f *fakeClock) advance(d time.Duration) { f.ns.Add(int64(d)) }

// newFake returns a controller over shards on a fake clock that starts
// at 1s, with cfg's zero fields defaulted.
func newFake(t testing.TB, shards int, cfg Config) (*Controller, *fakeClock) {
	t.Helper()
	clk := &fakeClock{}
	clk.advance(time.Second)
	cfg.Clock = clk.now
	c, err := New(shards, cfg)
	require.NoError(t, err)
	return c, clk
}

// wave runs n writes on each of shards at once: all Begin at the current
// time, the clock moves by latency, all End. It models writes that run
// concurrently and each take latency.
func wave(c *Controller, clk *fakeClock, shards []int, n int,
	latency time.Duration) {
	starts := make([]int64, 0, len(shards)*n)
	for _, s := range shards {
		for range n {
			starts = append(starts, c.Begin(s))
		}
	}
	clk.advance(latency)
	i := 0
	for _, s := range shards {
		for range n {
			c.End(s, starts[i])
			i++
		}
	}
}

// span returns the shard indices [from, to).
func span(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}
