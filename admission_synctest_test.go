//go:build go1.25

package registry_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// TestAdmissionUnderRealContention induces contention with 64 writers
// whose writes sleep 3 ms, inside a synctest bubble so that time is
// virtual and the run deterministic. The gate must engage within 10 ms,
// refuse only registrations, and lift within 1 s of the writers stopping
// although every registration is being refused by then.
func TestAdmissionUnderRealContention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var slow atomic.Bool
		reg, err := registry.New[string, int, int](
			registry.WithWriteDelay(func(int) time.Duration {
				if slow.Load() {
					return 3 * time.Millisecond
				}
				return 0
			}))
		require.NoError(t, err)
		defer reg.Close()
		ctx := context.Background()

		// Entries made before contention keep working through it.
		sink := &msgSink{}
		_, err = reg.RegisterServer(ctx, "srv", sink, 1)
		require.NoError(t, err)
		_, err = reg.RegisterBoundTransport(ctx, "tr", "srv", sink, 2)
		require.NoError(t, err)
		_, err = reg.RegisterServer(ctx, "doomed", sink, 3)
		require.NoError(t, err)

		slow.Store(true)
		onset := time.Now()
		stop := make(chan struct{})
		refused := make(chan error, 64)
		var wg sync.WaitGroup
		for w := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				writer(reg, w, stop, refused)
			}()
		}

		for !reg.ContentionStatus().AdmissionActive {
			time.Sleep(time.Millisecond)
		}
		detection := time.Since(onset)
		assert.LessOrEqual(t, detection, 10*time.Millisecond, "detection lag")
		t.Logf("detection lag %v", detection)

		st := reg.ContentionStatus()
		assert.Greater(t, len(st.AlarmedShards), reg.Shards()/2)
		err = <-refused
		assert.ErrorIs(t, err, registry.ErrAdmissionControlActive)
		var idErr *registry.IDError
		assert.ErrorAs(t, err, &idErr)

		// Refused registrations change nothing...
		_, err = reg.RegisterTransport(ctx, "tr-new", sink, 0)
		assert.ErrorIs(t, err, registry.ErrAdmissionControlActive)
		_, ok := reg.FindTransport("tr-new")
		assert.False(t, ok)

		// ...while lookups, routing, broadcast and unregister go on.
		_, ok = reg.FindServer("srv")
		assert.True(t, ok)
		assert.NoError(t, reg.RouteToServer(ctx, "srv", "tr", "req"))
		assert.NoError(t, reg.RouteToTransport(ctx, "tr", "srv", "resp"))
		res, err := reg.Broadcast(ctx, "srv", "note")
		assert.NoError(t, err)
		assert.Equal(t, 1, res.Delivered)
		assert.NoError(t, reg.UnregisterServer("doomed"))

		// Contention clears; the writers stop, so nothing writes at all.
		slow.Store(false)
		close(stop)
		wg.Wait()
		cleared := time.Now()
		for reg.ContentionStatus().AdmissionActive {
			time.Sleep(time.Millisecond)
		}
		release := time.Since(cleared)
		assert.LessOrEqual(t, release, time.Second, "release lag")
		t.Logf("release lag %v", release)

		_, err = reg.RegisterServer(ctx, "after", sink, 4)
		assert.NoError(t, err)
	})
}

// writer registers and unregisters servers until stop closes, backing
// off for a millisecond after a refusal, the first of which it sends.
// Every write sleeps while the delay is on, so virtual time advances.
func writer(reg *registry.Registry[string, int, int], w int, stop <-chan struct{}, refused chan<- error) {
	sent := false
	for i := 0; i < 1_000_000; i++ {
		select {
		case <-stop:
			return
		default:
		}
		s, err := reg.RegisterServer(context.Background(), fmt.Sprintf("w%d-%d", w, i), &msgSink{}, i)
		if err != nil {
			if !sent {
				refused <- err
				sent = true
			}
			time.Sleep(time.Millisecond)
			continue
		}
		s.Unregister()
	}
}
