package registry_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/hashing"
)

// This file holds what the proof suite (model, fuzz, stress, race and
// linearizability tests) shares: the reference model the registry is
// compared with, the handles it registers, and the check that a
// registry at rest agrees with a model.

// proofRegistry is the registry the proof suite drives. Messages are
// ints, and the config of every entry is the generation number of its
// registration, so that a lookup can tell the live registration of an ID
// from an older one.
type (
	proofRegistry  = registry.Registry[int, int, int]
	proofServer    = registry.Server[int, int]
	proofTransport = registry.Transport[int, int]
)

// hasherCase is a hash function the suite runs under.
type hasherCase struct {
	name string
	opts []registry.Option
}

// proofHashers are the default xxh3 and hashing.OneShard, which sends
// every ID to shard 0: correctness must not depend on how IDs spread,
// and under OneShard every write contends on one shard.
var proofHashers = []hasherCase{
	{"hasher=xxh3", nil},
	{"hasher=oneshard", []registry.Option{registry.WithHasher(hashing.OneShard)}},
}

// forEachHasher runs f once per hasher, each time as a subtest, with the
// options that select it.
func forEachHasher(t *testing.T, f func(t *testing.T, opts []registry.Option)) {
	t.Helper()
	for _, h := range proofHashers {
		t.Run(h.name, func(t *testing.T) { f(t, h.opts) })
	}
}

// newProofRegistry returns a registry built with opts and closes it when
// the test ends.
func newProofRegistry(t testing.TB, opts ...registry.Option) *proofRegistry {
	t.Helper()
	r, err := registry.New[int, int, int](opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// with returns opts followed by more, without sharing opts's array.
func with(opts []registry.Option, more ...registry.Option) []registry.Option {
	return slices.Concat(opts, more)
}

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

// refModel is the reference the registry is compared with: two plain
// maps behind a mutex, changed one whole operation at a time, with no
// shards, no atomics and no cascade that could be half done. Each method
// mirrors one registry method and returns the sentinel error the
// registry's answer must match.
type refModel struct {
	mu         sync.Mutex
	maxIDLen   int
	closed     bool
	servers    map[string]refEntry
	transports map[string]refEntry
}

// refEntry is one live registration in the model.
type refEntry struct {
	gen    int
	mode   probeMode
	origin bool
	// server is, for a transport, the ID of the server it is bound to,
	// or "" when it is unbound.
	server string
}

func newRefModel(maxIDLen int) *refModel {
	return &refModel{
		maxIDLen:   maxIDLen,
		servers:    map[string]refEntry{},
		transports: map[string]refEntry{},
	}
}

func (m *refModel) validID(id string) bool {
	return id != "" && len(id) <= m.maxIDLen
}

// RegisterServer mirrors [registry.Registry.RegisterServer]; ended says
// the context had ended before the call.
func (m *refModel) RegisterServer(id string, ended bool, e refEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return registry.ErrClosed
	case !m.validID(id):
		return registry.ErrInvalidID
	case ended:
		return context.Canceled
	}
	if _, ok := m.servers[id]; ok {
		return registry.ErrAlreadyRegistered
	}
	m.servers[id] = e
	return nil
}

// RegisterTransport mirrors [registry.Registry.RegisterTransport] when
// bound is false and [registry.Registry.RegisterBoundTransport] to
// server when it is true.
func (m *refModel) RegisterTransport(id string, bound bool, server string,
	ended bool, e refEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case bound && server == "":
		return registry.ErrInvalidID
	case m.closed:
		return registry.ErrClosed
	case !m.validID(id):
		return registry.ErrInvalidID
	case ended:
		return context.Canceled
	}
	e.server = ""
	if bound {
		if _, ok := m.servers[server]; !ok {
			return registry.ErrServerNotFound
		}
		e.server = server
	}
	if _, ok := m.transports[id]; ok {
		return registry.ErrAlreadyRegistered
	}
	m.transports[id] = e
	return nil
}

// putServer and putTransport record a live registration outright, for
// tests that state the result they expect instead of replaying calls.
// A transport is bound to server, or unbound for "".
func (m *refModel) putServer(id string, gen int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.servers[id] = refEntry{gen: gen}
}

func (m *refModel) putTransport(id, server string, gen int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.transports[id] = refEntry{gen: gen, server: server}
}

