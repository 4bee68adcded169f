package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mcpshard/registry"
)

// This file holds the operations the model harness applies (see
// model_test.go), the harness itself, and the dispatch from one to the
// other.

// opKind is one registry operation the harness applies.
type opKind uint8

const (
	opRegisterServer opKind = iota
	opRegisterTransport
	opRegisterBound
	opUnregisterServer
	opUnregisterTransport
	opDropKept   // Unregister on a kept *Server or *Transport, maybe stale
	opCancelKept // end a kept registration's context
	opBind
	opUnbind
	opRouteToServer
	opRouteToTransport
	opBroadcast
	opIterate
	opClose
	opChurn // unregister an ID and register it again
	numOpKinds
)

var opNames = [numOpKinds]string{
	"RegisterServer", "RegisterTransport", "RegisterBoundTransport",
	"UnregisterServer", "UnregisterTransport", "DropKept", "CancelKept",
	"Bind", "Unbind", "RouteToServer", "RouteToTransport", "Broadcast",
	"Iterate", "Close", "Churn",
}

func (k opKind) String() string { return opNames[k] }

// ctxKind is the context a registration gets.
type ctxKind uint8

const (
	ctxBackground ctxKind = iota // never ends
	ctxCancel                    // ended later by opCancelKept
	ctxEnded                     // ended before the call
)

// op is one operation and its arguments. a and b choose IDs, or a kept
// registration, modulo the length of the list they index.
type op struct {
	kind   opKind
	a, b   uint8
	ctx    ctxKind
	mode   probeMode
	origin bool
}

func (o op) String() string {
	return fmt.Sprintf("%v(a=%d b=%d ctx=%d mode=%d origin=%v)",
		o.kind, o.a, o.b, o.ctx, o.mode, o.origin)
}

// decodeOps turns fuzz input into at most max operations, four bytes
// each: kind, a, b, and flags (context, handle mode, origin).
func decodeOps(data []byte, max int) []op {
	var ops []op
	for len(data) >= 4 && len(ops) < max {
		f := data[3]
		o := op{
			kind:   opKind(data[0] % byte(numOpKinds)),
			a:      data[1],
			b:      data[2],
			ctx:    ctxKind(f % 3),
			origin: f&0x80 != 0,
		}
		switch (f >> 2) & 7 {
		case 6:
			o.mode = probeFail
		case 7:
			o.mode = probePanic
		}
		ops = append(ops, o)
		data = data[4:]
	}
	return ops
}

// harness applies operations to a registry and to a model of it side by
// side and reports the first way their answers differ. The stress test
// runs one per writer, each on IDs of its own; the model and fuzz tests
// run one alone.
type harness struct {
	reg *proofRegistry
	ref *refModel

	// servers and transports are the IDs the harness registers as each
	// kind; targets are those it may bind to and route to. Broadcasts
	// go to servers only, whose bound transports the harness knows.
	servers, transports, targets []string

	gens *atomic.Int64 // generation and message numbers, maybe shared

	// exclusive says no one else uses the registry, so the harness may
	// check what each handle received and count whole tables.
	exclusive bool
	// admission says registrations may be refused by the admission gate.
	admission bool

	kept    []kept                       // every registration it made
	handles map[int]registry.Handle[int] // by generation, when exclusive
}

// kept is a registration the harness made, live or not.
type kept struct {
	id     string
	gen    int
	srv    *proofServer    // set for a server
	tr     *proofTransport // set for a transport
	cancel context.CancelFunc
}

// finish closes the registry and ends every context the harness made.
func (h *harness) finish() {
	_ = h.reg.Close()
	for _, k := range h.kept {
		if k.cancel != nil {
			k.cancel()
		}
	}
}

func pick(ids []string, i uint8) string { return ids[int(i)%len(ids)] }

func (h *harness) next() int { return int(h.gens.Add(1)) }

// apply runs o on the registry and the model and reports how their
// outcomes differ, or nil.
func (h *harness) apply(o op) error {
	switch o.kind {
	case opRegisterServer:
		return h.registerServer(o)
	case opRegisterTransport, opRegisterBound:
		return h.registerTransport(o)
	case opUnregisterServer:
		id := pick(h.servers, o.a)
		return checkOutcome("UnregisterServer", h.reg.UnregisterServer(id),
			h.ref.UnregisterServer(id), id)
	case opUnregisterTransport:
		id := pick(h.transports, o.a)
		return checkOutcome("UnregisterTransport", h.reg.UnregisterTransport(id),
			h.ref.UnregisterTransport(id), id)
	case opDropKept:
		return h.dropKept(o)
	case opCancelKept:
		return h.cancelKept(o)
	case opBind:
		t, s := pick(h.transports, o.a), pick(h.targets, o.b)
		return checkOutcome("Bind", h.reg.Bind(t, s), h.ref.Bind(t, s), t, s)
	case opUnbind:
		t := pick(h.transports, o.a)
		return checkOutcome("Unbind", h.reg.Unbind(t), h.ref.Unbind(t), t)
	case opRouteToServer, opRouteToTransport:
		return h.route(o)
	case opBroadcast:
		return h.broadcast(o)
	case opIterate:
		return h.iterate(o)
	case opClose:
		got, want := h.reg.Close(), h.ref.Close()
		if !errors.Is(got, want) || (got == nil) != (want == nil) {
			return fmt.Errorf("Close: got %v, want %v", got, want)
		}
	case opChurn:
		return h.churn(o)
	}
	return nil
}
