package admission

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNilControllerNeverRefuses(t *testing.T) {
	var c *Controller

	assert.Zero(t, c.Begin(3))
	assert.NotPanics(t, func() { c.End(3, 12345) })
	assert.True(t, c.Allow())
	assert.Zero(t, c.Shards())
	assert.Equal(t, ShardStat{}, c.Stat(3))
	assert.Equal(t, Status{}, c.Status())
	assert.NotPanics(t, c.Reset)
}

func TestBeginSamplesOneInN(t *testing.T) {
	c, _ := newFake(t, 2, Config{SampleEvery: 4})
	require.Equal(t, 2, c.Shards())

	var sampled []int
	for i := 1; i <= 12; i++ {
		if start := c.Begin(1); start != 0 {
			sampled = append(sampled, i)
			c.End(1, start)
		}
	}
	assert.Equal(t, []int{4, 8, 12}, sampled)
	assert.Zero(t, c.Stat(0).Writes, "other shard untouched")
	assert.EqualValues(t, 12, c.Stat(1).Writes)
	assert.EqualValues(t, 3, c.Stat(1).Samples)
}

func TestBeginNeverReturnsZeroWhenSampled(t *testing.T) {
	clk := &fakeClock{} // reads 0
	c, err := New(1, Config{SampleEvery: 1, Clock: clk.now})
	require.NoError(t, err)

	start := c.Begin(0)
	assert.NotZero(t, start, "0 would mean unsampled")
	c.End(0, start)
	assert.EqualValues(t, 1, c.Stat(0).Samples)
	assert.Zero(t, c.Stat(0).MaxNs, "negative latency clamps to 0")
}

func TestResetClearsEverything(t *testing.T) {
	c, clk := newFake(t, 4, Config{SampleEvery: 1})
	for range 20 {
		wave(c, clk, span(0, 4), 2, 5*time.Millisecond)
	}
	require.True(t, c.Status().Active)
	require.False(t, c.Allow())

	c.Reset()
	assert.True(t, c.Allow())
	assert.Equal(t, Status{Fraction: 0}, c.Status())
	for i := range 4 {
		assert.Equal(t, ShardStat{}, c.Stat(i), "shard %d", i)
	}

	// Measurement starts over: one slow sample seeds a new EWMA.
	wave(c, clk, []int{0}, 1, 2*time.Millisecond)
	st := c.Stat(0)
	assert.EqualValues(t, 1, st.Writes)
	assert.Equal(t, int64(2*time.Millisecond), st.EWMANs)
}

func TestStatePadding(t *testing.T) {
	assert.Zero(t, unsafe.Sizeof(shardState{})%cacheLine)
	assert.Zero(t, unsafe.Sizeof(gateState{})%cacheLine)
	assert.GreaterOrEqual(t, unsafe.Offsetof(gateState{}.gateCounters),
		uintptr(cacheLine))
}
