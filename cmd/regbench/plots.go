package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// writePlots writes the SVG plots of the scenarios that ran into dir and
// returns their paths.
func (r *runner) writePlots(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	type spec struct {
		file, title, x, y string
		data              map[string]map[int]float64
		format            func(float64) string
	}
	specs := []spec{
		{"lookup-latency.svg", "Lookup mean latency vs entries", "entries", "time per lookup", r.res.lookupMn, ns},
		{"throughput-lookups.svg", "Lookup throughput vs goroutines", "goroutines", "lookups per second", r.res.tputCurveLookup, rate},
		{"throughput-writes.svg", "Write throughput vs goroutines", "goroutines", "writes per second", r.res.tputCurveWrite, rate},
		{"broadcast.svg", "Broadcast cost per transport vs subscribers", "bound transports", "time per transport", r.res.bcastPer, ns},
	}
	for _, s := range specs {
		if len(s.data) == 0 {
			continue
		}
		path := filepath.Join(dir, s.file)
		if err := r.linePlot(path, s.title, s.x, s.y, s.data, s.format); err != nil {
			return out, fmt.Errorf("regbench: plot %s: %w", s.file, err)
		}
		out = append(out, path)
	}
	return out, nil
}

func (r *runner) linePlot(path, title, xl, yl string, data map[string]map[int]float64, format func(float64) string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xl
	p.Y.Label.Text = yl
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = xTicks(data)
	p.X.Padding = vg.Points(12)
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = yTicks(format)
	// The legend is drawn apart, in a column right of the plot, so it
	// never hides a line.
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	p.Add(plotter.NewGrid())

	i := 0
	for _, impl := range r.plan.impls {
		pts, ok := data[impl.Label()]
		if !ok {
			continue
		}
		xs := make([]int, 0, len(pts))
		for x := range pts {
			xs = append(xs, x)
		}
		slices.Sort(xs)
		xy := make(plotter.XYs, 0, len(xs))
		for _, x := range xs {
			if v := pts[x]; v > 0 {
				xy = append(xy, plotter.XY{X: float64(x), Y: v})
			}
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		c := palette[i%len(palette)]
		line.Color = c
		line.Width = vg.Points(1.5)
		if impl.Shards == 0 {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		points.Color = c
		points.Shape = draw.CircleGlyph{}
		p.Add(line, points)
		leg.Add(impl.Label(), line, points)
		i++
	}

	const w, h, legendW = 8 * vg.Inch, 4.5 * vg.Inch, 1.4 * vg.Inch
	img := vgsvg.New(w, h)
	dc := draw.New(img)
	p.Draw(draw.Crop(dc, 0, -legendW, 0, 0))
	leg.Draw(draw.Crop(dc, w-legendW+vg.Points(8), 0, 0, -vg.Points(24)))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := img.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// yTicks labels a log axis at 1, 2 and 5 times each power of ten, with
// format's units, and marks the other integers of each decade.
func yTicks(format func(float64) string) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		var ts []plot.Tick
		for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
			for m := 1.0; m < 10; m++ {
				v := m * math.Pow(10, e)
				if v < lo || v > hi {
					continue
				}
				label := ""
				if m == 1 || m == 2 || m == 5 {
					label = format(v)
				}
				ts = append(ts, plot.Tick{Value: v, Label: label})
			}
		}
		return ts
	})
}

// xTicks labels the x axis at the points measured, as 1k, 15k, 1M.
func xTicks(data map[string]map[int]float64) plot.Ticker {
	seen := map[int]bool{}
	for _, pts := range data {
		for x := range pts {
			seen[x] = true
		}
	}
	return plot.TickerFunc(func(min, max float64) []plot.Tick {
		var ts []plot.Tick
		for x := range seen {
			ts = append(ts, plot.Tick{Value: float64(x), Label: sizeName(x)})
		}
		slices.SortFunc(ts, func(a, b plot.Tick) int { return int(a.Value - b.Value) })
		return ts
	})
}

var palette = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
	color.RGBA{0x94, 0x67, 0xbd, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff},
	color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0x7f, 0x7f, 0x7f, 0xff},
}
