package registry_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// This file races broadcasts from a server with transports that bind to
// it and leave it, and judges each broadcast by what the movers did
// during it. It follows the pattern, and uses the helpers, of
// race_test.go.

// receipts is a handle that keeps every message a broadcast from server
// "A" brought it, to check afterwards which broadcasts reached whom.
type receipts struct {
	mu  sync.Mutex
	got map[int]int // message -> times received
}

func (h *receipts) Write(context.Context, int) error { return nil }

func (h *receipts) WriteFrom(_ context.Context, from string, msg int) error {
	if from != "A" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.got == nil {
		h.got = map[int]int{}
	}
	h.got[msg]++
	return nil
}

func (h *receipts) times(msg int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[msg]
}

// span is an interval on the test's logical clock.
type span struct{ call, ret int64 }

// moverLog is what one mover did: after op j, whose span is spans[j], it
// was bound to A when onA[j]. It started bound to B.
type moverLog struct {
	id    string
	spans []span
	onA   []bool
}

// boundToA says whether the mover was surely bound to A throughout s
// (yes), surely not (no), or changed during it (either).
func (l moverLog) boundToA(s span) (yes, no bool) {
	state, from := false, int64(-1)
	for j, op := range l.spans {
		if s.call > from && s.ret < op.call {
			return state, !state
		}
		state, from = l.onA[j], op.ret
	}
	if s.call > from {
		return state, !state
	}
	return false, false
}

// TestRaceBroadcastDuringBindUnbind broadcasts from server A while
// movers bind to A, unbind and bind to B, over and over. Each broadcast
// reads one snapshot of A's set, so: every anchor (bound to A
// throughout) gets every message exactly once; no transport gets a
// message twice; Delivered counts exactly the receivers; a mover bound
// to A for a broadcast's whole span gets it, and one away from A for the
// whole span does not. A reader checks meanwhile that a snapshot from
// TransportsOf never changes under it.
func TestRaceBroadcastDuringBindUnbind(t *testing.T) {
	const anchors, movers = 4, 4
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
		bg := context.Background()
		for _, id := range []string{"A", "B"} {
			_, err := r.RegisterServer(bg, id, &probe{id: id}, 0)
			require.NoError(t, err)
		}
		handles := map[string]*receipts{}
		for i := range anchors + movers {
			id, server := fmt.Sprintf("anchor%d", i), "A"
			if i >= anchors {
				id, server = fmt.Sprintf("mover%d", i-anchors), "B"
			}
			handles[id] = &receipts{}
			_, err := r.RegisterBoundTransport(bg, id, server, handles[id], i)
			require.NoError(t, err)
		}

		// One broadcaster, the movers and a snapshot reader; the
		// broadcaster's end stops the others.
		type sent struct {
			span
			msg, delivered int
		}
		var clock atomic.Int64
		n, deadline := rounds(300, 3000)
		sends := make(chan []sent, 1)
		moves := make(chan moverLog, movers)
		stop := make(chan struct{})
		fs := []func(){func() {
			defer close(stop)
			var log []sent
			for msg := 1; msg <= n && time.Now().Before(deadline); msg++ {
				call := clock.Add(1)
				res, err := r.Broadcast(bg, "A", msg)
				ret := clock.Add(1)
				assert.NoError(t, err)
				assert.Empty(t, res.Failed)
				log = append(log, sent{span{call, ret}, msg, res.Delivered})
			}
			sends <- log
		}}
		for i := range movers {
			l := moverLog{id: fmt.Sprintf("mover%d", i)}
			fs = append(fs, func() {
				defer func() { moves <- l }()
				for step := 0; step < 100*n; step++ {
					select {
					case <-stop:
						return
					default:
					}
					call := clock.Add(1)
					var err error
					switch step % 3 {
					case 0:
						err = r.Bind(l.id, "A")
					case 1:
						err = r.Unbind(l.id)
					case 2:
						err = r.Bind(l.id, "B")
					}
					l.spans = append(l.spans, span{call, clock.Add(1)})
					l.onA = append(l.onA, step%3 == 0)
					assert.NoError(t, err)
				}
			})
		}
		fs = append(fs, func() {
			for i := 0; i < 100*n; i++ {
				select {
				case <-stop:
					return
				default:
				}
				b, ok := r.TransportsOf("A")
				if !assert.True(t, ok, "server A is gone") {
					return
				}
				var first, second []string
				for id := range b.All() {
					first = append(first, id)
				}
				for id := range b.All() {
					second = append(second, id)
				}
				assert.Equal(t, first, second, "a snapshot changed while read")
				assert.Len(t, first, b.Len())
				runtime.Gosched()
			}
		})
		together(fs...)

		logs := map[string]moverLog{}
		for range movers {
			l := <-moves
			logs[l.id] = l
		}
		for _, s := range <-sends {
			receivers := 0
			for id, h := range handles {
				k := h.times(s.msg)
				receivers += k
				yes, no := true, false
				if l, ok := logs[id]; ok {
					yes, no = l.boundToA(s.span)
				}
				switch {
				case k > 1:
					t.Errorf("%s got message %d %d times", id, s.msg, k)
				case yes && k == 0:
					t.Errorf("%s, bound to A throughout, missed message %d", id, s.msg)
				case no && k == 1:
					t.Errorf("%s, away from A throughout, got message %d", id, s.msg)
				}
			}
			if receivers != s.delivered {
				t.Errorf("message %d: Delivered = %d, but %d handles got it",
					s.msg, s.delivered, receivers)
			}
		}
	})
}
