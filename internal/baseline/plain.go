package baseline

import (
	"context"
	"sync"

	"github.com/mcpshard/registry"
)

// plain is the unsynchronised registry that [RWMutex] guards with one
// lock and [Chan] confines to one goroutine. Keeping one data structure
// for both means the two differ only in how callers reach it.
type plain struct {
	servers    map[string]*plServer
	transports map[string]*plTransport
	closed     bool
}

type plServer struct {
	id      string
	h       Handle
	origin  OriginWriter
	cfg     ServerConfig
	members map[*plTransport]struct{}
	stop    func() bool
}

type plTransport struct {
	id     string
	h      Handle
	origin OriginWriter
	cfg    TransportConfig
	bound  *plServer
	stop   func() bool
}

// target is a handle copied out of the structure, to be written after
// the lock is released or the owning goroutine has answered.
type target struct {
	h      Handle
	origin OriginWriter
}

// targetPool recycles broadcast snapshot buffers, so that a broadcast
// costs one copy of its members and no allocation.
var targetPool = sync.Pool{New: func() any { return new([]target) }}

func newPlain(capacity int) plain {
	return plain{
		servers:    make(map[string]*plServer, capacity),
		transports: make(map[string]*plTransport, capacity),
	}
}

func (p *plain) addServer(s *plServer) error {
	if p.closed {
		return idErr("register", kindServer, s.id, registry.ErrClosed)
	}
	if _, ok := p.servers[s.id]; ok {
		return idErr("register", kindServer, s.id, registry.ErrAlreadyRegistered)
	}
	p.servers[s.id] = s
	return nil
}

func (p *plain) addTransport(t *plTransport) error {
	if p.closed {
		return idErr("register", kindTransport, t.id, registry.ErrClosed)
	}
	if _, ok := p.transports[t.id]; ok {
		return idErr("register", kindTransport, t.id, registry.ErrAlreadyRegistered)
	}
	p.transports[t.id] = t
	return nil
}

// removeServer removes s if it is still the live entry of its ID, with
// its bindings. want nil removes whatever entry id has.
func (p *plain) removeServer(id string, want *plServer) bool {
	s, ok := p.servers[id]
	if !ok || (want != nil && s != want) {
		return false
	}
	delete(p.servers, id)
	stop(s.stop)
	for t := range s.members {
		t.bound = nil
	}
	s.members = nil
	return true
}

func (p *plain) removeTransport(id string, want *plTransport) bool {
	t, ok := p.transports[id]
	if !ok || (want != nil && t != want) {
		return false
	}
	delete(p.transports, id)
	stop(t.stop)
	if t.bound != nil {
		delete(t.bound.members, t)
		t.bound = nil
	}
	return true
}

func (p *plain) bind(tid, sid string) error {
	if p.closed {
		return idErr("bind", kindTransport, tid, registry.ErrClosed)
	}
	t, ok := p.transports[tid]
	if !ok {
		return idErr("bind", kindTransport, tid, registry.ErrTransportNotFound)
	}
	s, ok := p.servers[sid]
	if !ok {
		return idErr("bind", kindServer, sid, registry.ErrServerNotFound)
	}
	if t.bound == s {
		return nil
	}
	if t.bound != nil {
		delete(t.bound.members, t)
	}
	if s.members == nil {
		s.members = make(map[*plTransport]struct{})
	}
	s.members[t] = struct{}{}
	t.bound = s
	return nil
}

func (p *plain) unbind(tid string) error {
	if p.closed {
		return idErr("unbind", kindTransport, tid, registry.ErrClosed)
	}
	t, ok := p.transports[tid]
	if !ok {
		return idErr("unbind", kindTransport, tid, registry.ErrTransportNotFound)
	}
	if t.bound != nil {
		delete(t.bound.members, t)
		t.bound = nil
	}
	return nil
}

func (p *plain) serverOf(tid string) (string, bool) {
	t, ok := p.transports[tid]
	if !ok || t.bound == nil {
		return "", false
	}
	return t.bound.id, true
}

// snapshot appends the handles bound to sid to buf.
func (p *plain) snapshot(sid string, buf []target) ([]target, error) {
	if p.closed {
		return buf, idErr("broadcast", kindServer, sid, registry.ErrClosed)
	}
	s, ok := p.servers[sid]
	if !ok {
		return buf, idErr("broadcast", kindServer, sid, registry.ErrServerNotFound)
	}
	for t := range s.members {
		buf = append(buf, target{t.h, t.origin})
	}
	return buf, nil
}

func (p *plain) close() error {
	if p.closed {
		return registry.ErrClosed
	}
	p.closed = true
	for id := range p.servers {
		p.removeServer(id, nil)
	}
	for id := range p.transports {
		p.removeTransport(id, nil)
	}
	return nil
}

// writeAll writes msg to every target and counts the outcomes.
func writeAll(ctx context.Context, ts []target, from string, msg Msg) (delivered, failed int) {
	for _, t := range ts {
		if deliver(ctx, t.h, t.origin, from, msg) == nil {
			delivered++
		} else {
			failed++
		}
	}
	return delivered, failed
}
