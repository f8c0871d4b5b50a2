package main

// Charts for the report, as hand-written SVG: a line chart with linear or
// logarithmic axes, a legend, and reference lines. The background is drawn
// (white, dark text), so that a chart reads the same in GitHub's light and
// dark themes.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// chart is one line chart.
type chart struct {
	Title          string
	XLabel, YLabel string // with units
	LogX, LogY     bool
	Series         []series
	// HLines and VLines are reference lines (a target, a limit) at a y or
	// an x value, labelled.
	HLines, VLines []refLine
}

// series is one line of a chart; its points are drawn in order of x.
type series struct {
	Name    string
	Color   string // CSS colour
	Dashed  bool
	Markers bool // a dot at each point (few points)
	Points  []point
}

type point struct{ X, Y float64 }

type refLine struct {
	At    float64
	Label string
}

// Geometry of every chart, in SVG user units (pixels).
const (
	chartW, chartH = 760, 420
	padLeft        = 72
	padRight       = 190 // the legend
	padTop         = 44
	padBottom      = 56
)

// Colours that read on the white background, one per server.
const (
	colLanfeed = "#0969da"
	colSIO     = "#cf222e"
	colFloor   = "#1a7f37"
	colText    = "#1f2328"
	colGrid    = "#d0d7de"
	colRef     = "#8250df"
)

