package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpshard/registry/internal/baseline"
)

// Scenario f moves real MCP JSON-RPC messages, encoded and decoded with
// encoding/json, through each registry: clients (transports) send
// requests to servers with RouteToServer, servers answer with
// RouteToTransport, and servers broadcast notifications/tools/list_changed.

const protocolVersion = "2025-06-18"

// rpcMessage is any JSON-RPC 2.0 message: a request has ID and Method, a
// notification Method only, a response ID and Result or Error.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      *int64          `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type implementation struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type initializeParams struct {
	ProtocolVersion string          `json:"protocolVersion"`
	Capabilities    json.RawMessage `json:"capabilities"`
	ClientInfo      implementation  `json:"clientInfo"`
}

type initializeResult struct {
	ProtocolVersion string         `json:"protocolVersion"`
	Capabilities    map[string]any `json:"capabilities"`
	ServerInfo      implementation `json:"serverInfo"`
}

type tool struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	InputSchema map[string]any `json:"inputSchema"`
}

type listToolsResult struct {
	Tools []tool `json:"tools"`
}

type callToolParams struct {
	Name      string         `json:"name"`
	Arguments map[string]int `json:"arguments"`
}

type content struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type callToolResult struct {
	Content []content `json:"content"`
	IsError bool      `json:"isError"`
}

type notificationParams struct {
	Meta struct {
		Seq int `json:"seq"`
	} `json:"_meta"`
}

var addTool = tool{
	Name:        "add",
	Description: "Add two integers",
	InputSchema: map[string]any{
		"type": "object",
		"properties": map[string]any{
			"a": map[string]string{"type": "integer"},
			"b": map[string]string{"type": "integer"},
		},
		"required": []string{"a", "b"},
	},
}

func encode(v any) baseline.Msg {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types are encoded
	}
	return b
}

func request(id int64, method string, params any) baseline.Msg {
	return encode(rpcMessage{JSONRPC: "2.0", ID: &id, Method: method, Params: encode(params)})
}

// mcpServer is a server's handle: it decodes each request, answers it
// through the registry to the transport that sent it, and counts the
// notifications/initialized each client sends.
type mcpServer struct {
	id          string
	reg         baseline.Registry
	index       map[string]int // transport ID -> client index; read-only
	initialized []atomic.Int32 // per client
	bad         atomic.Int64   // undecodable or unexpected messages
}

func (s *mcpServer) Write(ctx context.Context, msg baseline.Msg) error {
	return s.WriteFrom(ctx, "", msg)
}

func (s *mcpServer) WriteFrom(ctx context.Context, from string, msg baseline.Msg) error {
	var m rpcMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		s.bad.Add(1)
		return err
	}
	if m.ID == nil {
		i, ok := s.index[from]
		if m.Method != "notifications/initialized" || !ok {
			s.bad.Add(1)
			return nil
		}
		s.initialized[i].Add(1)
		return nil
	}

	var result any
	switch m.Method {
	case "initialize":
		var p initializeParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return err
		}
		result = initializeResult{
			ProtocolVersion: p.ProtocolVersion,
			Capabilities:    map[string]any{"tools": map[string]bool{"listChanged": true}},
			ServerInfo:      implementation{Name: s.id, Version: "1.0.0"},
		}
	case "tools/list":
		result = listToolsResult{Tools: []tool{addTool}}
	case "tools/call":
		var p callToolParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return err
		}
		sum := p.Arguments["a"] + p.Arguments["b"]
		result = callToolResult{Content: []content{{Type: "text", Text: strconv.Itoa(sum)}}}
	default:
		s.bad.Add(1)
		return fmt.Errorf("unknown method %q", m.Method)
	}
	resp := encode(rpcMessage{JSONRPC: "2.0", ID: m.ID, Result: encode(result)})
	return s.reg.RouteToTransport(ctx, from, s.id, resp)
}

// mcpClient is a transport's handle: it queues what it receives for its
// connection's goroutine. It never blocks; a full inbox is an error,
// which the run counts as a lost message.
type mcpClient struct {
	inbox chan baseline.Msg
}

var errInboxFull = errors.New("regbench: client inbox full")

func (c *mcpClient) Write(_ context.Context, msg baseline.Msg) error {
	select {
	case c.inbox <- msg:
		return nil
	default:
		return errInboxFull
	}
}

// mcpResult is scenario f on one implementation.
type mcpResult struct {
	conns        int
	connect, rtt latency
	broadcast    latency
	messages     int64
	busy         time.Duration // from the start signal to the last client done
	notified     int64         // notifications received
	wantNotified int64
	exactlyOnce  bool
	empty        bool
	emptyAfter   time.Duration
	failures     int64
	firstFailure string
}

