package registry_test

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"

	"github.com/mcpshard/registry"
)

// This file holds the sequential model that TestLinearizability (in
// linearizability_test.go) checks histories against: its operations,
// its state and its step function.

// linKind is an operation of the linearizability test.
type linKind uint8

const (
	linRegServer linKind = iota
	linUnregServer
	linDropServer // Server.Unregister on a kept registration
	linFindServer
	linRegTransport
	linRegBound
	linUnregTransport
	linDropTransport
	linFindTransport
	linBind
	linUnbind
	linServerOf
	numLinKinds
	linCascade = numLinKinds // the second step of a successful removal
)

var linNames = [numLinKinds + 1]string{
	"RegisterServer", "UnregisterServer", "Server.Unregister", "FindServer",
	"RegisterTransport", "RegisterBoundTransport", "UnregisterTransport",
	"Transport.Unregister", "FindTransport", "Bind", "Unbind", "ServerOf",
	"cascade",
}

// linInput is an operation on group g. i chooses the transport; gen is
// the generation registered or, for a Drop, the one kept; op numbers
// the call, so that a removal's cascade names the removal it ends.
type linInput struct {
	g    int
	kind linKind
	i    int
	gen  int
	op   int
}

// linOutput is an answer: the error's sentinel, a generation found (0
// for none), or a boolean result.
type linOutput struct {
	err error
	gen int
	ok  bool
}

// linState is the model of one group: the live generation of its server
// and of each transport (0 when absent), the server generation each
// transport is bound to (0 when unbound), and the removals whose entry
// is gone but whose cascade has not run, sorted by op. It is comparable.
type linState struct {
	server  int
	trans   [2]int
	bound   [2]int
	zombies [linClients]zombie
}

// zombie is a removal between its two steps.
type zombie struct {
	op     int // 0 for an unused slot
	server bool
	i      int // the transport, when !server
	gen    int
}

// linModel is the sequential specification, one group at a time. It is
// nondeterministic where the registry may legitimately do either of two
// things (bind to the live server or to a zombie).
var linModel = porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		parts := make([][]porcupine.Operation, linGroups)
		for _, o := range history {
			g := o.Input.(linInput).g
			parts[g] = append(parts[g], o)
		}
		return parts
	},
	Init: func() []any { return []any{linState{}} },
	Step: func(state, input, output any) []any {
		return linStep(state.(linState), input.(linInput), output.(linOutput))
	},
	Equal: func(a, b any) bool { return a.(linState) == b.(linState) },
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		return fmt.Sprintf("#%d %s(g%d t%d gen %d) -> err=%v gen=%d ok=%v",
			in.op, linNames[in.kind], in.g, in.i, in.gen, out.err, out.gen, out.ok)
	},
	DescribeState: func(state any) string {
		s := state.(linState)
		return fmt.Sprintf("server=%d t0=%d->%d t1=%d->%d zombies=%v",
			s.server, s.trans[0], s.bound[0], s.trans[1], s.bound[1], s.zombies)
	},
}