// svg renders the chart. Points that a logarithmic axis cannot show (zero
// or negative) are left out.
func (c *chart) svg() []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			if c.usable(p) {
				xs, ys = append(xs, p.X), append(ys, p.Y)
			}
		}
	}
	for _, l := range c.HLines {
		ys = append(ys, l.At)
	}
	for _, l := range c.VLines {
		xs = append(xs, l.At)
	}
	xa := newAxis(xs, c.LogX, padLeft, chartW-padRight)
	ya := newAxis(ys, c.LogY, chartH-padBottom, padTop) // y grows downwards in SVG

	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`+"\n",
		chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", esc(c.Title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold" fill="%s">%s</text>`+"\n", padLeft, colText, esc(c.Title))

	// Grid and tick labels.
	for _, t := range xa.ticks() {
		x := xa.pos(t)
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s"/>`+"\n", f(x), padTop, f(x), chartH-padBottom, colGrid)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" fill="%s">%s</text>`+"\n", f(x), chartH-padBottom+16, colText, tickLabel(t))
	}
	for _, t := range ya.ticks() {
		y := ya.pos(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", padLeft, f(y), chartW-padRight, f(y), colGrid)
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle" fill="%s">%s</text>`+"\n", padLeft-6, f(y), colText, tickLabel(t))
	}
	// Axes and their labels.
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="%s"/>`+"\n",
		padLeft, padTop, chartW-padRight-padLeft, chartH-padBottom-padTop, colText)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="%s">%s</text>`+"\n",
		(padLeft+chartW-padRight)/2, chartH-14, colText, esc(c.XLabel))
	fmt.Fprintf(&b, `<text x="18" y="%d" text-anchor="middle" fill="%s" transform="rotate(-90 18 %d)">%s</text>`+"\n",
		(padTop+chartH-padBottom)/2, colText, (padTop+chartH-padBottom)/2, esc(c.YLabel))

	// Reference lines.
	for _, l := range c.HLines {
		y := ya.pos(l.At)
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s" stroke-dasharray="2 3"/>`+"\n", padLeft, f(y), chartW-padRight, f(y), colRef)
		fmt.Fprintf(&b, `<text x="%d" y="%s" fill="%s">%s</text>`+"\n", padLeft+4, f(y-4), colRef, esc(l.Label))
	}
	for _, l := range c.VLines {
		x := xa.pos(l.At)
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s" stroke-dasharray="2 3"/>`+"\n", f(x), padTop, f(x), chartH-padBottom, colRef)
		// The label on the side with more room, so that it stays in the plot.
		anchor, dx := "start", 4.0
		if x > (padLeft+chartW-padRight)/2 {
			anchor, dx = "end", -4
		}
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="%s" fill="%s">%s</text>`+"\n", f(x+dx), padTop+14, anchor, colRef, esc(l.Label))
	}

	// The series, then the legend.
	for _, s := range c.Series {
		pts := c.sorted(s.Points)
		if len(pts) == 0 {
			continue
		}
		var coords bytes.Buffer
		for i, p := range pts {
			if i > 0 {
				coords.WriteByte(' ')
			}
			coords.WriteString(f(xa.pos(p.X)) + "," + f(ya.pos(p.Y)))
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s</title></polyline>`+"\n",
			s.Color, dash, coords.String(), esc(s.Name))
		if s.Markers {
			for _, p := range pts {
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", f(xa.pos(p.X)), f(ya.pos(p.Y)), s.Color)
			}
		}
	}
	for i, s := range c.Series {
		y := padTop + 8 + 20*i
		x := chartW - padRight + 14
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", x, y, x+26, y, s.Color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle" fill="%s">%s</text>`+"\n", x+32, y, colText, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func (c *chart) usable(p point) bool {
	if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
		return false
	}
	return (!c.LogX || p.X > 0) && (!c.LogY || p.Y > 0)
}

// sorted returns the usable points of ps in order of x.
func (c *chart) sorted(ps []point) []point {
	var out []point
	for _, p := range ps {
		if c.usable(p) {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].X < out[j].X })
	return out
}

// axis maps data values onto pixels, from lo to hi (hi < lo for y).
type axis struct {
	log        bool
	min, max   float64 // data range, widened to round values
	from, to   float64 // pixels
	tickValues []float64
}

func newAxis(vals []float64, log bool, from, to float64) *axis {
	a := &axis{log: log, from: from, to: to}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if lo > hi { // no data
		lo, hi = 1, 10
	}
	if log {
		// Bounds and ticks at 1, 2 and 5 times a power of ten, with some
		// room above the largest value so that a line at it stays visible.
		a.min, a.max = niceLog(lo, false), niceLog(hi*1.1, true)
		if a.max <= a.min {
			a.max = a.min * 10
		}
		for d := math.Pow(10, math.Floor(math.Log10(a.min))); d <= a.max; d *= 10 {
			for _, m := range []float64{1, 2, 5} {
				if v := d * m; v >= a.min*0.999 && v <= a.max*1.001 {
					a.tickValues = append(a.tickValues, v)
				}
			}
		}
		return a
	}
	if lo > 0 {
		lo = 0 // linear axes start at zero: lengths compare honestly
	}
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	a.min, a.max = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	for v := a.min; v <= a.max+step/1000; v += step {
		a.tickValues = append(a.tickValues, v)
	}
	return a
}

// niceLog rounds v down (or, with up, up) to 1, 2 or 5 times a power of ten.
func niceLog(v float64, up bool) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	if up {
		for _, m := range []float64{1, 2, 5, 10} {
			if m*d >= v*0.999 {
				return m * d
			}
		}
	}
	for _, m := range []float64{5, 2, 1} {
		if m*d <= v*1.001 {
			return m * d
		}
	}
	return d
}

// niceStep rounds a rough tick step up to 1, 2 or 5 times a power of ten.
func niceStep(rough float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(rough)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= rough {
			return m * p
		}
	}
	return 10 * p
}

func (a *axis) pos(v float64) float64 {
	var t float64
	if a.log {
		t = (math.Log10(v) - math.Log10(a.min)) / (math.Log10(a.max) - math.Log10(a.min))
	} else {
		t = (v - a.min) / (a.max - a.min)
	}
	return a.from + t*(a.to-a.from)
}

func (a *axis) ticks() []float64 { return a.tickValues }

func tickLabel(v float64) string {
	switch {
	case v >= 1000000 && math.Mod(v, 1000000) == 0:
		return fmt.Sprintf("%gM", v/1000000)
	case v >= 1000 && math.Mod(v, 1000) == 0:
		return fmt.Sprintf("%gk", v/1000)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// chartFile is a chart written next to the report: its path relative to
// the report, for the link, and its alternative text.
type chartFile struct {
	Path, Alt string
}

// s3Chart is S3's latency against the offered rate, p99 and p50 of each
// server column, the medians over the repetitions of each step; nil when
// S3 did not run.
func s3Chart(r *Results) *chart {
	c := &chart{Title: "S3: delivery latency against the offered rate",
		XLabel: "offered rate (posts/s, each delivered to every peer)", YLabel: "delivery latency (ms)",
		LogX: true, LogY: true, HLines: []refLine{{At: 100, Label: "knee: p99 100 ms"}}}
	names := map[string]string{kindLanfeed: "lanfeed", kindSocketIO: "socket.io", kindFloor: "floor"}
	colours := map[string]string{kindLanfeed: colLanfeed, kindSocketIO: colSIO, kindFloor: colFloor}
	for _, kind := range []string{kindLanfeed, kindSocketIO, kindFloor} {
		steps := r.Steps[kind]
		if len(steps) == 0 {
			continue
		}
		byRate := map[float64][2][]float64{}
		for _, st := range steps {
			v := byRate[st.Rate]
			v[0], v[1] = append(v[0], st.P99), append(v[1], st.P50)
			byRate[st.Rate] = v
		}
		var p99, p50 []point
		for rate, v := range byRate {
			m99, _, _ := stats(v[0])
			m50, _, _ := stats(v[1])
			p99, p50 = append(p99, point{rate, m99}), append(p50, point{rate, m50})
		}
		c.Series = append(c.Series,
			series{Name: names[kind] + " p99", Color: colours[kind], Markers: true, Points: p99},
			series{Name: names[kind] + " p50", Color: colours[kind], Dashed: true, Markers: true, Points: p50})
	}
	if len(c.Series) == 0 {
		return nil
	}
	return c
}

// cdfPoints is at most 400 points of the distribution of xs: the share of
// samples (%) at or below each value.
func cdfPoints(xs []float64) []point {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	step := max(1, (n+399)/400)
	var pts []point
	for i := 0; i < n; i += step {
		pts = append(pts, point{s[i], 100 * float64(i+1) / float64(n)})
	}
	if n > 0 && (n-1)%step != 0 {
		pts = append(pts, point{s[n-1], 100})
	}
	return pts
}

// uiChart is U1's commit-to-DOM distribution at 100 posts/s, one line per
// repetition; nil when U1 did not run.
func uiChart(r *Results) *chart {
	c := &chart{Title: "U1: commit-to-DOM latency at 100 posts/s (Chromium)",
		XLabel: "commit-to-DOM latency (ms)", YLabel: "posts shown within it (%)",
		LogX: true, VLines: []refLine{{At: 100, Label: "target p99 100 ms"}}}
	var reps []int
	for rep := range r.uiSamples {
		reps = append(reps, rep)
	}
	sort.Ints(reps)
	shades := []string{colLanfeed, "#54aeff", "#0a3069", "#218bff"}
	for i, rep := range reps {
		if len(r.uiSamples[rep]) == 0 {
			continue
		}
		c.Series = append(c.Series, series{Name: fmt.Sprintf("lanfeed, rep %d", rep), Color: shades[i%len(shades)],
			Points: cdfPoints(r.uiSamples[rep])})
	}
	if len(c.Series) == 0 {
		return nil
	}
	return c
}

// writeCharts writes the charts of r as SVG files under reportDir/img and
// returns them keyed by scenario.
func writeCharts(r *Results, reportDir string) (map[string]chartFile, error) {
	out := map[string]chartFile{}
	for _, ch := range []struct {
		id, file string
		c        *chart
	}{{"S3", "bench-s3.svg", s3Chart(r)}, {"U1", "bench-ui.svg", uiChart(r)}} {
		if ch.c == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Join(reportDir, "img"), 0o755); err != nil {
			return out, err
		}
		if err := os.WriteFile(filepath.Join(reportDir, "img", ch.file), ch.c.svg(), 0o644); err != nil {
			return out, err
		}
		out[ch.id] = chartFile{Path: "img/" + ch.file, Alt: ch.c.Title}
	}
	return out, nil
}
