package gateway

import (
	"context"
	"io"
	"os/exec"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Upstream names one server the gateway fronts and says how to reach it.
type Upstream struct {
	// ID is the server's registry ID and the {server} of its URL path.
	ID string
	// Dial opens a fresh connection, starting the server if need be. It
	// is called again for every restart. The connection must not have
	// been initialized: the gateway does that.
	Dial Dialer
}

// Dialer opens a connection to an upstream server; the connection ends
// when ctx ends or when the gateway closes it.
type Dialer func(ctx context.Context) (mcp.Connection, error)

// Command returns a [Dialer] that runs name with args as a stdio MCP
// server through the SDK's [mcp.CommandTransport], writing its stderr to
// stderr (nil discards). Closing the connection closes the child's stdin
// and, after two seconds, terminates it.
func Command(stderr io.Writer, name string, args ...string) Dialer {
	return func(ctx context.Context) (mcp.Connection, error) {
		cmd := exec.Command(name, args...)
		cmd.Stderr = stderr
		t := &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}
		return t.Connect(ctx)
	}
}

// InMemory returns a [Dialer] that connects s, a Go SDK server in this
// process, through a fresh pair of [mcp.NewInMemoryTransports] on every
// call. The server session ends when the connection closes.
func InMemory(s *mcp.Server) Dialer {
	return func(ctx context.Context) (mcp.Connection, error) {
		serverSide, gatewaySide := mcp.NewInMemoryTransports()
		if _, err := s.Connect(ctx, serverSide, nil); err != nil {
			return nil, err
		}
		return gatewaySide.Connect(ctx)
	}
}
