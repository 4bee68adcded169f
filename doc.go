// Package registry is a sharded concurrent registry of MCP (Model Context
// Protocol) servers and transports: it stores each entry's handle and
// config, binds transports to servers, routes messages to either, and
// broadcasts from a server to every transport bound to it.
//
// It implements the design published as erlmcp_registry_sharded (16
// independent partitions, hash-based partition choice, lookups that never
// pass through a central process) and makes its claims true in Go:
// lookups are lock-free, writes to different shards run in parallel, the
// admission gate is enforced and lifts itself, and an entry is removed
// when its context ends.
//
// # Shards
//
// An ID is hashed once with xxh3; the top bits of the hash pick one of
// 8, 16 (default), 32 or 64 shards ([ShardsLight] to [ShardsExtreme];
// any power of two from 1 to 256 works). Each shard holds two
// xsync.MapOf maps, servers and transports, which reuse that hash.
//
// # What may run together
//
// Every method may be called from any number of goroutines at once, in
// any mix. In particular:
//
//   - Lookups ([Registry.FindServer], [Registry.FindTransport],
//     [Registry.ServerOf], [Registry.TransportsOf]) take no lock, use no
//     channel, are never blocked by a writer and allocate nothing. They
//     see every write that completed before they started.
//   - Routing ([Registry.RouteToServer], [Registry.RouteToTransport]) is a
//     lookup plus the handle's Write; it allocates only to return an
//     error. [Registry.Broadcast] reads one immutable snapshot of the
//     server's bound transports and holds no lock while handles run.
//   - Registrations and unregistrations lock one map bucket for a pointer
//     swap; those on different buckets never wait for each other.
//   - [Registry.Bind] and [Registry.Unbind] lock only the transport they
//     move and copy a bounded path of the server's copy-on-write set, so a
//     server with 15,000 transports binds as fast as one with ten.
//   - Removing an entry, by [Registry.UnregisterServer], by its
//     [Server.Unregister], by its context ending or by [Registry.Close],
//     runs its cascade exactly once, however many of those race. A late
//     removal of an old registration never removes a newer one of the same
//     ID.
//   - Iteration ([Registry.Servers], [Registry.Transports]) holds no lock
//     while the loop body runs, so the body may call any method.
//
// No method holds a lock while a caller's handle runs, and a panicking
// handle is recovered and reported as that target's error.
//
// # What allocates
//
// Lookups and successful routing allocate nothing. Registration allocates
// the entry, the map's node and, for a context that can end, the
// context.AfterFunc registration (no goroutine is kept per entry). Bind
// and Unbind allocate the copied path of the set. Broadcast allocates
// only the list of failures. Iteration allocates a small buffer per shard.
//
// # Admission control
//
// Each shard measures its write latency with atomics (one write in N is
// timed). When more than half the shards are alarmed, registrations fail
// with [ErrAdmissionControlActive] while lookups, routing, broadcast and
// unregistration go on; the gate lifts by itself, within a window, once
// contention clears, even when every registration is being refused. See
// package admission, [Registry.ContentionStatus] and
// [Registry.PartitionStats].
//
// # Performance
//
// BENCHMARKS.md records measured figures for every operation beside
// sync.Map, RWMutex-map and channel-serialized baselines, and the
// published design's own claims.
package registry
