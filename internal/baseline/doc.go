// Package baseline holds the registries that the benchmarks compare the
// sharded registry with, behind one driver interface, [Registry], so that
// every implementation is measured doing the same work with the same
// semantics:
//
//   - [Sharded]: package registry itself, at any shard count.
//   - [SyncMap]: entries and each server's bound set in sync.Map.
//   - [RWMutex]: plain maps behind one sync.RWMutex.
//   - [Chan]: plain maps owned by one goroutine that answers every call
//     over a channel, as the Erlang gen_server the published design
//     replaced did.
//   - [XSyncMap]: two raw xsync.MapOf maps, the floor for lookups and for
//     register/unregister; it has no bindings.
//
// Every implementation that supports bindings keeps the registry's
// promises: a duplicate registration fails with
// registry.ErrAlreadyRegistered, an entry leaves when its context ends
// (and a late cleanup never removes a newer registration of the same ID),
// removing a server unbinds its transports, Bind racing a server's
// removal never leaves a transport bound to a gone server, and no lock is
// held while a handle runs. The tests in this package hold all of them to
// that.
//
// The root bench_test.go and cmd/regbench both use this package, so the
// Go benchmarks and the load benchmark measure the same code. It is
// internal: it is a measuring instrument, not an API.
package baseline
