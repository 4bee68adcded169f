package registry_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpshard/registry"
)

// A nil pointer inside the handle interface would panic on its first
// Write; registration and NewMailbox refuse it like a nil interface.
func TestTypedNilHandleRefused(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	var p *recorder

	_, err := r.RegisterServer(ctx, "s", p, srvCfg{})
	requireIDError(t, err, registry.ErrNilHandle, "s")
	_, err = r.RegisterTransport(ctx, "t", p, trCfg{})
	requireIDError(t, err, registry.ErrNilHandle, "t")
	assert.Zero(t, r.ServerCount()+r.TransportCount())

	_, err = registry.NewMailbox[string](p, registry.MailboxOptions{Capacity: 1})
	assert.ErrorIs(t, err, registry.ErrNilHandle)
}

// Sizes that would exhaust memory at creation are refused, and a nil
// option is an error, not a panic.
func TestSizeBoundsAndNilOption(t *testing.T) {
	for _, give := range []int{registry.MaxCapacity + 1, math.MaxInt} {
		_, err := registry.New[string, int, int](registry.WithCapacity(give))
		assert.ErrorIs(t, err, registry.ErrInvalidOption, "capacity %d", give)
	}
	for _, give := range []int{registry.MaxMailboxCapacity + 1, math.MaxInt} {
		_, err := registry.NewMailbox[string](&recorder{}, registry.MailboxOptions{Capacity: give})
		assert.ErrorIs(t, err, registry.ErrInvalidOption, "mailbox capacity %d", give)
	}
	_, err := registry.New[string, int, int](registry.WithShards(8), nil)
	var oe *registry.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "option", oe.Option)
}

// A huge ID makes a short message; the error still carries it whole.
func TestErrorMessageCutsHugeID(t *testing.T) {
	r := newReg(t)
	id := strings.Repeat("z", 1<<20)
	err := r.RouteToServer(context.Background(), id, "", "m")
	ie := requireIDError(t, err, registry.ErrServerNotFound, id)
	assert.Len(t, ie.ID, 1<<20)
	assert.Less(t, len(err.Error()), 400)
	assert.Contains(t, err.Error(), "(1048576 bytes)")
}

// RegisterBoundTransport checks what every registration checks first,
// then names the server it could not bind to.
func TestRegisterBoundTransportErrorOrder(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()

	_, err := r.RegisterBoundTransport(ctx, "t", "", &recorder{}, trCfg{})
	requireIDError(t, err, registry.ErrInvalidID, "")
	_, err = r.RegisterBoundTransport(ctx, "t", "nosuch", &recorder{}, trCfg{})
	ie := requireIDError(t, err, registry.ErrServerNotFound, "nosuch")
	assert.Contains(t, ie.Error(), "register transport bound to server")

	require.NoError(t, r.Close())
	_, err = r.RegisterBoundTransport(ctx, "t", "", &recorder{}, trCfg{})
	requireIDError(t, err, registry.ErrClosed, "t")
}
