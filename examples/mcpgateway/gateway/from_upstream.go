package gateway

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// handle dispatches one message read from the upstream. It runs on the
// upstream's read goroutine, so a slow session's Write delays the
// messages behind it (see the README's Limitations).
func (u *upstream) handle(ctx context.Context, msg jsonrpc.Message) {
	switch m := msg.(type) {
	case *jsonrpc.Response:
		u.respond(m)
	case *jsonrpc.Request:
		switch {
		case m.IsCall():
			// The gateway is the upstream's only client and offers no
			// client features; it answers for itself.
			_ = u.g.reg.RouteToServer(ctx, u.id, "", u.answer(m))
		case m.Method == notifyProgress:
			u.progress(m)
		case m.Method == notifyCancelled:
			// The upstream cancels a request of its own; the gateway
			// answered those at once.
		default:
			u.broadcast(ctx, m)
		}
	}
}

// answer is the gateway's reply to a request from the upstream: an
// empty result for ping, method-not-found for anything else.
func (u *upstream) answer(req *jsonrpc.Request) *jsonrpc.Response {
	if req.Method == methodPing {
		return &jsonrpc.Response{ID: req.ID, Result: json.RawMessage(`{}`)}
	}
	return errorResponse(req.ID, jsonrpc.CodeMethodNotFound,
		"gateway: %s is not offered to upstream servers", req.Method)
}

// respond sends an upstream response back to its caller, under the
// caller's own ID.
func (u *upstream) respond(resp *jsonrpc.Response) {
	n, ok := idNumber(resp.ID)
	if !ok {
		return
	}
	c := u.calls.take(n)
	if c == nil {
		return // cancelled, or its session ended
	}
	u.reply(c, &jsonrpc.Response{ID: c.id, Result: resp.Result, Error: resp.Error})
}

// reply routes resp to the session that made call c. The session no
// longer tracks c afterwards.
func (u *upstream) reply(c *call, resp *jsonrpc.Response) {
	if t, ok := u.g.reg.FindTransport(c.session); ok {
		t.Config().untrack(c.id)
	}
	err := u.g.reg.RouteToTransport(context.Background(), c.session, u.id, resp)
	if err != nil {
		u.g.log.Debug("gateway: response dropped",
			slog.String("upstream", u.id), slog.String("session", c.session),
			slog.Any("err", err))
	}
}

// progress sends a progress notification to the one session whose call
// carries its token, with the token that session chose.
func (u *upstream) progress(m *jsonrpc.Request) {
	n, ok := memberNumber(m.Params, "progressToken")
	if !ok {
		return
	}
	c := u.calls.peek(n)
	if c == nil || c.token == nil {
		return
	}
	params, _, err := swapMember(m.Params, "progressToken", c.token)
	if err != nil {
		return
	}
	out := &jsonrpc.Request{Method: m.Method, Params: params}
	_ = u.g.reg.RouteToTransport(context.Background(), c.session, u.id, out)
}

// broadcast sends a server notification to every session bound to the
// upstream. Sessions without an open GET stream cannot take it; that is
// logged, not an error.
func (u *upstream) broadcast(ctx context.Context, m *jsonrpc.Request) {
	res, err := u.g.reg.Broadcast(ctx, u.id, m)
	if err != nil {
		u.g.log.Debug("gateway: broadcast failed",
			slog.String("upstream", u.id), slog.String("method", m.Method), slog.Any("err", err))
		return
	}
	if len(res.Failed) > 0 {
		u.g.log.Debug("gateway: broadcast not delivered to every session",
			slog.String("upstream", u.id), slog.String("method", m.Method),
			slog.Int("delivered", res.Delivered), slog.Int("failed", len(res.Failed)))
	}
}
