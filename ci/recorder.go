package ci

import (
	"os"
	"path/filepath"
	"time"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// recorder keeps manifest.json true while a run goes, so that a killed
// run still tells what it did: written at the start with every case
// pending, rewritten as services start and cases start and end, and at
// the end. A failed write is logged, not fatal: the samples matter more.
//
// It holds the case state machine (results.Status):
//
//	pending ─▶ running ─▶ done    the case ran (or the user stopped it: Error "interrupted", samples kept)
//	                   └─▶ error   it failed, its service failed during it, the SLURM time limit cut it, or benchrun panicked
//	pending ─▶ skipped             the run was stopped before the case
//	pending ─▶ error               its service did not start or failed in an earlier case, or benchrun panicked
type recorder struct {
	e    *env
	path string
	m    *results.Manifest
}

// newRecorder writes the manifest of a run of s into dir: every case
// pending, its samples where pl puts them.
func newRecorder(e *env, s *suites.Suite, dir string, pl placement) *recorder {
	m := newManifest(s)
	if id := os.Getenv("SLURM_JOB_ID"); id != "" {
		nodes, _ := slurm.AllocationNodes()
		m.Slurm = &results.SlurmInfo{JobID: id, Nodes: nodes, Partition: os.Getenv("SLURM_JOB_PARTITION")}
	}
	m.Cases = pendingCases(s, pl.samples)
	r := &recorder{e: e, path: filepath.Join(dir, results.ManifestFile), m: m}
	r.save()
	return r
}

// newManifest describes a run of s starting now.
func newManifest(s *suites.Suite) *results.Manifest {
	v, commit := Version()
	host, _ := os.Hostname()
	file, err := filepath.Abs(s.File)
	if err != nil {
		file = s.File
	}
	return &results.Manifest{
		Version: results.ResultsVersion, Suite: s.Suite.Name, Description: s.Suite.Description, SuiteFile: file, SuiteSHA256: s.SHA256,
		BenchrunVersion: v, BenchrunCommit: commit, Host: host, Start: time.Now().UTC(),
		Fingerprint: fingerprint(s, host), CI: detectCI(), Environment: hostEnvironment(),
	}
}

// pendingCases lists the cases of s, in order, pending; samples gives the
// path of a case's samples relative to the results directory.
func pendingCases(s *suites.Suite, samples func(caseID string) string) []results.CaseInfo {
	var out []results.CaseInfo
	for _, cs := range s.Cases() {
		if isSearch(cs) {
			continue // its probes are added as they run (recorder.add)
		}
		out = append(out, results.CaseInfo{ID: cs.ID, Benchmark: cs.Benchmark.Name, Kind: cs.Benchmark.Kind,
			Params: cs.Params, Samples: samples(cs.ID), Status: results.StatusPending, Repetitions: cs.Benchmark.Repetitions})
	}
	return out
}

func (r *recorder) save() {
	if err := results.WriteJSONAtomic(r.path, r.m); err != nil {
		r.e.log.Error("writing manifest", "err", err)
	}
}

// service records a service about to start.
func (r *recorder) service(info results.ServiceInfo) {
	r.m.Services = append(r.m.Services, info)
	r.save()
}

// serviceDetail updates the manifest entry of a started service.
func (r *recorder) serviceDetail(name string, update func(*results.ServiceInfo)) {
	for i := range r.m.Services {
		if r.m.Services[i].Name == name {
			update(&r.m.Services[i])
		}
	}
	r.save()
}

// serverVersion records the version a started service said it runs
// (serverVersion); "" changes nothing.
func (r *recorder) serverVersion(name, version string) {
	if version == "" {
		return
	}
	for i := range r.m.Services {
		if r.m.Services[i].Name == name {
			r.m.Services[i].Version = version
		}
	}
	r.save()
}

// caseInfo is the manifest entry of the i-th case; runCase fills in what
// it measured with (load, settings, dataset hash, start).
func (r *recorder) caseInfo(i int) *results.CaseInfo { return &r.m.Cases[i] }

// notRun ends a pending case the run did not reach: skipped, or error
// with the execution error that stopped the run.
func (r *recorder) notRun(i int, status results.Status, why string) {
	c := &r.m.Cases[i]
	c.Status, c.Error = status, why
}

// add appends a case (a search probe) and returns its index.
func (r *recorder) add(c results.CaseInfo) int {
	r.m.Cases = append(r.m.Cases, c)
	r.save()
	return len(r.m.Cases) - 1
}

// start moves a pending case to running.
func (r *recorder) start(i int) {
	c := &r.m.Cases[i]
	c.Status, c.Start = results.StatusRunning, time.Now().UTC()
	r.save()
}

// end moves a running case to done or error, at time at.
func (r *recorder) end(i int, at time.Time, status results.Status, why string) {
	c := &r.m.Cases[i]
	c.End, c.Status, c.Error = at.UTC(), status, why
	r.save()
}

// abort ends every case a failure of benchrun itself (why) cut short: a
// running case becomes an error (its samples so far are kept), a pending
// one an error without running; the run is incomplete with why.
func (r *recorder) abort(why string) {
	now := time.Now().UTC()
	for i := range r.m.Cases {
		c := &r.m.Cases[i]
		switch c.Status {
		case results.StatusRunning:
			c.End, c.Status, c.Error = now, results.StatusError, why+"; samples so far kept"
		case results.StatusPending:
			c.Status, c.Error = results.StatusError, "not run: "+why
		}
	}
	r.incomplete(why)
	r.save()
}

// incomplete marks the run cut short, and why.
func (r *recorder) incomplete(reason string) {
	r.m.Incomplete, r.m.Reason = true, reason
}

// close records the end of the run.
func (r *recorder) close() {
	r.m.End = time.Now().UTC()
	r.save()
}
