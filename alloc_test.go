package registry_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/hashing"
)

// originCounter is an OriginWriter that only counts.
type originCounter struct{ counter }

func (h *originCounter) WriteFrom(context.Context, string, string) error {
	h.n.Add(1)
	return nil
}

// Lookups and successful routing allocate nothing, with the real hash
// and with a custom one, for hits and misses alike.
func TestHotPathsDoNotAllocate(t *testing.T) {
	configs := []struct {
		name string
		opts []registry.Option
	}{
		{"xxh3", nil},
		{"OneShard", []registry.Option{registry.WithHasher(hashing.OneShard)}},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			r := newReg(t, cfg.opts...)
			mustServer(t, r, "srv", &counter{})
			mustServer(t, r, "origin-srv", &originCounter{})
			mustBound(t, r, "tr", "srv", &counter{})
			mustBound(t, r, "tr-2", "srv", &originCounter{})
			mustTransport(t, r, "loose", &counter{})
			ctx := context.Background()
			fail := func(err error) {
				if err != nil {
					panic(err)
				}
			}

			tests := []struct {
				name string
				give func()
			}{
				{"FindServer/hit", func() { _, _ = r.FindServer("srv") }},
				{"FindServer/miss", func() { _, _ = r.FindServer("ghost") }},
				{"FindTransport/hit", func() { _, _ = r.FindTransport("tr") }},
				{"FindTransport/miss", func() { _, _ = r.FindTransport("ghost") }},
				{"ServerOf/bound", func() { _, _ = r.ServerOf("tr") }},
				{"ServerOf/unbound", func() { _, _ = r.ServerOf("loose") }},
				{"ServerOf/miss", func() { _, _ = r.ServerOf("ghost") }},
				{"TransportsOf/hit", func() {
					b, _ := r.TransportsOf("srv")
					_ = b.Len()
				}},
				{"TransportsOf/miss", func() { _, _ = r.TransportsOf("ghost") }},
				{"RouteToServer", func() { fail(r.RouteToServer(ctx, "srv", "tr", "m")) }},
				{"RouteToServer/origin", func() {
					fail(r.RouteToServer(ctx, "origin-srv", "tr", "m"))
				}},
				{"RouteToTransport", func() { fail(r.RouteToTransport(ctx, "tr", "srv", "m")) }},
				{"RouteToTransport/origin", func() {
					fail(r.RouteToTransport(ctx, "tr-2", "srv", "m"))
				}},
				{"Broadcast/no failures", func() {
					_, err := r.Broadcast(ctx, "srv", "m")
					fail(err)
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					assert.Zero(t, testing.AllocsPerRun(200, tt.give))
				})
			}
		})
	}
}
