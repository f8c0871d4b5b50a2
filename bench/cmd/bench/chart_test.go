package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// svgParts decodes an SVG, failing the test if it is not well-formed XML,
// and returns its polylines' points and all its text.
func svgParts(t *testing.T, svg []byte) (lines [][]point, text string, bg bool) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var txt strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range el.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch el.Name.Local {
			case "polyline":
				var pts []point
				for _, xy := range strings.Fields(attr["points"]) {
					xs, ys, ok := strings.Cut(xy, ",")
					x, err1 := strconv.ParseFloat(xs, 64)
					y, err2 := strconv.ParseFloat(ys, 64)
					if !ok || err1 != nil || err2 != nil {
						t.Fatalf("polyline point %q is not x,y", xy)
					}
					pts = append(pts, point{x, y})
				}
				lines = append(lines, pts)
			case "rect":
				if attr["x"] == "0" && attr["y"] == "0" && attr["fill"] == "#ffffff" {
					bg = true
				}
			}
		case xml.CharData:
			txt.Write(el)
			txt.WriteByte('\n')
		}
	}
	return lines, txt.String(), bg
}

// inPlot reports whether p lies in the plotting area.
func inPlot(p point) bool {
	return p.X >= padLeft-0.05 && p.X <= chartW-padRight+0.05 && p.Y >= padTop-0.05 && p.Y <= chartH-padBottom+0.05
}

func TestChart_SVGIsWellFormedWithAxesLegendAndOrderedPoints(t *testing.T) {
	c := &chart{Title: "latency <against> rate & more", XLabel: "rate (posts/s)", YLabel: "latency (ms)", LogX: true, LogY: true,
		HLines: []refLine{{At: 100, Label: "knee"}},
		Series: []series{
			{Name: "a p99", Color: colLanfeed, Markers: true, Points: []point{{400, 30}, {25, 3}, {100, 9}, {0, 5}, {50, 0}}},
			{Name: "b p50", Color: colSIO, Dashed: true, Points: []point{{25, 200}, {1600, 900}, {50, 250}}},
		}}
	lines, text, bg := svgParts(t, c.svg())
	if !bg {
		t.Errorf("no explicit background: the chart would take the page's colour in a dark theme")
	}
	for _, want := range []string{"rate (posts/s)", "latency (ms)", "a p99", "b p50", "knee", "latency <against> rate & more"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q:\n%s", want, text)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d polylines; want 2", len(lines))
	}
	// The zero x and zero y points cannot be drawn on log axes: left out.
	if len(lines[0]) != 3 || len(lines[1]) != 3 {
		t.Errorf("points per line = %d, %d; want 3, 3", len(lines[0]), len(lines[1]))
	}
	for i, pts := range lines {
		for k, p := range pts {
			if !inPlot(p) {
				t.Errorf("line %d point %d at %v: outside the plot", i, k, p)
			}
			if k > 0 && p.X < pts[k-1].X {
				t.Errorf("line %d: x goes back from %v to %v", i, pts[k-1].X, p.X)
			}
		}
	}
	// Larger values sit higher on the page (smaller y).
	if a := lines[0]; !(a[0].Y > a[1].Y && a[1].Y > a[2].Y) {
		t.Errorf("line 0's y pixels %v; want decreasing as latency grows", a)
	}
}

func TestChart_LinearAxisStartsAtZero(t *testing.T) {
	a := newAxis([]float64{40, 95}, false, 0, 100)
	if a.min != 0 || a.max < 95 {
		t.Errorf("axis over 40..95 = %v..%v; want 0..>=95", a.min, a.max)
	}
	if got := a.pos(a.min); got != 0 {
		t.Errorf("pos(min) = %v; want 0", got)
	}
}

func TestS3Chart_MediansPerStep(t *testing.T) {
	r := newResults(3, "0", "1")
	for rep, p99 := range []float64{10, 30, 20} {
		r.addStep(kindLanfeed, S3Step{Rep: rep + 1, Rate: 25, P50: 1, P99: p99})
		r.addStep(kindLanfeed, S3Step{Rep: rep + 1, Rate: 50, P50: 2, P99: 2 * p99})
	}
	r.addStep(kindFloor, S3Step{Rep: 1, Rate: 25, P50: 1, P99: 5})
	c := s3Chart(r)
	if c == nil || len(c.Series) != 4 {
		t.Fatalf("s3Chart() = %+v; want lanfeed's and the floor's p99 and p50", c)
	}
	got := c.sorted(c.Series[0].Points)
	if len(got) != 2 || got[0] != (point{25, 20}) || got[1] != (point{50, 40}) {
		t.Errorf("lanfeed p99 points = %v; want the medians {25 20} {50 40}", got)
	}
	if s3Chart(newResults(1, "", "")) != nil {
		t.Errorf("s3Chart(no S3) != nil")
	}
}

func TestCDFPoints_RiseToAll(t *testing.T) {
	var xs []float64
	for i := 1000; i > 0; i-- {
		xs = append(xs, float64(i))
	}
	pts := cdfPoints(xs)
	if len(pts) > 401 || pts[len(pts)-1] != (point{1000, 100}) {
		t.Fatalf("%d points ending at %v; want at most 401, the last {1000 100}", len(pts), pts[len(pts)-1])
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].X < pts[i-1].X || pts[i].Y < pts[i-1].Y {
			t.Fatalf("point %d %v after %v: not rising", i, pts[i], pts[i-1])
		}
	}
}

// Ratios pair the figures of one repetition; a repetition one server
// lacks is left out.
func TestResults_RatioIsTheMedianOfPerRepRatios(t *testing.T) {
	r := newResults(3, "0", "1")
	for rep, v := range [][2]float64{{10, 5}, {30, 10}, {8, 0}} {
		r.rep = rep + 1
		r.add("S2", kindLanfeed, "p99", v[0])
		if rep != 2 { // the floor's third repetition failed
			r.add("S2", kindFloor, "p99", v[1])
		}
	}
	if got := r.ratio("S2", "p99", kindLanfeed, kindFloor); got != 2.5 {
		t.Errorf("ratio() = %v; want 2.5 (the median of 2 and 3)", got)
	}
	if got := r.ratio("S2", "p99", kindLanfeed, kindSocketIO); !math.IsNaN(got) {
		t.Errorf("ratio(no socket.io) = %v; want NaN", got)
	}
	j := vsFloor("S2", "p99", 1.3, false, false)
	if j(10, math.NaN(), r) {
		t.Errorf("vsFloor(1.3) met at a ratio of 2.5")
	}
	if !vsFloor("S2", "p99", 2.5, false, false)(10, math.NaN(), r) {
		t.Errorf("vsFloor(2.5) not met at a ratio of 2.5")
	}
	if vsFloor("S2", "p99", 2.5, false, true)(10, math.NaN(), r) {
		t.Errorf("vsFloor(below socket.io) met without a socket.io figure")
	}
}

func TestWriteCharts_NextToTheReport(t *testing.T) {
	dir := t.TempDir()
	r := newResults(1, "0", "1")
	r.addStep(kindFloor, S3Step{Rep: 1, Rate: 25, P50: 1, P99: 5})
	r.uiSamples[1] = []float64{12, 40, 33}
	files, err := writeCharts(r, dir)
	if err != nil || len(files) != 2 {
		t.Fatalf("writeCharts() = %v, %v; want the S3 and the U1 chart", files, err)
	}
	for id, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		svgParts(t, b)
	}
}
