package registry_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/admission"
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

// A registration refused by admission control, and the contention status
// that explains it. A fake clock, advanced 3 ms by every write, stands in
// for a contended machine.
func ExampleRegistry_ContentionStatus() {
	var now atomic.Int64
	cfg := admission.DefaultConfig()
	cfg.Clock = now.Load
	reg, _ := registry.New[string, serverConfig, transportConfig](
		registry.WithShards(2),
		registry.WithAdmission(cfg),
		registry.WithWriteDelay(func(int) time.Duration {
			now.Add(int64(3 * time.Millisecond)) // every write is slow
			return 0
		}))
	defer reg.Close()
	ctx := context.Background()

	var err error
	for i := 0; err == nil; i++ {
		_, err = reg.RegisterServer(ctx, fmt.Sprintf("server-%d", i),
			printer("s"), serverConfig{})
	}
	fmt.Println(err)

	st := reg.ContentionStatus()
	fmt.Println("admission active:", st.AdmissionActive)
	fmt.Println("alarmed shards:", st.AlarmedShards)
	for _, p := range reg.PartitionStats() {
		fmt.Printf("shard %d: alarmed=%v ewma>1ms=%v\n",
			p.Index, p.Alarmed, p.EWMANs > int64(time.Millisecond))
	}

	// Output:
	// registry: register server "server-25": admission control active
	// admission active: true
	// alarmed shards: [0 1]
	// shard 0: alarmed=true ewma>1ms=true
	// shard 1: alarmed=true ewma>1ms=true
}
