package gateway

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// initializeBody is the initialize request of the README's curl session.
const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{` +
	`"protocolVersion":"2025-06-18","capabilities":{},` +
	`"clientInfo":{"name":"curl","version":"1"}}}`

// rawClient speaks the streamable HTTP transport by hand, as the
// README's curl session does.
type rawClient struct {
	t       *testing.T
	url     string
	session string
}

// post sends one message and returns the status and the first JSON-RPC
// message of the reply, read from JSON or from an SSE stream.
func (c *rawClient) post(body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if c.session != "" {
		req.Header.Set(sessionHeader, c.session)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	if id := resp.Header.Get(sessionHeader); id != "" {
		c.session = id
	}

	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, err := io.ReadAll(resp.Body)
		require.NoError(c.t, err)
		return resp.StatusCode, string(b)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return resp.StatusCode, data
		}
	}
	return resp.StatusCode, ""
}

// initialize opens a session as the README does.
func (c *rawClient) initialize() string {
	c.t.Helper()
	status, body := c.post(initializeBody)
	require.Equal(c.t, http.StatusOK, status, body)
	require.NotEmpty(c.t, c.session)
	status, _ = c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	require.Equal(c.t, http.StatusAccepted, status)
	return body
}

// TestRawSession is the README's curl session: initialize, list and
// call tools, end with DELETE.
func TestRawSession(t *testing.T) {
	g := startGateway(t, Config{Upstreams: []Upstream{
		{ID: "alpha", Dial: InMemory(goServer("alpha", nil))},
	}})
	c := &rawClient{t: t, url: g.endpoint("alpha")}
	init := c.initialize()
	require.Contains(t, init, `"protocolVersion":"2025-06-18"`, "the client's older version is kept")
	require.Contains(t, init, `"name":"alpha"`)

	status, body := c.post(`{"jsonrpc":"2.0","id":1,"method":"tools/call",` +
		`"params":{"name":"whoami","arguments":{"tag":"curl"}}}`)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `"id":1`)
	require.Contains(t, body, `alpha:curl`)

	req, err := http.NewRequest(http.MethodDelete, c.url, nil)
	require.NoError(t, err)
	req.Header.Set(sessionHeader, c.session)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, Stats{Upstreams: 1}, g.Stats())
}
