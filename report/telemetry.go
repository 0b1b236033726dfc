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
	for _, t := range []*telemetryTable{serverTable(cases), gpuTable(cases), nodeTable(cases)} {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// gpuTable is the GPU table of the cases' PromQL series: one row per GPU,
// then a row of the case's energy over all GPUs and per output token.
// Nil when no case has GPU figures.
func gpuTable(cases []*analysis.Case) *telemetryTable {
	t := &telemetryTable{Title: "GPUs (PromQL over each case)",
		Note: "Peak and mean over the query steps in the case's measured window; energy from the energy counter over that window, per output token of the successful measured requests.",
		Head: []string{"case", "host", "GPU", "model", "util mean / peak", "memory peak", "temperature peak", "power mean / peak", "energy", "energy / output token"}}
	for _, c := range cases {
		if c.Telemetry == nil || len(c.Telemetry.GPUs) == 0 {
			continue
		}
		for _, g := range c.Telemetry.GPUs {
			mem := "—"
			if g.MemoryUsed != nil {
				mem = analysis.FormatValue(g.MemoryUsed.Peak, analysis.UnitBytes)
				if g.MemoryTotal != nil {
					mem += " of " + analysis.FormatValue(*g.MemoryTotal, analysis.UnitBytes)
				}
			}
			t.Rows = append(t.Rows, []string{caseLabel(c), g.Host, g.GPU, g.Model, meanPeak(g.Util, analysis.UnitRatio), mem,
				peak(g.Temperature, analysis.UnitCelsius), meanPeak(g.Power, analysis.UnitWatts), optional(g.Energy, analysis.UnitJoules), "—"})
		}
		if tel := c.Telemetry; tel.Energy != nil {
			t.Rows = append(t.Rows, []string{caseLabel(c), "all", "", "", "", "", "", "",
				optional(tel.Energy, analysis.UnitJoules), optional(tel.EnergyPerOutputToken, analysis.UnitJoulesPerToken)})
		}
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

// nodeTable is the node table of the cases' PromQL series, one row per
// instance. Nil when no case has node figures.
func nodeTable(cases []*analysis.Case) *telemetryTable {
	t := &telemetryTable{Title: "Nodes (PromQL over each case)",
		Note: "Peak and mean over the query steps in the case's measured window (node_exporter).",
		Head: []string{"case", "instance", "CPU busy mean / peak", "memory used peak", "network receive mean / peak", "network transmit mean / peak"}}
	for _, c := range cases {
		if c.Telemetry == nil {
			continue
		}
		for _, n := range c.Telemetry.Nodes {
			t.Rows = append(t.Rows, []string{caseLabel(c), n.Instance, meanPeak(n.CPUBusy, analysis.UnitRatio), peak(n.MemoryUsed, analysis.UnitBytes),
				meanPeak(n.NetReceive, analysis.UnitBytesPerSecond), meanPeak(n.NetTransmit, analysis.UnitBytesPerSecond)})
		}
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

func meanPeak(g *analysis.Gauge, unit string) string {
	if g == nil {
		return "—"
	}
	return fmt.Sprintf("%s / %s", analysis.FormatValue(g.Mean, unit), analysis.FormatValue(g.Peak, unit))
}

func peak(g *analysis.Gauge, unit string) string {
	if g == nil {
		return "—"
	}
	return analysis.FormatValue(g.Peak, unit)
}
