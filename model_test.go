package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/mcpshard/registry"
)

// TestModel drives a registry and the reference model with random
// sequences of every operation (registration with contexts that never
// end, end later or have already ended; explicit, stale and
// context-driven unregistration; binding; routing; broadcast; iteration;
// Close) and checks after each step that the two agree. IDs are drawn
// from a small pool, so that the same ID is registered, removed and
// registered again, used for a server and a transport at once, and now
// and then empty or too long.
func TestModel(t *testing.T) {
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		rapid.Check(t, func(rt *rapid.T) {
			h := newModelHarness(rt, opts)
			rt.Repeat(h.actions())
		})
	})
}

// modelIDs is the ID pool of the model and fuzz tests: three valid IDs,
// one of them not UTF-8, the first two twice as likely, and two invalid
// ones under modelMaxIDLen. A draw shrinks towards "a".
var modelIDs = []string{"a", "b", "\x00\xff", "a", "b", "", "longer-than-8"}

const modelMaxIDLen = 8

// tb is what the harness needs from *testing.T and *rapid.T.
type tb interface {
	require.TestingT
	Helper()
	Cleanup(func())
}

// newModelHarness returns a harness that alone uses a new registry,
// built without admission control so that every refusal is the model's.
func newModelHarness(t tb, opts []registry.Option) *harness {
	t.Helper()
	r, err := registry.New[int, int, int](with(opts,
		registry.WithoutAdmission(), registry.WithMaxIDLen(modelMaxIDLen))...)
	require.NoError(t, err)
	h := &harness{
		reg:        r,
		ref:        newRefModel(modelMaxIDLen),
		servers:    modelIDs,
		transports: modelIDs,
		targets:    modelIDs,
		gens:       new(atomic.Int64),
		exclusive:  true,
		handles:    map[int]registry.Handle[int]{},
	}
	t.Cleanup(h.finish)
	return h
}

// actions returns the rapid actions, each a family of operations, and
// the check that runs after each. Registration has two actions of its
// own, so that runs build state worth unregistering, binding and routing,
// and Churn replaces a registration, so that short runs already hold
// stale ones for DropKept and CancelKept to try.
func (h *harness) actions() map[string]func(*rapid.T) {
	families := map[string][]opKind{
		"RegisterServer":    {opRegisterServer},
		"RegisterTransport": {opRegisterTransport, opRegisterBound},
		"Unregister": {opUnregisterServer, opUnregisterTransport,
			opDropKept, opCancelKept},
		"Bind":    {opBind, opBind, opUnbind},
		"Route":   {opRouteToServer, opRouteToTransport, opBroadcast},
		"Churn":   {opChurn},
		"Iterate": {opIterate},
		"Close":   {opClose},
	}
	acts := map[string]func(*rapid.T){
		"": func(rt *rapid.T) {
			if d := registryDiff(h.reg, h.ref); d != "" {
				rt.Fatalf("registry and model differ:\n%s", d)
			}
		},
	}
	for name, kinds := range families {
		acts[name] = func(rt *rapid.T) {
			if name == "Close" && rapid.IntRange(0, 19).Draw(rt, "close") != 0 {
				rt.Skip("Close ends the run; keep it rare")
			}
			o := op{
				kind:   rapid.SampledFrom(kinds).Draw(rt, "kind"),
				a:      uint8(rapid.IntRange(0, len(modelIDs)-1).Draw(rt, "a")),
				b:      uint8(rapid.IntRange(0, len(modelIDs)-1).Draw(rt, "b")),
				ctx:    rapid.SampledFrom(modelCtxs).Draw(rt, "ctx"),
				mode:   rapid.SampledFrom(modelModes).Draw(rt, "mode"),
				origin: rapid.Bool().Draw(rt, "origin"),
			}
			if err := h.apply(o); err != nil {
				rt.Fatalf("%v: %v", o, err)
			}
		}
	}
	return acts
}

// modelCtxs and modelModes weight the draws: most contexts never end or
// end later, and most handles accept messages.
var (
	modelCtxs = []ctxKind{ctxBackground, ctxCancel, ctxBackground,
		ctxCancel, ctxEnded}
	modelModes = []probeMode{probeOK, probeOK, probeOK, probeFail, probePanic}
)

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