func (r *runner) mcp() {
	for _, impl := range r.plan.impls {
		if !impl.Bindings || r.ctx.Err() != nil {
			continue
		}
		r.prog.step("f " + impl.Label())
		res := r.mcpRun(impl)
		put(&r.res.conns, impl.Label(), res)
		r.rep.check("f", impl.Label()+" exactly once", res.exactlyOnce,
			"%s connections; %s notifications of %s; %d failures%s", count(res.conns),
			count(int(res.notified)), count(int(res.wantNotified)), res.failures, firstOf(res.firstFailure))
		r.rep.check("f", impl.Label()+" ends empty", res.empty,
			"registry empty %s after the last context was cancelled", res.emptyAfter.Round(time.Microsecond))
		gc()
	}
	r.mcpTable()
}

func firstOf(s string) string {
	if s == "" {
		return ""
	}
	return "; first: " + s
}

func (r *runner) mcpRun(impl baseline.Impl) mcpResult {
	p := r.plan
	res := mcpResult{conns: p.conns}
	reg, err := impl.New(0)
	if err != nil {
		res.firstFailure = err.Error()
		return res
	}
	defer reg.Close()

	var failures atomic.Int64
	var firstFail atomic.Pointer[string]
	fail := func(format string, args ...any) {
		if failures.Add(1) == 1 {
			s := fmt.Sprintf(format, args...)
			firstFail.Store(&s)
		}
	}

	// Servers, each registered with a context of its own.
	trIDs := baseline.IDs("sess-", p.conns, r.opts.seed)
	index := make(map[string]int, len(trIDs))
	for i, id := range trIDs {
		index[id] = i
	}
	initialized := make([]atomic.Int32, p.conns)
	srvCtx, cancelServers := context.WithCancel(context.Background())
	defer cancelServers()
	servers := make([]*mcpServer, p.connServers)
	for i := range servers {
		servers[i] = &mcpServer{id: fmt.Sprintf("mcp-server-%02d", i), reg: reg, index: index, initialized: initialized}
		if err := reg.RegisterServer(srvCtx, servers[i].id, servers[i],
			baseline.ServerConfig{Name: servers[i].id, Tools: []string{"add"}}); err != nil {
			fail("register server: %v", err)
		}
	}

	// Connections: register, bind, then wait for the start signal.
	rounds := 2 + p.toolCalls
	connectNs := make([]int64, p.conns)
	rttNs := make([]int64, p.conns*rounds)
	notified := make([]int64, p.conns)
	start := make(chan struct{})
	notifyDone := make(chan struct{})
	abort := make(chan struct{})
	var ready, requestsDone, exited sync.WaitGroup
	ready.Add(p.conns)
	requestsDone.Add(p.conns)
	exited.Add(p.conns)
	for i := range p.conns {
		go func() {
			defer exited.Done()
			c := conn{
				id: trIDs[i], server: servers[i%len(servers)].id, reg: reg,
				client: &mcpClient{inbox: make(chan baseline.Msg, p.notifications+4)},
				abort:  abort, fail: fail,
			}
			ok := c.connect(&connectNs[i])
			ready.Done()
			if !ok {
				requestsDone.Done()
				return
			}
			<-start
			c.requests(p.toolCalls, rttNs[i*rounds:(i+1)*rounds])
			requestsDone.Done()
			<-notifyDone
			notified[i] = c.drain(p.notifications)
			c.cancel()
		}()
	}
	ready.Wait()

	// Requests and notifications run together; every client stays
	// bound until both are done.
	hb := newHist()
	t0 := time.Now()
	close(start)
	var notifiers sync.WaitGroup
	var bcastMu sync.Mutex
	for _, s := range servers {
		notifiers.Add(1)
		go func() {
			defer notifiers.Done()
			want := p.conns / len(servers)
			if idx := indexOf(servers, s); idx < p.conns%len(servers) {
				want++
			}
			for seq := range p.notifications {
				n := encode(rpcMessage{JSONRPC: "2.0", Method: "notifications/tools/list_changed",
					Params: encode(notificationParams{Meta: struct {
						Seq int `json:"seq"`
					}{seq}})})
				t := time.Now()
				d, f, err := reg.Broadcast(context.Background(), s.id, n)
				el := int64(time.Since(t))
				bcastMu.Lock()
				record(hb, el)
				bcastMu.Unlock()
				if err != nil || d != want || f != 0 {
					fail("broadcast %s seq %d: delivered %d of %d, %d failed, %v", s.id, seq, d, want, f, err)
				}
			}
		}()
	}
	notifiers.Wait()
	waitOr(&requestsDone, 2*time.Minute, abort)
	res.busy = time.Since(t0)
	close(notifyDone)
	waitOr(&exited, 2*time.Minute, abort)

	// Every client has cancelled its context; now the servers go too.
	cancelServers()
	tEnd := time.Now()
	res.empty = waitEmpty(reg, 30*time.Second)
	res.emptyAfter = time.Since(tEnd)
	for _, id := range trIDs[:min(len(trIDs), 100)] {
		if _, ok := reg.ServerOf(id); ok {
			res.empty = false
		}
	}

	// Tally.
	hc, hr := newHist(), newHist()
	for _, v := range connectNs {
		record(hc, v)
	}
	for _, v := range rttNs {
		if v > 0 {
			record(hr, v)
		}
	}
	for i := range initialized {
		if n := initialized[i].Load(); n != 1 {
			fail("client %d: server saw notifications/initialized %d times", i, n)
		}
	}
	for _, s := range servers {
		if n := s.bad.Load(); n > 0 {
			fail("server %s: %d unexpected messages", s.id, n)
		}
	}
	for _, n := range notified {
		res.notified += n
	}
	res.wantNotified = int64(p.conns * p.notifications)
	res.connect, res.rtt, res.broadcast = summarize(hc), summarize(hr), summarize(hb)
	// Client to server (requests and initialized), server to client
	// (responses), and notifications received.
	res.messages = int64(p.conns*(rounds+1+rounds)) + res.notified
	res.failures = failures.Load()
	if s := firstFail.Load(); s != nil {
		res.firstFailure = *s
	}
	res.exactlyOnce = res.failures == 0 && res.notified == res.wantNotified
	return res
}

