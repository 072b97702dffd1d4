package web

import (
	"fmt"
	"slices"
	"time"

	"snoop/store"
)

// chart is a stacked bar chart of hits per substance class per day, drawn
// by the template as inline SVG (presentation attributes only, so the
// strict CSP needs no inline styles).
type chart struct {
	Width, Height int
	Bars          []bar
	Legend        []legendItem
	YTicks        []tick
	XTicks        []tick
	Max           int
	Empty         bool
}

type bar struct {
	X, Y, W, H int
	Fill       string
	Title      string
}

type legendItem struct {
	X     int
	Fill  string
	Class string
}

type tick struct {
	Pos   int
	Label string
}

// classColors are the fills of the known substance classes; others cycle
// through extra.
var classColors = map[string]string{
	"fentanyl-analogue": "#b2182b",
	"nitazene":          "#2166ac",
	"other-nso":         "#e08214",
	"precursor":         "#5aae61",
}

var extraColors = []string{"#762a83", "#8c510a", "#01665e", "#666666"}

const (
	chartW, chartH = 720, 220
	padL, padB     = 36, 28
	padT, padR     = 28, 8
)

// buildChart lays out counts for the days from..from+days-1.
func buildChart(counts []store.ClassCount, from time.Time, days int) *chart {
	c := &chart{Width: chartW, Height: chartH}
	perDay := map[string]map[string]int{}
	totals := map[string]int{}
	var classes []string
	for _, cc := range counts {
		if perDay[cc.Day] == nil {
			perDay[cc.Day] = map[string]int{}
		}
		perDay[cc.Day][cc.Class] += cc.Hits
		totals[cc.Day] += cc.Hits
		if !slices.Contains(classes, cc.Class) {
			classes = append(classes, cc.Class)
		}
	}
	slices.Sort(classes)
	colors := map[string]string{}
	extra := 0
	for _, cl := range classes {
		if col, ok := classColors[cl]; ok {
			colors[cl] = col
		} else {
			colors[cl] = extraColors[extra%len(extraColors)]
			extra++
		}
	}
	for _, t := range totals {
		c.Max = max(c.Max, t)
	}
	if c.Max == 0 {
		c.Empty = true
		return c
	}
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	slot := plotW / days
	barW := max(slot-2, 1)
	for i := range days {
		day := from.AddDate(0, 0, i).Format("2006-01-02")
		x := padL + i*slot + 1
		y := padT + plotH
		for _, cl := range classes {
			n := perDay[day][cl]
			if n == 0 {
				continue
			}
			h := n * plotH / c.Max
			if h < 1 {
				h = 1
			}
			y -= h
			c.Bars = append(c.Bars, bar{X: x, Y: y, W: barW, H: h, Fill: colors[cl], Title: fmt.Sprintf("%s: %d %s", day, n, cl)})
		}
		if i%7 == 0 && days-1-i >= 4 || i == days-1 {
			c.XTicks = append(c.XTicks, tick{Pos: x + barW/2, Label: day[5:]})
		}
	}
	for _, v := range []int{0, (c.Max + 1) / 2, c.Max} {
		if n := len(c.YTicks); n > 0 && c.YTicks[n-1].Label == fmt.Sprint(v) {
			continue
		}
		c.YTicks = append(c.YTicks, tick{Pos: padT + plotH - v*plotH/c.Max, Label: fmt.Sprint(v)})
	}
	x := padL
	for _, cl := range classes {
		c.Legend = append(c.Legend, legendItem{X: x, Fill: colors[cl], Class: cl})
		x += 20 + 8*len(cl)
	}
	return c
}
