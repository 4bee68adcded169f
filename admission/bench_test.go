package admission

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkBeginEnd measures one Begin/End pair on the real clock.
// sampled=off is a nil controller, the cost of admission disabled.
func BenchmarkBeginEnd(b *testing.B) {
	for _, every := range []int{0, 1, 8, 64} {
		name := "sampled=off"
		if every > 0 {
			name = fmt.Sprintf("sampled=1in%d", every)
		}
		b.Run(name, func(b *testing.B) {
			c := benchController(b, 16, every)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s := i & 15
				c.End(s, c.Begin(s))
			}
		})
	}
}

// BenchmarkBeginEndParallel spreads goroutines over the shards, as the
// registry's writers are spread by hash.
func BenchmarkBeginEndParallel(b *testing.B) {
	for _, every := range []int{0, 8} {
		name := "sampled=off/shards=16"
		if every > 0 {
			name = fmt.Sprintf("sampled=1in%d/shards=16", every)
		}
		b.Run(name, func(b *testing.B) {
			c := benchController(b, 16, every)
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				s := int(next.Add(1)) & 15
				for pb.Next() {
					c.End(s, c.Begin(s))
				}
			})
		})
	}
}

func BenchmarkAllow(b *testing.B) {
	b.Run("gate=off", func(b *testing.B) {
		c := benchController(b, 16, 8)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = c.Allow()
		}
	})
}

// benchController returns a real-clock controller, or nil when every is
// 0.
func benchController(b *testing.B, shards, every int) *Controller {
	b.Helper()
	if every == 0 {
		return nil
	}
	c, err := New(shards, Config{SampleEvery: every})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkClock is the cost that SampleEvery amortises: a sampled write
// reads the clock twice.
func BenchmarkClock(b *testing.B) {
	clock := monotonic()
	b.ReportAllocs()
	var sink int64
	for i := 0; i < b.N; i++ {
		sink += clock()
	}
	_ = sink
}
