package analysis

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/benchrun/benchrun/runner/results"
)

// This file derives the GPU and node tables from a case's PromQL series
// (results.TelemetryPromQL: the suite's queries run over the case's
// window; docs/monitoring.md, "PromQL telemetry"). The queries are read by
// the names of suites.GPUQueries and suites.NodeQueries, in the units the
// DCGM exporter and node_exporter report (%, MiB, °C, W, mJ; ratio,
// bytes, bytes/s), converted here to base units.

// Units of the telemetry figures that have no metric of their own;
// FormatValue writes them after the number.
const (
	UnitWatts          = "W"
	UnitJoules         = "J"
	UnitCelsius        = "°C"
	UnitJoulesPerToken = "J/token"
)

// Query names analysis reads (suites.GPUQueries, suites.NodeQueries).
const (
	QueryGPUUtil       = "gpu_util"    // %
	QueryGPUFBUsed     = "gpu_fb_used" // MiB
	QueryGPUFBFree     = "gpu_fb_free" // MiB
	QueryGPUTemp       = "gpu_temp"    // °C
	QueryGPUPower      = "gpu_power"   // W
	QueryGPUEnergy     = "gpu_energy"  // mJ, a counter
	QueryNodeCPUBusy   = "node_cpu_busy"
	QueryNodeMemory    = "node_memory_used"
	QueryNodeReceive   = "node_network_receive"
	QueryNodeTransmit  = "node_network_transmit"
	mib                = 1 << 20
	dcgmDriverLabel    = "DCGM_FI_DRIVER_VERSION"
	millijoulesToJoule = 1e-3
)

// GPUFigures is one GPU over a case's measured window, from the PromQL
// series of the gpu queries: gauges' peak and mean over the query steps
// in the window, in base units (utilisation a ratio 0–1, memory bytes,
// temperature °C, power W, energy J). Nil fields had no series.
type GPUFigures struct {
	Host  string `json:"host,omitempty"` // the Hostname label, else instance
	GPU   string `json:"gpu"`            // the gpu label (index)
	UUID  string `json:"uuid,omitempty"`
	Model string `json:"model,omitempty"` // the modelName label
	// Driver is the DCGM_FI_DRIVER_VERSION label, which dcgm-exporter
	// serves with its default counters (absent with a custom file).
	Driver      string   `json:"driver,omitempty"`
	Util        *Gauge   `json:"util,omitempty"`
	MemoryUsed  *Gauge   `json:"memory_used,omitempty"`
	MemoryTotal *float64 `json:"memory_total,omitempty"` // used + free at the peak
	Temperature *Gauge   `json:"temperature,omitempty"`
	Power       *Gauge   `json:"power,omitempty"`
	// Energy is the increase of the energy counter over the measured
	// window of each repetition, interpolated linearly between the query
	// steps around the window's ends.
	Energy *float64 `json:"energy,omitempty"`
}

// NodeFigures is one node (instance) over a case's measured window, from
// the node queries: CPU busy (ratio of all CPUs), memory used (bytes),
// network receive and transmit (bytes/s), peak and mean.
type NodeFigures struct {
	Instance    string `json:"instance"`
	CPUBusy     *Gauge `json:"cpu_busy,omitempty"`
	MemoryUsed  *Gauge `json:"memory_used,omitempty"`
	NetReceive  *Gauge `json:"network_receive,omitempty"`
	NetTransmit *Gauge `json:"network_transmit,omitempty"`
}

// gpuKey is a series' GPU: host and index, with UUID and model.
func gpuKey(l map[string]string) (host, gpu string) {
	host = l["Hostname"]
	if host == "" {
		host = l["instance"]
	}
	return host, l["gpu"]
}

// promqlNamed returns the PromQL series of a query name.
func (td *telemetryData) promqlNamed(name string) []*tseries {
	var out []*tseries
	for _, s := range td.series {
		if s.kind == results.TelemetryPromQL && s.metric == name {
			out = append(out, s)
		}
	}
	return out
}

