package admission

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidConfig is the sentinel that every [ConfigError] unwraps to.
var ErrInvalidConfig = errors.New("admission: invalid config")

// ConfigError names the setting that [Config.Validate] or [New] refused.
// It unwraps to [ErrInvalidConfig].
type ConfigError struct {
	Field  string // Config field name, or "shards" for New's argument
	Value  any    // the refused value, after defaults were applied
	Reason string // what the value must be
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("admission: invalid %s %v: %s",
		e.Field, e.Value, e.Reason)
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Config tunes a [Controller]. A zero field takes the value of
// [DefaultConfig]; a zero Release takes Fraction/2. To ask for a zero
// Release (lift only when no shard is alarmed) give any value below
// 1/shards, such as 1e-9. The package doc explains each default.
type Config struct {
	// Threshold is the EWMA write latency above which a shard is
	// alarmed. An alarmed shard clears when its EWMA falls to
	// Threshold/2 or below.
	Threshold time.Duration

	// MinWrites is how many writes a shard must see in the last Window
	// to be alarmed, so that a few slow writes on an idle shard count
	// for nothing.
	MinWrites int

	// Window is the length of the write-count window. A shard whose
	// last latency sample is a Window old or older is not alarmed,
	// whatever its EWMA: this is what lifts a gate that has refused
	// every write.
	Window time.Duration

	// Fraction is the share of shards that must be alarmed, strictly
	// more than, for the gate to engage. It lies in [0, 1).
	Fraction float64

	// Release is the share of alarmed shards at or below which an
	// engaged gate lifts. It lies in [0, Fraction].
	Release float64

	// Alpha is the EWMA weight of a new sample, in (0, 1].
	Alpha float64

	// SampleEvery times one write in SampleEvery; the others are only
	// counted. It must be a power of two; 1 times every write.
	SampleEvery int

	// Clock returns monotonic nanoseconds. Nil means the process's
	// monotonic clock. Tests pass a fake clock that they advance.
	Clock func() int64
}

// DefaultConfig returns the defaults explained in the package doc:
// Threshold 1ms, MinWrites 8, Window 100ms, Fraction 0.5, Release 0.25,
// Alpha 0.25, SampleEvery 8 and the real clock.
func DefaultConfig() Config {
	return Config{
		Threshold:   time.Millisecond,
		MinWrites:   8,
		Window:      100 * time.Millisecond,
		Fraction:    0.5,
		Release:     0.25,
		Alpha:       0.25,
		SampleEvery: 8,
	}
}

// withDefaults returns c with every zero field filled in.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Threshold == 0 {
		c.Threshold = d.Threshold
	}
	if c.MinWrites == 0 {
		c.MinWrites = d.MinWrites
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.Fraction == 0 {
		c.Fraction = d.Fraction
	}
	if c.Release == 0 {
		c.Release = c.Fraction / 2
	}
	if c.Alpha == 0 {
		c.Alpha = d.Alpha
	}
	if c.SampleEvery == 0 {
		c.SampleEvery = d.SampleEvery
	}
	return c
}

// Validate reports the first field that [New] would refuse, as a
// *[ConfigError]. Zero fields are valid: they take their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(field string, v any, reason string) error {
		return &ConfigError{Field: field, Value: v, Reason: reason}
	}

	switch {
	case c.Threshold < 0:
		return bad("Threshold", c.Threshold, "must be positive")
	case c.MinWrites < 0:
		return bad("MinWrites", c.MinWrites, "must not be negative")
	case c.Window < 0:
		return bad("Window", c.Window, "must be positive")
	case !(c.Fraction >= 0 && c.Fraction < 1):
		return bad("Fraction", c.Fraction, "must lie in [0, 1)")
	case !(c.Release >= 0 && c.Release <= c.Fraction):
		return bad("Release", c.Release, "must lie in [0, Fraction]")
	case !(c.Alpha > 0 && c.Alpha <= 1):
		return bad("Alpha", c.Alpha, "must lie in (0, 1]")
	case c.SampleEvery < 0 || c.SampleEvery&(c.SampleEvery-1) != 0:
		return bad("SampleEvery", c.SampleEvery,
			"must be a power of two")
	case c.SampleEvery > math.MaxInt32:
		return bad("SampleEvery", c.SampleEvery,
			"must not exceed 1<<30")
	}
	return nil
}
