package gateway

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/mcpshard/registry"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// session is one client session: the server side of the SDK's
// streamable HTTP transport, registered as a registry transport bound to
// the upstream its path names. It is that registration's config.
type session struct {
	// Set by openSession before the session is published; read-only.
	id     string
	server string // the upstream named by the session's path
	g      *Gateway
	http   *mcp.StreamableServerTransport
	conn   mcp.Connection // the registry handle
	entry  *registry.Transport[jsonrpc.Message, *session]
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once

	mu sync.Mutex
	// inflight maps the client's IDs of forwarded calls to gateway IDs,
	// for notifications/cancelled and for cleanup; nil once closed.
	// Written by the session's reader and by upstream replies.
	inflight map[jsonrpc.ID]int64
	// active counts open HTTP requests; idle runs only while it is 0.
	active int
	idle   *time.Timer
	closed bool
}

// openSession registers a new session bound to upstream server and
// starts its reader. It fails with errUnknownServer, or with the
// registry's ErrServerNotFound while the upstream is down.
func (g *Gateway) openSession(server string) (*session, error) {
	if _, ok := g.ups[server]; !ok {
		return nil, fmt.Errorf("%w %q", errUnknownServer, server)
	}
	s := &session{id: rand.Text(), server: server, g: g}
	s.ctx, s.cancel = context.WithCancel(g.ctx)
	s.http = &mcp.StreamableServerTransport{SessionID: s.id, EventStore: g.events}
	conn, err := s.http.Connect(s.ctx)
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.conn = conn

	s.entry, err = g.reg.RegisterBoundTransport(s.ctx, s.id, server, conn, s)
	if err != nil {
		s.cancel()
		_ = conn.Close()
		return nil, err
	}
	g.wg.Add(1)
	go s.read()
	return s, nil
}

// findSession returns the live session id on upstream server.
func (g *Gateway) findSession(id, server string) (*session, bool) {
	t, ok := g.reg.FindTransport(id)
	if !ok || t.Config().server != server {
		return nil, false
	}
	return t.Config(), true
}

// read dispatches the client's messages until the session ends.
func (s *session) read() {
	defer s.g.wg.Done()
	defer s.close()
	for {
		msg, err := s.conn.Read(s.ctx)
		if err != nil {
			return
		}
		s.handle(msg)
	}
}

// close ends the session: it leaves the registry at once, its HTTP
// streams end, and its unanswered calls are cancelled upstream. It is
// idempotent and safe from any goroutine.
func (s *session) close() {
	s.once.Do(func() {
		s.entry.Unregister()
		s.cancel()
		_ = s.conn.Close()

		s.mu.Lock()
		s.closed = true
		if s.idle != nil {
			s.idle.Stop()
		}
		inflight := s.inflight
		s.inflight = nil
		s.mu.Unlock()

		s.cancelUpstream(inflight)
	})
}

// begin marks an HTTP request open; it stops the idle timer.
func (s *session) begin() {
	s.mu.Lock()
	s.active++
	if s.idle != nil {
		s.idle.Stop()
	}
	s.mu.Unlock()
}

// end marks an HTTP request done; the last one starts the idle timer.
func (s *session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active > 0 || s.closed {
		return
	}
	if s.idle == nil {
		s.idle = time.AfterFunc(s.g.cfg.IdleTimeout, s.close)
	} else {
		s.idle.Reset(s.g.cfg.IdleTimeout)
	}
}

// track records a forwarded call; it fails once the session is closed.
func (s *session) track(id jsonrpc.ID, n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.inflight == nil {
		s.inflight = make(map[jsonrpc.ID]int64)
	}
	s.inflight[id] = n
	return true
}

// untrack forgets the forwarded call the client calls id.
func (s *session) untrack(id jsonrpc.ID) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.inflight[id]
	delete(s.inflight, id)
	return n, ok
}
