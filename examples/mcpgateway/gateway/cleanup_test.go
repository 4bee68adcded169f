package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeleteEndsSession(t *testing.T) {
	g := startGateway(t, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(goServer("alpha", nil))},
	}})
	cs := goClient(t, g, "alpha", nil)
	g.waitStats(t, Stats{Upstreams: 1, Sessions: 1})

	require.NoError(t, cs.Close()) // the go-sdk client sends DELETE
	g.waitStats(t, Stats{Upstreams: 1, Sessions: 0})
}

func TestIdleTimeoutEndsSession(t *testing.T) {
	g := startGateway(t, Config{
		Upstreams:   []Upstream{{ID: "alpha", Dial: InMemory(goServer("alpha", nil))}},
		IdleTimeout: 100 * time.Millisecond,
	})
	// A raw client that initializes and then goes silent.
	c := &rawClient{t: t, url: g.endpoint("alpha")}
	c.initialize()
	assert.Equal(t, 1, g.Stats().Sessions)

	g.waitStats(t, Stats{Upstreams: 1, Sessions: 0})
	status, _ := c.post(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	assert.Equal(t, 404, status, "an idle-closed session must be gone")
}

func TestContextCancelEmptiesRegistry(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := New(ctx, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(goServer("alpha", nil))},
		{ID: "beta", Dial: InMemory(goServer("beta", nil))},
	}})
	require.NoError(t, err)
	tg := serve(t, g)
	wctx, wcancel := context.WithTimeout(ctx, waitFor)
	defer wcancel()
	require.NoError(t, g.WaitUpstream(wctx, "alpha", 1))
	require.NoError(t, g.WaitUpstream(wctx, "beta", 1))

	for _, s := range []string{"alpha", "beta", "alpha"} {
		goClient(t, tg, s, nil)
	}
	tg.waitStats(t, Stats{Upstreams: 2, Sessions: 3})

	cancel()
	tg.waitStats(t, Stats{})
	require.NoError(t, g.Close())
}

func TestSessionStartsOnlyWithInitialize(t *testing.T) {
	g := startGateway(t, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(goServer("alpha", nil))},
	}})
	c := &rawClient{t: t, url: g.endpoint("alpha")}

	status, _ := c.post(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	assert.Equal(t, 400, status)
	status, _ = c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	assert.Equal(t, 400, status)
	assert.Equal(t, Stats{Upstreams: 1}, g.Stats())

	other := &rawClient{t: t, url: g.endpoint("nosuch")}
	status, _ = other.post(initializeBody)
	assert.Equal(t, 404, status)
	assert.Equal(t, Stats{Upstreams: 1}, g.Stats())
}

func TestDiscoverIsMethodNotFound(t *testing.T) {
	g := startGateway(t, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(goServer("alpha", nil))},
	}})
	c := &rawClient{t: t, url: g.endpoint("alpha")}
	status, body := c.post(`{"jsonrpc":"2.0","id":7,"method":"server/discover","params":{}}`)
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"jsonrpc":"2.0","id":7,"error":{"code":-32601,
		"message":"gateway: server/discover is not supported; use initialize"}}`, body)
	assert.Equal(t, Stats{Upstreams: 1}, g.Stats())

	// The SDK clients probe with server/discover, then fall back.
	cs := goClient(t, g, "alpha", nil)
	assert.Equal(t, "alpha", cs.InitializeResult().ServerInfo.Name)
}
