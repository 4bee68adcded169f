package registry

import (
	"log/slog"
	"time"

	"github.com/mcpshard/registry/admission"
	"github.com/mcpshard/registry/hashing"
)

// Shard counts for the loads the published design names. Any power of
// two from 1 to 256 is accepted.
const (
	ShardsLight   = 8  // up to about 100 concurrent connections
	ShardsDefault = 16 // 100 to 15,000
	ShardsHeavy   = 32 // 15,000 to 100,000
	ShardsExtreme = 64 // beyond 100,000
)

// DefaultMaxIDLen is the longest ID accepted unless [WithMaxIDLen] says
// otherwise.
const DefaultMaxIDLen = 4096

// MaxCapacity is the largest capacity hint [WithCapacity] accepts, and
// MaxMailboxCapacity the largest [MailboxOptions] Capacity: bounds that
// keep a mistaken size from exhausting memory at creation.
const (
	MaxCapacity        = 1 << 28
	MaxMailboxCapacity = 1 << 24
)

// Option configures a [Registry] at [New].
type Option func(*config)

type config struct {
	shards     int
	sizeHint   int
	maxIDLen   int
	admission  *admission.Config // nil: no measurement, no gate
	logger     *slog.Logger
	hasher     hashing.Hasher
	writeDelay func(shard int) time.Duration
	err        error // first invalid option
}

func defaultConfig() config {
	adm := admission.DefaultConfig()
	return config{
		shards:    ShardsDefault,
		maxIDLen:  DefaultMaxIDLen,
		admission: &adm,
	}
}

func (c *config) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// WithShards sets the number of shards: a power of two from 1 to 256
// (default [ShardsDefault]).
func WithShards(n int) Option {
	return func(c *config) { c.shards = n }
}

// WithCapacity presizes every shard so that the registry holds about n
// servers and n transports without growing its maps: growth to the
// expected size then triggers no resize and no latency spike.
func WithCapacity(n int) Option {
	return func(c *config) {
		if n < 0 || n > MaxCapacity {
			c.fail(&OptionError{"capacity", n, "must be in [0, MaxCapacity]"})
			return
		}
		c.sizeHint = n
	}
}

// WithMaxIDLen sets the longest ID, in bytes, that registration accepts
// (default [DefaultMaxIDLen]).
func WithMaxIDLen(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.fail(&OptionError{"max ID length", n, "must be at least 1"})
			return
		}
		c.maxIDLen = n
	}
}

// WithAdmission enables write-latency measurement and the admission gate
// with cfg. Admission is on by default with [admission.DefaultConfig].
func WithAdmission(cfg admission.Config) Option {
	return func(c *config) {
		if err := cfg.Validate(); err != nil {
			c.fail(&OptionError{"admission config", err, "rejected"})
			return
		}
		c.admission = &cfg
	}
}

// WithoutAdmission turns off write-latency measurement and the admission
// gate: registrations are never refused for contention, and
// [Registry.PartitionStats] reports entry counts only.
func WithoutAdmission() Option {
	return func(c *config) { c.admission = nil }
}

// WithLogger sets a logger for events the registry would otherwise
// swallow, such as a panic recovered from a handle. The registry is
// silent by default.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithHasher replaces the ID hash. It exists for tests, which run with
// [hashing.OneShard] to prove that correctness never depends on how IDs
// spread across shards.
func WithHasher(h hashing.Hasher) Option {
	return func(c *config) { c.hasher = h }
}

// WithWriteDelay makes every registration and unregistration on a shard
// sleep for delay(shard) inside its measured write. It induces real write
// contention for tests, demos and the benchmark's admission scenario;
// never use it in production.
func WithWriteDelay(delay func(shard int) time.Duration) Option {
	return func(c *config) { c.writeDelay = delay }
}
