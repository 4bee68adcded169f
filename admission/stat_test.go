package admission

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

const ms = int64(time.Millisecond)

func TestStatCoversCurrentWindow(t *testing.T) {
	c, clk := newFake(t, 1, Config{SampleEvery: 1, Alpha: 0.5})

	for _, d := range []time.Duration{2, 4, 6} {
		wave(c, clk, []int{0}, 1, d*time.Millisecond)
	}
	assert.Equal(t, ShardStat{
		Writes:       3,
		Samples:      3,
		AvgNs:        4 * ms,
		MinNs:        2 * ms,
		MaxNs:        6 * ms,
		EWMANs:       4500000, // 2, then 3, then 4.5
		RecentWrites: 3,
		Alarmed:      false, // 3 writes < MinWrites
	}, c.Stat(0))

	// The window ends 100ms after start; 12ms have passed. At 150ms
	// the new window is empty; the EWMA spans windows and half of the
	// previous window's writes still count.
	clk.advance(138 * time.Millisecond)
	assert.Equal(t, ShardStat{
		EWMANs:       4500000,
		RecentWrites: 2, // 3 * 0.5, rounded
	}, c.Stat(0))
}

func TestStatLateRotationSpreadsWrites(t *testing.T) {
	c, clk := newFake(t, 1, Config{SampleEvery: 64})
	for range 30 {
		c.Begin(0) // counted, never sampled
	}

	// Nothing rotated for three windows: 30 writes become 10 a window.
	clk.advance(300 * time.Millisecond)
	st := c.Stat(0)
	assert.Zero(t, st.Writes)
	assert.EqualValues(t, 10, st.RecentWrites)
}

func TestEWMARestartsAfterIdleWindow(t *testing.T) {
	c, clk := newFake(t, 1, Config{SampleEvery: 1})
	wave(c, clk, []int{0}, 1, 8*time.Millisecond)
	wave(c, clk, []int{0}, 1, 4*time.Millisecond)
	assert.Equal(t, 7*ms, c.Stat(0).EWMANs) // 8 + (4-8)/4

	clk.advance(100 * time.Millisecond)
	wave(c, clk, []int{0}, 1, time.Millisecond)
	assert.Equal(t, ms, c.Stat(0).EWMANs, "stale EWMA discarded")
}
