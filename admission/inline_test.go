package admission

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// End and Allow must inline into the registry's write path, so that a
// write that is not sampled, or an Allow with the gate off, costs no
// call. Begin does not fit the inliner's budget (cost 100 of 80) and is
// not pinned.
func TestHotPathInlines(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}

	out, err := exec.Command(goBin, "build", "-gcflags=-m", ".").
		CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, fn := range []string{"(*Controller).End", "(*Controller).Allow"} {
		assert.Contains(t, string(out), "can inline "+fn)
	}
}
