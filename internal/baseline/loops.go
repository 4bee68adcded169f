package baseline

import (
	"context"
	"testing"
)

// The hot loops below call each implementation's concrete methods, not
// the driver interface, so that the loop costs what a caller of that
// implementation would pay: no interface dispatch per operation. The
// root bench_test.go and cmd/regbench both run them, so their figures
// come from the same code.

// Find looks up n servers, probe[from], probe[from+1] and on, wrapping
// around (len(probe) is a power of two, see [Probe]), and returns how many
// were found.
func Find(r Registry, probe []string, from, n int) (found int) {
	mask := len(probe) - 1
	n += from
	switch d := r.(type) {
	case *Sharded:
		for i := from; i < n; i++ {
			if _, ok := d.R.FindServer(probe[i&mask]); ok {
				found++
			}
		}
	case *XSyncMap:
		for i := from; i < n; i++ {
			if _, ok := d.servers.Load(probe[i&mask]); ok {
				found++
			}
		}
	case *SyncMap:
		for i := from; i < n; i++ {
			if _, ok := d.FindServer(probe[i&mask]); ok {
				found++
			}
		}
	case *RWMutex:
		for i := from; i < n; i++ {
			if _, ok := d.FindServer(probe[i&mask]); ok {
				found++
			}
		}
	case *Chan:
		for i := from; i < n; i++ {
			if _, ok := d.FindServer(probe[i&mask]); ok {
				found++
			}
		}
	default:
		for i := from; i < n; i++ {
			if _, ok := r.FindServer(probe[i&mask]); ok {
				found++
			}
		}
	}
	return found
}

// FindPB is [Find] for b.RunParallel: each goroutine starts at its own
// offset into probe.
func FindPB(r Registry, probe []string, start int, pb *testing.PB) (found int) {
	mask := len(probe) - 1
	i := start
	switch d := r.(type) {
	case *Sharded:
		for ; pb.Next(); i++ {
			if _, ok := d.R.FindServer(probe[i&mask]); ok {
				found++
			}
		}
	case *XSyncMap:
		for ; pb.Next(); i++ {
			if _, ok := d.servers.Load(probe[i&mask]); ok {
				found++
			}
		}
	default:
		for ; pb.Next(); i++ {
			if _, ok := r.FindServer(probe[i&mask]); ok {
				found++
			}
		}
	}
	return found
}

// RegisterUnregister registers and then unregisters a server n times,
// cycling through ids (a power-of-two count of IDs that are not
// registered), and returns the first error.
func RegisterUnregister(r Registry, ids []string, h Handle, n int) error {
	ctx := context.Background()
	cfg := ServerConfig{Name: "bench"}
	mask := len(ids) - 1
	switch d := r.(type) {
	case *Sharded:
		for i := 0; i < n; i++ {
			id := ids[i&mask]
			if _, err := d.R.RegisterServer(ctx, id, h, cfg); err != nil {
				return err
			}
			if err := d.R.UnregisterServer(id); err != nil {
				return err
			}
		}
	case *XSyncMap:
		for i := 0; i < n; i++ {
			id := ids[i&mask]
			if err := d.RegisterServer(ctx, id, h, cfg); err != nil {
				return err
			}
			if err := d.UnregisterServer(id); err != nil {
				return err
			}
		}
	default:
		for i := 0; i < n; i++ {
			id := ids[i&mask]
			if err := r.RegisterServer(ctx, id, h, cfg); err != nil {
				return err
			}
			if err := r.UnregisterServer(id); err != nil {
				return err
			}
		}
	}
	return nil
}
