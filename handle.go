package registry

import (
	"context"
	"reflect"
)

// Handle is what the registry delivers messages through: the caller's
// connection to a server or a transport. The official MCP Go SDK's
// mcp.Connection satisfies Handle[jsonrpc.Message] as it is.
//
// Write may be called from many goroutines at once, by routing and by
// broadcasts; the registry holds no lock while it runs. A Write that
// panics is recovered and reported as that target's [*PanicError].
type Handle[M any] interface {
	Write(ctx context.Context, msg M) error
}

// OriginWriter is an optional interface for a [Handle] that wants to know
// who sent a message. When a handle implements it, routing calls
// WriteFrom instead of Write, with the sending transport's ID (for
// [Registry.RouteToServer]) or server's ID (for
// [Registry.RouteToTransport] and [Registry.Broadcast]). The check is made
// once, at registration, so handles without it pay nothing.
type OriginWriter[M any] interface {
	WriteFrom(ctx context.Context, from string, msg M) error
}

// isNil reports whether h is nil or holds a nil pointer, map, chan, func
// or slice, which would panic on its first Write. Registration pays one
// reflect.ValueOf, which does not allocate.
func isNil[M any](h Handle[M]) bool {
	if h == nil {
		return true
	}
	switch v := reflect.ValueOf(h); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}
