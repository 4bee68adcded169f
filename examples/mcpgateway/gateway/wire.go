package gateway

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// MCP method names the gateway handles itself.
const (
	methodInitialize    = "initialize"
	methodDiscover      = "server/discover"
	methodPing          = "ping"
	notifyInitialized   = "notifications/initialized"
	notifyCancelled     = "notifications/cancelled"
	notifyProgress      = "notifications/progress"
	codeUpstreamUnavail = -32000 // implementation-defined server error
)

// wireID returns gateway ID n as a JSON-RPC ID.
func wireID(n int64) jsonrpc.ID {
	id, _ := jsonrpc.MakeID(float64(n)) // float64 is always accepted
	return id
}

// idNumber returns the gateway ID an upstream sent back, if id is one.
func idNumber(id jsonrpc.ID) (int64, bool) {
	n, ok := id.Raw().(int64)
	return n, ok
}

// errorResponse is a JSON-RPC error response to request id.
func errorResponse(id jsonrpc.ID, code int64, format string, args ...any) *jsonrpc.Response {
	return &jsonrpc.Response{
		ID:    id,
		Error: &jsonrpc.Error{Code: code, Message: fmt.Sprintf(format, args...)},
	}
}

// object is a JSON object whose members are kept undecoded, so a
// rewrite changes one member and leaves the rest byte for byte.
type object map[string]json.RawMessage

func parseObject(raw json.RawMessage) (object, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	return o, nil
}

func (o object) encode() json.RawMessage {
	b, _ := json.Marshal(map[string]json.RawMessage(o)) // raw members re-encode
	return b
}

// swapProgressToken replaces params._meta.progressToken, if present,
// with the gateway's token n. It returns the new params and the
// client's token, or params unchanged and nil when there is no token.
func swapProgressToken(params json.RawMessage, n int64) (json.RawMessage, json.RawMessage, error) {
	p, err := parseObject(params)
	if err != nil || p == nil || p["_meta"] == nil {
		return params, nil, err
	}
	meta, err := parseObject(p["_meta"])
	if err != nil || meta == nil || meta["progressToken"] == nil {
		return params, nil, err
	}

	orig := meta["progressToken"]
	meta["progressToken"] = json.RawMessage(strconv.FormatInt(n, 10))
	p["_meta"] = meta.encode()
	return p.encode(), orig, nil
}

// swapMember replaces the top-level member key of params with v and
// returns the new params and the old value (nil if absent).
func swapMember(params json.RawMessage, key string, v json.RawMessage) (json.RawMessage, json.RawMessage, error) {
	p, err := parseObject(params)
	if err != nil || p == nil || p[key] == nil {
		return params, nil, err
	}
	old := p[key]
	p[key] = v
	return p.encode(), old, nil
}

// memberNumber reads the top-level member key of params as a gateway ID.
func memberNumber(params json.RawMessage, key string) (int64, bool) {
	p, err := parseObject(params)
	if err != nil || p == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p[key]), 10, 64)
	return n, err == nil
}

// memberID reads the top-level member key of params as a JSON-RPC ID.
func memberID(params json.RawMessage, key string) (jsonrpc.ID, bool) {
	p, err := parseObject(params)
	if err != nil || p == nil || p[key] == nil {
		return jsonrpc.ID{}, false
	}
	var v any
	if json.Unmarshal(p[key], &v) != nil {
		return jsonrpc.ID{}, false
	}
	id, err := jsonrpc.MakeID(v)
	return id, err == nil && id.IsValid()
}
