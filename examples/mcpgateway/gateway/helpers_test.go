package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	mcpgoclient "github.com/mark3labs/mcp-go/client"
	mcpgotransport "github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpgoserver "github.com/mark3labs/mcp-go/server"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// quiet discards the clients' own logs.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// waitFor bounds every wait in these tests.
const waitFor = 10 * time.Second

// testGateway is a gateway served on a loopback listener.
type testGateway struct {
	*Gateway
	url string // base URL; sessions live at url + "/mcp/{server}"
}

// startGateway starts a gateway with cfg on 127.0.0.1, waits for every
// upstream's first start and stops both at the end of the test.
func startGateway(t *testing.T, cfg Config) *testGateway {
	t.Helper()
	g, err := New(context.Background(), cfg)
	require.NoError(t, err)
	tg := serve(t, g)

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, u := range cfg.Upstreams {
		require.NoError(t, g.WaitUpstream(ctx, u.ID, 1), "upstream %s", u.ID)
	}
	return tg
}

// serve serves g on 127.0.0.1 until the end of the test, then closes g
// and checks that its registry is empty.
func serve(t *testing.T, g *Gateway) *testGateway {
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		require.NoError(t, g.Close())
		srv.Close() // after Close, which ends every hanging stream
		require.Equal(t, Stats{}, g.Stats(), "registry not empty after Close")
	})
	return &testGateway{g, srv.URL}
}

func (g *testGateway) endpoint(server string) string { return g.url + "/mcp/" + server }

// waitStats waits until the gateway's registry counts want.
func (g *testGateway) waitStats(t *testing.T, want Stats) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for g.Stats() != want {
		require.True(t, time.Now().Before(deadline), "stats %+v, want %+v", g.Stats(), want)
		select {
		case <-time.After(5 * time.Millisecond): // poll; no event to wait on
		case <-g.Done():
		}
	}
}

type tagIn struct {
	Tag string `json:"tag"`
}

// goServer is an in-memory Go SDK server whose tools say who they are.
//   - whoami returns "<name>:<tag>".
//   - progress sends three progress notifications carrying the tag,
//     then returns "<name>:<tag>".
//   - block signals started, then waits for its context to end.
func goServer(name string, started chan<- string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, in tagIn) (*mcp.CallToolResult, any, error) {
		return text(name + ":" + in.Tag), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "progress"}, func(ctx context.Context, req *mcp.CallToolRequest, in tagIn) (*mcp.CallToolResult, any, error) {
		tok := req.Params.GetProgressToken()
		for i := 1; i <= 3; i++ {
			err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
				ProgressToken: tok, Progress: float64(i), Total: 3, Message: in.Tag,
			})
			if err != nil {
				return nil, nil, err
			}
		}
		return text(name + ":" + in.Tag), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "block"}, func(ctx context.Context, req *mcp.CallToolRequest, in tagIn) (*mcp.CallToolResult, any, error) {
		if started != nil {
			started <- in.Tag
		}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	return s
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// resultText returns the first text content of a go-sdk result.
func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	require.NotEmpty(t, res.Content)
	tc, ok := res.Content[0].(*mcp.TextContent)
	require.True(t, ok, "content %T", res.Content[0])
	return tc.Text
}

// mcpGoServer is an mcp-go server with a whoami tool like goServer's.
func mcpGoServer(name string) *mcpgoserver.MCPServer {
	s := mcpgoserver.NewMCPServer(name, "1", mcpgoserver.WithToolCapabilities(true))
	s.AddTool(mcpgo.NewTool("whoami", mcpgo.WithString("tag")),
		func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			return mcpgo.NewToolResultText(name + ":" + req.GetString("tag", "")), nil
		})
	return s
}

// mcpGoDialer serves s over a pair of pipes with mcp-go's stdio server,
// one Listen per dial; wg counts the Listen goroutines. mcp-go keeps
// one stdio session per process, so only one may run at a time.
func mcpGoDialer(s *mcpgoserver.MCPServer, wg *sync.WaitGroup) Dialer {
	return func(ctx context.Context) (mcp.Connection, error) {
		toServer, fromGateway := io.Pipe()
		toGateway, fromServer := io.Pipe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = mcpgoserver.NewStdioServer(s).Listen(ctx, toServer, fromServer)
			_ = toServer.Close()
			_ = fromServer.Close()
		}()
		t := &mcp.IOTransport{Reader: toGateway, Writer: fromGateway}
		return t.Connect(ctx)
	}
}

// goClient connects a go-sdk client to server through the gateway and
// closes it at the end of the test.
func goClient(t *testing.T, g *testGateway, server string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, opts)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: g.endpoint(server)}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// mcpGoClient connects an mcp-go client, listening for notifications,
// and closes it at the end of the test.
func mcpGoClient(t *testing.T, g *testGateway, server string) *mcpgoclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := newMCPGoClient(ctx, g, server)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newMCPGoClient starts and initializes an mcp-go client that keeps a
// GET stream open for notifications.
func newMCPGoClient(ctx context.Context, g *testGateway, server string) (*mcpgoclient.Client, error) {
	c, err := mcpgoclient.NewStreamableHttpClient(g.endpoint(server),
		//lint:ignore SA1019 the gateway serves notifications on the session's GET stream (see README, Limitations)
		mcpgotransport.WithContinuousListening(),
		mcpgotransport.WithHTTPLogger(quiet))
	if err != nil {
		return nil, err
	}
	// Start's context bounds the GET stream, so it must outlive ctx.
	if err := c.Start(context.Background()); err != nil {
		return nil, err
	}
	_, err = c.Initialize(ctx, mcpgo.InitializeRequest{
		Params: mcpgo.InitializeParams{ClientInfo: mcpgo.Implementation{Name: "test", Version: "1"}},
	})
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("initialize: %w", err)
	}
	return c, nil
}

// mcpGoWhoami calls whoami through an mcp-go client.
func mcpGoWhoami(ctx context.Context, c *mcpgoclient.Client, tag string) (string, error) {
	req := mcpgo.CallToolRequest{}
	req.Params.Name = "whoami"
	req.Params.Arguments = map[string]any{"tag": tag}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return "", err
	}
	if len(res.Content) == 0 {
		return "", fmt.Errorf("empty result")
	}
	tc, ok := mcpgo.AsTextContent(res.Content[0])
	if !ok {
		return "", fmt.Errorf("content %T", res.Content[0])
	}
	return tc.Text, nil
}