func indexOf(xs []*mcpServer, x *mcpServer) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// waitOr waits for wg up to d; past that it closes abort, which makes
// every client give up, and waits again.
func waitOr(wg *sync.WaitGroup, d time.Duration, abort chan struct{}) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		select {
		case <-abort:
		default:
			close(abort)
		}
		<-done
	}
}

// waitEmpty polls until reg holds nothing or d passes. Context cleanups
// run on goroutines of their own (context.AfterFunc) and report nothing,
// so emptiness is the only signal there is.
func waitEmpty(reg baseline.Registry, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		s, t := reg.Counts()
		if s == 0 && t == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// conn is one MCP client connection's goroutine state.
type conn struct {
	id, server string
	reg        baseline.Registry
	client     *mcpClient
	ctx        context.Context
	cancel     context.CancelFunc
	abort      <-chan struct{}
	fail       func(string, ...any)
	seen       map[int]int // notification seq -> times received
}

func (c *conn) connect(ns *int64) bool {
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.seen = map[int]int{}
	t := time.Now()
	err := c.reg.RegisterTransport(c.ctx, c.id, c.client, baseline.TransportConfig{Kind: "streamable-http"})
	if err == nil {
		err = c.reg.Bind(c.id, c.server)
	}
	*ns = int64(time.Since(t))
	if err != nil {
		c.fail("connect %s: %v", c.id, err)
		c.cancel()
		return false
	}
	return true
}

// requests runs the session: initialize, notifications/initialized,
// tools/list and calls tool calls, each request awaited before the next.
func (c *conn) requests(calls int, rtt []int64) {
	id := int64(0)
	send := func(method string, params any, check func(json.RawMessage) bool) {
		id++
		msg := request(id, method, params)
		t := time.Now()
		if err := c.reg.RouteToServer(c.ctx, c.server, c.id, msg); err != nil {
			c.fail("%s %s: %v", c.id, method, err)
			return
		}
		res, ok := c.await(id)
		rtt[id-1] = int64(time.Since(t))
		if ok && !check(res) {
			c.fail("%s %s: unexpected result %s", c.id, method, res)
		}
	}

	send("initialize", initializeParams{
		ProtocolVersion: protocolVersion,
		Capabilities:    json.RawMessage(`{}`),
		ClientInfo:      implementation{Name: "regbench", Version: "1.0.0"},
	}, func(raw json.RawMessage) bool {
		var r initializeResult
		return json.Unmarshal(raw, &r) == nil && r.ServerInfo.Name == c.server
	})
	note := encode(rpcMessage{JSONRPC: "2.0", Method: "notifications/initialized"})
	if err := c.reg.RouteToServer(c.ctx, c.server, c.id, note); err != nil {
		c.fail("%s initialized: %v", c.id, err)
	}
	send("tools/list", struct{}{}, func(raw json.RawMessage) bool {
		var r listToolsResult
		return json.Unmarshal(raw, &r) == nil && len(r.Tools) == 1 && r.Tools[0].Name == "add"
	})
	for k := range calls {
		a, b := int(id), k+1
		send("tools/call", callToolParams{Name: "add", Arguments: map[string]int{"a": a, "b": b}},
			func(raw json.RawMessage) bool {
				var r callToolResult
				return json.Unmarshal(raw, &r) == nil && len(r.Content) == 1 &&
					r.Content[0].Text == strconv.Itoa(a+b)
			})
	}
}

// await reads the inbox until the response to id arrives, counting the
// notifications it passes; any other response is a duplicate or a
// stray and fails the run.
func (c *conn) await(id int64) (json.RawMessage, bool) {
	for {
		select {
		case msg := <-c.client.inbox:
			m, ok := c.decode(msg)
			if !ok || m.ID == nil {
				continue
			}
			if *m.ID != id {
				c.fail("%s: response %d while awaiting %d", c.id, *m.ID, id)
				continue
			}
			return m.Result, true
		case <-c.abort:
			c.fail("%s: no response to %d", c.id, id)
			return nil, false
		}
	}
}

// decode parses msg; a notification is counted by its seq.
func (c *conn) decode(msg baseline.Msg) (rpcMessage, bool) {
	var m rpcMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		c.fail("%s: undecodable message: %v", c.id, err)
		return m, false
	}
	if m.ID == nil {
		var np notificationParams
		if m.Method != "notifications/tools/list_changed" || json.Unmarshal(m.Params, &np) != nil {
			c.fail("%s: unexpected notification %q", c.id, m.Method)
			return m, false
		}
		c.seen[np.Meta.Seq]++
	}
	return m, true
}

