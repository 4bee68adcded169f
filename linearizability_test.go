package registry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/mcpshard/registry"
)

// TestLinearizability records concurrent histories of registration,
// unregistration (by ID and by a kept, maybe stale, registration),
// lookup, binding and unbinding, with call and return times, and checks
// with porcupine that each is linearizable: that every operation appears
// to take effect at one instant between its call and its return, in an
// order that the sequential model below accepts.
//
// A removal is two steps in the model, as in the registry: the entry
// goes (lookups miss it from then on), then the bindings to it dissolve,
// both before the removal returns. In between, the removed server is a
// "zombie": ServerOf may still report a transport bound to it until the
// cascade reaches that transport, and a Bind or bound registration that
// races the removal may still bind to it, to be unbound by the cascade
// (see [registry.Registry.Bind]).
// Nothing else is relaxed: once a removal has returned, nothing is bound
// to what it removed.
//
// IDs come in groups of one server and two transports, and operations
// only bind within a group, so each group is an independent partition.
// A group is small on purpose: a few IDs shared by every client make
// overlapping operations on one ID the rule, not the exception.
func TestLinearizability(t *testing.T) {
	runs, ops := 200, 2000
	if testing.Short() {
		runs, ops = 30, 1200
	}
	forEachHasher(t, func(t *testing.T, opts []registry.Option) {
		for run := range runs {
			history := recordHistory(t, opts, ops, uint64(run))
			res, info := porcupine.CheckOperationsVerbose(linModel.ToModel(), history,
				30*time.Second)
			switch res {
			case porcupine.Illegal:
				t.Errorf("run %d: history of %d operations is not linearizable; see %s",
					run, len(history), visualize(t, info))
				return
			case porcupine.Unknown:
				t.Logf("run %d: porcupine timed out; history not judged", run)
			}
		}
	})
}

const (
	linGroups  = 3
	linClients = 6
)

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

// recordHistory runs linClients clients, each doing up to ops/linClients
// random operations on random groups, and returns what they did. The
// clock is a shared counter read before each call and after each
// return, so its order is the real-time order porcupine needs.
func recordHistory(t *testing.T, opts []registry.Option, ops int,
	seed uint64) []porcupine.Operation {
	t.Helper()
	r := newProofRegistry(t, with(opts, registry.WithoutAdmission())...)
	var clock, gens atomic.Int64
	deadline := time.Now().Add(20 * time.Second)

	histories := make([][]porcupine.Operation, linClients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range linClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := linClient{r: r, rng: rand.New(rand.NewPCG(seed, uint64(c)))}
			<-start
			for n := 0; n < ops/linClients && time.Now().Before(deadline); n++ {
				in := cl.choose(int(gens.Add(1)))
				call := clock.Add(1)
				out := cl.do(in)
				ret := clock.Add(1)
				histories[c] = append(histories[c], porcupine.Operation{
					ClientId: c, Input: in, Call: call, Output: out, Return: ret,
				})

				// A removal that succeeded also ran its cascade, at some
				// instant after its first step and before it returned.
				if in.removes() && out.err == nil {
					casc := linInput{g: in.g, kind: linCascade, i: in.i, op: in.op}
					histories[c] = append(histories[c], porcupine.Operation{
						ClientId: c, Input: casc, Call: call, Output: linOutput{}, Return: ret,
					})
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	var all []porcupine.Operation
	for _, h := range histories {
		all = append(all, h...)
	}
	return all
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

// visualize writes porcupine's view of a failed check to a file that
// outlives the test and returns its name.
func visualize(t *testing.T, info porcupine.LinearizationInfo) string {
	t.Helper()
	f, err := os.CreateTemp("", "registry-linearizability-*.html")
	if err != nil {
		t.Errorf("cannot create the visualization file: %v", err)
		return "(no file)"
	}
	defer f.Close()
	if err := porcupine.Visualize(linModel.ToModel(), info, f); err != nil {
		t.Errorf("cannot write the visualization: %v", err)
	}
	return f.Name()
}
