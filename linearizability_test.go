package registry_test

import (
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/mcpshard/registry"
)

// The linearizability test spans three files: this one runs it and
// records the histories, linearizability_model_test.go holds the
// sequential model they are checked against, and
// linearizability_client_test.go the clients whose calls make them.

// TestLinearizability records concurrent histories of registration,
// unregistration (by ID and by a kept, maybe stale, registration),
// lookup, binding and unbinding, with call and return times, and checks
// with porcupine that each is linearizable: that every operation appears
// to take effect at one instant between its call and its return, in an
// order that the sequential model, [linModel], accepts.
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
