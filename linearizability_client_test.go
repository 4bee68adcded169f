package registry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/mcpshard/registry"
)

// This file holds the clients that make TestLinearizability's histories
// (see linearizability_test.go): each chooses random operations and
// runs them on the registry.

// sentinel reduces a registry error to the sentinel the model compares,
// keeping any other error whole so that the model rejects it.
func sentinel(err error) error {
	for _, s := range []error{registry.ErrAlreadyRegistered,
		registry.ErrServerNotFound, registry.ErrTransportNotFound} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// linClient is one client: it keeps the last server and transports it
// registered in each group, to unregister them later, maybe stale.
type linClient struct {
	r          *proofRegistry
	rng        *rand.Rand
	servers    [linGroups]*proofServer
	transports [linGroups][2]*proofTransport
}

func (c *linClient) choose(gen int) linInput {
	in := linInput{
		g:    c.rng.IntN(linGroups),
		kind: linKind(c.rng.IntN(int(numLinKinds))),
		i:    c.rng.IntN(2),
		gen:  gen,
		op:   gen,
	}
	switch in.kind {
	case linDropServer:
		in.gen = 0
		if s := c.servers[in.g]; s != nil {
			in.gen = s.Config()
		}
	case linDropTransport:
		in.gen = 0
		if tr := c.transports[in.g][in.i]; tr != nil {
			in.gen = tr.Config()
		}
	}
	return in
}

// removes reports an operation that may remove an entry.
func (in linInput) removes() bool {
	switch in.kind {
	case linUnregServer, linDropServer, linUnregTransport, linDropTransport:
		return true
	}
	return false
}

func linIDs(g, i int) (server, transport string) {
	return fmt.Sprintf("s%d", g), fmt.Sprintf("t%d.%d", g, i)
}

func (c *linClient) do(in linInput) linOutput {
	ctx := context.Background()
	sid, tid := linIDs(in.g, in.i)
	h := &probe{gen: in.gen}
	var out linOutput
	switch in.kind {
	case linRegServer:
		s, err := c.r.RegisterServer(ctx, sid, h, in.gen)
		if err == nil {
			c.servers[in.g] = s
		}
		out.err = sentinel(err)
	case linUnregServer:
		out.err = sentinel(c.r.UnregisterServer(sid))
	case linDropServer:
		out.err = registry.ErrServerNotFound
		if s := c.servers[in.g]; s != nil && s.Unregister() {
			out.err, out.ok = nil, true
		}
	case linFindServer:
		if s, ok := c.r.FindServer(sid); ok {
			out.gen = s.Config()
		}
	case linRegTransport, linRegBound:
		var tr *proofTransport
		var err error
		if in.kind == linRegBound {
			tr, err = c.r.RegisterBoundTransport(ctx, tid, sid, h, in.gen)
		} else {
			tr, err = c.r.RegisterTransport(ctx, tid, h, in.gen)
		}
		if err == nil {
			c.transports[in.g][in.i] = tr
		}
		out.err = sentinel(err)
	case linUnregTransport:
		out.err = sentinel(c.r.UnregisterTransport(tid))
	case linDropTransport:
		out.err = registry.ErrTransportNotFound
		if tr := c.transports[in.g][in.i]; tr != nil && tr.Unregister() {
			out.err, out.ok = nil, true
		}
	case linFindTransport:
		if tr, ok := c.r.FindTransport(tid); ok {
			out.gen = tr.Config()
		}
	case linBind:
		out.err = sentinel(c.r.Bind(tid, sid))
	case linUnbind:
		out.err = sentinel(c.r.Unbind(tid))
	case linServerOf:
		got, ok := c.r.ServerOf(tid)
		out.ok = ok
		if ok && got != sid {
			out.err = fmt.Errorf("bound to %q, outside its group", got)
		}
	}
	return out
}
