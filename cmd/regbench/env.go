package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Env records where and when a run happened.
type Env struct {
	Commit     string
	Date       string
	GoVersion  string
	CPU        string
	Cores      int
	GOMAXPROCS int
	OSArch     string
	LoadStart  string // /proc/loadavg when the run started
	LoadEnd    string
	Elapsed    time.Duration
}

func readEnv() Env {
	return Env{
		Commit:     commit(),
		Date:       time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		GoVersion:  runtime.Version(),
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		OSArch:     runtime.GOOS + "/" + runtime.GOARCH,
		LoadStart:  loadAvg(),
	}
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func (e Env) markdown() string {
	var b strings.Builder
	fmt.Fprintln(&b, "| | |")
	fmt.Fprintln(&b, "|---|---|")
	fmt.Fprintf(&b, "| commit | %s |\n", e.Commit)
	fmt.Fprintf(&b, "| date | %s |\n", e.Date)
	fmt.Fprintf(&b, "| Go | %s %s |\n", e.GoVersion, e.OSArch)
	fmt.Fprintf(&b, "| CPU | %s |\n", e.CPU)
	fmt.Fprintf(&b, "| cores | %d (GOMAXPROCS %d) |\n", e.Cores, e.GOMAXPROCS)
	fmt.Fprintf(&b, "| load average (1, 5, 15 min) | %s at start, %s at end |\n", e.LoadStart, e.LoadEnd)
	fmt.Fprintf(&b, "| run time | %s |\n", e.Elapsed.Round(time.Second))
	return b.String()
}

func (e Env) terminal() string {
	return fmt.Sprintf("commit %s · %s · %s %s · %s · %d cores · load %s",
		e.Commit, e.Date, e.GoVersion, e.OSArch, e.CPU, e.Cores, e.LoadStart)
}
