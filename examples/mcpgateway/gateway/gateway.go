package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpshard/registry"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Config configures [New]. Zero durations select the defaults.
type Config struct {
	// Upstreams lists the servers to front; IDs must be unique.
	Upstreams []Upstream

	// IdleTimeout ends a session that has had no HTTP request open for
	// this long (default 5m).
	IdleTimeout time.Duration
	// InitTimeout bounds an upstream's initialize handshake (default 30s).
	InitTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before an exited upstream
	// is restarted; the wait doubles after each failure (defaults 100ms
	// and 5s).
	MinBackoff, MaxBackoff time.Duration
	// MaxBodyBytes bounds a POST body (default 4 MiB).
	MaxBodyBytes int64

	// Logger receives what the gateway would otherwise swallow: upstream
	// exits, dropped messages, failed broadcasts. Nil discards.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = 30 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(5*time.Second, c.MinBackoff)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// reg is the registry the gateway routes through: messages are SDK
// JSON-RPC messages, a server's config is its *upstream and a
// transport's config is its *session.
type reg = registry.Registry[jsonrpc.Message, *upstream, *session]

// Gateway fronts upstream MCP servers for client sessions. Its methods
// are safe for concurrent use.
type Gateway struct {
	cfg Config
	log *slog.Logger
	reg *reg

	// ups holds every configured upstream by ID. Written by New only.
	ups map[string]*upstream

	// events keeps each session's outgoing messages, so that a
	// notification sent before the client opens its GET stream is
	// replayed when it does (and a dropped stream can resume).
	events *mcp.MemoryEventStore

	// nextID numbers the requests the gateway sends upstream; every
	// forwarded call and every progress token gets one.
	nextID atomic.Int64

	// ctx is the parent of every upstream and session context; cancel
	// ends it. wg counts the supervisor and session goroutines.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts a gateway: one supervisor per upstream dials, initializes
// and registers it in the background (see [Gateway.WaitUpstream]). The
// gateway runs until ctx ends or [Gateway.Close] is called.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	cfg.setDefaults()
	r, err := registry.New[jsonrpc.Message, *upstream, *session](
		registry.WithLogger(cfg.Logger))
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg,
		log: cfg.Logger,
		reg: r,
		ups: make(map[string]*upstream, len(cfg.Upstreams)),

		events: mcp.NewMemoryEventStore(nil),
	}
	for _, u := range cfg.Upstreams {
		if u.ID == "" || u.Dial == nil {
			return nil, fmt.Errorf("gateway: upstream %q needs an ID and a Dial", u.ID)
		}
		if _, dup := g.ups[u.ID]; dup {
			return nil, fmt.Errorf("gateway: upstream %q configured twice", u.ID)
		}
		g.ups[u.ID] = newUpstream(g, u)
	}

	g.ctx, g.cancel = context.WithCancel(ctx)
	for _, u := range g.ups {
		g.wg.Add(1)
		go u.supervise(g.ctx)
	}
	return g, nil
}

// Close ends every session and upstream and waits for their goroutines.
// The registry is empty when it returns. It is idempotent.
func (g *Gateway) Close() error {
	g.cancel()
	g.wg.Wait()
	return nil
}

// Done is closed when the gateway's context ends.
func (g *Gateway) Done() <-chan struct{} { return g.ctx.Done() }

// WaitUpstream blocks until upstream id has been registered at least gen
// times (gen 1 is its first start) and is registered now, or ctx ends.
func (g *Gateway) WaitUpstream(ctx context.Context, id string, gen int) error {
	u, ok := g.ups[id]
	if !ok {
		return fmt.Errorf("gateway: unknown upstream %q", id)
	}
	for {
		cur, up, changed := u.state()
		if up && cur >= gen {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats counts the gateway's live registry entries.
type Stats struct {
	Upstreams int // registered upstream servers
	Sessions  int // registered client sessions
}

// Stats reads the registry's counters; under concurrent changes it is a
// moment's estimate.
func (g *Gateway) Stats() Stats {
	return Stats{g.reg.ServerCount(), g.reg.TransportCount()}
}

// newID returns a fresh gateway-owned request ID.
func (g *Gateway) newID() int64 { return g.nextID.Add(1) }

// errUnknownServer reports a path naming no configured upstream.
var errUnknownServer = errors.New("gateway: unknown server")
