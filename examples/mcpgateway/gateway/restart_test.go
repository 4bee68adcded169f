package gateway

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dial records one call of a flaky dialer.
type dial struct {
	at   time.Time
	kill func() // nil for a failed dial
}

// flakyInMemory serves s over pipes, reports every dial and fails the
// dials numbered in fail (the first is 1). A dial's kill closes both
// pipes, as the exit of a stdio server would.
func flakyInMemory(s *mcp.Server, dials chan<- dial, fail ...int) Dialer {
	n := 0
	return func(ctx context.Context) (mcp.Connection, error) {
		n++ // dials are sequential: one supervisor per upstream
		for _, f := range fail {
			if f == n {
				dials <- dial{at: time.Now()}
				return nil, errors.New("dial refused")
			}
		}
		toServer, fromGateway := io.Pipe()
		toGateway, fromServer := io.Pipe()
		serverSide := &mcp.IOTransport{Reader: toServer, Writer: fromServer}
		if _, err := s.Connect(ctx, serverSide, nil); err != nil {
			return nil, err
		}
		kill := func() {
			_ = fromServer.Close()
			_ = toServer.Close()
		}
		dials <- dial{at: time.Now(), kill: kill}
		return (&mcp.IOTransport{Reader: toGateway, Writer: fromGateway}).Connect(ctx)
	}
}

// TestUpstreamExit kills an upstream under a pending call: the call
// fails with a JSON-RPC error within a second, the upstream comes back
// under the same ID after backoff, and the same client session works
// again.
func TestUpstreamExit(t *testing.T) {
	started := make(chan string, 1)
	dials := make(chan dial, 8)
	const minBackoff = 50 * time.Millisecond
	g := startGateway(t, Config{
		Upstreams: []Upstream{
			{ID: "alpha", Dial: flakyInMemory(goServer("alpha", started), dials, 2, 3)},
			{ID: "beta", Dial: InMemory(goServer("beta", nil))},
		},
		MinBackoff: minBackoff,
		MaxBackoff: 8 * minBackoff,
	})
	first := <-dials
	cs := goClient(t, g, "alpha", nil)
	other := goClient(t, g, "beta", nil)

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	failed := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "block", Arguments: tagIn{"x"}})
		failed <- err
	}()
	<-started

	// Kill the upstream: the gateway reads EOF.
	killed := time.Now()
	first.kill()
	var err error
	select {
	case err = <-failed:
	case <-ctx.Done():
		t.Fatal("pending call never failed")
	}
	assert.Less(t, time.Since(killed), time.Second, "pending call failed too late")
	var werr *jsonrpc.Error
	require.ErrorAs(t, err, &werr)
	assert.EqualValues(t, codeUpstreamUnavail, werr.Code)

	// Restart with doubling backoff: two refused dials, then success.
	d2, d3, d4 := <-dials, <-dials, <-dials
	assert.GreaterOrEqual(t, d2.at.Sub(killed), minBackoff)
	assert.GreaterOrEqual(t, d3.at.Sub(d2.at), 2*minBackoff)
	assert.GreaterOrEqual(t, d4.at.Sub(d3.at), 4*minBackoff)
	require.NotNil(t, d4.kill)
	require.NoError(t, g.WaitUpstream(ctx, "alpha", 2))

	// The session survived and is bound again.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: tagIn{"again"}})
	require.NoError(t, err)
	assert.Equal(t, "alpha:again", resultText(t, res))
	res, err = other.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: tagIn{"b"}})
	require.NoError(t, err)
	assert.Equal(t, "beta:b", resultText(t, res))
	assert.Equal(t, Stats{Upstreams: 2, Sessions: 2}, g.Stats())
	assert.Zero(t, pendingCalls(g.Gateway))
}
