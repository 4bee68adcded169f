package registry_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// This file races writes to a mailbox with its Close. It follows the
// pattern, and uses the helpers, of race_test.go.

// TestRaceMailboxWriteVersusClose writes to a mailbox from eight
// goroutines while it is closed, under each overflow policy. No write
// panics or blocks; once one write has seen ErrClosed every later one
// does; and every message is accounted for exactly once: each accepted
// write is delivered, failed or dropped, and each refused one is counted
// as rejected.
func TestRaceMailboxWriteVersusClose(t *testing.T) {
	const writers = 8
	policies := map[string]registry.OverflowPolicy{
		"policy=reject-newest": registry.RejectNewest,
		"policy=drop-oldest":   registry.DropOldest,
	}
	for name, policy := range policies {
		t.Run(name, func(t *testing.T) {
			n, deadline := rounds(50, 500)
			for round := 0; round < n && time.Now().Before(deadline); round++ {
				sink := &probe{id: "sink"}
				mb, err := registry.NewMailbox[int](sink,
					registry.MailboxOptions{Capacity: 2, Policy: policy})
				require.NoError(t, err)

				type tally struct{ ok, full int }
				tallies := make(chan tally, writers)
				busy := make(chan struct{})
				var writes atomic.Int64
				fs := []func(){func() {
					<-busy
					assert.NoError(t, mb.Close())
					assert.ErrorIs(t, mb.Write(context.Background(), -1), registry.ErrClosed)
					assert.NoError(t, mb.Close(), "a second Close")
				}}
				for w := range writers {
					fs = append(fs, func() {
						var c tally
						defer func() { tallies <- c }()
						closed := 0
						for i := 0; i < 2000 && closed < 3; i++ {
							if writes.Add(1) == 50 {
								close(busy)
							}
							switch err := mb.Write(context.Background(), w*10000+i); {
							case err == nil && closed == 0:
								c.ok++
							case errors.Is(err, registry.ErrMailboxFull) && closed == 0:
								c.full++
							case errors.Is(err, registry.ErrClosed):
								closed++
							default:
								t.Errorf("round %d: write %d got %v after %d ErrClosed",
									round, i, err, closed)
							}
						}
					})
				}
				together(fs...)

				var sum tally
				for range writers {
					c := <-tallies
					sum.ok += c.ok
					sum.full += c.full
				}
				st := mb.Stats()
				assert.Equal(t, uint64(sum.full), st.Rejected, "round %d: rejections", round)
				assert.Equal(t, uint64(sum.ok), st.Delivered+st.Failed+st.Dropped,
					"round %d: %d writes accepted, stats %+v", round, sum.ok, st)
				assert.Equal(t, int64(st.Delivered), sink.got.Load(), "round %d", round)
				assert.Zero(t, mb.Len(), "round %d: letters left after Close", round)
			}
		})
	}
}