// linStep returns every state a sequential registry in state s could be
// in after answering in with out; none if it could not give that answer.
func linStep(s linState, in linInput, out linOutput) []any {
	i := in.i
	next := func(ok bool, s linState) []any {
		if !ok {
			return nil
		}
		return []any{s}
	}
	switch in.kind {
	case linRegServer:
		if s.server != 0 {
			return next(out.err == registry.ErrAlreadyRegistered, s)
		}
		s.server = in.gen
		return next(out.err == nil, s)
	case linUnregServer, linDropServer:
		if s.server == 0 || (in.kind == linDropServer && s.server != in.gen) {
			return next(out.err == registry.ErrServerNotFound && !out.ok, s)
		}
		s = s.bury(zombie{op: in.op, server: true, gen: s.server})
		s.server = 0
		return next(out.err == nil, s)
	case linFindServer:
		return next(out.gen == s.server, s)
	case linRegTransport:
		if s.trans[i] != 0 {
			return next(out.err == registry.ErrAlreadyRegistered, s)
		}
		s.trans[i], s.bound[i] = in.gen, 0
		return next(out.err == nil, s)
	case linRegBound:
		switch out.err {
		case registry.ErrServerNotFound:
			return next(s.server == 0, s)
		case registry.ErrAlreadyRegistered:
			return next(s.trans[i] != 0 && len(s.targets()) > 0, s)
		case nil:
			if s.trans[i] != 0 {
				return nil
			}
			var outs []any
			for _, g := range s.targets() {
				n := s
				n.trans[i], n.bound[i] = in.gen, g
				outs = append(outs, n)
			}
			return outs
		}
		return nil
	case linUnregTransport, linDropTransport:
		if s.trans[i] == 0 || (in.kind == linDropTransport && s.trans[i] != in.gen) {
			return next(out.err == registry.ErrTransportNotFound && !out.ok, s)
		}
		s = s.bury(zombie{op: in.op, i: i, gen: s.trans[i]})
		s.trans[i], s.bound[i] = 0, 0
		return next(out.err == nil, s)
	case linFindTransport:
		return next(out.gen == s.trans[i], s)
	case linBind:
		switch out.err {
		case registry.ErrTransportNotFound:
			return next(s.trans[i] == 0, s)
		case registry.ErrServerNotFound:
			return next(s.server == 0, s)
		case nil:
			// Binding a live transport to the live server or a zombie,
			// or binding a transport whose removal is under way, which
			// changes nothing visible.
			var outs []any
			for _, g := range s.targets() {
				if s.trans[i] != 0 {
					n := s
					n.bound[i] = g
					outs = append(outs, n)
				}
				if s.transportZombie(i) {
					outs = append(outs, s)
				}
			}
			return outs
		}
		return nil
	case linUnbind:
		switch {
		case out.err == registry.ErrTransportNotFound:
			return next(s.trans[i] == 0, s)
		case out.err != nil:
			return nil
		}
		var outs []any
		if s.trans[i] != 0 {
			n := s
			n.bound[i] = 0
			outs = append(outs, n)
		}
		if s.transportZombie(i) {
			outs = append(outs, s)
		}
		return outs
	case linServerOf:
		bound := s.trans[i] != 0 && s.bound[i] != 0
		switch {
		case out.err != nil:
			return nil
		case out.ok == bound:
			return []any{s}
		case bound && s.isZombie(s.bound[i]):
			// The cascade unbinds members one at a time; it has
			// reached this one.
			s.bound[i] = 0
			return []any{s}
		}
		return nil
	case linCascade:
		z, ok := s.unbury(in.op)
		if !ok {
			return nil
		}
		if z.server {
			for j := range s.bound {
				if s.bound[j] == z.gen {
					s.bound[j] = 0
				}
			}
		}
		return next(true, s)
	}
	return nil
}

// targets returns the server generations a bind may reach: the live
// one and every zombie.
func (s linState) targets() []int {
	var gs []int
	if s.server != 0 {
		gs = append(gs, s.server)
	}
	for _, z := range s.zombies {
		if z.op != 0 && z.server {
			gs = append(gs, z.gen)
		}
	}
	return gs
}

// isZombie reports a server generation under removal.
func (s linState) isZombie(gen int) bool {
	for _, z := range s.zombies {
		if z.op != 0 && z.server && z.gen == gen {
			return true
		}
	}
	return false
}

// transportZombie reports a removal of transport i under way.
func (s linState) transportZombie(i int) bool {
	for _, z := range s.zombies {
		if z.op != 0 && !z.server && z.i == i {
			return true
		}
	}
	return false
}

// bury adds z to the zombies, keeping them sorted by op so that equal
// states compare equal.
func (s linState) bury(z zombie) linState {
	zs := s.zombies[:0:0]
	for _, x := range s.zombies {
		if x.op != 0 {
			zs = append(zs, x)
		}
	}
	zs = append(zs, z)
	sort.Slice(zs, func(a, b int) bool { return zs[a].op < zs[b].op })
	s.zombies = [linClients]zombie{}
	copy(s.zombies[:], zs)
	return s
}

// unbury removes the zombie of removal op.
func (s *linState) unbury(op int) (zombie, bool) {
	for k, z := range s.zombies {
		if z.op == op {
			copy(s.zombies[k:], s.zombies[k+1:])
			s.zombies[len(s.zombies)-1] = zombie{}
			return z, true
		}
	}
	return zombie{}, false
}
