package baseline

import (
	"context"
	"sync/atomic"
)

// Counter is a handle that counts the messages written to it and does
// nothing else: the "direct handle" of the broadcast target. It is safe
// for concurrent use.
type Counter struct {
	n atomic.Int64
}

// Write counts msg.
func (c *Counter) Write(context.Context, Msg) error {
	c.n.Add(1)
	return nil
}

// Count returns the number of messages written.
func (c *Counter) Count() int64 { return c.n.Load() }

// Nop is a handle that does nothing: the cheapest handle there is, for
// measuring what the registry itself costs per target.
type Nop struct{}

// Write does nothing.
func (Nop) Write(context.Context, Msg) error { return nil }
