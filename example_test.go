package registry_test

import (
	"context"
	"fmt"

	"github.com/mcpshard/registry"
)

// printer is a handle that prints what it receives.
type printer string

func (p printer) Write(_ context.Context, msg string) error {
	fmt.Printf("%s <- %s\n", p, msg)
	return nil
}

type serverConfig struct{ Tools []string }

type transportConfig struct{ Kind string }

func Example() {
	reg, err := registry.New[string, serverConfig, transportConfig]()
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	ctx := context.Background()

	// A server, and two client transports bound to it.
	_, _ = reg.RegisterServer(ctx, "weather", printer("weather"),
		serverConfig{Tools: []string{"forecast"}})
	_, _ = reg.RegisterBoundTransport(ctx, "stdio-1", "weather",
		printer("stdio-1"), transportConfig{Kind: "stdio"})
	_, _ = reg.RegisterTransport(ctx, "http-7", printer("http-7"),
		transportConfig{Kind: "http"})
	_ = reg.Bind("http-7", "weather")

	// Lookups never lock.
	srv, _ := reg.FindServer("weather")
	fmt.Println("tools:", srv.Config().Tools)
	owner, _ := reg.ServerOf("http-7")
	fmt.Println("http-7 is bound to", owner)

	// A request to the server, its response back, a notification to all.
	_ = reg.RouteToServer(ctx, "weather", "stdio-1", "tools/call")
	_ = reg.RouteToTransport(ctx, "stdio-1", "weather", "result")
	res, _ := reg.Broadcast(ctx, "weather", "notifications/tools/list_changed")
	fmt.Println("delivered:", res.Delivered)

	// Unregistering the server unbinds its transports.
	_ = reg.UnregisterServer("weather")
	_, bound := reg.ServerOf("stdio-1")
	fmt.Println("stdio-1 still bound:", bound)

	// Unordered output:
	// tools: [forecast]
	// http-7 is bound to weather
	// weather <- tools/call
	// stdio-1 <- result
	// stdio-1 <- notifications/tools/list_changed
	// http-7 <- notifications/tools/list_changed
	// delivered: 2
	// stdio-1 still bound: false
}
