package admission

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// cacheLine is the span that shardState is padded to. Writers of one
// shard must not invalidate the line that writers of the next shard
// hammer, or every Begin would pay a cache miss for its neighbours.
// 128 rather than 64 bytes because Intel's spatial prefetcher fetches
// lines in pairs, so neighbours 64 bytes apart still collide there; the
// Go runtime and xsync pad to 128 for the same reason. The shard slice
// itself need not start on a line boundary; then two neighbours share one
// line, holding the cold tail of one (rotation fields and padding) and
// the head of the next, so the hot counters still never share.
const cacheLine = 128

// shardState is shardCounters padded to a multiple of cacheLine.
type shardState struct {
	shardCounters
	_ [cacheLine - unsafe.Sizeof(shardCounters{})%cacheLine]byte
}

// shardCounters is one shard's measurement. Every field is reached only
// through atomics, so any goroutine may read any field at any time;
// comments say who writes each one.
//
// Write, sample and latency-sum totals only grow (until Reset). A window
// is the span from start for window nanoseconds; the counts "in the
// window" are totals minus the bases taken when the window began, so a
// rotation never loses a concurrent increment, only attributes it to one
// side of the boundary.
type shardCounters struct {
	// writes counts every Begin (Add). The gate's evaluation loads it.
	writes atomic.Uint64
	// samples and sumNs count sampled Ends and their latency (Add).
	samples atomic.Uint64
	sumNs   atomic.Int64
	// minNs and maxNs are the extremes of the current window, kept by
	// CAS loops in record and reset by the rotator; minNs is
	// math.MaxInt64 while the window has no sample.
	minNs atomic.Int64
	maxNs atomic.Int64
	// ewmaNs is the latency EWMA, replaced by CAS in record; zero
	// means no sample yet.
	ewmaNs atomic.Int64
	// lastNs is the clock reading of the latest sample (Store in
	// record). A shard whose lastNs is a window old is not alarmed.
	lastNs atomic.Int64

	// start is the current window's start. The goroutine whose CAS
	// moves it forward (rotate) alone stores the bases and prevWrites
	// below, after the CAS; a reader that races it may see the new
	// start with old bases for a moment, which overstates the window's
	// counts until the stores land.
	start       atomic.Int64
	baseWrites  atomic.Uint64
	baseSamples atomic.Uint64
	baseSumNs   atomic.Int64
	// prevWrites is the write count of the window before start, or
	// an even share of it when rotation came late (see rotate).
	prevWrites atomic.Uint64

	// alarmed remembers the last verdict, for hysteresis. Ends that
	// change it use CAS; the gate's evaluation Stores it.
	alarmed atomic.Bool
}

// reset zeroes the shard and begins a window at now. It is not atomic
// with respect to concurrent writers: a write in flight may land on
// either side of it.
func (s *shardState) reset(now int64) {
	s.start.Store(now)
	s.baseWrites.Store(0)
	s.baseSamples.Store(0)
	s.baseSumNs.Store(0)
	s.prevWrites.Store(0)
	s.writes.Store(0)
	s.samples.Store(0)
	s.sumNs.Store(0)
	s.minNs.Store(math.MaxInt64)
	s.maxNs.Store(0)
	s.ewmaNs.Store(0)
	s.lastNs.Store(0)
	s.alarmed.Store(false)
}

// rotate begins a new window if the current one ended at or before now.
// Windows stay aligned to multiples of window from the first start. When
// k windows have passed since the last rotation, the writes counted
// meanwhile are spread evenly and one share becomes prevWrites. It takes
// no lock and does not allocate; of several concurrent rotators one wins
// the CAS and the rest return.
func (s *shardState) rotate(now, window int64) {
	start := s.start.Load()
	if now-start < window {
		return
	}
	k := (now - start) / window
	if !s.start.CompareAndSwap(start, start+k*window) {
		return
	}

	// Load the totals before storing them as bases, so base <= total
	// for any reader that loads a base before its total.
	writes := s.writes.Load()
	samples := s.samples.Load()
	sum := s.sumNs.Load()
	cur := sub(writes, s.baseWrites.Load())

	s.prevWrites.Store(cur / uint64(k))
	s.baseWrites.Store(writes)
	s.baseSamples.Store(samples)
	s.baseSumNs.Store(sum)
	s.minNs.Store(math.MaxInt64)
	s.maxNs.Store(0)
}

// record adds one latency sample d taken at now. It takes no lock and
// does not allocate; the CAS loops retry only while another sample of
// the same shard lands between load and swap.
func (s *shardState) record(d, now, window int64, alpha float64) {
	// An EWMA whose last sample is a window old describes a past
	// state: start afresh from this sample.
	stale := now-s.lastNs.Load() >= window
	for {
		old := s.ewmaNs.Load()
		next := d
		if old != 0 && !stale {
			next = old + int64(alpha*float64(d-old))
		}
		if s.ewmaNs.CompareAndSwap(old, next) {
			break
		}
	}

	s.samples.Add(1)
	s.sumNs.Add(d)
	for v := s.minNs.Load(); d < v; v = s.minNs.Load() {
		if s.minNs.CompareAndSwap(v, d) {
			break
		}
	}
	for v := s.maxNs.Load(); d > v; v = s.maxNs.Load() {
		if s.maxNs.CompareAndSwap(v, d) {
			break
		}
	}
	s.lastNs.Store(now)
}

// recentWrites estimates the writes of the last window nanoseconds as a
// sliding window: all of the current window plus the part of the
// previous one that still overlaps [now-window, now], assuming its
// writes were spread evenly. Callers rotate first, so now-start lies in
// [0, window) unless a rotation raced them.
func (s *shardState) recentWrites(now, window int64) float64 {
	start := s.start.Load()
	prev := s.prevWrites.Load()
	base := s.baseWrites.Load()
	cur := sub(s.writes.Load(), base)

	e := min(max(now-start, 0), window)
	overlap := float64(window-e) / float64(window)
	return float64(cur) + float64(prev)*overlap
}

// sub returns a-b, or 0 when Reset made a smaller than b.
func sub[T uint64 | int64](a, b T) T {
	if a < b {
		return 0
	}
	return a - b
}
