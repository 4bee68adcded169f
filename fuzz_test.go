package registry_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpshard/registry"
)

// The seed corpora live in testdata/fuzz/FuzzOps and testdata/fuzz/FuzzIDs;
// plain `go test` runs them, and `make fuzz` searches beyond them.

// FuzzOps decodes its input into a script of operations (see decodeOps)
// and runs it on a registry and on the reference model, under each
// hasher, checking every answer and, after every step, the whole state.
func FuzzOps(f *testing.F) {
	f.Fuzz(func(t *testing.T, script []byte) {
		ops := decodeOps(script, 64)
		for _, hc := range proofHashers {
			h := newModelHarness(t, hc.opts)
			for i, o := range ops {
				if err := h.apply(o); err != nil {
					t.Fatalf("%s: step %d of %d, %v: %v", hc.name, i, len(ops), o, err)
				}
				if d := registryDiff(h.reg, h.ref); d != "" {
					t.Fatalf("%s: after step %d, %v, registry and model differ:\n%s",
						hc.name, i, o, d)
				}
			}
			h.finish()
		}
	})
}

// fuzzMaxIDLen is the short ID limit FuzzIDs tries beside the default.
const fuzzMaxIDLen = 16

// FuzzIDs registers any string as an ID: empty, NUL bytes, invalid
// UTF-8, longer than the limit. Each registration either fails with an
// *IDError that matches ErrInvalidID and carries the ID unchanged, or the
// ID round-trips through every operation that takes or returns one.
func FuzzIDs(f *testing.F) {
	f.Fuzz(func(t *testing.T, id string) {
		for _, hc := range proofHashers {
			for _, max := range []int{registry.DefaultMaxIDLen, fuzzMaxIDLen} {
				r := newProofRegistry(t, with(hc.opts,
					registry.WithoutAdmission(), registry.WithMaxIDLen(max))...)
				if id == "" || len(id) > max {
					checkInvalidID(t, r, id)
				} else {
					checkRoundTrip(t, r, id, max)
				}
				_ = r.Close()
			}
		}
	})
}

// checkInvalidID checks that id is refused everywhere, naming it.
func checkInvalidID(t *testing.T, r *proofRegistry, id string) {
	t.Helper()
	ctx := context.Background()
	_, errS := r.RegisterServer(ctx, id, newProbe(id, 1, probeOK, false), 1)
	_, errT := r.RegisterTransport(ctx, id, newProbe(id, 2, probeOK, false), 2)
	for _, err := range []error{errS, errT} {
		var ie *registry.IDError
		if !errors.As(err, &ie) || !errors.Is(err, registry.ErrInvalidID) || ie.ID != id {
			t.Fatalf("registering %q: got %v, want an *IDError naming it", id, err)
		}
		if !strings.HasPrefix(err.Error(), "registry: ") ||
			!strings.Contains(err.Error(), strconv.Quote(id[:min(len(id), 256)])) {
			t.Fatalf("registering %q: message %q does not quote the ID", id, err)
		}
	}
	if r.ServerCount() != 0 || r.TransportCount() != 0 {
		t.Fatalf("a refused ID %q left an entry behind", id)
	}
}

// checkRoundTrip checks that id, and id with a NUL byte appended where
// that fits under max, are told apart and come back unchanged from every
// method.
func checkRoundTrip(t *testing.T, r *proofRegistry, id string, max int) {
	t.Helper()
	ctx := context.Background()
	sp := &probe{id: id, gen: 1}
	s, err := r.RegisterServer(ctx, id, sp, 1)
	if err != nil {
		t.Fatalf("RegisterServer(%q): %v", id, err)
	}
	tp := &originProbe{probe: probe{id: id, gen: 2}}
	tr, err := r.RegisterBoundTransport(ctx, id, id, tp, 2)
	if err != nil {
		t.Fatalf("RegisterBoundTransport(%q, %q): %v", id, id, err)
	}

	// A neighbour that differs only by a trailing NUL is another entry.
	if twin := id + "\x00"; len(twin) <= max {
		if _, err := r.RegisterServer(ctx, twin, &probe{id: twin, gen: 3}, 3); err != nil {
			t.Fatalf("RegisterServer(%q) beside %q: %v", twin, id, err)
		}
		defer func() {
			if err := r.UnregisterServer(twin); err != nil {
				t.Errorf("UnregisterServer(%q): %v", twin, err)
			}
		}()
	}

	if got, ok := r.FindServer(id); !ok || got != s || got.ID() != id {
		t.Fatalf("FindServer(%q) = %v, %v", id, got, ok)
	}
	if got, ok := r.FindTransport(id); !ok || got != tr || got.ID() != id {
		t.Fatalf("FindTransport(%q) = %v, %v", id, got, ok)
	}
	if sid, ok := r.ServerOf(id); !ok || sid != id {
		t.Fatalf("ServerOf(%q) = %q, %v", id, sid, ok)
	}
	b, ok := r.TransportsOf(id)
	for tid := range b.All() {
		if tid != id {
			t.Fatalf("TransportsOf(%q) yields %q", id, tid)
		}
	}
	if !ok || b.Len() != 1 {
		t.Fatalf("TransportsOf(%q) = %d members, %v", id, b.Len(), ok)
	}
	seen := 0
	for sid := range r.Servers() {
		if sid == id {
			seen++
		}
	}
	if seen != 1 {
		t.Fatalf("Servers() yields %q %d times", id, seen)
	}

	// Messages reach the entries, and the origin is passed unchanged.
	if err := r.RouteToServer(ctx, id, id, 7); err != nil || sp.last.Load() != 7 {
		t.Fatalf("RouteToServer(%q): %v", id, err)
	}
	if res, err := r.Broadcast(ctx, id, 8); err != nil || res.Delivered != 1 {
		t.Fatalf("Broadcast(%q) = %+v, %v", id, res, err)
	}
	if f := tp.from.Load(); f == nil || *f != id || tp.last.Load() != 8 {
		t.Fatalf("Broadcast(%q) reached its transport from %v", id, f)
	}

	// Removal finds the same entries, once.
	if err := r.UnregisterServer(id); err != nil {
		t.Fatalf("UnregisterServer(%q): %v", id, err)
	}
	if sid, ok := r.ServerOf(id); ok {
		t.Fatalf("ServerOf(%q) = %q after its server went", id, sid)
	}
	err = r.UnregisterServer(id)
	var ie *registry.IDError
	if !errors.As(err, &ie) || ie.ID != id || !errors.Is(err, registry.ErrServerNotFound) {
		t.Fatalf("second UnregisterServer(%q) = %v", id, err)
	}
	if !tr.Unregister() || tr.Unregister() {
		t.Fatalf("Transport.Unregister of %q did not remove it exactly once", id)
	}
}
