package registry_test

import (
	"context"
	"maps"
	"sync"

	"github.com/mcpshard/registry"
)

// This file holds the reference model the proof suite compares the
// registry with (see proof_helpers_test.go).

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
	case m.closed:
		return registry.ErrClosed
	case !m.validID(id):
		return registry.ErrInvalidID
	case ended:
		return context.Canceled
	case bound && server == "":
		return registry.ErrInvalidID
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
