//go:build race

package baseline_test

// raceEnabled: under the race detector sync.Pool drops items at random,
// so pooled buffers allocate.
const raceEnabled = true