// seriesGauge is the peak and mean of one series' points within
// [from, to], scaled; nil without one.
func seriesGauge(s *tseries, from, to, scale float64) *Gauge {
	g := &Gauge{Peak: math.Inf(-1)}
	for _, p := range s.pts {
		if p.t < from || p.t > to {
			continue
		}
		g.Peak = max(g.Peak, p.v*scale)
		g.Mean += p.v * scale
		g.N++
	}
	if g.N == 0 {
		return nil
	}
	g.Mean /= float64(g.N)
	return g
}

// counterAt is a counter's increase from its first point to time t
// (across resets), linear between points, clamped to the points' span.
func counterAt(pts []tpoint, t float64) float64 {
	cum := 0.0
	for k := 1; k < len(pts); k++ {
		d := pts[k].v - pts[k-1].v
		if d < 0 {
			d = pts[k].v
		}
		if t < pts[k].t {
			if t <= pts[k-1].t {
				return cum
			}
			return cum + d*(t-pts[k-1].t)/(pts[k].t-pts[k-1].t)
		}
		cum += d
	}
	return cum
}

// counterWindows is a counter's increase over each window, summed; ok is
// false when the series has fewer than two points, or when its points do
// not reach a window's ends within slack (a query step: the steps need
// not fall on the window's ends), so that the increase over the window
// cannot be known (the exporter was down, the target gone): counterAt
// clamps to the points, which would give a part of the window's increase
// as all of it.
func counterWindows(pts []tpoint, windows [][2]float64, slack float64) (float64, bool) {
	if len(pts) < 2 {
		return 0, false
	}
	sum := 0.0
	for _, w := range windows {
		if pts[0].t > w[0]+slack || pts[len(pts)-1].t < w[1]-slack {
			return 0, false
		}
		sum += counterAt(pts, w[1]) - counterAt(pts, w[0])
	}
	return sum, true
}

// gpuFigures derives each GPU's figures over [from, to] and, for energy,
// the repetitions' windows; GPUs sorted by host and index (numerically).
// partial names the GPUs whose energy series does not cover the windows:
// they have no energy figure.
func (td *telemetryData) gpuFigures(from, to float64, windows [][2]float64) (out []GPUFigures, partial []string) {
	byKey := map[[2]string]*GPUFigures{}
	get := func(l map[string]string) *GPUFigures {
		host, gpu := gpuKey(l)
		f := byKey[[2]string{host, gpu}]
		if f == nil {
			f = &GPUFigures{Host: host, GPU: gpu}
			byKey[[2]string{host, gpu}] = f
		}
		if f.UUID == "" {
			f.UUID = l["UUID"]
		}
		if f.Model == "" {
			f.Model = l["modelName"]
		}
		if f.Driver == "" {
			f.Driver = l[dcgmDriverLabel]
		}
		return f
	}
	for _, q := range []struct {
		name  string
		scale float64
		dst   func(*GPUFigures) **Gauge
	}{
		{QueryGPUUtil, 0.01, func(f *GPUFigures) **Gauge { return &f.Util }},
		{QueryGPUFBUsed, mib, func(f *GPUFigures) **Gauge { return &f.MemoryUsed }},
		{QueryGPUTemp, 1, func(f *GPUFigures) **Gauge { return &f.Temperature }},
		{QueryGPUPower, 1, func(f *GPUFigures) **Gauge { return &f.Power }},
	} {
		for _, s := range td.promqlNamed(q.name) {
			if g := seriesGauge(s, from, to, q.scale); g != nil {
				*q.dst(get(s.labels)) = g
			}
		}
	}
	for _, s := range td.promqlNamed(QueryGPUFBFree) {
		host, gpu := gpuKey(s.labels)
		f := byKey[[2]string{host, gpu}]
		if f == nil || f.MemoryUsed == nil {
			continue
		}
		if free := seriesGauge(s, from, to, mib); free != nil {
			total := f.MemoryUsed.Peak + free.Mean
			f.MemoryTotal = &total
		}
	}
	for _, s := range td.promqlNamed(QueryGPUEnergy) {
		slack := td.step
		if slack <= 0 && len(s.pts) >= 2 {
			slack = s.pts[1].t - s.pts[0].t // a file without its step
		}
		e, ok := counterWindows(s.pts, windows, slack)
		f := get(s.labels)
		if !ok {
			partial = append(partial, fmt.Sprintf("%s gpu %s (points %.3g s to %.3g s)", f.Host, f.GPU, s.pts[0].t, s.pts[len(s.pts)-1].t))
			continue
		}
		e *= millijoulesToJoule
		f.Energy = &e
	}
	for _, f := range byKey {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		if len(out[i].GPU) != len(out[j].GPU) {
			return len(out[i].GPU) < len(out[j].GPU)
		}
		return out[i].GPU < out[j].GPU
	})
	slices.Sort(partial)
	return out, partial
}

