//go:build go1.25

package admission

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Writers and readers run together under -race. Inside the bubble the
// real clock stands still while goroutines run, so no window rotates and
// the final counts are exact.
func TestStatUnderConcurrentWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const writers, perWriter, shards = 8, 2000, 4
		c, err := New(shards, Config{SampleEvery: 4})
		require.NoError(t, err)

		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perWriter {
					c.End(w%shards, c.Begin(w%shards))
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				st := c.Stat(i % shards)
				assert.LessOrEqual(t, st.MinNs, st.MaxNs)
				assert.True(t, c.Allow())
				_ = c.Status()
			}
		}()
		wg.Wait()

		for s := range shards {
			st := c.Stat(s)
			want := uint64(writers / shards * perWriter)
			assert.Equal(t, want, st.Writes, "shard %d", s)
			assert.Equal(t, want/4, st.Samples, "shard %d", s)
			assert.Zero(t, st.MaxNs, "the bubble's clock stood still")
		}
	})
}

func TestResetBesideWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := New(2, Config{SampleEvery: 1})
		require.NoError(t, err)

		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 1000 {
					c.End(w%2, c.Begin(w%2))
				}
			}()
		}
		for range 50 {
			c.Reset()
		}
		wg.Wait()

		c.Reset()
		assert.Equal(t, ShardStat{}, c.Stat(0))
	})
}

// On the real clock, four writers a shard whose writes take 2ms engage
// the gate within 10ms, and it lifts within a second of their stopping
// although nothing else writes.
func TestRealClockOnsetAndRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := New(16, DefaultConfig())
		require.NoError(t, err)
		begin := time.Now()

		var wg sync.WaitGroup
		for w := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 40 {
					start := c.Begin(w % 16)
					time.Sleep(2 * time.Millisecond)
					c.End(w%16, start)
				}
			}()
		}

		var engaged time.Duration
		for range 100 {
			if !c.Allow() {
				engaged = time.Since(begin)
				break
			}
			time.Sleep(time.Millisecond)
		}
		wg.Wait()
		require.NotZero(t, engaged, "gate never engaged")
		assert.LessOrEqual(t, engaged, 10*time.Millisecond)

		stopped := time.Now()
		for range 2000 {
			if c.Allow() {
				break
			}
			time.Sleep(time.Millisecond)
		}
		assert.True(t, c.Allow())
		assert.LessOrEqual(t, time.Since(stopped), time.Second)
		t.Logf("engaged after %v, lifted %v after writes stopped",
			engaged, time.Since(stopped))
	})
}
