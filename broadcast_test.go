package registry_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

func TestBroadcastCountsAndFailures(t *testing.T) {
	errA := errors.New("a is gone")
	tests := []struct {
		name          string
		give          map[string]handle
		wantDelivered int
		wantFailed    map[string]error // ID to the error it must match
	}{
		{
			name:          "no transports",
			give:          nil,
			wantDelivered: 0,
		},
		{
			name: "all deliver",
			give: map[string]handle{
				"t1": &recorder{}, "t2": &recorder{}, "t3": &recorder{},
			},
			wantDelivered: 3,
		},
		{
			name: "failures listed by ID",
			give: map[string]handle{
				"ok-1": &recorder{}, "ok-2": &recorder{},
				"bad-a": failing{errA}, "bad-b": failing{errHandle},
			},
			wantDelivered: 2,
			wantFailed:    map[string]error{"bad-a": errA, "bad-b": errHandle},
		},
		{
			name: "panics do not stop the others",
			give: map[string]handle{
				"p1": panicking{"first"}, "ok-1": &recorder{},
				"p2": panicking{"second"}, "ok-2": &recorder{},
				"p3": panicking{errA}, "ok-3": &recorder{},
			},
			wantDelivered: 3,
			wantFailed: map[string]error{
				"p1": registry.ErrPanic, "p2": registry.ErrPanic, "p3": registry.ErrPanic,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReg(t)
			mustServer(t, r, "srv", &recorder{})
			for id, h := range tt.give {
				mustBound(t, r, id, "srv", h)
			}

			var res registry.BroadcastResult
			var err error
			require.NotPanics(t, func() {
				res, err = r.Broadcast(context.Background(), "srv", "hello")
			})
			require.NoError(t, err)
			assert.Equal(t, tt.wantDelivered, res.Delivered)
			require.Len(t, res.Failed, len(tt.wantFailed))
			for _, f := range res.Failed {
				want, ok := tt.wantFailed[f.TransportID]
				require.True(t, ok, "unexpected failure %q", f.TransportID)
				assert.ErrorIs(t, f.Err, want, f.TransportID)
			}

			// Every handle that does not fail received the message once.
			for id, h := range tt.give {
				if rec, ok := h.(*recorder); ok {
					assert.Equal(t, []string{"hello"}, rec.messages(), id)
				}
			}
		})
	}
}

func TestBroadcastPanicValue(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	mustBound(t, r, "p", "srv", panicking{42})

	res, err := r.Broadcast(context.Background(), "srv", "m")
	require.NoError(t, err)
	require.Len(t, res.Failed, 1)
	var pe *registry.PanicError
	require.ErrorAs(t, res.Failed[0].Err, &pe)
	assert.Equal(t, 42, pe.Value)
	assert.Equal(t, "p", res.Failed[0].TransportID)
}

func TestBroadcastErrors(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	mustTransport(t, r, "tr", &recorder{})

	_, err := r.Broadcast(context.Background(), "ghost", "m")
	requireIDError(t, err, registry.ErrServerNotFound, "ghost")
	_, err = r.Broadcast(context.Background(), "tr", "m")
	requireIDError(t, err, registry.ErrServerNotFound, "tr")
	var nilCtx context.Context
	_, err = r.Broadcast(nilCtx, "srv", "m")
	requireIDError(t, err, registry.ErrNilContext, "srv")
}

// A slow handle holds up the broadcast, which runs on the caller's
// goroutine, but no other transport loses the message.
func TestBroadcastSlowHandle(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	slow := newBlocking()
	mustBound(t, r, "slow", "srv", slow)
	fast := make([]*recorder, 20)
	for i := range fast {
		fast[i] = &recorder{}
		mustBound(t, r, "fast-"+strconv.Itoa(i), "srv", fast[i])
	}

	type result struct {
		res registry.BroadcastResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := r.Broadcast(context.Background(), "srv", "news")
		done <- result{res, err}
	}()

	<-slow.entered
	// Meanwhile the registry serves others without waiting.
	require.NoError(t, r.RouteToTransport(context.Background(), "fast-0", "srv", "direct"))
	close(slow.release)

	got := <-done
	require.NoError(t, got.err)
	assert.Equal(t, 21, got.res.Delivered)
	assert.Empty(t, got.res.Failed)
	for i, rec := range fast {
		assert.Contains(t, rec.messages(), "news", "fast-%d", i)
	}
}

