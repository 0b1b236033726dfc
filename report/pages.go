package report

import (
	"html/template"
	"io"
	"sort"

	"github.com/benchrun/benchrun/analysis"
)

// PagesFile is the index a Pages site serves.
const PagesFile = "index.html"

// PagesRun is one run listed on the Pages index.
type PagesRun struct {
	Suite   string
	Start   string // RFC 3339 UTC; the list is sorted by it, newest first
	Verdict string // the run's verdict, from its summary.json
	// Cases counts the run's cases by verdict.
	Cases map[string]int
	// Link is the run's HTML report, relative to the index.
	Link string
	// JobURL is the CI job that made the run, "" when unknown.
	JobURL     string
	Incomplete bool
	sum        *analysis.Summary // for the sparklines
}

// RunOfPages describes the run of in for the Pages index, with its report
// at link.
func RunOfPages(in *Input, link string) PagesRun {
	r := PagesRun{Suite: in.Summary.Suite, Verdict: in.Summary.Verdict, Cases: map[string]int{}, Link: link,
		Incomplete: in.Summary.Incomplete, sum: in.Summary}
	if m := in.Manifest; m != nil {
		r.Start = m.Start.UTC().Format("2006-01-02T15:04:05Z")
		if m.CI != nil {
			r.JobURL = m.CI.JobURL
		}
	}
	for _, c := range in.Summary.Cases {
		r.Cases[c.Verdict]++
	}
	return r
}

var pagesTmpl = template.Must(template.New("pages").Funcs(template.FuncMap{
	"verdictClass": verdictClass,
	"verdicts":     func() []string { return []string{analysis.Pass, analysis.Fail, analysis.Error, analysis.Skipped} },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>benchrun — nightly reports</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;color:#fff;font-weight:600}
.ok{background:#2e7d32}.bad{background:#c62828}.warn{background:#e65100}.neutral{background:#757575}
.spark{vertical-align:middle}.dot{display:inline-block;width:.6rem;height:.6rem;border-radius:50%}
</style>
</head>
<body>
<h1>benchrun — nightly reports</h1>
{{if not .Runs}}<p>No runs yet.</p>{{else}}
{{range .Sparks}}<h2>{{.Suite}}: key statistic per case, oldest run left, newest right; dashed red: a change point</h2>
<table class="sparklines">
<thead><tr><th>case</th><th>statistic</th><th>runs</th><th>trend</th><th>newest</th><th>range</th><th>change points</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Case}}</td><td>{{.Stat}}</td><td>{{.Runs}}</td><td>{{.SVG}}</td><td><span class="dot {{.LatestClass}}"></span> {{.Latest}}</td><td>{{.Range}}</td><td>{{range .Changes}}<div class="change">{{.}}</div>{{end}}</td></tr>
{{end}}</tbody>
</table>
{{end}}<h2>Runs, newest first</h2>
<table>
<thead><tr><th>run (UTC)</th><th>suite</th><th>verdict</th><th>cases</th><th>CI job</th></tr></thead>
<tbody>
{{range .Runs}}<tr>
<td><a href="{{.Link}}">{{if .Start}}{{.Start}}{{else}}(no manifest){{end}}</a></td>
<td>{{.Suite}}</td>
<td><span class="badge {{verdictClass .Verdict}}">{{.Verdict}}</span>{{if .Incomplete}} (cut short){{end}}</td>
<td>{{$c := .Cases}}{{range $v := verdicts}}{{with index $c $v}}{{.}} {{$v}} {{end}}{{end}}</td>
<td>{{if .JobURL}}<a href="{{.JobURL}}">job</a>{{end}}</td>
</tr>
{{end}}</tbody>
</table>{{end}}
</body>
</html>
`))

// WritePages writes the Pages index of runs: per suite, a sparkline of
// each case's key statistic (keyStat) over its runs, then the runs, newest
// first (ties by suite), with verdict badges and links.
func WritePages(w io.Writer, runs []PagesRun) error {
	runs = append([]PagesRun(nil), runs...)
	sort.SliceStable(runs, func(i, j int) bool {
		if runs[i].Start != runs[j].Start {
			return runs[i].Start > runs[j].Start
		}
		return runs[i].Suite < runs[j].Suite
	})
	return pagesTmpl.Execute(w, struct {
		Runs   []PagesRun
		Sparks []sparkSuite
	}{runs, sparklines(runs)})
}
