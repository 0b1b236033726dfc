package analysis

import (
	"slices"
	"time"
)

// Frontier is the SLO frontier of a capacity search (docs/capacity.md):
// what each probe measured of the statistics its SLOs judge, the SLOs'
// limits and the capacity found, for the report's chart. CapacityCase
// fills it from the probes it replays; it is in summary.json on the
// capacity case as "frontier".
type Frontier struct {
	Variable string `json:"variable"` // rate, users or speed
	// Capacity is the highest passing load (0: none) and Bracket the
	// capacity case's 95% bracket [highest passing, lowest not passing].
	Capacity float64    `json:"capacity"`
	Bracket  [2]float64 `json:"bracket"`
	// SLOs are the search's threshold SLOs, in the suite's order.
	SLOs []FrontierSLO `json:"slos"`
	// Probes are the probes in load order (then try).
	Probes []FrontierProbe `json:"probes"`
	// WallSeconds is what the search cost in wall time: from the first
	// probe's start to the last probe's end, to the second (the cases'
	// start and end are RFC 3339 seconds); 0 when they are not known.
	WallSeconds float64 `json:"wall_seconds"`
}

// FrontierSLO is one SLO of a search: Metric Stat Op Limit, in Unit.
type FrontierSLO struct {
	Expr   string  `json:"expr"`
	Metric string  `json:"metric"`
	Stat   string  `json:"stat"`
	Op     string  `json:"op"`
	Limit  float64 `json:"limit"`
	Unit   string  `json:"unit"`
}

// FrontierProbe is one probe: its load, try and verdict, and per SLO
// expression the statistic's value and 95% interval (the interval
// JudgeProbe judged); an SLO whose metric the probe lacks is absent.
type FrontierProbe struct {
	Case    string                   `json:"case"`
	Load    float64                  `json:"load"`
	Try     int                      `json:"try"`
	Verdict string                   `json:"verdict"`
	Values  map[string]FrontierValue `json:"values"`
}

// FrontierValue is a statistic and its 95% interval.
type FrontierValue struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// frontier builds the Frontier of a search from its probes (Probe, with
// verdicts) and their cases.
func frontier(spec SearchSpec, probes []Probe, cases map[string]*Case, lo, hi float64) *Frontier {
	f := &Frontier{Variable: spec.Variable, Capacity: lo, Bracket: [2]float64{lo, hi}, SLOs: []FrontierSLO{}, Probes: []FrontierProbe{}}
	for _, t := range spec.SLOs {
		s := FrontierSLO{Expr: t.Expr, Metric: t.Metric, Stat: t.Stat, Op: t.Op, Limit: t.Limit}
		for _, c := range cases {
			if m, ok := c.Metrics[t.Metric]; ok {
				s.Unit = m.Unit
				if s.Stat == "" {
					s.Stat = m.DefaultStat()
				}
				break
			}
		}
		f.SLOs = append(f.SLOs, s)
	}
	for _, p := range probes {
		fp := FrontierProbe{Case: p.Case, Load: p.Load, Try: p.Try, Verdict: p.Verdict, Values: map[string]FrontierValue{}}
		c := cases[p.Case]
		for i, t := range spec.SLOs {
			if v, ok := sloInterval(c, t, f.SLOs[i].Stat); ok {
				fp.Values[t.Expr] = v
			}
		}
		f.Probes = append(f.Probes, fp)
	}
	slices.SortStableFunc(f.Probes, func(a, b FrontierProbe) int {
		switch {
		case a.Load != b.Load:
			if a.Load < b.Load {
				return -1
			}
			return 1
		}
		return a.Try - b.Try
	})
	return f
}

// sloInterval is the statistic stat of t's metric in c with the interval
// judgeSLO judges (statInterval; the value alone when it has none).
func sloInterval(c *Case, t Threshold, stat string) (FrontierValue, bool) {
	if c == nil || stat == "" {
		return FrontierValue{}, false
	}
	m, ok := c.Metrics[t.Metric]
	if !ok {
		m, ok = AbsentErrorRate(c, t.Metric)
	}
	if !ok {
		return FrontierValue{}, false
	}
	v, ok := m.Stat(stat)
	if !ok {
		return FrontierValue{}, false
	}
	out := FrontierValue{Value: v, Lo: v, Hi: v}
	if lo, hi, ok := statInterval(m, stat, v); ok {
		out.Lo, out.Hi = lo, hi
	}
	return out, true
}

// wallSeconds is the time from the earliest start to the latest end of
// cases (RFC 3339); 0 when a case lacks either.
func wallSeconds(cases []*Case) float64 {
	var first, last time.Time
	for _, c := range cases {
		start, err1 := time.Parse(time.RFC3339, c.Start)
		end, err2 := time.Parse(time.RFC3339, c.End)
		if err1 != nil || err2 != nil {
			return 0
		}
		if first.IsZero() || start.Before(first) {
			first = start
		}
		if end.After(last) {
			last = end
		}
	}
	return last.Sub(first).Seconds()
}