// drain reads what is left once every broadcast has returned: only
// notifications may remain. It returns how many notifications the
// connection received in all, each seq exactly once.
func (c *conn) drain(want int) int64 {
	for {
		select {
		case msg := <-c.client.inbox:
			if m, ok := c.decode(msg); ok && m.ID != nil {
				c.fail("%s: stray response %d", c.id, *m.ID)
			}
			continue
		default:
		}
		break
	}
	var n int64
	for seq := range want {
		switch k := c.seen[seq]; k {
		case 1:
			n++
		default:
			c.fail("%s: notification %d received %d times", c.id, seq, k)
		}
	}
	if len(c.seen) > want {
		c.fail("%s: %d distinct notifications, want %d", c.id, len(c.seen), want)
	}
	return n
}

func (r *runner) mcpTable() {
	p := r.plan
	t := Table{
		ID:    "f",
		Title: fmt.Sprintf("%s concurrent MCP connections through their whole life", count(p.conns)),
		Head: []string{"implementation", "connections", "connect p50 / p99", "request RTT p50 / p99 / p99.9",
			"messages/s", "broadcast p50", "notifications exactly once", "empty after disconnect", "messages/s ÷ " + refLabel},
	}
	t.Rows = append(t.Rows,
		[]string{"published: sharded", "15,000+", "—", "—", "—", "—", "not checked", "not checked", "—"},
		[]string{"published: original", "150", "—", "—", "—", "—", "—", "—", "—"})
	ref := r.res.conns[refLabel]
	refRate := float64(ref.messages) / ref.busy.Seconds()
	for _, impl := range p.impls {
		res, ok := r.res.conns[impl.Label()]
		if !ok {
			continue
		}
		mr := float64(res.messages) / res.busy.Seconds()
		t.Rows = append(t.Rows, []string{impl.Label(), count(res.conns),
			nsi(res.connect.P50) + " / " + nsi(res.connect.P99),
			nsi(res.rtt.P50) + " / " + nsi(res.rtt.P99) + " / " + nsi(res.rtt.P999),
			rate(mr), nsi(res.broadcast.P50),
			fmt.Sprintf("%s (%s of %s)", yesNo(res.exactlyOnce), count(int(res.notified)), count(int(res.wantNotified))),
			fmt.Sprintf("%s (%s)", yesNo(res.empty), res.emptyAfter.Round(time.Microsecond)),
			ratio(mr, refRate)})
	}
	t.Note = fmt.Sprintf("Each connection is a goroutine with a transport registered under its own context and bound to one of %d servers. "+
		"Together they send initialize, notifications/initialized, tools/list and %d tools/call requests, each JSON-RPC 2.0 encoded with encoding/json, routed with RouteToServer; "+
		"the server decodes it, answers with RouteToTransport, and the client decodes and checks the answer (RTT covers all of that). "+
		"Meanwhile each server broadcasts %d notifications/tools/list_changed, each carrying a sequence number in params._meta. "+
		"Checked: every response arrives once and matches, every client gets every notification exactly once, every server sees one notifications/initialized per client; "+
		"then every client cancels its context, the servers' context is cancelled, and the registry must become empty (the time is how long context.AfterFunc cleanups took). "+
		"messages/s counts requests, notifications/initialized, responses and notifications over the time from the start signal to the last client done.",
		p.connServers, p.toolCalls, p.notifications)
	r.rep.Tables = append(r.rep.Tables, t)
}
