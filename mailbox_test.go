package registry_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mcpshard/registry"
)

func newMailbox(t *testing.T, h handle, opts registry.MailboxOptions) *registry.Mailbox[string] {
	t.Helper()
	mb, err := registry.NewMailbox(h, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mb.Close() })
	return mb
}

// sink receives every message on a channel, so a test can wait for
// delivery without polling.
type sink chan string

func (s sink) Write(_ context.Context, msg string) error {
	s <- msg
	return nil
}

func TestMailboxDeliversInOrder(t *testing.T) {
	const n = 1000
	out := make(sink, n)
	mb := newMailbox(t, out, registry.MailboxOptions{Capacity: n})

	for i := range n {
		require.NoError(t, mb.Write(context.Background(), strconv.Itoa(i)))
	}
	for i := range n {
		require.Equal(t, strconv.Itoa(i), <-out)
	}
	require.Eventually(t, func() bool {
		return mb.Stats().Delivered == n
	}, waitFor, tick)
	assert.Equal(t, registry.MailboxStats{Delivered: n}, mb.Stats())
}

// The first write is taken by the drain goroutine, which blocks in the
// handle; the queue then fills and RejectNewest refuses.
func TestMailboxRejectNewest(t *testing.T) {
	slow := newBlocking()
	mb := newMailbox(t, slow, registry.MailboxOptions{Capacity: 2, Policy: registry.RejectNewest})
	ctx := context.Background()

	require.NoError(t, mb.Write(ctx, "m1"))
	require.Equal(t, "m1", <-slow.entered)
	require.NoError(t, mb.Write(ctx, "m2"))
	require.NoError(t, mb.Write(ctx, "m3"))
	assert.Equal(t, 2, mb.Len())

	assert.ErrorIs(t, mb.Write(ctx, "m4"), registry.ErrMailboxFull)
	assert.ErrorIs(t, mb.WriteFrom(ctx, "x", "m5"), registry.ErrMailboxFull)
	assert.Equal(t, uint64(2), mb.Stats().Rejected)

	close(slow.release)
	assert.Equal(t, "m2", <-slow.entered)
	assert.Equal(t, "m3", <-slow.entered)
	require.Eventually(t, func() bool {
		return mb.Stats().Delivered == 3
	}, waitFor, tick)
	assert.Equal(t, registry.MailboxStats{Delivered: 3, Rejected: 2}, mb.Stats())
}

func TestMailboxDropOldest(t *testing.T) {
	slow := newBlocking()
	mb := newMailbox(t, slow, registry.MailboxOptions{Capacity: 2, Policy: registry.DropOldest})
	ctx := context.Background()

	require.NoError(t, mb.Write(ctx, "m1"))
	require.Equal(t, "m1", <-slow.entered)
	for i := 2; i <= 5; i++ {
		require.NoError(t, mb.Write(ctx, "m"+strconv.Itoa(i)), "DropOldest never refuses")
	}
	assert.Equal(t, uint64(2), mb.Stats().Dropped, "m2 and m3 made room")
	assert.Zero(t, mb.Stats().Rejected)

	close(slow.release)
	assert.Equal(t, "m4", <-slow.entered, "the newest survive, in order")
	assert.Equal(t, "m5", <-slow.entered)
	require.Eventually(t, func() bool {
		return mb.Stats().Delivered == 3
	}, waitFor, tick)
	assert.Equal(t, registry.MailboxStats{Delivered: 3, Dropped: 2}, mb.Stats())
}

func TestMailboxCloseStopsGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	slow := newBlocking()
	mb, err := registry.NewMailbox[string](slow, registry.MailboxOptions{Capacity: 4})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, mb.Write(ctx, "m1"))
	<-slow.entered
	require.NoError(t, mb.Write(ctx, "m2"))
	require.NoError(t, mb.Write(ctx, "m3"))

	// Close cancels the Write in progress and waits for the goroutine.
	require.NoError(t, mb.Close())
	require.NoError(t, mb.Close(), "Close is idempotent")

	assert.ErrorIs(t, mb.Write(ctx, "late"), registry.ErrClosed)
	assert.ErrorIs(t, mb.WriteFrom(ctx, "x", "late"), registry.ErrClosed)
	st := mb.Stats()
	assert.Equal(t, uint64(1), st.Failed, "the cancelled write failed")
	assert.Equal(t, uint64(2), st.Dropped, "queued letters count as dropped")
	assert.Zero(t, mb.Len())
}

// Close from many goroutines at once, beside writers: no panic, one stop.
func TestMailboxConcurrentCloseAndWrite(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	mb, err := registry.NewMailbox[string](&counter{},
		registry.MailboxOptions{Capacity: 8, Policy: registry.DropOldest})
	require.NoError(t, err)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				if i%2 == 0 && j == 100 {
					_ = mb.Close()
				}
				err := mb.Write(context.Background(), "m")
				if err != nil && err != registry.ErrClosed {
					t.Errorf("write: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, mb.Close())
	assert.ErrorIs(t, mb.Write(context.Background(), "m"), registry.ErrClosed)
}

func TestMailboxPanickingHandle(t *testing.T) {
	errs := make(chan error, 2)
	mb := newMailbox(t, panicking{"inner"}, registry.MailboxOptions{
		Capacity: 4,
		OnError:  func(err error) { errs <- err },
	})
	require.NoError(t, mb.Write(context.Background(), "a"))
	require.NoError(t, mb.Write(context.Background(), "b"))

	for range 2 {
		err := <-errs
		assert.ErrorIs(t, err, registry.ErrPanic)
		var pe *registry.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "inner", pe.Value)
	}
	require.Eventually(t, func() bool {
		return mb.Stats().Failed == 2
	}, waitFor, tick)
	assert.Zero(t, mb.Stats().Delivered)
}

func TestMailboxFailingHandle(t *testing.T) {
	errs := make(chan error, 1)
	mb := newMailbox(t, failing{errHandle}, registry.MailboxOptions{
		Capacity: 1,
		OnError:  func(err error) { errs <- err },
	})
	require.NoError(t, mb.Write(context.Background(), "a"))
	assert.ErrorIs(t, <-errs, errHandle)
	require.Eventually(t, func() bool {
		return mb.Stats().Failed == 1
	}, waitFor, tick)
}

// WriteFrom carries the origin through to an OriginWriter inside.
func TestMailboxOrigin(t *testing.T) {
	inner := &originRecorder{}
	mb := newMailbox(t, inner, registry.MailboxOptions{Capacity: 4})
	require.NoError(t, mb.WriteFrom(context.Background(), "srv", "a"))
	require.NoError(t, mb.Write(context.Background(), "b"))
	require.Eventually(t, func() bool {
		return mb.Stats().Delivered == 2
	}, waitFor, tick)
	assert.Equal(t, []letter{{"srv", "a"}, {"", "b"}}, inner.letters())
}

func TestNewMailboxBadOptions(t *testing.T) {
	tests := []struct {
		name       string
		give       registry.MailboxOptions
		wantOption string
	}{
		{"zero capacity", registry.MailboxOptions{}, "mailbox capacity"},
		{"negative capacity", registry.MailboxOptions{Capacity: -1}, "mailbox capacity"},
		{"unknown policy", registry.MailboxOptions{Capacity: 1, Policy: 7}, "mailbox policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mb, err := registry.NewMailbox[string](&recorder{}, tt.give)
			require.Error(t, err)
			assert.Nil(t, mb)
			assert.ErrorIs(t, err, registry.ErrInvalidOption)
			var oe *registry.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.wantOption, oe.Option)
		})
	}

	_, err := registry.NewMailbox[string](nil, registry.MailboxOptions{Capacity: 1})
	assert.ErrorIs(t, err, registry.ErrNilHandle)
}
