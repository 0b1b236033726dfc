package baselines

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// writeRun writes a results directory with one case of n requests whose
// ttft is scaled by scale, summarised and rolled up.
func writeRun(t *testing.T, scale float64, verdict string, incomplete bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, results.SamplesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	info := results.CaseInfo{ID: "chat/users=4", Benchmark: "chat", Kind: "llm", Status: "done", Repetitions: 1,
		Samples: results.SamplePath("chat/users=4")}
	w, err := results.CreateSampleFile(filepath.Join(dir, info.Samples))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		sched := time.Duration(i) * 10 * time.Millisecond
		ttft := time.Duration(scale * float64(100+i%50) * float64(time.Millisecond))
		s := results.Sample{Seq: int64(i), Scheduled: sched, Sent: sched, FirstToken: sched + ttft,
			LastToken: sched + ttft + 100*time.Millisecond, Done: sched + ttft + 101*time.Millisecond, OutputTokens: 11, InputTokens: 5}
		if err := w.Write(&s); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	m := &results.Manifest{Version: 1, Suite: "nightly", Start: time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC), End: time.Date(2025, 3, 1, 2, 5, 0, 0, time.UTC),
		Incomplete: incomplete, Reason: "TIMEOUT", Fingerprint: map[string]string{"gpu": "A100"}, Cases: []results.CaseInfo{info}}
	if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	s, _, err := analysis.SummarizeDir(dir, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Rollup()
	if verdict != "" {
		s.Verdict = verdict
	}
	if err := analysis.WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadMissing(t *testing.T) {
	bdir := filepath.Join(t.TempDir(), "baselines")
	f, err := Load(bdir, "nightly")
	if !errors.Is(err, fs.ErrNotExist) || f != nil || err.Error() != "baselines directory "+bdir+" does not exist" {
		t.Errorf("Load from a missing directory: %v %+v", err, f)
	}
	if err := os.Mkdir(bdir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err = Load(bdir, "nightly")
	if err != nil || f == nil || f.Suite != "nightly" || len(f.Benchmarks) != 0 || f.Entry("chat", "chat/users=4") != nil {
		t.Errorf("Load of a missing file in an existing directory: %v %+v", err, f)
	}
	notDir := filepath.Join(bdir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err = Load(notDir, "nightly"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load from a regular file: %v %+v", err, f)
	}
}

func TestPromoteLoadList(t *testing.T) {
	bdir := filepath.Join(t.TempDir(), "baselines") // the first promotion creates it
	run := writeRun(t, 1, "", false)
	ch, err := Promote(run, bdir, PromoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 || ch[0].Action != Added || ch[0].Case != "chat/users=4" {
		t.Fatalf("changes %+v", ch)
	}
	// Promoting the same run again changes nothing, byte for byte.
	b1, _ := os.ReadFile(Path(bdir, "nightly"))
	ch, err = Promote(run, bdir, PromoteOptions{})
	if err != nil || ch[0].Action != Unchanged {
		t.Fatalf("second promote: %v %+v", err, ch)
	}
	b2, _ := os.ReadFile(Path(bdir, "nightly"))
	if string(b1) != string(b2) {
		t.Error("re-promoting the same run rewrote the file differently")
	}
	if !strings.Contains(string(b1), `"fingerprint": {`) || !strings.Contains(string(b1), `"histogram": "`) {
		t.Errorf("file lacks fingerprint or histogram:\n%.400s", b1)
	}
	f, err := Load(bdir, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	e := f.Entry("chat", "chat/users=4")
	if e == nil || e.Fingerprint["gpu"] != "A100" || e.Run.Start != "2025-03-01T02:00:00Z" || e.Metrics["ttft"].Histogram.Count() != 300 {
		t.Fatalf("entry %+v", e)
	}

	slower := writeRun(t, 1.5, "", false)
	ch, err = Promote(slower, bdir, PromoteOptions{})
	if err != nil || ch[0].Action != Updated {
		t.Fatalf("promote a different run: %v %+v", err, ch)
	}
	var p95 *Headline
	for i := range ch[0].Headline {
		if ch[0].Headline[i].Name == "ttft.p95" {
			p95 = &ch[0].Headline[i]
		}
	}
	if p95 == nil || !p95.HasOld || math.Abs(p95.New/p95.Old-1.5) > 0.01 {
		t.Errorf("headline ttft.p95 %+v", p95)
	}

	infos, err := List(bdir)
	if err != nil || len(infos) != 1 || infos[0].Suite != "nightly" || infos[0].Cases != 1 || infos[0].Benchmarks != 1 {
		t.Errorf("List = %+v, %v", infos, err)
	}
	if infos, err := List(filepath.Join(bdir, "none")); err != nil || len(infos) != 0 {
		t.Errorf("List of a missing dir = %+v, %v", infos, err)
	}
}

func TestPromoteRefuses(t *testing.T) {
	bdir := t.TempDir()
	tests := []struct {
		name       string
		verdict    string
		incomplete bool
		msg        string
	}{
		{"failed run", analysis.Fail, false, "verdict is fail; use --force"},
		{"errored run", analysis.Error, false, "verdict is error"},
		{"incomplete run", "", true, "incomplete (TIMEOUT)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := writeRun(t, 1, tt.verdict, tt.incomplete)
			if _, err := Promote(run, bdir, PromoteOptions{}); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want %q", err, tt.msg)
			}
			if _, err := Promote(run, bdir, PromoteOptions{Force: true}); err != nil {
				t.Errorf("forced: %v", err)
			}
		})
	}
}

// compareDirs compares the results directory cur with base through
// FromRun and CompareRun, as `benchrun compare CUR BASE` does, and rolls
// the verdicts up.
func compareDirs(t *testing.T, base, cur string) *analysis.Summary {
	t.Helper()
	bs, braw, err := analysis.SummarizeDir(base, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs, craw, err := analysis.SummarizeDir(cur, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*analysis.Summary{bs, cs} {
		for i := range s.Cases {
			s.Cases[i].Fingerprint = map[string]string{"gpu": "A100"}
		}
	}
	CompareRun(cs, craw, FromRun(bs, braw), func(*analysis.Case) (CompareOptions, bool) { return CompareOptions{}, true })
	cs.Rollup()
	return cs
}

func TestCompareRunWithRun(t *testing.T) {
	base := writeRun(t, 1, "", false)
	same := writeRun(t, 1, "", false)
	slow := writeRun(t, 1.3, "", false)
	s := compareDirs(t, base, same)
	if s.Verdict != analysis.Pass {
		t.Errorf("same run: verdict %s, checks %+v", s.Verdict, s.Cases[0].Checks)
	}
	s = compareDirs(t, base, slow)
	if s.Verdict != analysis.Fail {
		t.Errorf("slower run: verdict %s", s.Verdict)
	}
	regs := 0
	for _, ck := range s.Cases[0].Checks {
		if ck.Verdict == analysis.Regression {
			regs++
		}
	}
	if regs == 0 {
		t.Errorf("no regression check: %+v", s.Cases[0].Checks)
	}
}

func TestFingerprintDiff(t *testing.T) {
	if d := fingerprintDiff(map[string]string{"a": "1"}, map[string]string{"a": "1"}, nil); d != "" {
		t.Errorf("equal: %q", d)
	}
	d := fingerprintDiff(map[string]string{"a": "1", "b": "x"}, map[string]string{"a": "2", "c": "y"}, nil)
	if d != "a: 1 → 2, b: x → missing, c: missing → y" {
		t.Errorf("diff %q", d)
	}
}

// TestPromoteDamagedSamples: samples cut short after the run was
// summarised (fewer than the manifest recorded) are not promoted: a
// baseline made from them would be wrong.
func TestPromoteDamagedSamples(t *testing.T) {
	run := writeRun(t, 1, "", false)
	m, err := results.ReadManifest(run)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(run, m.Cases[0].Samples)
	m.Cases[0].RecordSamples(path, 300)
	if err := results.WriteJSONAtomic(filepath.Join(run, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(t.TempDir(), "baselines")
	ch, err := Promote(run, bdir, PromoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 1 || ch[0].Action != NotPromoted || !strings.Contains(ch[0].Reason, "samples damaged") {
		t.Errorf("changes %+v, want chat/users=4 not promoted: samples damaged", ch)
	}
	if f, err := Load(bdir, "nightly"); err == nil && f.Entry("chat", "chat/users=4") != nil {
		t.Error("a damaged case was promoted")
	}
}

// TestPromoteProvenance: an entry records when it was promoted and the CI
// job, commit and ref of its run; re-promoting the same run keeps the
// date; CompareRun reports the newest entry it used, and no baseline when
// there is none.
func TestPromoteProvenance(t *testing.T) {
	bdir := filepath.Join(t.TempDir(), "baselines")
	run := writeRun(t, 1, "", false)
	m, err := results.ReadManifest(run)
	if err != nil {
		t.Fatal(err)
	}
	m.CI = &results.CIInfo{System: "gitlab", JobURL: "https://gitlab.example/x/-/jobs/7", CommitSHA: "deadbeef", Ref: "main"}
	m.Slurm = &results.SlurmInfo{JobID: "99"}
	if err := results.WriteJSONAtomic(filepath.Join(run, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)
	if _, err := Promote(run, bdir, PromoteOptions{Now: when}); err != nil {
		t.Fatal(err)
	}
	ch, err := Promote(run, bdir, PromoteOptions{Now: when.Add(time.Hour), Metrics: func(string) []string { return []string{"e2e.p50"} }})
	if err != nil {
		t.Fatal(err)
	}
	// The headline is the metrics the benchmark is compared on.
	if len(ch) != 1 || len(ch[0].Headline) != 1 || ch[0].Headline[0].Name != "e2e.p50" {
		t.Errorf("headline with Metrics e2e.p50: %+v", ch)
	}
	f, err := Load(bdir, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	want := Run{Start: "2025-03-01T02:00:00Z", SlurmJob: "99", Promoted: "2025-03-02T08:00:00Z",
		CIJobURL: "https://gitlab.example/x/-/jobs/7", CommitSHA: "deadbeef", Ref: "main"}
	if got := f.Entry("chat", "chat/users=4").Run; got != want {
		t.Errorf("run = %+v, want %+v", got, want)
	}

	s, err := analysis.ReadSummary(run)
	if err != nil {
		t.Fatal(err)
	}
	opts := func(*analysis.Case) (CompareOptions, bool) { return CompareOptions{}, true }
	s.Cases[0].Fingerprint = f.Entry("chat", "chat/users=4").Fingerprint
	CompareRun(s, nil, f, opts)
	b := s.Baseline
	if b == nil || !b.Found || b.Entries != 1 || b.Promoted != want.Promoted || b.RunStart != want.Start ||
		b.SlurmJob != "99" || b.CIJobURL != want.CIJobURL || b.CommitSHA != "deadbeef" || b.Ref != "main" {
		t.Errorf("baseline source = %+v", b)
	}
	ttft := 0
	for _, ck := range s.Cases[0].Checks {
		if ck.Metric != "ttft" {
			continue
		}
		ttft++
		if ck.Count != 300 || ck.BaseCount != 300 {
			t.Errorf("check %s: samples %d now, %d in the baseline; want 300, 300", ck.Name, ck.Count, ck.BaseCount)
		}
	}
	if ttft == 0 {
		t.Errorf("no ttft check: %+v", s.Cases[0].Checks)
	}
	s, _ = analysis.ReadSummary(run)
	CompareRun(s, nil, nil, opts)
	if b := s.Baseline; b == nil || b.Found || b.Entries != 0 {
		t.Errorf("no baseline: source = %+v", b)
	}
}

// TestPromoteInvalidIO500: an IO500 case whose run IO500 marked invalid
// passes with the suite's invalid = "warn", and is still no baseline: it
// is not promoted unless forced. A valid one is.
func TestPromoteInvalidIO500(t *testing.T) {
	for _, tt := range []struct {
		name     string
		min, max float64
		force    bool
		want     Action
	}{
		{"invalid", 0, 0, false, NotPromoted},
		{"invalid in some runs", 0, 1, false, NotPromoted},
		{"invalid, forced", 0, 0, true, Added},
		{"valid", 1, 1, false, Added},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := writeRun(t, 1, "", false)
			s, err := analysis.ReadSummary(run)
			if err != nil {
				t.Fatal(err)
			}
			s.Cases[0].Kind = "io500"
			s.Cases[0].Metrics["valid"] = analysis.Metric{Kind: "value", Unit: analysis.UnitRatio, Count: 2, Min: tt.min, Max: tt.max, Mean: (tt.min + tt.max) / 2}
			if err := analysis.WriteSummary(run, s); err != nil {
				t.Fatal(err)
			}
			changes, err := Promote(run, t.TempDir(), PromoteOptions{Force: tt.force})
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 1 || changes[0].Action != tt.want {
				t.Fatalf("changes %+v, want one %v", changes, tt.want)
			}
			if tt.want == NotPromoted && !strings.Contains(changes[0].Reason, "IO500 marked") {
				t.Errorf("reason %q does not say IO500 marked the run invalid", changes[0].Reason)
			}
		})
	}
}
