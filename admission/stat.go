package admission

import "math"

// ShardStat is one shard's measurement as [Controller.Stat] read it.
//
// Writes, Samples, AvgNs, MinNs and MaxNs cover the current window only:
// from the latest multiple of Window after New or Reset that is at or
// before the read, up to the read. A window with no sample reports zero
// for AvgNs, MinNs and MaxNs.
type ShardStat struct {
	Writes  uint64 // Begin calls in the current window
	Samples uint64 // sampled End calls in the current window
	AvgNs   int64  // mean sampled latency in the current window
	MinNs   int64  // least sampled latency in the current window
	MaxNs   int64  // greatest sampled latency in the current window

	// EWMANs is the latency EWMA, which spans windows. A sample that
	// arrives a Window or more after the one before restarts it.
	EWMANs int64

	// RecentWrites is the sliding estimate of writes in the last
	// Window, the figure compared with MinWrites: this window's writes
	// plus the overlapping share of the previous window's.
	RecentWrites uint64

	// Alarmed is the shard's verdict at the time of the read.
	Alarmed bool
}

// Status is the gate as [Controller.Status] evaluated it.
type Status struct {
	Active   bool    // new registrations are refused
	Alarmed  []int   // alarmed shard indices, ascending
	Fraction float64 // len(Alarmed) / Shards()
}

// Stat reads shard's measurement, which must lie in [0, Shards()). It
// loads atomics and never stops writers, so fields read beside a write
// may disagree by that write (Samples already counts a latency that
// AvgNs does not yet include). If the current window has ended, Stat
// rotates it first, as a write would. It does not allocate. A nil
// controller returns the zero ShardStat.
func (c *Controller) Stat(shard int) ShardStat {
	if c == nil {
		return ShardStat{}
	}
	now := c.clock()
	s := &c.shards[shard]
	s.rotate(now, c.window)

	// Bases before totals, so that a total is never below its base.
	baseWrites := s.baseWrites.Load()
	baseSamples := s.baseSamples.Load()
	baseSum := s.baseSumNs.Load()
	st := ShardStat{
		Writes:       sub(s.writes.Load(), baseWrites),
		Samples:      sub(s.samples.Load(), baseSamples),
		EWMANs:       s.ewmaNs.Load(),
		RecentWrites: uint64(s.recentWrites(now, c.window) + 0.5),
		Alarmed:      c.judge(s, now, s.alarmed.Load()),
	}
	if st.Samples == 0 {
		return st
	}

	st.AvgNs = sub(s.sumNs.Load(), baseSum) / int64(st.Samples)
	st.MaxNs = s.maxNs.Load()
	if m := s.minNs.Load(); m != math.MaxInt64 {
		st.MinNs = m
	}
	return st
}