// UnregisterServer mirrors [registry.Registry.UnregisterServer].
func (m *refModel) UnregisterServer(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return registry.ErrClosed
	}
	if _, ok := m.servers[id]; !ok {
		return registry.ErrServerNotFound
	}
	m.removeServerLocked(id)
	return nil
}

// UnregisterTransport mirrors [registry.Registry.UnregisterTransport].
func (m *refModel) UnregisterTransport(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return registry.ErrClosed
	}
	if _, ok := m.transports[id]; !ok {
		return registry.ErrTransportNotFound
	}
	delete(m.transports, id)
	return nil
}

// DropServer mirrors [registry.Server.Unregister] and the end of a
// server's context: it removes registration gen of id if it is live.
func (m *refModel) DropServer(id string, gen int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.servers[id]; !ok || e.gen != gen {
		return false
	}
	m.removeServerLocked(id)
	return true
}

// DropTransport is [refModel.DropServer] for transports.
func (m *refModel) DropTransport(id string, gen int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.transports[id]; !ok || e.gen != gen {
		return false
	}
	delete(m.transports, id)
	return true
}

// removeServerLocked removes server id and unbinds its transports in
// one step, which is what the registry's cascade must look like.
func (m *refModel) removeServerLocked(id string) {
	delete(m.servers, id)
	for tid, e := range m.transports {
		if e.server == id {
			e.server = ""
			m.transports[tid] = e
		}
	}
}

// Bind mirrors [registry.Registry.Bind].
func (m *refModel) Bind(transportID, serverID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return registry.ErrClosed
	}
	e, ok := m.transports[transportID]
	if !ok {
		return registry.ErrTransportNotFound
	}
	if _, ok := m.servers[serverID]; !ok {
		return registry.ErrServerNotFound
	}
	e.server = serverID
	m.transports[transportID] = e
	return nil
}

// Unbind mirrors [registry.Registry.Unbind].
func (m *refModel) Unbind(transportID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return registry.ErrClosed
	}
	e, ok := m.transports[transportID]
	if !ok {
		return registry.ErrTransportNotFound
	}
	e.server = ""
	m.transports[transportID] = e
	return nil
}

// Close mirrors [registry.Registry.Close].
func (m *refModel) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return registry.ErrClosed
	}
	m.closed = true
	clear(m.servers)
	clear(m.transports)
	return nil
}

// Route returns the entry a route to id of kind ("server" or
// "transport") reaches and the error the route must match: a registry
// error, or what the entry's handle answers.
func (m *refModel) Route(kind, id string) (refEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return refEntry{}, registry.ErrClosed
	}
	table, notFound := m.servers, registry.ErrServerNotFound
	if kind == "transport" {
		table, notFound = m.transports, registry.ErrTransportNotFound
	}
	e, ok := table[id]
	if !ok {
		return refEntry{}, notFound
	}
	return e, e.mode.err()
}

// Members returns the transports bound to server id, or an error for a
// broadcast to it.
func (m *refModel) Members(id string) (map[string]refEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, registry.ErrClosed
	}
	if _, ok := m.servers[id]; !ok {
		return nil, registry.ErrServerNotFound
	}
	out := map[string]refEntry{}
	for tid, e := range m.transports {
		if e.server == id {
			out[tid] = e
		}
	}
	return out, nil
}

// Transport returns the live registration of transport id.
func (m *refModel) Transport(id string) (refEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.transports[id]
	return e, ok
}

// ServerCount returns the number of live servers.
func (m *refModel) ServerCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.servers)
}

// snapshot returns copies of the model's tables.
func (m *refModel) snapshot() (servers, transports map[string]refEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.servers), maps.Clone(m.transports)
}

// merge adds other's entries to m. The stress test merges the models of
// writers that own disjoint IDs into one.
func (m *refModel) merge(other *refModel) {
	servers, transports := other.snapshot()
	m.mu.Lock()
	defer m.mu.Unlock()
	maps.Copy(m.servers, servers)
	maps.Copy(m.transports, transports)
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

// await checks cond until it holds or d has passed, and reports whether
// it held. It waits for what the registry does on a goroutine of its
// own: the removal that the end of a registration's context schedules.
// Between checks it parks on a ticker rather than spinning, so that
// thousands of waiting goroutines leave the processors to the callbacks
// they wait for.
func await(d time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	timeout := time.After(d)
	for {
		select {
		case <-tick.C:
			if cond() {
				return true
			}
		case <-timeout:
			return cond()
		}
	}
}
