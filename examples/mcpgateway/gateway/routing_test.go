package gateway

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRoutingManySessions runs 200 concurrent sessions, go-sdk and
// mcp-go clients, over two go-sdk upstreams and one mcp-go upstream.
// Every client numbers its requests from the same start, so their IDs
// collide at the gateway; every answer must still come from the
// session's own upstream and carry its own tag.
func TestRoutingManySessions(t *testing.T) {
	var listens sync.WaitGroup
	t.Cleanup(listens.Wait) // runs after the gateway's cleanup closes them
	g := startGateway(t, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(goServer("alpha", nil))},
		{ID: "beta", Dial: InMemory(goServer("beta", nil))},
		{ID: "gamma", Dial: mcpGoDialer(mcpGoServer("gamma"), &listens)},
	}})
	servers := []string{"alpha", "beta", "gamma"}

	const sessions = 200
	const calls = 3
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitFor)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, sessions*calls)
	for i := range sessions {
		server := servers[i%len(servers)]
		tag := fmt.Sprintf("s%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runSession(ctx, g, server, tag, i%2 == 0, calls)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	g.waitStats(t, Stats{Upstreams: 3, Sessions: 0})
	assert.Zero(t, pendingCalls(g.Gateway), "calls left pending")
}

// runSession opens one session with a go-sdk (goSDK) or mcp-go client,
// calls whoami calls times and closes it.
func runSession(ctx context.Context, g *testGateway, server, tag string, goSDK bool, calls int) error {
	want := server + ":" + tag
	if goSDK {
		c := mcp.NewClient(&mcp.Implementation{Name: tag, Version: "1"}, nil)
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: g.endpoint(server)}, nil)
		if err != nil {
			return fmt.Errorf("%s: connect: %w", tag, err)
		}
		defer cs.Close()
		for range calls {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: tagIn{tag}})
			if err != nil {
				return fmt.Errorf("%s: call: %w", tag, err)
			}
			if got := res.Content[0].(*mcp.TextContent).Text; got != want {
				return fmt.Errorf("%s: got %q, want %q", tag, got, want)
			}
		}
		return nil
	}

	c, err := newMCPGoClient(ctx, g, server)
	if err != nil {
		return fmt.Errorf("%s: %w", tag, err)
	}
	defer c.Close()
	for range calls {
		got, err := mcpGoWhoami(ctx, c, tag)
		if err != nil {
			return fmt.Errorf("%s: call: %w", tag, err)
		}
		if got != want {
			return fmt.Errorf("%s: got %q, want %q", tag, got, want)
		}
	}
	return nil
}

// pendingCalls counts the unanswered calls of every upstream.
func pendingCalls(g *Gateway) int {
	n := 0
	for _, u := range g.ups {
		n += u.calls.len()
	}
	return n
}

func TestProgressReachesOnlyItsCaller(t *testing.T) {
	g := startGateway(t, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(goServer("alpha", nil))},
	}})
	const sessions = 20
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()

	// Every client uses the same progress token, "p".
	got := make([]chan *mcp.ProgressNotificationParams, sessions)
	clients := make([]*mcp.ClientSession, sessions)
	for i := range sessions {
		ch := make(chan *mcp.ProgressNotificationParams, 16)
		got[i] = ch
		clients[i] = goClient(t, g, "alpha", &mcp.ClientOptions{
			ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
				ch <- r.Params
			},
		})
	}

	var wg sync.WaitGroup
	for i, cs := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &mcp.CallToolParams{Name: "progress", Arguments: tagIn{fmt.Sprint(i)}}
			p.SetProgressToken("p")
			_, err := cs.CallTool(ctx, p)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()

	for i, ch := range got {
		for n := 1; n <= 3; n++ {
			select {
			case p := <-ch:
				assert.Equal(t, "p", p.ProgressToken, "session %d", i)
				assert.Equal(t, fmt.Sprint(i), p.Message, "session %d got another's progress", i)
			case <-ctx.Done():
				require.FailNow(t, "missing progress", "session %d notification %d", i, n)
			}
		}
	}
	for i, ch := range got {
		assert.Empty(t, ch, "session %d got extra progress", i)
	}
}
