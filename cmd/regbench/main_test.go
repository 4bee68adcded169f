package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestQuick runs the quick mode, as CI does, in process: every scenario
// at small sizes, every correctness check holding, every table and plot
// written.
func TestQuick(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "report.md")
	o, err := parseFlags([]string{"-quick", "-progress=false", "-md", md, "-svg", dir}, os.Stderr)
	require.NoError(t, err)

	var out bytes.Buffer
	rep, err := run(context.Background(), o, &out, &out)
	require.NoError(t, err, out.String())
	for _, c := range rep.Failed() {
		t.Errorf("check failed: %s %s: %s", c.Scenario, c.Name, c.Detail)
	}
	if t.Failed() {
		t.Log(out.String())
	}

	ids := map[string]bool{}
	for _, tb := range rep.Tables {
		ids[tb.ID] = true
		assert.NotEmpty(t, tb.Rows, "table %s", tb.ID)
		for _, row := range tb.Rows {
			assert.Len(t, row, len(tb.Head), "table %s row %q", tb.ID, row[0])
		}
	}
	for _, id := range []string{"a.1", "a.2", "a.3", "b.1", "b.2", "c", "d", "e.1", "e.2", "f", "g", "h", "i", "t", "claims"} {
		assert.True(t, ids[id], "table %s missing", id)
	}

	b, err := os.ReadFile(md)
	require.NoError(t, err)
	assert.Contains(t, string(b), "### f ")
	for _, f := range []string{"lookup-latency.svg", "throughput-lookups.svg", "throughput-writes.svg", "broadcast.svg"} {
		svg, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.True(t, strings.Contains(string(svg), "<svg"), "%s is not SVG", f)
	}
}

func TestFlags(t *testing.T) {
	var errOut bytes.Buffer
	_, err := parseFlags([]string{"stray"}, &errOut)
	assert.Error(t, err)
	o, err := parseFlags([]string{"-only", "a,f", "-seed", "3"}, &errOut)
	require.NoError(t, err)
	assert.Equal(t, "cd cmd/regbench && go run . -only a,f -seed 3", command(o))
}
