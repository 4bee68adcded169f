package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// upstreamVersion is the protocol version the gateway asks upstreams
// for: the newest one that still has the initialize handshake.
const upstreamVersion = "2025-11-25"

// handshakeVersions are the versions the gateway can answer a client's
// initialize with, newest first.
var handshakeVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// cancelTimeout bounds the notifications/cancelled a closing session
// sends upstream.
const cancelTimeout = time.Second

// handle dispatches one message from the client. It runs on the
// session's reader.
func (s *session) handle(msg jsonrpc.Message) {
	req, ok := msg.(*jsonrpc.Request)
	if !ok {
		return // a response: the gateway never sends clients requests
	}
	switch {
	case req.IsCall() && req.Method == methodInitialize:
		s.reply(s.initialize(req))
	case req.IsCall() && req.Method == methodDiscover:
		s.reply(discoverNotFound(req.ID))
	case req.IsCall():
		s.forward(req)
	case req.Method == notifyInitialized:
		// The gateway initialized the upstream itself.
	case req.Method == notifyCancelled:
		s.cancelCall(req)
	default:
		s.notify(req)
	}
}

// reply routes a gateway-made response to this session.
func (s *session) reply(resp *jsonrpc.Response) {
	_ = s.g.reg.RouteToTransport(s.ctx, s.id, s.server, resp)
}

// discoverNotFound answers server/discover, so that clients fall back
// to initialize.
func discoverNotFound(id jsonrpc.ID) *jsonrpc.Response {
	return errorResponse(id, jsonrpc.CodeMethodNotFound,
		"gateway: %s is not supported; use initialize", methodDiscover)
}

// initialize answers from the upstream's cached InitializeResult, with
// the client's protocol version when the upstream's is at least as new.
func (s *session) initialize(req *jsonrpc.Request) *jsonrpc.Response {
	res, version := s.g.ups[s.server].initResult()
	if res == nil {
		return errorResponse(req.ID, codeUpstreamUnavail, "gateway: upstream %q is down", s.server)
	}
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(req.Params, &p)
	if known(p.ProtocolVersion) && p.ProtocolVersion < version {
		res, _, _ = swapMember(res, "protocolVersion", strconv.AppendQuote(nil, p.ProtocolVersion))
	}
	return &jsonrpc.Response{ID: req.ID, Result: res}
}

func known(version string) bool {
	for _, v := range handshakeVersions {
		if v == version {
			return true
		}
	}
	return false
}

// forward sends a call to the session's server under a fresh gateway ID
// (and progress token), keeping the client's in a pending call.
func (s *session) forward(req *jsonrpc.Request) {
	server, ok := s.g.reg.ServerOf(s.id)
	if !ok {
		s.reply(errorResponse(req.ID, codeUpstreamUnavail, "gateway: upstream %q is down", s.server))
		return
	}
	u := s.g.ups[server]
	n := s.g.newID()
	params, token, err := swapProgressToken(req.Params, n)
	if err != nil {
		s.reply(errorResponse(req.ID, jsonrpc.CodeInvalidParams, "gateway: params: %v", err))
		return
	}

	c := &call{session: s.id, id: req.ID, token: token}
	u.calls.add(n, c)
	if !s.track(req.ID, n) {
		u.calls.take(n)
		return
	}
	out := &jsonrpc.Request{ID: wireID(n), Method: req.Method, Params: params}
	if err := s.g.reg.RouteToServer(s.ctx, server, s.id, out); err != nil {
		if u.calls.take(n) != nil {
			s.untrack(req.ID)
			s.reply(errorResponse(req.ID, codeUpstreamUnavail, "gateway: upstream %q: %v", server, err))
		}
	}
}

// cancelCall forwards a client's notifications/cancelled under the
// gateway ID of the call it names; the call is dropped, as the upstream
// need not answer it.
func (s *session) cancelCall(req *jsonrpc.Request) {
	id, ok := memberID(req.Params, "requestId")
	if !ok {
		return
	}
	n, ok := s.untrack(id)
	if !ok {
		return
	}
	server, ok := s.g.reg.ServerOf(s.id)
	if !ok || s.g.ups[server].calls.take(n) == nil {
		return
	}
	params, _, err := swapMember(req.Params, "requestId", strconv.AppendInt(nil, n, 10))
	if err != nil {
		return
	}
	out := &jsonrpc.Request{Method: req.Method, Params: params}
	_ = s.g.reg.RouteToServer(s.ctx, server, s.id, out)
}

// notify forwards any other client notification unchanged.
func (s *session) notify(req *jsonrpc.Request) {
	if server, ok := s.g.reg.ServerOf(s.id); ok {
		_ = s.g.reg.RouteToServer(s.ctx, server, s.id, req)
	}
}

// cancelUpstream drops a closed session's unanswered calls and tells the
// upstream, which may stop working on them.
func (s *session) cancelUpstream(inflight map[jsonrpc.ID]int64) {
	u := s.g.ups[s.server]
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), cancelTimeout)
	defer cancel()
	for _, n := range inflight {
		if u.calls.take(n) == nil {
			continue
		}
		params := json.RawMessage(`{"requestId":` + strconv.FormatInt(n, 10) +
			`,"reason":"gateway: client session closed"}`)
		out := &jsonrpc.Request{Method: notifyCancelled, Params: params}
		_ = s.g.reg.RouteToServer(ctx, s.server, s.id, out)
	}
}
