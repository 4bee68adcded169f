package admission_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/mcpshard/registry/admission"
)

var errOverloaded = errors.New("registry: overloaded")

// A registry consults Allow before a registration and brackets every
// write with Begin and End. A fake clock stands in for real latency.
func Example() {
	var now int64
	c, err := admission.New(4, admission.Config{
		Clock: func() int64 { return now },
	})
	if err != nil {
		panic(err)
	}

	register := func(shard int, took time.Duration) error {
		if !c.Allow() {
			return errOverloaded
		}
		start := c.Begin(shard)
		now += int64(took) // the map write
		c.End(shard, start)
		return nil
	}

	// Every shard turns slow: writes take 3ms.
	for range 16 {
		for s := range 4 {
			_ = register(s, 3*time.Millisecond)
		}
	}
	// The gate engaged once three of the four shards were alarmed,
	// more than Fraction (half); it refused shard 3's writes after.
	fmt.Println(register(0, time.Microsecond))
	fmt.Println(c.Status().Alarmed)

	// Contention ends. Every registration was refused, so nothing has
	// written since, yet the gate lifts once the samples are stale.
	now += int64(110 * time.Millisecond)
	fmt.Println(register(0, time.Microsecond))

	// Output:
	// registry: overloaded
	// [0 1 2]
	// <nil>
}
