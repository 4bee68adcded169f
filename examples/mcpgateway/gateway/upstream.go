package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// upstream is the gateway's state for one configured server, kept across
// restarts. It is the registry config of each of its registrations.
type upstream struct {
	id   string
	dial Dialer
	g    *Gateway

	// calls holds the unanswered calls of the live connection.
	calls pending

	mu sync.Mutex
	// init is the live connection's InitializeResult, nil while the
	// upstream is down. Written by the supervisor, read by sessions
	// answering initialize; guarded by mu.
	init json.RawMessage
	// version is init's protocolVersion; guarded by mu.
	version string
	// gen counts registrations whose sessions were bound again; changed
	// is closed and replaced when gen grows or init is cleared, waking
	// WaitUpstream. Guarded by mu.
	gen     int
	changed chan struct{}
}

func newUpstream(g *Gateway, u Upstream) *upstream {
	return &upstream{id: u.ID, dial: u.Dial, g: g, changed: make(chan struct{})}
}

// state returns the generation, whether the upstream is up, and a
// channel closed at the next change.
func (u *upstream) state() (gen int, up bool, changed <-chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gen, u.init != nil, u.changed
}

// initResult returns the cached InitializeResult and its version, or
// nil while the upstream is down.
func (u *upstream) initResult() (json.RawMessage, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.init, u.version
}

// setInit caches the InitializeResult of a new connection, or clears
// it (nil) when the connection ends; clearing wakes waiters.
func (u *upstream) setInit(res json.RawMessage, version string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.init, u.version = res, version
	if res == nil {
		u.notifyLocked()
	}
}

// markUp counts a registration whose sessions are bound again and wakes
// waiters.
func (u *upstream) markUp() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.gen++
	u.notifyLocked()
}

func (u *upstream) notifyLocked() {
	close(u.changed)
	u.changed = make(chan struct{})
}

// supervise runs the upstream until ctx ends, restarting it with
// exponential backoff after every exit. A connection that lived longer
// than MaxBackoff resets the backoff.
func (u *upstream) supervise(ctx context.Context) {
	defer u.g.wg.Done()
	cfg := &u.g.cfg
	wait := cfg.MinBackoff
	for {
		start := time.Now()
		err := u.serve(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > cfg.MaxBackoff {
			wait = cfg.MinBackoff
		}
		u.g.log.Warn("gateway: upstream exited",
			slog.String("upstream", u.id), slog.Any("err", err),
			slog.Duration("restart_in", wait))

		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, cfg.MaxBackoff)
	}
}

// serve runs one connection: dial, initialize, register, bind the
// upstream's sessions again, read until the connection fails, then
// unregister and fail every pending call.
func (u *upstream) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conn, err := u.dial(ctx)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()

	early, err := u.initialize(ctx, conn)
	if err != nil {
		return err
	}
	srv, err := u.g.reg.RegisterServer(ctx, u.id, conn, u)
	if err != nil {
		u.setInit(nil, "")
		return err
	}
	u.rebind()
	u.markUp()
	for _, m := range early {
		u.handle(ctx, m)
	}

	// Unregister first: a call forwarded after this fails to route and
	// is answered by its sender; one forwarded before is in calls.
	err = u.read(ctx, conn)
	srv.Unregister()
	u.setInit(nil, "")
	u.failPending()
	return err
}

// read dispatches the upstream's messages until its connection fails.
func (u *upstream) read(ctx context.Context, conn mcp.Connection) error {
	for {
		msg, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		u.handle(ctx, msg)
	}
}

// initialize performs the MCP handshake as the upstream's one client
// and caches the result. Notifications that arrive before it completes
// are returned, to be delivered once sessions are bound again.
func (u *upstream) initialize(ctx context.Context, conn mcp.Connection) ([]jsonrpc.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, u.g.cfg.InitTimeout)
	defer cancel()
	req := &jsonrpc.Request{
		ID:     wireID(u.g.newID()),
		Method: methodInitialize,
		Params: json.RawMessage(`{"protocolVersion":"` + upstreamVersion +
			`","capabilities":{},"clientInfo":{"name":"mcpgateway","version":"0.1.0"}}`),
	}
	if err := conn.Write(ctx, req); err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}

	var early []jsonrpc.Message
	for {
		msg, err := conn.Read(ctx)
		if err != nil {
			return nil, fmt.Errorf("initialize: %w", err)
		}
		switch m := msg.(type) {
		case *jsonrpc.Request:
			if m.IsCall() {
				_ = conn.Write(ctx, u.answer(m))
			} else {
				early = append(early, m)
			}
			continue
		case *jsonrpc.Response:
			if m.ID != req.ID {
				continue
			}
			if m.Error != nil {
				return nil, fmt.Errorf("initialize: %w", m.Error)
			}
			var res struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			if err := json.Unmarshal(m.Result, &res); err != nil || res.ProtocolVersion == "" {
				return nil, errors.New("initialize: result has no protocolVersion")
			}
			done := &jsonrpc.Request{Method: notifyInitialized, Params: json.RawMessage(`{}`)}
			if err := conn.Write(ctx, done); err != nil {
				return nil, fmt.Errorf("initialized: %w", err)
			}
			u.setInit(m.Result, res.ProtocolVersion)
			return early, nil
		}
	}
}

// rebind binds every live session of this upstream that a previous
// registration's removal unbound. It scans all sessions: restarts are
// rare, and the scan also finds sessions that raced the removal.
func (u *upstream) rebind() {
	for id, t := range u.g.reg.Transports() {
		if t.Config().server != u.id {
			continue
		}
		if _, bound := t.ServerID(); !bound {
			_ = u.g.reg.Bind(id, u.id) // a session ending now is fine
		}
	}
}

// failPending answers every unanswered call with a JSON-RPC error.
func (u *upstream) failPending() {
	for _, c := range u.calls.drain() {
		resp := errorResponse(c.id, codeUpstreamUnavail, "gateway: upstream %q exited", u.id)
		u.reply(c, resp)
	}
}