// nodeFigures derives each node's figures over [from, to], by instance.
func (td *telemetryData) nodeFigures(from, to float64) []NodeFigures {
	byInst := map[string]*NodeFigures{}
	for _, q := range []struct {
		name string
		dst  func(*NodeFigures) **Gauge
	}{
		{QueryNodeCPUBusy, func(f *NodeFigures) **Gauge { return &f.CPUBusy }},
		{QueryNodeMemory, func(f *NodeFigures) **Gauge { return &f.MemoryUsed }},
		{QueryNodeReceive, func(f *NodeFigures) **Gauge { return &f.NetReceive }},
		{QueryNodeTransmit, func(f *NodeFigures) **Gauge { return &f.NetTransmit }},
	} {
		for _, s := range td.promqlNamed(q.name) {
			g := seriesGauge(s, from, to, 1)
			if g == nil {
				continue
			}
			inst := s.labels["instance"]
			f := byInst[inst]
			if f == nil {
				f = &NodeFigures{Instance: inst}
				byInst[inst] = f
			}
			*q.dst(f) = g
		}
	}
	var out []NodeFigures
	for _, k := range slices.Sorted(maps.Keys(byInst)) {
		out = append(out, *byInst[k])
	}
	return out
}

// promqlNotes are the warnings of a case's PromQL series: queries that
// gave no series in the file (failed, or nothing matched over the case).
func (td *telemetryData) promqlNotes(queries map[string]string) []string {
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(queries)) {
		if len(td.promqlNamed(name)) == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("telemetry promql: no series from %s over the case (the query failed or matched nothing): no figures from it",
		strings.Join(missing, ", "))}
}

// promqlTelemetry fills the GPU and node tables and the energy per
// output token (J/token: the GPUs' energy over the repetitions' measured
// windows ÷ the output tokens of the successful measured operations). A
// GPU whose energy series does not cover the windows has no energy, and
// then neither has the case (a sum without it would be too small): the
// warning returned names it.
func (a *caseAcc) promqlTelemetry(t *Telemetry, td *telemetryData, from, to float64) []string {
	var windows [][2]float64
	var out int64
	for _, id := range slices.Sorted(maps.Keys(a.reps)) {
		if r := a.reps[id]; r.seen {
			windows = append(windows, [2]float64{sec(r.first), sec(r.last)})
			out += r.outTk
		}
	}
	var partial []string
	t.GPUs, partial = td.gpuFigures(from, to, windows)
	t.Nodes = td.nodeFigures(from, to)
	if len(partial) > 0 {
		return []string{fmt.Sprintf("telemetry promql: %s of %s does not cover the measured window: no energy figure for it, nor for the case",
			QueryGPUEnergy, strings.Join(partial, ", "))}
	}
	energy, any := 0.0, false
	for _, g := range t.GPUs {
		if g.Energy != nil {
			energy += *g.Energy
			any = true
		}
	}
	if any {
		t.Energy = &energy
		if out > 0 {
			e := energy / float64(out)
			t.EnergyPerOutputToken = &e
		}
	}
	return nil
}
