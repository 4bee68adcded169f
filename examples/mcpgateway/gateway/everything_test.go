package gateway

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// everythingJS is server-everything's entry point as `npm ci` in
// testdata installs it; `node everythingJS stdio` serves MCP on stdio.
var everythingJS = filepath.Join("..", "testdata", "node_modules",
	"@modelcontextprotocol", "server-everything", "dist", "index.js")

// everythingDialer starts server-everything over stdio through the
// SDK's CommandTransport, and reports each child process it starts.
func everythingDialer(procs chan<- *os.Process) Dialer {
	return func(ctx context.Context) (mcp.Connection, error) {
		cmd := exec.Command("node", everythingJS, "stdio")
		t := &mcp.CommandTransport{Command: cmd, TerminateDuration: time.Second}
		conn, err := t.Connect(ctx)
		if err == nil {
			procs <- cmd.Process
		}
		return conn, err
	}
}

// TestServerEverything is tier b: two instances of the npm reference
// server over stdio. go-sdk clients call their tools through the
// gateway; killing one instance fails its pending call within a second,
// and the restarted instance's startup tools/list_changed reaches only
// the sessions bound to it.
func TestServerEverything(t *testing.T) {
	_, err := os.Stat(everythingJS)
	require.NoError(t, err, "run `npm ci` in examples/mcpgateway/testdata first")
	_, err = exec.LookPath("node")
	require.NoError(t, err, "tier b needs node on PATH")

	procs1, procs2 := make(chan *os.Process, 4), make(chan *os.Process, 4)
	g := startGateway(t, Config{
		Upstreams: []Upstream{
			{ID: "ev1", Dial: everythingDialer(procs1)},
			{ID: "ev2", Dial: everythingDialer(procs2)},
		},
		MinBackoff: 50 * time.Millisecond,
	})
	first := <-procs1
	<-procs2

	// Three sessions on each instance, counting tools/list_changed.
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	defer cancel()
	type sess struct {
		cs *mcp.ClientSession
		l  *listener
	}
	var all []sess
	var listeners []*listener
	for _, server := range []string{"ev1", "ev2"} {
		for range 3 {
			l := newListener(server)
			cs := goClient(t, g, server, &mcp.ClientOptions{
				ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { l.notify() },
			})
			all = append(all, sess{cs, l})
			listeners = append(listeners, l)
		}
	}
	for i, s := range all {
		assert.Equal(t, "mcp-servers/everything", s.cs.InitializeResult().ServerInfo.Name)
		tag := s.l.server + "-" + string(rune('a'+i))
		res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{
			Name: "echo", Arguments: map[string]any{"message": tag},
		})
		require.NoError(t, err)
		assert.Equal(t, "Echo: "+tag, resultText(t, res))
	}
	res, err := all[0].cs.CallTool(ctx, &mcp.CallToolParams{
		Name: "get-sum", Arguments: map[string]any{"a": 2, "b": 3},
	})
	require.NoError(t, err)
	assert.Contains(t, resultText(t, res), "5")

	// A long call on ev1, then ev1's process dies under it.
	failed := make(chan error, 1)
	go func() {
		_, err := all[0].cs.CallTool(ctx, &mcp.CallToolParams{
			Name:      "trigger-long-running-operation",
			Arguments: map[string]any{"duration": 30, "steps": 3},
		})
		failed <- err
	}()
	waitPending(t, g, "ev1")
	killed := time.Now()
	require.NoError(t, first.Kill())
	select {
	case err = <-failed:
	case <-ctx.Done():
		t.Fatal("pending call never failed")
	}
	assert.Less(t, time.Since(killed), time.Second, "pending call failed too late")
	var werr *jsonrpc.Error
	require.ErrorAs(t, err, &werr)
	assert.EqualValues(t, codeUpstreamUnavail, werr.Code)

	// ev1 restarts under its ID; its startup notification reaches ev1's
	// sessions only.
	<-procs1
	require.NoError(t, g.WaitUpstream(ctx, "ev1", 2))
	expectListChanged(t, listeners, "ev1")
	res, err = all[1].cs.CallTool(ctx, &mcp.CallToolParams{
		Name: "echo", Arguments: map[string]any{"message": "back"},
	})
	require.NoError(t, err)
	assert.Equal(t, "Echo: back", resultText(t, res))
	assert.Equal(t, Stats{Upstreams: 2, Sessions: 6}, g.Stats())
}

// waitPending waits until upstream id has an unanswered call.
func waitPending(t *testing.T, g *testGateway, id string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for g.ups[id].calls.len() == 0 {
		require.True(t, time.Now().Before(deadline), "no pending call on %s", id)
		time.Sleep(time.Millisecond) // poll; no event to wait on
	}
}
