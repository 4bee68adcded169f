package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// This file holds the model harness's operations that use registrations
// (see model_ops_test.go): routing, broadcast and iteration, each
// checked, when the harness is exclusive, against what handles received.

// route sends a fresh message to a server or a transport and checks the
// answer and, when exclusive, what the target's handle received.
func (h *harness) route(o op) error {
	kind, id, from := "server", pick(h.targets, o.a), pick(h.transports, o.b)
	msg := h.next()
	var err error
	if o.kind == opRouteToServer {
		err = h.reg.RouteToServer(context.Background(), id, from, msg)
	} else {
		kind, id, from = "transport", pick(h.transports, o.a), pick(h.targets, o.b)
		err = h.reg.RouteToTransport(context.Background(), id, from, msg)
	}
	e, want := h.ref.Route(kind, id)
	if err := checkOutcome(o.kind.String(), err, want, id); err != nil {
		return err
	}
	if !h.exclusive || e.gen == 0 {
		return nil
	}
	return h.received(e.gen, msg, from, true)
}

// received checks whether the handle of registration gen got msg last,
// sent by from.
func (h *harness) received(gen, msg int, from string, want bool) error {
	hd := h.handles[gen]
	if got := probeOf(hd).last.Load() == int64(msg); got != want {
		return fmt.Errorf("handle of gen %d received message %d: %v, want %v", gen, msg, got, want)
	}
	if op, ok := hd.(*originProbe); ok && want {
		if f := op.from.Load(); f == nil || *f != from {
			return fmt.Errorf("handle of gen %d got message %d from %v, want %q", gen, msg, f, from)
		}
	}
	return nil
}

// broadcast broadcasts a fresh message from one of the harness's servers
// and checks the result against the model's bound transports.
func (h *harness) broadcast(o op) error {
	id, msg := pick(h.servers, o.a), h.next()
	members, want := h.ref.Members(id)
	res, err := h.reg.Broadcast(context.Background(), id, msg)
	if err := checkOutcome("Broadcast", err, want, id); err != nil || want != nil {
		return err
	}

	var wantOK int
	var wantFailed []string
	for tid, e := range members {
		if e.mode == probeOK {
			wantOK++
		} else {
			wantFailed = append(wantFailed, tid)
		}
	}
	var gotFailed []string
	for _, f := range res.Failed {
		gotFailed = append(gotFailed, f.TransportID)
		if e := members[f.TransportID]; !errors.Is(f.Err, e.mode.err()) {
			return fmt.Errorf("Broadcast(%q): %q failed with %v", id, f.TransportID, f.Err)
		}
	}
	slices.Sort(wantFailed)
	slices.Sort(gotFailed)
	if res.Delivered != wantOK || !slices.Equal(gotFailed, wantFailed) {
		return fmt.Errorf("Broadcast(%q) delivered %d and failed %q, want %d and %q",
			id, res.Delivered, gotFailed, wantOK, wantFailed)
	}
	if !h.exclusive {
		return nil
	}

	// Exactly the bound transports received it.
	_, transports := h.ref.snapshot()
	for tid, e := range transports {
		if err := h.received(e.gen, msg, id, e.server == id); err != nil {
			return fmt.Errorf("Broadcast(%q) to %q: %w", id, tid, err)
		}
	}
	return nil
}

// iterate stops an iteration of each kind early, after one to three
// entries, and checks that it yielded no more than that.
func (h *harness) iterate(o op) error {
	limit := 1 + int(o.a)%3
	n := 0
	for range h.reg.Servers() {
		n++
		if n == limit {
			break
		}
	}
	m := 0
	for range h.reg.Transports() {
		m++
		if m == limit {
			break
		}
	}
	if !h.exclusive {
		return nil
	}
	servers, transports := h.ref.snapshot()
	if n != min(limit, len(servers)) || m != min(limit, len(transports)) {
		return fmt.Errorf("iteration stopped after %d yielded %d servers and %d transports",
			limit, n, m)
	}
	return nil
}
