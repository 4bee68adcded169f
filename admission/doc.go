// Package admission measures write latency per shard of the registry and
// refuses new registrations while most shards are slow.
//
// It replaces a published design that every second averaged the last 10
// writes of each partition, flagged a partition whose average exceeded
// 100ms over more than 10 writes, and turned on admission control when
// more than half were flagged. That flag was computed but never
// enforced, and once every registration was refused no new sample could
// arrive to turn it off. Here [Controller.Allow] enforces the gate, and
// the gate lifts by the clock alone.
//
// # Measurement
//
// The registry brackets each write with [Controller.Begin] and
// [Controller.End]. Begin adds one to the shard's write count; one write
// in SampleEvery also reads the clock, and its End records the latency:
// an EWMA, and the count, sum, minimum and maximum for the current
// window. Windows are Window long and aligned to the controller's start;
// whoever next touches a shard after its window ends (a sampled End, an
// evaluation, [Controller.Stat]) rotates it. Every figure is an atomic;
// each shard's are padded to their own cache lines, so writers on
// different shards never contend.
//
// # Alarm and gate
//
// A shard is alarmed when its EWMA exceeds Threshold, it saw at least
// MinWrites writes in the last Window (a sliding estimate across the
// window boundary), and its latest sample is less than a Window old. An
// alarmed shard clears only when its EWMA falls to Threshold/2, or its
// writes or samples stop. The gate engages when more than Fraction of
// the shards are alarmed and lifts when at most Release are. Both bands
// keep the gate from flapping when latency hovers at the threshold.
//
// The gate is evaluated by a sampled End whose sample changes its
// shard's verdict, at once, so detection waits only for the slow samples
// themselves; by any sampled End at most once per Window/10; by Allow at
// most once per Window/10 while the gate is engaged; and by
// [Controller.Status] on every call. Evaluation reads every shard, takes
// no lock and does not allocate.
//
// # Release without traffic
//
// A shard with no sample for a Window is not alarmed, whatever its EWMA.
// So when every registration is refused and nothing else writes, the
// next Allow after Window plus Window/10 finds no alarmed shard and lifts
// the gate. If the contention persists, the writes it lets through
// engage the gate again: the gate probes once per Window.
//
// # Defaults
//
// [DefaultConfig] is sized for Go, where a registry write is a map
// update under one bucket lock costing about 100ns, not the Erlang
// process call of about 100ms that the published design measured.
//
//   - Threshold 1ms: ten thousand times a normal write. Scheduler and GC
//     hiccups cost tens of microseconds; only a real stall (lock convoy,
//     starved CPUs, an injected delay) keeps the EWMA past 1ms.
//   - MinWrites 8: equal to SampleEvery, so a shard busy enough to be
//     alarmed also gets about one sample a Window and its EWMA is
//     fresh. Fewer would let two unlucky writes on an idle shard count.
//   - Window 100ms: the gate lifts about 110ms after writes stop being
//     slow, well inside a second, and checks every 10ms. A shorter
//     window would need more writes a second to reach MinWrites.
//   - Fraction 0.5: a minority of slow shards is a hot spot, which
//     refusing everyone would not cure; a majority means the process is
//     overloaded. With 16 shards, 9 must be alarmed. With 1 shard, that
//     one suffices.
//   - Release 0.25 (Fraction/2): the gate stays on until half of the
//     alarmed shards have recovered.
//   - Alpha 0.25: the EWMA remembers about the last four samples, so
//     writes taking twice the threshold alarm a shard in three samples,
//     and one outlier among fast writes fades within a few.
//   - SampleEvery 8: a clock read costs about 20ns and a sampled write
//     takes two; one in eight keeps the mean cost to a few nanoseconds,
//     within the registry's budget of 15% over a write without
//     admission.
//
// BENCHMARKS.md in this directory records what Begin, End and the clock
// cost.
//
// # Limitations
//
// Counts read beside concurrent writes, or beside a window rotation, may
// be off by the writes in flight; the next read corrects them. Reset is
// not atomic with respect to concurrent writes.
//
// A write is measured when it ends, so writes slower than Window leave
// their shard without a sample for a Window at a time, and the gate may
// lift between their samples; raise Window above the slowest write that
// should count. A shard that writes too little to be sampled once a
// Window (fewer than SampleEvery writes) is never alarmed.
package admission
