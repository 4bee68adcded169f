package admission

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hot path must not allocate, whether a write is sampled, its
// sample evaluates the gate, or Allow re-evaluates an engaged gate.
func TestHotPathDoesNotAllocate(t *testing.T) {
	c, clk := newFake(t, 16, Config{SampleEvery: 2})

	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		clk.advance(time.Millisecond) // evaluations fall due
		for s := range 16 {
			c.End(s, c.Begin(s))
		}
	}), "Begin/End")

	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		_ = c.Allow()
	}), "Allow, gate off")

	engage(t, c, clk, 5*time.Millisecond)
	require.False(t, c.Allow())
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		clk.advance(10 * time.Millisecond)
		_ = c.Allow()
		_ = c.Stat(3)
	}), "Allow, gate on; Stat")
}

func TestNilHotPathDoesNotAllocate(t *testing.T) {
	var c *Controller
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		c.End(0, c.Begin(0))
		_ = c.Allow()
	}))
}
