package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a run is on stderr: a bar on a terminal, a line
// per step elsewhere (CI logs), nothing when disabled.
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer // plain lines when bar is nil
	total int
	done  int
}

func newProgress(w io.Writer, total int, enabled bool) *progress {
	p := &progress{total: total}
	if !enabled {
		return p
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("regbench"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
		)
		return p
	}
	p.w = w
	return p
}

// step marks one unit of work done and names the next.
func (p *progress) step(what string) {
	p.done++
	switch {
	case p.bar != nil:
		p.bar.Describe(what)
		_ = p.bar.Add(1)
	case p.w != nil:
		fmt.Fprintf(p.w, "regbench: [%d/%d] %s\n", p.done, p.total, what)
	}
}

// clear removes the bar so a table can print below a clean line.
func (p *progress) clear() {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
