package admission

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// Controller measures write latency per shard and gates new
// registrations when too many shards are slow. Create one per registry
// with [New]. All methods are safe for concurrent use, take no lock and
// never block; only [Controller.Status] allocates.
//
// A nil *Controller is valid and means admission is disabled: Begin
// returns 0, End does nothing, Allow reports true, Stat and Status return
// zero values.
type Controller struct {
	_ noCopy

	// These are set by New and never written again.
	shards    []shardState
	clock     func() int64
	mask      uint64  // SampleEvery-1
	threshold int64   // Threshold in ns
	clearNs   int64   // Threshold/2: an alarmed shard clears at or below
	minWrites float64 // MinWrites
	window    int64   // Window in ns
	evalEvery int64   // rate limit of evaluate, see maybeEvaluate
	fraction  float64
	release   float64
	alpha     float64

	// gate is apart from the shards so that Allow's load of
	// gate.active shares its line with nothing a writer hammers.
	gate gateState
}

// gateCounters is the gate's state.
type gateCounters struct {
	// active is the gate: Stored by evaluate, Loaded by Allow.
	active atomic.Bool
	// lastEval is the clock reading of the latest evaluation. A
	// goroutine claims a rate-limited evaluation by CAS on it; forced
	// evaluations Store it.
	lastEval atomic.Int64
}

// gateState is gateCounters padded to a cache line on both sides.
type gateState struct {
	_ [cacheLine]byte
	gateCounters
	_ [cacheLine - unsafe.Sizeof(gateCounters{})%cacheLine]byte
}

// evalDivisor sets the evaluation rate limit to Window/evalDivisor: with
// the default 100ms window, a 10ms delay between a shard turning slow and
// the gate noticing, and at most a hundred O(shards) sweeps a second.
const evalDivisor = 10

// New returns a controller for shards shards, which must be at least 1.
// cfg is validated as by [Config.Validate]; zero fields take defaults.
// New allocates the per-shard state, 128 bytes a shard.
func New(shards int, cfg Config) (*Controller, error) {
	if shards < 1 {
		return nil, &ConfigError{Field: "shards", Value: shards,
			Reason: "must be at least 1"}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()

	clock := cfg.Clock
	if clock == nil {
		clock = monotonic()
	}
	c := &Controller{
		shards:    make([]shardState, shards),
		clock:     clock,
		mask:      uint64(cfg.SampleEvery - 1),
		threshold: int64(cfg.Threshold),
		clearNs:   int64(cfg.Threshold / 2),
		minWrites: float64(cfg.MinWrites),
		window:    int64(cfg.Window),
		evalEvery: max(int64(cfg.Window)/evalDivisor, 1),
		fraction:  cfg.Fraction,
		release:   cfg.Release,
		alpha:     cfg.Alpha,
	}
	c.Reset()
	return c, nil
}

// monotonic returns a clock reading the process's monotonic clock as
// nanoseconds since the call. time.Since uses the monotonic reading that
// time.Now carries, so wall-clock steps do not move it.
func monotonic() func() int64 {
	base := time.Now()
	return func() int64 { return int64(time.Since(base)) }
}

// Shards returns the shard count given to New, or 0 for nil.
func (c *Controller) Shards() int {
	if c == nil {
		return 0
	}
	return len(c.shards)
}

// Begin counts a write on shard, which must lie in [0, Shards()). It
// returns a start time when the write is sampled (one in SampleEvery),
// else 0; pass the result to [Controller.End] when the write is done.
// An unsampled Begin is one atomic add on the shard's own cache line; a
// sampled one also reads the clock. It never allocates or blocks.
func (c *Controller) Begin(shard int) int64 {
	if c == nil || c.shards[shard].writes.Add(1)&c.mask != 0 {
		return 0
	}
	if t := c.clock(); t != 0 {
		return t
	}
	return 1 // 0 means unsampled; a clock reading 0 costs 1ns of error
}

// End finishes a write that [Controller.Begin] started on the same
// shard. When start is 0 it does nothing. Otherwise it reads the clock,
// records the latency, and evaluates the gate if the shard's alarm
// changed or Window/10 has passed since the last evaluation; that
// evaluation reads every shard, O(shards) atomic loads. It never
// allocates or blocks.
func (c *Controller) End(shard int, start int64) {
	if c == nil || start == 0 {
		return
	}
	c.endSampled(shard, start)
}

// endSampled is End's outlined path for a sampled write, kept apart so
// that End inlines into the registry's write path.
func (c *Controller) endSampled(shard int, start int64) {
	now := c.clock()
	s := &c.shards[shard]
	s.rotate(now, c.window)
	s.record(max(now-start, 0), now, c.window, c.alpha)

	// A verdict that changes forces an evaluation so the gate engages
	// at once; hysteresis keeps such changes rare.
	was := s.alarmed.Load()
	if c.judge(s, now, was) != was && s.alarmed.CompareAndSwap(was, !was) {
		c.gate.lastEval.Store(now)
		c.evaluate(now, nil)
		return
	}
	c.maybeEvaluate(now)
}

// Allow reports whether a new registration may proceed. While the gate
// is off it is one atomic load. While it is on, Allow reads the clock and
// re-evaluates at most once per Window/10, so the gate lifts even when no
// write at all happens: shards without a sample for a Window stop
// counting as alarmed. It never allocates or blocks.
func (c *Controller) Allow() bool {
	if c == nil || !c.gate.active.Load() {
		return true
	}
	return c.allowSlow()
}

// allowSlow is Allow's path while the gate is engaged.
func (c *Controller) allowSlow() bool {
	c.maybeEvaluate(c.clock())
	return !c.gate.active.Load()
}

// Reset zeroes every counter, EWMA, extreme and window, starts new
// windows now and turns the gate off. It does not allocate. It is not
// atomic: writes that run beside it may land before or after the reset.
func (c *Controller) Reset() {
	if c == nil {
		return
	}
	now := c.clock()
	for i := range c.shards {
		c.shards[i].reset(now)
	}
	c.gate.lastEval.Store(now)
	c.gate.active.Store(false)
}

// noCopy makes go vet's copylocks check report a copied Controller.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
