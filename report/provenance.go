package report

import (
	"strings"
)

// baselineLine says, in one line, what the run was compared with: the
// baseline file and where its newest entry came from (promoted when, the
// run's start, benchrun commit, SLURM job, CI commit), the results
// directory of `benchrun compare BASE DIR`, or that there is no
// baseline yet. "" when the summary does not say (made before this was
// recorded). The CI job of the baseline run is baselineJob.
func (in *Input) baselineLine() string {
	b := in.Summary.Baseline
	switch {
	case b == nil:
		return ""
	case b.Run != "":
		return "Baseline: the run in " + b.Run + "."
	case !b.Found:
		where := ""
		if b.File != "" {
			where = " (" + b.File + ")"
		}
		return "No baseline" + where + ": no case was compared with a previous run; `benchrun baseline promote DIR` makes a run the baseline."
	}
	var from []string
	add := func(label, v string) {
		if v != "" {
			from = append(from, label+v)
		}
	}
	add("started ", b.RunStart)
	add("benchrun ", short(b.BenchrunCommit))
	add("SLURM job ", b.SlurmJob)
	if b.CommitSHA != "" {
		c := "commit " + short(b.CommitSHA)
		if b.Ref != "" {
			c += " (" + b.Ref + ")"
		}
		from = append(from, c)
	}
	line := "Baseline: " + b.File
	if b.Promoted != "" {
		line += ", promoted " + b.Promoted
	}
	if len(from) > 0 {
		line += ", from the run " + strings.Join(from, ", ")
	}
	return line + "; " + plural(b.Entries, "entry", "entries") + " compared."
}

// baselineJob is the CI job of the baseline's run, "" when unknown.
func (in *Input) baselineJob() string {
	if b := in.Summary.Baseline; b != nil && b.Found && b.Run == "" {
		return b.CIJobURL
	}
	return ""
}

// short is a commit hash's first 12 characters.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
