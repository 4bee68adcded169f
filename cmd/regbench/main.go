// Command regbench is the load benchmark of package registry. It runs the
// published design's tables (lookup and write latency, concurrent load,
// throughput, broadcast, 15,000 MCP connections, memory, tail latency
// while growing, admission lag) on the registry at 8, 16, 32 and 64
// shards and on the baselines of internal/baseline, in one process, and
// prints each table beside the published figure with ratios.
//
// Usage:
//
//	go run .                  # defaults: about 5 minutes on 2 cores
//	go run . -quick           # every scenario at small sizes, in seconds
//	go run . -md report.md -svg plots/
//	go run . -only a,f        # some scenarios
//
// It exits non-zero when a correctness check fails (a lookup that
// missed, a message delivered twice, a registry not empty at the end).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpshard/registry/internal/baseline"
)

type options struct {
	quick    bool
	md       string
	svg      string
	only     string
	progress bool
	loadDur  time.Duration
	seed     uint64
	args     []string // as given, for the report's command line
}

func parseFlags(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("regbench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.BoolVar(&o.quick, "quick", false, "every scenario at small sizes, in seconds (CI)")
	fs.StringVar(&o.md, "md", "", "write the Markdown report to `file`")
	fs.StringVar(&o.svg, "svg", "", "write SVG plots into `dir`")
	fs.StringVar(&o.only, "only", "", "run only these scenarios, comma-separated letters a-i and t (targets)")
	fs.BoolVar(&o.progress, "progress", true, "show progress on stderr")
	fs.DurationVar(&o.loadDur, "load-dur", 0, "duration of each concurrent-load phase (default 5s, 150ms with -quick)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for IDs and access order")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("regbench: unexpected argument %q", fs.Arg(0))
	}
	o.args = args
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	rep, err := run(ctx, o, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(rep.Failed()) > 0 {
		os.Exit(1)
	}
}

// run runs the scenarios o selects, printing tables to out and progress
// to errOut, and writes the Markdown and plots o asks for.
func run(ctx context.Context, o options, out, errOut io.Writer) (*Report, error) {
	start := time.Now()
	p := newPlan(o)
	r := &runner{
		ctx:  ctx,
		opts: o,
		plan: p,
		rep:  &Report{Env: readEnv(), Command: command(o)},
		out:  out,
	}
	fmt.Fprintf(out, "regbench: %s\n", r.rep.Env.terminal())
	fmt.Fprintf(out, "regbench: timer floor p50 %s (a timed empty operation; per-operation latencies include it)\n",
		nsi(timerFloor(100_000).P50))

	scenarios := r.scenarios()
	total := 0
	for _, s := range scenarios {
		total += s.units
	}
	r.prog = newProgress(errOut, total, o.progress)

	for _, s := range scenarios {
		if err := ctx.Err(); err != nil {
			return r.rep, err
		}
		n := len(r.rep.Tables)
		t0 := time.Now()
		s.run()
		for _, t := range r.rep.Tables[n:] {
			r.prog.clear()
			printTable(out, t)
		}
		fmt.Fprintf(out, "  (scenario %s took %s)\n", s.key, time.Since(t0).Round(100*time.Millisecond))
		gc()
	}
	r.prog.finish()

	r.rep.Env.LoadEnd = loadAvg()
	r.rep.Env.Elapsed = time.Since(start)
	printChecks(out, r.rep)
	fmt.Fprintf(out, "regbench: done in %s\n", r.rep.Env.Elapsed.Round(time.Second))

	var plots []string
	if o.svg != "" {
		var err error
		if plots, err = r.writePlots(o.svg); err != nil {
			return r.rep, err
		}
	}
	if o.md != "" {
		if err := r.writeMD(o.md, plots); err != nil {
			return r.rep, err
		}
	}
	return r.rep, nil
}

func (r *runner) writeMD(path string, plots []string) error {
	// Plot links are relative to the Markdown file.
	rel := make([]string, len(plots))
	for i, p := range plots {
		rp, err := filepath.Rel(filepath.Dir(path), p)
		if err != nil {
			rp = p
		}
		rel[i] = filepath.ToSlash(rp)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	writeMarkdown(f, r.rep, rel)
	return f.Close()
}

// command is the command line that reproduces the run, from the root.
func command(o options) string {
	c := "cd cmd/regbench && go run ."
	for _, a := range o.args {
		c += " " + a
	}
	return c
}

// runner carries a run's plan and results from scenario to scenario.
type runner struct {
	ctx  context.Context
	opts options
	plan plan
	rep  *Report
	res  results
	prog *progress
	out  io.Writer
}

type scenario struct {
	key   string
	units int
	run   func()
}

func (r *runner) scenarios() []scenario {
	p := r.plan
	nImpl := len(p.impls)
	nBind := 0
	for _, i := range p.impls {
		if i.Bindings {
			nBind++
		}
	}
	all := []scenario{
		{"a", nImpl * len(p.sizes), r.latency}, // a and b share the fill
		{"c", nImpl * len(p.loadPhases), r.load},
		{"d", nImpl, r.throughput},
		{"e", nBind * len(p.subscribers), r.broadcast},
		{"f", nBind, r.mcp},
		{"g", nImpl, r.memory},
		{"h", nImpl * 2, r.growth},
		{"i", p.admTrials, r.admission},
		{"t", 4, r.targets},
	}
	want := map[string]bool{}
	for _, k := range strings.Split(r.opts.only, ",") {
		if k = strings.TrimSpace(k); k != "" {
			want[k] = true
		}
	}
	if want["b"] {
		want["a"] = true
	}
	var out []scenario
	for _, s := range all {
		if len(want) == 0 || want[s.key] {
			out = append(out, s)
		}
	}
	return out
}

// plan holds the sizes a run uses: the published ones by default, small
// ones with -quick.
type plan struct {
	impls []baseline.Impl

	sizes         []int // entries, scenarios a and b
	lookupSamples int   // timed lookups per size
	writeSamples  int   // timed registrations per size
	bulkDur       time.Duration

	loadPhases [][2]int // readers, writers
	loadDur    time.Duration
	loadBase   int // servers the readers look up
	loadOwn    int // IDs each writer owns

	tputGoroutines []int
	tputDur        time.Duration
	tputEntries    int

	subscribers []int
	bindSamples int

	conns, connServers, toolCalls, notifications int

	memEntries int
	growTo     int
	admTrials  int
	admWriters int
	// admPause paces each admission writer, so that without the delay
	// the writers use a few percent of the CPU: a saturated CPU is
	// contention too (a write preempted mid-way is a slow write), and the
	// gate would rightly engage before the delay is switched on.
	admPause   time.Duration
	targetDur  time.Duration
	targetReps int
}

func newPlan(o options) plan {
	p := plan{
		impls:          baseline.Impls(),
		sizes:          []int{1e3, 5e3, 1e4, 5e4, 1e5, 1e6},
		lookupSamples:  100_000,
		writeSamples:   10_000,
		bulkDur:        40 * time.Millisecond,
		loadPhases:     [][2]int{{500, 500}, {5000, 5000}},
		loadDur:        5 * time.Second,
		loadBase:       10_000,
		loadOwn:        8,
		tputGoroutines: []int{1, 2, 4, 16, 64},
		tputDur:        150 * time.Millisecond,
		tputEntries:    1e4,
		subscribers:    []int{10, 100, 1000, 5000, 15000},
		bindSamples:    5000,
		conns:          15000,
		connServers:    15,
		toolCalls:      2,
		notifications:  3,
		memEntries:     1e4,
		growTo:         1e6,
		admTrials:      5,
		admWriters:     128,
		admPause:       250 * time.Microsecond,
		targetDur:      60 * time.Millisecond,
		targetReps:     7,
	}
	if o.quick {
		p.sizes = []int{1e3, 5e3}
		p.lookupSamples = 5000
		p.writeSamples = 1000
		p.bulkDur = 2 * time.Millisecond
		p.loadPhases = [][2]int{{20, 20}, {200, 200}}
		p.loadDur = 150 * time.Millisecond
		p.loadBase = 1000
		p.tputGoroutines = []int{1, 2, 4}
		p.tputDur = 10 * time.Millisecond
		p.tputEntries = 1e3
		p.subscribers = []int{10, 100, 1000}
		p.bindSamples = 300
		p.conns = 600
		p.connServers = 3
		p.memEntries = 1e4
		p.growTo = 2e4
		p.admTrials = 1
		p.admWriters = 32 // light enough for the race detector
		p.admPause = time.Millisecond
		p.targetDur = 3 * time.Millisecond
		p.targetReps = 3
	}
	if o.loadDur > 0 {
		p.loadDur = o.loadDur
	}
	return p
}

// results are the figures later tables (targets, claims, plots) reuse.
type results struct {
	lookup   map[string]map[int]latency // impl label -> entries
	lookupMn map[string]map[int]float64 // bulk mean ns
	register map[string]map[int]latency
	unreg    map[string]map[int]latency

	loadOK map[string]bool // c: every phase completed, contents exact

	tputLookup1, tputLookupAll map[string]float64 // d
	tputWrite1, tputWriteAll   map[string]float64
	tputCurveLookup            map[string]map[int]float64 // goroutines
	tputCurveWrite             map[string]map[int]float64

	bcastPer map[string]map[int]float64 // e: ns per transport
	bcastOp  map[string]map[int]float64 // ns per broadcast
	bind     map[string]map[int]latency
	unbind   map[string]map[int]latency

	conns map[string]mcpResult // f

	mem map[string]memResult // g

	detect, releaseStopped, releaseRetry []float64 // i, ns
	spread                               spreadResult
}

func nested[V any](m *map[string]map[int]V, impl string, k int, v V) {
	if *m == nil {
		*m = map[string]map[int]V{}
	}
	if (*m)[impl] == nil {
		(*m)[impl] = map[int]V{}
	}
	(*m)[impl][k] = v
}

func put[V any](m *map[string]V, impl string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[impl] = v
}
