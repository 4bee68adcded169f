package registry_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
	"github.com/mcpshard/registry/hashing"
)

// This file and its neighbours hold what the proof suite (model, fuzz,
// stress, race and linearizability tests) shares. This file: the
// registry type the suite drives, the hashers it runs under, and the
// helpers that build a registry and wait for one. proof_probe_test.go
// holds the handles the suite registers, model_ref_test.go the reference
// model the registry is compared with, and model_check_test.go the
// checks that the registry's answers, and a registry at rest, agree with
// a model.

// proofRegistry is the registry the proof suite drives. Messages are
// ints, and the config of every entry is the generation number of its
// registration, so that a lookup can tell the live registration of an ID
// from an older one.
type (
	proofRegistry  = registry.Registry[int, int, int]
	proofServer    = registry.Server[int, int]
	proofTransport = registry.Transport[int, int]
)

// hasherCase is a hash function the suite runs under.
type hasherCase struct {
	name string
	opts []registry.Option
}

// proofHashers are the default xxh3 and hashing.OneShard, which sends
// every ID to shard 0: correctness must not depend on how IDs spread,
// and under OneShard every write contends on one shard.
var proofHashers = []hasherCase{
	{"hasher=xxh3", nil},
	{"hasher=oneshard", []registry.Option{registry.WithHasher(hashing.OneShard)}},
}

// forEachHasher runs f once per hasher, each time as a subtest, with the
// options that select it.
func forEachHasher(t *testing.T, f func(t *testing.T, opts []registry.Option)) {
	t.Helper()
	for _, h := range proofHashers {
		t.Run(h.name, func(t *testing.T) { f(t, h.opts) })
	}
}

// newProofRegistry returns a registry built with opts and closes it when
// the test ends.
func newProofRegistry(t testing.TB, opts ...registry.Option) *proofRegistry {
	t.Helper()
	r, err := registry.New[int, int, int](opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// with returns opts followed by more, without sharing opts's array.
func with(opts []registry.Option, more ...registry.Option) []registry.Option {
	return slices.Concat(opts, more)
}

// await checks cond until it holds or d has passed, and reports whether
// it held. It waits for what the registry does on a goroutine of its
// own: the removal that the end of a registration's context schedules.
// Between checks it parks on a ticker rather than spinning, so that
// thousands of waiting goroutines leave the processors to the callbacks
// they wait for.
func await(d time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	timeout := time.After(d)
	for {
		select {
		case <-tick.C:
			if cond() {
				return true
			}
		case <-timeout:
			return cond()
		}
	}
}
