package registry_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// mailbox that was not stopped, or a context callback still running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
