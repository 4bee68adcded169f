// Package gateway is an MCP gateway built on the official MCP Go SDK and
// on package registry: it fronts several upstream MCP servers for many
// client sessions, and every route between them goes through one
// [registry.Registry].
//
// # Entries
//
// Each upstream server is a registry server whose handle is the
// upstream's [mcp.Connection]; each client session is a registry
// transport whose handle is the session's own [mcp.Connection], the
// server side of the SDK's streamable HTTP transport. A session is bound
// to the server its URL path names, /mcp/{server}. Neither handle is
// wrapped: the registry calls the SDK's Write directly.
//
// # Who speaks the protocol
//
// The registry only stores and routes. The gateway initializes each
// upstream once and answers every client's initialize from that cached
// result; it answers server/discover with method-not-found, so clients
// fall back to initialize; it rewrites every forwarded request's ID to an
// ID of its own and keeps the client's ID in a pending call, so that
// clients using the same IDs never collide; it rewrites progress tokens
// the same way, so progress reaches only its caller. Responses go back
// with [registry.Registry.RouteToTransport]; other server notifications,
// such as notifications/tools/list_changed, go with
// [registry.Registry.Broadcast] to the sessions bound to that server.
//
// # Lifecycles
//
// A session exists only after an initialize request. It ends on DELETE,
// on a read error, after an idle timeout, or when the gateway's context
// ends, and leaves nothing in the registry. An upstream that exits fails
// its pending calls with JSON-RPC errors at once, is unregistered, and
// is restarted with exponential backoff under the same ID; the sessions
// bound to it are bound again when it is back.
//
// # Goroutines
//
// One goroutine per upstream supervises it and reads from it; one per
// session reads from the session. [Gateway.Close] stops and waits for
// all of them.
package gateway
