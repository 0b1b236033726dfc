package report

import (
	"fmt"

	"github.com/benchrun/benchrun/analysis"
)

// telemetryTable is a table of what the cases' telemetry showed
// (analysis.Telemetry), as text cells: the markdown and HTML reports
// render the same model.
type telemetryTable struct {
	Title string
	Note  string
	Head  []string
	Rows  [][]string
}

// serverTable compares the server's own latencies (its /metrics
// histograms over each case's window) with the client's: the overhead
// column is client mean − server mean, what the client and the network
// add. Nil when no case has server figures.
func serverTable(cases []*analysis.Case) *telemetryTable {
	t := &telemetryTable{Title: "Server side (the service's /metrics over each case)",
		Note: "Means over the case's window, from the server's histogram and counter deltas between the scrapes around it (warm-up and other clients of the server included); overhead = client mean − server mean: what the client and the network add.",
		Head: []string{"case", "server ttft", "client ttft", "ttft overhead", "server e2e", "client e2e", "e2e overhead", "server queue",
			"running peak / mean", "waiting peak / mean", "KV cache peak / mean", "prefix-cache hits", "preemptions", "generated tokens"}}
	for _, c := range cases {
		if c.Telemetry == nil || c.Telemetry.Server == nil {
			continue
		}
		f := c.Telemetry.Server
		row := []string{caseLabel(c)}
		for _, l := range []*analysis.ServerLatency{f.TTFT, f.E2E} {
			if l == nil {
				row = append(row, "—", "—", "—")
				continue
			}
			row = append(row, sec(l.Mean), sec(l.ClientMean), sec(l.Overhead))
		}
		if f.Queue != nil {
			row = append(row, sec(f.Queue.Mean))
		} else {
			row = append(row, "—")
		}
		row = append(row, gauge(f.Running, analysis.UnitNone), gauge(f.Waiting, analysis.UnitNone), gauge(f.KVCache, analysis.UnitRatio),
			optional(f.PrefixCacheHitRate, analysis.UnitRatio), optional(f.Preemptions, analysis.UnitNone), optional(f.GenerationTokens, analysis.UnitTokens))
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

func sec(v float64) string { return analysis.FormatValue(v, analysis.UnitSeconds) }

func gauge(g *analysis.Gauge, unit string) string {
	if g == nil {
		return "—"
	}
	return fmt.Sprintf("%s / %s", analysis.FormatValue(g.Peak, unit), analysis.FormatValue(g.Mean, unit))
}

func optional(v *float64, unit string) string {
	if v == nil {
		return "—"
	}
	return analysis.FormatValue(*v, unit)
}

// telemetryTables are the telemetry tables of a benchmark's cases, in the
// order the reports show them.
func telemetryTables(cases []*analysis.Case) []*telemetryTable {
	var out []*telemetryTable
	for _, t := range []*telemetryTable{serverTable(cases)} {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}