// A handle whose Write honours its context fails that one target when
// the broadcast's context ends; the others are still written.
func TestBroadcastCanceledSlowHandle(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	slow := newBlocking()
	mustBound(t, r, "slow", "srv", slow)
	others := &recorder{}
	mustBound(t, r, "other", "srv", others)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-slow.entered
		cancel()
	}()
	res, err := r.Broadcast(ctx, "srv", "m")
	require.NoError(t, err)
	require.Len(t, res.Failed, 1)
	assert.Equal(t, "slow", res.Failed[0].TransportID)
	assert.ErrorIs(t, res.Failed[0].Err, context.Canceled)
	assert.Equal(t, []string{"m"}, others.messages())
}

// mutator changes the server's set from inside a broadcast: it unbinds
// every other member, then binds a fresh transport.
type mutator struct {
	t    *testing.T
	r    *testRegistry
	self string
	recorder
}

func (h *mutator) Write(ctx context.Context, msg string) error {
	for _, other := range boundIDs(h.r, "srv") {
		if other != h.self {
			_ = h.r.Unbind(other)
		}
	}
	id := "late-" + h.self
	_, err := h.r.RegisterBoundTransport(context.Background(), id, "srv", &recorder{}, trCfg{})
	if err != nil {
		h.t.Errorf("bind %s: %v", id, err)
	}
	return h.recorder.Write(ctx, msg)
}

// A broadcast writes to the transports bound when it starts: members
// bound during it are not written, members unbound during it still are.
func TestBroadcastSnapshot(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	const n = 10
	hs := make([]*mutator, n)
	for i := range hs {
		id := "m-" + strconv.Itoa(i)
		hs[i] = &mutator{t: t, r: r, self: id}
		mustBound(t, r, id, "srv", hs[i])
	}

	res, err := r.Broadcast(context.Background(), "srv", "snap")
	require.NoError(t, err)
	assert.Equal(t, n, res.Delivered, "every member of the snapshot")
	for i, h := range hs {
		assert.Equal(t, []string{"snap"}, h.messages(), "m-%d", i)
	}

	// Each write bound a late transport; none of those was written.
	for id, tr := range r.Transports() {
		if rec, ok := tr.Handle().(*recorder); ok {
			assert.Empty(t, rec.messages(), id)
		}
	}

	// The last member written unbound all the others, and then bound
	// its late transport, which is all that is left.
	left := boundIDs(r, "srv")
	require.Len(t, left, 1)
	assert.True(t, strings.HasPrefix(left[0], "late-m-"), left[0])
}

// Wrapping a slow peer in a Mailbox keeps the broadcast from waiting.
func TestBroadcastThroughMailboxDoesNotWait(t *testing.T) {
	r := newReg(t)
	mustServer(t, r, "srv", &recorder{})
	slow := newBlocking()
	mb, err := registry.NewMailbox[string](slow, registry.MailboxOptions{Capacity: 4})
	require.NoError(t, err)
	defer mb.Close()
	mustBound(t, r, "slow", "srv", mb)
	fast := &recorder{}
	mustBound(t, r, "fast", "srv", fast)

	for i := range 3 {
		res, err := r.Broadcast(context.Background(), "srv", "m"+strconv.Itoa(i))
		require.NoError(t, err)
		assert.Equal(t, 2, res.Delivered, "queued counts as delivered")
	}
	assert.Equal(t, []string{"m0", "m1", "m2"}, fast.messages())

	// The slow peer gets every message, in order, once released.
	close(slow.release)
	for _, want := range []string{"m0", "m1", "m2"} {
		assert.Equal(t, want, <-slow.entered)
	}
}
