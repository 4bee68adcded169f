package gateway

import (
	"context"
	"sync"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
)

const toolsListChanged = "notifications/tools/list_changed"

// listener counts the tools/list_changed notifications one session got.
type listener struct {
	server string
	got    chan struct{}
}

func newListener(server string) *listener {
	return &listener{server: server, got: make(chan struct{}, 8)}
}

func (l *listener) notify() { l.got <- struct{}{} }

// TestToolAddedReachesExactlyItsSessions adds a tool on one upstream at
// a time and checks that exactly the sessions bound to that upstream,
// go-sdk and mcp-go clients alike, hear of it.
func TestToolAddedReachesExactlyItsSessions(t *testing.T) {
	var listens sync.WaitGroup
	t.Cleanup(listens.Wait)
	alpha := goServer("alpha", nil)
	gammaSrv := mcpGoServer("gamma")
	g := startGateway(t, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(alpha)},
		{ID: "beta", Dial: InMemory(goServer("beta", nil))},
		{ID: "gamma", Dial: mcpGoDialer(gammaSrv, &listens)},
	}})

	var all []*listener
	for _, server := range []string{"alpha", "beta", "gamma"} {
		for range 4 {
			l := newListener(server)
			goClient(t, g, server, &mcp.ClientOptions{
				ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { l.notify() },
			})
			all = append(all, l)
		}
		for range 2 {
			l := newListener(server)
			c := mcpGoClient(t, g, server)
			c.OnNotification(func(n mcpgo.JSONRPCNotification) {
				if n.Method == toolsListChanged {
					l.notify()
				}
			})
			all = append(all, l)
		}
	}

	alpha.AddTool(&mcp.Tool{Name: "added", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return text("added"), nil })
	expectListChanged(t, all, "alpha")

	gammaSrv.AddTool(mcpgo.NewTool("added"),
		func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			return mcpgo.NewToolResultText("added"), nil
		})
	expectListChanged(t, all, "gamma")
}

// expectListChanged waits for a notification on every listener of
// server, drains them (a server may send several, as server-everything
// does at startup) and checks that no other listener got one.
func expectListChanged(t *testing.T, all []*listener, server string) {
	t.Helper()
	deadline := time.After(waitFor)
	for i, l := range all {
		if l.server != server {
			continue
		}
		select {
		case <-l.got:
		case <-deadline:
			t.Fatalf("session %d on %s: no %s", i, server, toolsListChanged)
		}
		for len(l.got) > 0 {
			<-l.got
		}
	}
	for i, l := range all {
		if l.server != server {
			assert.Zero(t, len(l.got), "session %d on %s heard of a change on %s", i, l.server, server)
		}
	}
}
