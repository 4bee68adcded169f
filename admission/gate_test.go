package admission

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// warm runs d of fast writes, 8 on each of shards every millisecond.
func warm(c *Controller, clk *fakeClock, shards []int, d time.Duration) {
	for end := clk.now() + int64(d); clk.now() < end; {
		wave(c, clk, shards, 8, 10*time.Microsecond)
		clk.advance(time.Millisecond - 10*time.Microsecond)
	}
}

// engage makes every shard slow until the gate engages and returns how
// long that took.
func engage(t *testing.T, c *Controller, clk *fakeClock,
	latency time.Duration) time.Duration {
	t.Helper()
	from := clk.now()
	for range 1000 {
		if !c.Allow() {
			return time.Duration(clk.now() - from)
		}
		wave(c, clk, span(0, c.Shards()), 8, latency)
	}
	require.FailNow(t, "gate never engaged")
	return 0
}

func TestGateEngagesWithin10ms(t *testing.T) {
	c, clk := newFake(t, 16, DefaultConfig())
	warm(c, clk, span(0, 16), 200*time.Millisecond)
	require.True(t, c.Allow(), "fast writes never engage")

	took := engage(t, c, clk, 2*time.Millisecond)
	t.Logf("engaged after %v", took)
	assert.LessOrEqual(t, took, 10*time.Millisecond)

	st := c.Status()
	assert.True(t, st.Active)
	assert.Equal(t, span(0, 16), st.Alarmed)
	assert.Equal(t, 1.0, st.Fraction)
}

func TestGateLiftsWithNoTrafficThroughAllow(t *testing.T) {
	c, clk := newFake(t, 16, DefaultConfig())
	// Busy shards: their write counts alone would keep MinWrites met
	// for most of the next window, so only staleness lifts in time.
	warm(c, clk, span(0, 16), 150*time.Millisecond)
	engage(t, c, clk, 5*time.Millisecond)

	// Every registration is refused and nothing else writes: only
	// Allow runs, once a millisecond.
	from := clk.now()
	for c.Allow() == false && clk.now()-from < int64(2*time.Second) {
		clk.advance(time.Millisecond)
	}
	took := time.Duration(clk.now() - from)
	t.Logf("lifted after %v", took)
	assert.Greater(t, took, 50*time.Millisecond, "lifted too early")
	assert.LessOrEqual(t, took, 111*time.Millisecond, "Window+Window/10")
	assert.False(t, c.Status().Active)
}

func TestGateLiftsWithNoCallsAtAll(t *testing.T) {
	c, clk := newFake(t, 16, DefaultConfig())
	engage(t, c, clk, 5*time.Millisecond)

	clk.advance(time.Second)
	st := c.Status()
	assert.False(t, st.Active)
	assert.Empty(t, st.Alarmed)
	assert.True(t, c.Allow())
}

func TestGateLiftsWhenWritesTurnFast(t *testing.T) {
	c, clk := newFake(t, 16, DefaultConfig())
	engage(t, c, clk, 5*time.Millisecond)

	from := clk.now()
	for !c.Allow() && clk.now()-from < int64(time.Second) {
		wave(c, clk, span(0, 16), 8, 100*time.Microsecond)
	}
	assert.True(t, c.Allow())
	assert.Less(t, clk.now()-from, int64(100*time.Millisecond),
		"fresh fast samples clear shards before they go stale")
}

func TestGateDoesNotFlapAtThreshold(t *testing.T) {
	c, clk := newFake(t, 16, Config{SampleEvery: 1})
	engage(t, c, clk, 1200*time.Microsecond)

	// Latency alternates around the threshold, so every shard's EWMA
	// crosses it again and again.
	var toggles, above, below int
	on := !c.Allow()
	for i := range 500 {
		d := 800 * time.Microsecond
		if i%2 == 1 {
			d = 1200 * time.Microsecond
		}
		wave(c, clk, span(0, 16), 1, d)

		if c.Stat(0).EWMANs > int64(time.Millisecond) {
			above++
		} else {
			below++
		}
		if now := !c.Allow(); now != on {
			toggles++
			on = now
		}
	}
	require.Greater(t, above, 100, "input must cross the threshold")
	require.Greater(t, below, 100, "input must cross the threshold")
	assert.Zero(t, toggles)
	assert.True(t, on)
	assert.Len(t, c.Status().Alarmed, 16)
}

func TestGateHysteresisBetweenReleaseAndFraction(t *testing.T) {
	c, clk := newFake(t, 16, DefaultConfig())
	slow := func(hot int) { // 200ms of slow writes on shards [0, hot)
		for range 100 {
			wave(c, clk, span(0, hot), 8, 2*time.Millisecond)
			c.Allow()
		}
	}

	slow(9) // 9/16 > 0.5
	require.False(t, c.Allow())
	slow(7) // 0.25 < 7/16 <= 0.5: stays on
	assert.False(t, c.Allow())
	assert.Len(t, c.Status().Alarmed, 7)
	slow(4) // 4/16 <= 0.25: lifts
	assert.True(t, c.Allow())
	slow(8) // 8/16 is not more than half: stays off
	assert.True(t, c.Allow())
	assert.Len(t, c.Status().Alarmed, 8)
}

func TestOneHotShardNeverTripsGate(t *testing.T) {
	c, clk := newFake(t, 16, DefaultConfig())
	for range 200 {
		wave(c, clk, []int{0}, 8, 50*time.Millisecond)
		warm(c, clk, span(1, 16), time.Millisecond)
		require.True(t, c.Allow())
	}

	assert.True(t, c.Stat(0).Alarmed)
	st := c.Status()
	assert.False(t, st.Active)
	assert.Equal(t, []int{0}, st.Alarmed)
	assert.Equal(t, 1.0/16, st.Fraction)
}

func TestFewWritesNeverAlarm(t *testing.T) {
	c, clk := newFake(t, 16, Config{SampleEvery: 1})
	for range 100 { // one 5ms write a shard every 30ms: ~4 a window
		wave(c, clk, span(0, 16), 1, 5*time.Millisecond)
		clk.advance(25 * time.Millisecond)
		require.True(t, c.Allow())
	}
	assert.Less(t, c.Stat(3).RecentWrites, uint64(8))
	assert.False(t, c.Stat(3).Alarmed)
}

func TestSingleShardControllerEngages(t *testing.T) {
	c, clk := newFake(t, 1, DefaultConfig())
	engage(t, c, clk, 2*time.Millisecond)
	assert.Equal(t, []int{0}, c.Status().Alarmed)
}

func TestGateEngagesWithoutWaitingForRateLimit(t *testing.T) {
	// Window/10 is 100ms; the sample that alarms the ninth shard must
	// evaluate at once.
	c, clk := newFake(t, 16, Config{Window: time.Second})
	wave(c, clk, span(0, 9), 8, 5*time.Millisecond)
	assert.False(t, c.Allow())
}
