package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// newHist returns a histogram of nanoseconds from 1ns to one minute at
// three significant digits.
func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Minute), 3)
}

// record adds a duration in nanoseconds, clamped into the histogram.
func record(h *hdrhistogram.Histogram, ns int64) {
	_ = h.RecordValue(min(max(ns, 1), int64(time.Minute)))
}

// latency is a latency distribution in nanoseconds.
type latency struct {
	N                               int64
	Mean                            float64
	P50, P95, P99, P999, P9999, Max int64
}

func summarize(h *hdrhistogram.Histogram) latency {
	return latency{
		N:     h.TotalCount(),
		Mean:  h.Mean(),
		P50:   h.ValueAtQuantile(50),
		P95:   h.ValueAtQuantile(95),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		P9999: h.ValueAtQuantile(99.99),
		Max:   h.Max(),
	}
}

// timerFloor measures what timing an empty operation costs, so tables
// can say how much of a per-operation figure is the clock itself.
func timerFloor(n int) latency {
	h := newHist()
	for range n {
		t := time.Now()
		record(h, int64(time.Since(t)))
	}
	return summarize(h)
}

// bulk runs op(n) with n grown until one run lasts about d, then runs it
// reps times and returns the fastest run's ns per operation. On a shared
// machine other processes only ever add time to a run, so the fastest is
// the best estimate of what the operation itself costs.
func bulk(d time.Duration, reps int, op func(n int)) float64 {
	n := 64
	for {
		t := time.Now()
		op(n)
		el := time.Since(t)
		if el >= d/4 || n >= 1<<30 {
			// Scale to about d.
			if el < d {
				n = int(float64(n) * float64(d) / float64(max(el, 1)))
			}
			break
		}
		n *= 4
	}
	res := make([]float64, reps)
	for i := range res {
		t := time.Now()
		op(n)
		res[i] = float64(time.Since(t).Nanoseconds()) / float64(n)
	}
	return slices.Min(res)
}

// pair times a and b alternately, reps times each, each run lasting
// about d, and returns the fastest run's ns per operation of each (see
// bulk). Alternating keeps a machine whose load drifts from favouring
// either side.
func pair(d time.Duration, reps int, a, b func(n int)) (float64, float64) {
	na, nb := calibrate(d, a), calibrate(d, b)
	ra := make([]float64, reps)
	rb := make([]float64, reps)
	for i := range reps {
		ra[i] = timeN(na, a)
		rb[i] = timeN(nb, b)
	}
	return slices.Min(ra), slices.Min(rb)
}

func calibrate(d time.Duration, op func(n int)) int {
	n := 64
	for {
		t := time.Now()
		op(n)
		el := time.Since(t)
		if el >= d/4 || n >= 1<<30 {
			return max(int(float64(n)*float64(d)/float64(max(el, 1))), 1)
		}
		n *= 4
	}
}

func timeN(n int, op func(n int)) float64 {
	t := time.Now()
	op(n)
	return float64(time.Since(t).Nanoseconds()) / float64(n)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)/2]
}

// gc collects twice, so that finalizers and sweeps from the previous
// scenario do not land in the next one's timings.
func gc() {
	runtime.GC()
	runtime.GC()
}

// heapAlloc returns the live heap after a full collection.
func heapAlloc() uint64 {
	gc()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// ns formats nanoseconds with a unit that keeps three digits.
func ns(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v < 10:
		return fmt.Sprintf("%.1f ns", v)
	case v < 1e3:
		return fmt.Sprintf("%.0f ns", v)
	case v < 1e4:
		return fmt.Sprintf("%.2f µs", v/1e3)
	case v < 1e6:
		return fmt.Sprintf("%.1f µs", v/1e3)
	case v < 1e7:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v < 1e9:
		return fmt.Sprintf("%.1f ms", v/1e6)
	default:
		return fmt.Sprintf("%.2f s", v/1e9)
	}
}

func nsi(v int64) string { return ns(float64(v)) }

// rate formats operations per second.
func rate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM/s", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk/s", v/1e3)
	default:
		return fmt.Sprintf("%.0f/s", v)
	}
}

// ratio formats a/b as "3.1×".
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "—"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	default:
		return fmt.Sprintf("%.2f×", r)
	}
}

// withRatio formats "value (ratio)".
func withRatio(v string, a, b float64) string {
	return fmt.Sprintf("%s (%s)", v, ratio(a, b))
}

// count formats an integer with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sizeName names an entry count: 1k, 15k, 1M.
func sizeName(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%dM", n/1e6)
	case n >= 1e3 && n%1e3 == 0:
		return fmt.Sprintf("%dk", n/1e3)
	default:
		return fmt.Sprint(n)
	}
}
