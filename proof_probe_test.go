package registry_test

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/mcpshard/registry"
)

// This file holds the handles the proof suite registers (see
// proof_helpers_test.go): probes that remember what reached them and
// answer as their mode says.

// probeMode says how a probe answers a Write.
type probeMode uint8

const (
	probeOK    probeMode = iota // accepts every message
	probeFail                   // refuses every message with errProbe
	probePanic                  // panics in every Write
)

// errProbe is what a probeFail handle returns.
var errProbe = errors.New("probe: message refused")

// probe is a handle that knows which registration it belongs to and
// remembers the last message it got. Routing and broadcasts call it from
// many goroutines, so what it records is atomic.
type probe struct {
	id   string
	gen  int
	mode probeMode

	got  atomic.Int64 // messages received
	last atomic.Int64 // the last message received
}

func (p *probe) Write(_ context.Context, msg int) error {
	p.got.Add(1)
	p.last.Store(int64(msg))
	switch p.mode {
	case probeFail:
		return errProbe
	case probePanic:
		panic("probe " + p.id + " panics")
	}
	return nil
}

// originProbe is a probe that also records who sent the last message.
type originProbe struct {
	probe
	from atomic.Pointer[string]
}

func (p *originProbe) WriteFrom(ctx context.Context, from string, msg int) error {
	p.from.Store(&from)
	return p.probe.Write(ctx, msg)
}

// newProbe returns a handle for registration gen of id.
func newProbe(id string, gen int, mode probeMode, origin bool) registry.Handle[int] {
	if origin {
		return &originProbe{probe: probe{id: id, gen: gen, mode: mode}}
	}
	return &probe{id: id, gen: gen, mode: mode}
}

// probeOf returns the probe inside h, or nil if h is not one.
func probeOf(h registry.Handle[int]) *probe {
	switch p := h.(type) {
	case *probe:
		return p
	case *originProbe:
		return &p.probe
	}
	return nil
}

// err is what a handle in mode p answers to a Write.
func (p probeMode) err() error {
	switch p {
	case probeFail:
		return errProbe
	case probePanic:
		return registry.ErrPanic
	}
	return nil
}
