package registry_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// The tests use string messages and small typed configs, so that a
// config round-trip checks a real struct and not an empty one.
type (
	srvCfg struct {
		Name  string
		Tools []string
	}
	trCfg struct {
		Kind string
		Port int
	}
	testRegistry = registry.Registry[string, srvCfg, trCfg]
	testServer   = registry.Server[string, srvCfg]
	testTrans    = registry.Transport[string, trCfg]
	handle       = registry.Handle[string]
)

// newReg returns a registry closed when the test ends. Admission is off
// unless the caller's options turn it on again: a loaded CI machine must
// not refuse a registration that a test counts on.
func newReg(t testing.TB, opts ...registry.Option) *testRegistry {
	t.Helper()
	opts = append([]registry.Option{registry.WithoutAdmission()}, opts...)
	r, err := registry.New[string, srvCfg, trCfg](opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// mustServer registers a server that lives until the test ends.
func mustServer(t testing.TB, r *testRegistry, id string, h handle) *testServer {
	t.Helper()
	s, err := r.RegisterServer(context.Background(), id, h, srvCfg{Name: id})
	require.NoError(t, err, "register server %q", id)
	return s
}

// mustTransport registers an unbound transport.
func mustTransport(t testing.TB, r *testRegistry, id string, h handle) *testTrans {
	t.Helper()
	tr, err := r.RegisterTransport(context.Background(), id, h, trCfg{Kind: id})
	require.NoError(t, err, "register transport %q", id)
	return tr
}

// mustBound registers a transport bound to serverID.
func mustBound(t testing.TB, r *testRegistry, id, serverID string, h handle) *testTrans {
	t.Helper()
	tr, err := r.RegisterBoundTransport(context.Background(), id, serverID, h, trCfg{Kind: id})
	require.NoError(t, err, "register transport %q bound to %q", id, serverID)
	return tr
}

// boundIDs returns the IDs of the transports bound to serverID, sorted
// by the caller if order matters.
func boundIDs(r *testRegistry, serverID string) []string {
	b, ok := r.TransportsOf(serverID)
	if !ok {
		return nil
	}
	var ids []string
	for id := range b.All() {
		ids = append(ids, id)
	}
	return ids
}

// recorder is a handle that keeps every message it receives and returns
// err (nil by default).
type recorder struct {
	err error

	mu  sync.Mutex
	got []string
}

func (h *recorder) Write(_ context.Context, msg string) error {
	h.mu.Lock()
	h.got = append(h.got, msg)
	h.mu.Unlock()
	return h.err
}

func (h *recorder) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// letter is one message as an [originRecorder] saw it.
type letter struct {
	From, Msg string
}

// originRecorder is a handle that also implements registry.OriginWriter;
// Write records an empty origin so a test can tell the two apart.
type originRecorder struct {
	mu  sync.Mutex
	got []letter
}

func (h *originRecorder) Write(_ context.Context, msg string) error {
	return h.WriteFrom(context.Background(), "", msg)
}

func (h *originRecorder) WriteFrom(_ context.Context, from, msg string) error {
	h.mu.Lock()
	h.got = append(h.got, letter{from, msg})
	h.mu.Unlock()
	return nil
}

func (h *originRecorder) letters() []letter {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]letter(nil), h.got...)
}

// counter is a handle that only counts, so that routing through it
// allocates nothing of its own.
type counter struct{ n atomic.Int64 }

func (h *counter) Write(context.Context, string) error {
	h.n.Add(1)
	return nil
}

// failing returns its error from every Write.
type failing struct{ err error }

func (h failing) Write(context.Context, string) error { return h.err }

// panicking panics with its value on every Write.
type panicking struct{ v any }

func (h panicking) Write(context.Context, string) error { panic(h.v) }

// blocking is a handle whose Write reports each call on entered and then
// waits until release is closed or the write's context ends.
type blocking struct {
	entered chan string
	release chan struct{}
}

func newBlocking() *blocking {
	return &blocking{
		entered: make(chan string, 64),
		release: make(chan struct{}),
	}
}

func (h *blocking) Write(ctx context.Context, msg string) error {
	h.entered <- msg
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errHandle is the error a failing handle returns in tests.
var errHandle = errors.New("handle: peer gone")

// requireIDError asserts that err is an *IDError naming id and matching
// want, and returns it.
func requireIDError(t testing.TB, err error, want error, id string) *registry.IDError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	var ie *registry.IDError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, id, ie.ID, "IDError names the ID")
	return ie
}

// errorsIsAny reports whether err matches any of targets.
func errorsIsAny(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
