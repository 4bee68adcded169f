package registry_test

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/mcpshard/registry"
)

// The model, fuzz and stress tests drive a harness that applies
// operations to a registry and to the reference model side by side.
// This file holds TestModel's rapid state machine; model_ops_test.go
// the operations and the harness that applies them;
// model_lifecycle_test.go the operations that make and end
// registrations; and model_route_test.go those that route, broadcast
// and iterate.

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
