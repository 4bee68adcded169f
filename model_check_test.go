package registry_test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mcpshard/registry"
)

// This file holds the checks that compare the registry with the
// reference model of model_ref_test.go: one answer at a time
// (checkOutcome), and a registry at rest as a whole (registryDiff).

// checkOutcome returns nil when got is the outcome the model expects:
// success for a nil want, otherwise an error matching want that names
// one of ids in an *IDError whose message starts with "registry: ".
func checkOutcome(what string, got, want error, ids ...string) error {
	switch {
	case got == nil && want == nil:
		return nil
	case want == nil:
		return fmt.Errorf("%s: got %v, want success", what, got)
	case got == nil:
		return fmt.Errorf("%s: got success, want %v", what, want)
	case !errors.Is(got, want):
		return fmt.Errorf("%s: got %v, want %v", what, got, want)
	}

	var ie *registry.IDError
	if !errors.As(got, &ie) {
		return fmt.Errorf("%s: %T %v is not an *IDError", what, got, got)
	}
	if !slices.Contains(ids, ie.ID) {
		return fmt.Errorf("%s: error names %q, want one of %q", what, ie.ID, ids)
	}
	if !strings.HasPrefix(got.Error(), "registry: ") {
		return fmt.Errorf("%s: message %q lacks the registry: prefix", what, got)
	}
	return nil
}

// registryDiff compares a registry at rest with a model. It returns ""
// when they agree: the same live registrations, found the same way by
// iteration and by lookup, each binding seen alike from the transport
// (ServerOf) and from the server (TransportsOf), and counts that match.
// Otherwise it describes up to twenty differences.
func registryDiff(r *proofRegistry, m *refModel) string {
	servers, transports := m.snapshot()
	var d diffLog

	// Iteration yields exactly the model's live registrations.
	seen := map[string]bool{}
	for id, s := range r.Servers() {
		if seen[id] {
			d.add("server %q yielded twice", id)
		}
		seen[id] = true
		e, ok := servers[id]
		switch {
		case !ok:
			d.add("ghost server %q (gen %d)", id, s.Config())
		case s.ID() != id || s.Config() != e.gen || probeOf(s.Handle()).gen != e.gen:
			d.add("server %q is %q gen %d, want gen %d", id, s.ID(), s.Config(), e.gen)
		}
	}
	for id := range servers {
		if !seen[id] {
			d.add("lost server %q", id)
		}
	}
	clear(seen)
	for id, t := range r.Transports() {
		if seen[id] {
			d.add("transport %q yielded twice", id)
		}
		seen[id] = true
		e, ok := transports[id]
		switch {
		case !ok:
			d.add("ghost transport %q (gen %d)", id, t.Config())
		case t.ID() != id || t.Config() != e.gen || probeOf(t.Handle()).gen != e.gen:
			d.add("transport %q is %q gen %d, want gen %d", id, t.ID(), t.Config(), e.gen)
		}
	}
	for id := range transports {
		if !seen[id] {
			d.add("lost transport %q", id)
		}
	}

	// Lookups agree, and so do both sides of every binding.
	members := map[string]map[string]bool{}
	for id, e := range transports {
		if t, ok := r.FindTransport(id); !ok || t.Config() != e.gen {
			d.add("FindTransport(%q) misses gen %d", id, e.gen)
		}
		sid, ok := r.ServerOf(id)
		if sid != e.server || ok != (e.server != "") {
			d.add("ServerOf(%q) = %q, %v; want %q", id, sid, ok, e.server)
		}
		if e.server == "" {
			continue
		}
		if members[e.server] == nil {
			members[e.server] = map[string]bool{}
		}
		members[e.server][id] = true
	}
	for id, e := range servers {
		if s, ok := r.FindServer(id); !ok || s.Config() != e.gen {
			d.add("FindServer(%q) misses gen %d", id, e.gen)
		}
		b, ok := r.TransportsOf(id)
		if !ok {
			d.add("TransportsOf(%q) finds no server", id)
			continue
		}
		if b.Len() != len(members[id]) {
			d.add("TransportsOf(%q).Len() = %d, want %d", id, b.Len(), len(members[id]))
		}
		for tid, h := range b.All() {
			p := probeOf(h)
			switch {
			case !members[id][tid]:
				d.add("server %q holds transport %q, not bound to it", id, tid)
			case p == nil || p.gen != transports[tid].gen:
				d.add("server %q holds an old registration of %q", id, tid)
			}
		}
	}

	// Counts agree with the entries, shard by shard and in total.
	ns, nt := 0, 0
	for _, st := range r.PartitionStats() {
		ns += st.Servers
		nt += st.Transports
	}
	if r.ServerCount() != len(servers) || ns != len(servers) {
		d.add("server count %d, partition sum %d; want %d", r.ServerCount(), ns, len(servers))
	}
	if r.TransportCount() != len(transports) || nt != len(transports) {
		d.add("transport count %d, partition sum %d; want %d",
			r.TransportCount(), nt, len(transports))
	}
	return d.String()
}

// diffLog collects the first differences a check finds.
type diffLog struct {
	lines []string
	more  int
}

func (d *diffLog) add(format string, args ...any) {
	if len(d.lines) == 20 {
		d.more++
		return
	}
	d.lines = append(d.lines, fmt.Sprintf(format, args...))
}

func (d *diffLog) String() string {
	if len(d.lines) == 0 {
		return ""
	}
	sort.Strings(d.lines)
	if d.more > 0 {
		d.lines = append(d.lines, fmt.Sprintf("and %d more", d.more))
	}
	return strings.Join(d.lines, "\n")
}
