package registry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpshard/registry"
)

// This file holds the model harness's operations that make and end
// registrations (see model_ops_test.go): registration of each kind,
// replacement of one ID, and removal through a kept registration or the
// end of its context.

// churn unregisters a server (b even) or a transport (b odd) by ID and
// registers the ID again, leaving the old registration stale.
func (h *harness) churn(o op) error {
	if o.b%2 == 0 {
		id := pick(h.servers, o.a)
		err := checkOutcome("UnregisterServer", h.reg.UnregisterServer(id),
			h.ref.UnregisterServer(id), id)
		if err != nil {
			return err
		}
		o.kind = opRegisterServer
		return h.registerServer(o)
	}
	id := pick(h.transports, o.a)
	err := checkOutcome("UnregisterTransport", h.reg.UnregisterTransport(id),
		h.ref.UnregisterTransport(id), id)
	if err != nil {
		return err
	}
	o.kind = opRegisterTransport
	return h.registerTransport(o)
}

// context returns the context an operation's registration gets.
func (o op) context() (context.Context, context.CancelFunc) {
	if o.ctx == ctxBackground {
		return context.Background(), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	if o.ctx == ctxEnded {
		cancel()
	}
	return ctx, cancel
}

// refused reports a registration the admission gate turned away, which
// changes nothing and which the model cannot predict.
func (h *harness) refused(err error, cancel context.CancelFunc) bool {
	if !h.admission || !errors.Is(err, registry.ErrAdmissionControlActive) {
		return false
	}
	if cancel != nil {
		cancel()
	}
	return true
}

func (h *harness) registerServer(o op) error {
	id, gen := pick(h.servers, o.a), h.next()
	hd := newProbe(id, gen, o.mode, o.origin)
	ctx, cancel := o.context()
	s, err := h.reg.RegisterServer(ctx, id, hd, gen)
	if h.refused(err, cancel) {
		return nil
	}

	want := h.ref.RegisterServer(id, o.ctx == ctxEnded,
		refEntry{gen: gen, mode: o.mode, origin: o.origin})
	if err := checkOutcome("RegisterServer", err, want, id); err != nil {
		return err
	}
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil
	}
	if s.ID() != id || s.Config() != gen || s.Handle() != hd {
		return fmt.Errorf("RegisterServer(%q) returned %q gen %d", id, s.ID(), s.Config())
	}
	h.keep(kept{id: id, gen: gen, srv: s, cancel: cancel}, hd)
	return nil
}

func (h *harness) registerTransport(o op) error {
	id, gen := pick(h.transports, o.a), h.next()
	bound := o.kind == opRegisterBound
	server := ""
	if bound {
		server = pick(h.targets, o.b)
	}
	hd := newProbe(id, gen, o.mode, o.origin)
	ctx, cancel := o.context()
	var t *proofTransport
	var err error
	if bound {
		t, err = h.reg.RegisterBoundTransport(ctx, id, server, hd, gen)
	} else {
		t, err = h.reg.RegisterTransport(ctx, id, hd, gen)
	}
	if h.refused(err, cancel) {
		return nil
	}

	want := h.ref.RegisterTransport(id, bound, server, o.ctx == ctxEnded,
		refEntry{gen: gen, mode: o.mode, origin: o.origin})
	if err := checkOutcome(o.kind.String(), err, want, id, server); err != nil {
		return err
	}
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil
	}
	if t.ID() != id || t.Config() != gen || t.Handle() != hd {
		return fmt.Errorf("%v(%q) returned %q gen %d", o.kind, id, t.ID(), t.Config())
	}
	if sid, ok := t.ServerID(); sid != server || ok != bound {
		return fmt.Errorf("%v(%q) is bound to %q, want %q", o.kind, id, sid, server)
	}
	h.keep(kept{id: id, gen: gen, tr: t, cancel: cancel}, hd)
	return nil
}

func (h *harness) keep(k kept, hd registry.Handle[int]) {
	h.kept = append(h.kept, k)
	if h.exclusive {
		h.handles[k.gen] = hd
	}
}

// dropKept unregisters a kept registration through its own Unregister,
// which must remove it only while it is the live one.
func (h *harness) dropKept(o op) error {
	if len(h.kept) == 0 {
		return nil
	}
	k := h.kept[int(o.a)%len(h.kept)]
	var got, want bool
	if k.srv != nil {
		got, want = k.srv.Unregister(), h.ref.DropServer(k.id, k.gen)
	} else {
		got, want = k.tr.Unregister(), h.ref.DropTransport(k.id, k.gen)
	}
	if got != want {
		return fmt.Errorf("Unregister of %q gen %d = %v, want %v", k.id, k.gen, got, want)
	}
	return nil
}

// cancelKept ends a kept registration's context and, when b is odd,
// races the removal that schedules with the registration's own
// Unregister. It then waits, boundedly, until the removal and its
// cascade are visible, since they run on a goroutine of their own.
func (h *harness) cancelKept(o op) error {
	var ks []kept
	for _, k := range h.kept {
		if k.cancel != nil {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return nil
	}
	k := ks[int(o.a)%len(ks)]

	// What the removal will undo, read before the model applies it.
	var members map[string]refEntry
	var was refEntry
	if k.srv != nil {
		members, _ = h.ref.Members(k.id)
	} else {
		was, _ = h.ref.Transport(k.id)
	}

	k.cancel()
	var want bool
	if k.srv != nil {
		want = h.ref.DropServer(k.id, k.gen)
	} else {
		want = h.ref.DropTransport(k.id, k.gen)
	}
	if o.b%2 == 1 {
		var got bool
		if k.srv != nil {
			got = k.srv.Unregister()
		} else {
			got = k.tr.Unregister()
		}
		if got && !want {
			return fmt.Errorf("stale Unregister of %q gen %d removed something", k.id, k.gen)
		}
	}
	if !want {
		return nil
	}

	settled := func() bool {
		if k.srv != nil {
			if s, ok := h.reg.FindServer(k.id); ok && s == k.srv {
				return false
			}
			for tid := range members {
				if sid, ok := h.reg.ServerOf(tid); ok && sid == k.id {
					return false
				}
			}
			return true
		}
		if t, ok := h.reg.FindTransport(k.id); ok && t == k.tr {
			return false
		}
		b, _ := h.reg.TransportsOf(was.server)
		for _, hd := range b.All() {
			if hd == k.tr.Handle() {
				return false
			}
		}
		return true
	}
	if !await(5*time.Second, settled) {
		return fmt.Errorf("%q gen %d still registered or bound 5s after its context ended",
			k.id, k.gen)
	}
	return nil
}
