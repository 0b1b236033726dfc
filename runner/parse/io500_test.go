package parse

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The golden table: every IO500 fixture, the figures it must parse to, and
// the scores, which the parser also recomputes from the phases.
var io500Golden = []struct {
	name          string
	file          string
	version, mode string
	procs         int
	phases        int // timestamp included
	legacy        bool
	score         Score
	scoreX        *Score
	valid         bool
	phase         string // one phase checked in full
	want          Phase
}{
	{name: "local stdout", file: "local_run/io500_stdout.txt", version: "io500-isc26_v2-26-g02091cf254d8", mode: "standard",
		phases: 14, score: Score{0.765255, 65.445025, 7.076875, true}, valid: false,
		phase: "ior-easy-write", want: Phase{Name: "ior-easy-write", Value: 0.286279, Bandwidth: true, Seconds: 6.170, Valid: false, Scored: true}},
	{name: "local summary", file: "local_run/results/result_summary.txt", version: "io500-isc26_v2-26-g02091cf254d8", mode: "standard",
		phases: 14, score: Score{0.765255, 65.445025, 7.076875, true}, valid: false,
		phase: "ior-rnd4K-easy-read", want: Phase{Name: "ior-rnd4K-easy-read", Value: 0.082378, Bandwidth: true, Seconds: 5.834, Valid: true, Scored: false}},
	{name: "local result.txt", file: "local_run/results/result.txt", version: "io500-isc26_v2-26-g02091cf254d8", mode: "standard",
		procs: 2, phases: 13, score: Score{0.765255, 65.445025, 7.076875, true}, valid: false,
		phase: "mdtest-hard-delete", want: Phase{Name: "mdtest-hard-delete", Value: 0.789630, Seconds: 155.0380, Valid: true, Scored: true}},
	{name: "helios summary", file: "lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/result_summary.txt", version: "io500-isc24_v3", mode: "standard",
		phases: 13, score: Score{122.312630, 192.355126, 153.386640, false}, valid: true,
		phase: "find", want: Phase{Name: "find", Value: 2872.215129, Seconds: 24.132, Valid: true, Scored: true}},
	{name: "helios result.txt", file: "lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/result.txt", version: "io500-isc24_v3", mode: "standard",
		procs: 640, phases: 12, score: Score{122.312630, 192.355126, 153.386640, false}, valid: true,
		phase: "ior-hard-read", want: Phase{Name: "ior-hard-read", Value: 227.682852, Bandwidth: true, Seconds: 8.7598, Valid: true, Scored: true}},
	{name: "extended summary", file: "extended_beegfs_gwdg_scc_2021_sub582/result_summary.txt", version: "io500-sc21", mode: "extended",
		phases: 22, score: Score{2.631452, 59.850429, 12.549643, false}, scoreX: &Score{1.958556, 81.864024, 12.662357, false}, valid: true,
		phase: "mdworkbench-create", want: Phase{Name: "mdworkbench-create", Value: 52.929486, Seconds: 60.525, Valid: true, Scored: false}},
	{name: "extended result.txt", file: "extended_beegfs_gwdg_scc_2021_sub582/result.txt", version: "io500-sc21", mode: "extended",
		phases: 21, score: Score{2.631452, 59.850429, 12.549643, false}, scoreX: &Score{1.958556, 81.864024, 12.662357, false}, valid: true,
		phase: "find-hard", want: Phase{Name: "find-hard", Value: 63.300354, Seconds: 59.7903, Valid: true, Scored: true}},
	{name: "legacy stdout", file: "legacy_lustre_dkrz_mistral_2019_sub137/results/io-500-summary.2018.05.12-13.55.14.txt", legacy: true,
		phases: 12, score: Score{12.6775, 18.8796, 15.4708, false}, valid: true,
		phase: "ior-easy-write", want: Phase{Name: "ior-easy-write", Value: 40.915, Bandwidth: true, Seconds: 586.58, Valid: true, Scored: true}},
	{name: "legacy summary", file: "legacy_lustre_dkrz_mistral_2019_sub137/results/result_summary.txt", legacy: true,
		phases: 12, score: Score{12.6775, 18.8796, 15.4708, false}, valid: true,
		phase: "mdtest-hard-delete", want: Phase{Name: "mdtest-hard-delete", Value: 6.335, Seconds: 635.81, Valid: true, Scored: true}},
}

func TestIO500Golden(t *testing.T) {
	for _, g := range io500Golden {
		t.Run(g.name, func(t *testing.T) {
			path, data := readFixture(t, g.file)
			r, err := ParseIO500(path, data)
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != g.version || r.Mode != g.mode || r.Procs != g.procs || r.Legacy != g.legacy {
				t.Errorf("version %q mode %q procs %d legacy %v, want %q %q %d %v", r.Version, r.Mode, r.Procs, r.Legacy, g.version, g.mode, g.procs, g.legacy)
			}
			if len(r.Phases) != g.phases {
				t.Errorf("%d phases, want %d", len(r.Phases), g.phases)
			}
			if *r.Score != g.score {
				t.Errorf("score %+v, want %+v", *r.Score, g.score)
			}
			if (r.ScoreX == nil) != (g.scoreX == nil) || g.scoreX != nil && *r.ScoreX != *g.scoreX {
				t.Errorf("scorex %+v, want %+v", r.ScoreX, g.scoreX)
			}
			if r.Valid() != g.valid {
				t.Errorf("valid %v (%q), want %v", r.Valid(), r.Invalid, g.valid)
			}
			p, ok := r.Phase(g.phase)
			if !ok || !phaseNear(p, g.want) {
				t.Errorf("phase %s = %+v, want %+v", g.phase, p, g.want)
			}
			// The recomputed score agrees with the printed one to the
			// precision of the printed phases.
			std, x, err := r.Recompute()
			if err != nil {
				t.Fatal(err)
			}
			for _, pair := range [][2]float64{{std.Bandwidth, g.score.Bandwidth}, {std.Metadata, g.score.Metadata}, {std.Total, g.score.Total}} {
				if math.Abs(pair[0]-pair[1]) > 5e-4*pair[1] {
					t.Errorf("recomputed %v, printed %v", pair[0], pair[1])
				}
			}
			if g.scoreX != nil && (x == nil || math.Abs(x.Total-g.scoreX.Total) > 5e-4*g.scoreX.Total) {
				t.Errorf("recomputed extended score %+v, printed %+v", x, g.scoreX)
			}
		})
	}
}

func phaseNear(a, b Phase) bool {
	return a.Name == b.Name && a.Bandwidth == b.Bandwidth && a.Valid == b.Valid && a.Scored == b.Scored &&
		math.Abs(a.Value-b.Value) < 1e-9 && math.Abs(a.Seconds-b.Seconds) < 1e-9
}

// The local run's total recomputes from its phases to the printed
// 7.076875 (from the printed, rounded BW and MD it is 7.076873).
func TestIO500LocalScoreExact(t *testing.T) {
	path, data := readFixture(t, "local_run/results/result_summary.txt")
	r, err := ParseIO500(path, data)
	if err != nil {
		t.Fatal(err)
	}
	std, _, _ := r.Recompute()
	if math.Abs(std.Total-7.076875) > 5e-7 {
		t.Errorf("total %v, want 7.076875", std.Total)
	}
	if !strings.Contains(strings.Join(r.Invalid, "|"), "phase ior-easy-write is invalid") {
		t.Errorf("invalid reasons %q", r.Invalid)
	}
}

func TestIO500StdoutNoise(t *testing.T) {
	path, data := readFixture(t, "local_run/io500_stdout.txt")
	r, err := ParseIO500(path, data)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stonewall-time 5s != 300s", "Runtime is smaller than expected minimum runtime"}
	for _, w := range want {
		found := false
		for _, why := range r.Invalid {
			found = found || why == w
		}
		if !found {
			t.Errorf("reason %q missing from %q", w, r.Invalid)
		}
	}
}

func TestIO500Dir(t *testing.T) {
	for _, c := range []struct {
		dir   string
		procs int
		total float64
	}{
		{"local_run/results", 2, 7.076875},
		{"lustre_cyfronet_helios_2024_sub708/results", 640, 153.386640}, // through its one timestamped subdirectory
		{"extended_beegfs_gwdg_scc_2021_sub582", 0, 12.549643},
		{"legacy_lustre_dkrz_mistral_2019_sub137/results", 0, 15.4708},
	} {
		t.Run(c.dir, func(t *testing.T) {
			r, _, err := ReadIO500Dir(fixtures(t) + "/" + c.dir)
			if err != nil {
				t.Fatal(err)
			}
			if r.Procs != c.procs || r.Score.Total != c.total {
				t.Errorf("procs %d total %v, want %d %v", r.Procs, r.Score.Total, c.procs, c.total)
			}
		})
	}
}

// Metrics are in base units: GiB/s → bytes/s, kIOPS → ops/s.
func TestIO500Metrics(t *testing.T) {
	path, data := readFixture(t, "local_run/results/result.txt")
	ms, err := Parse("io500", path, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Metric{
		"ior_easy_write":       {"ior_easy_write", 0.286279 * (1 << 30), UnitBytesPerSec, Higher},
		"ior_easy_write_time":  {"ior_easy_write_time", 6.1702, UnitSeconds, Lower},
		"ior_easy_write_valid": {"ior_easy_write_valid", 0, UnitRatio, Higher},
		"find":                 {"find", 650704.795, UnitOpsPerSec, Higher},
		"score_bandwidth":      {"score_bandwidth", 0.765255 * (1 << 30), UnitBytesPerSec, Higher},
		"score_metadata":       {"score_metadata", 65445.025, UnitOpsPerSec, Higher},
		"score_total":          {"score_total", 7.076875, UnitNone, Higher},
		"valid":                {"valid", 0, UnitRatio, Higher},
		"procs":                {"procs", 2, UnitNone, Higher},
	}
	got := map[string]Metric{}
	for _, m := range ms {
		got[m.Name] = m
	}
	for name, w := range want {
		g := got[name]
		if g.Name != w.Name || g.Unit != w.Unit || g.Better != w.Better || math.Abs(g.Value-w.Value) > 1e-6*math.Max(1, w.Value) {
			t.Errorf("%s = %+v, want %+v", name, g, w)
		}
	}
	if _, ok := got["timestamp"]; ok {
		t.Error("timestamp is not a metric")
	}
}

// Inputs that must be errors naming the file and line, never a score.
func TestIO500Errors(t *testing.T) {
	const ok = "IO500 version io500-isc24_v3 (standard)\n" +
		"[RESULT]       ior-easy-write        1.000000 GiB/s : time 300.000 seconds\n" +
		"[RESULT]    mdtest-easy-write        1.000000 kIOPS : time 300.000 seconds\n" +
		"[RESULT]       ior-hard-write        1.000000 GiB/s : time 300.000 seconds\n" +
		"[RESULT]    mdtest-hard-write        1.000000 kIOPS : time 300.000 seconds\n" +
		"[RESULT]                 find        1.000000 kIOPS : time 1.000 seconds\n" +
		"[RESULT]        ior-easy-read        1.000000 GiB/s : time 1.000 seconds\n" +
		"[RESULT]     mdtest-easy-stat        1.000000 kIOPS : time 1.000 seconds\n" +
		"[RESULT]        ior-hard-read        1.000000 GiB/s : time 1.000 seconds\n" +
		"[RESULT]     mdtest-hard-stat        1.000000 kIOPS : time 1.000 seconds\n" +
		"[RESULT]   mdtest-easy-delete        1.000000 kIOPS : time 1.000 seconds\n" +
		"[RESULT]     mdtest-hard-read        1.000000 kIOPS : time 1.000 seconds\n" +
		"[RESULT]   mdtest-hard-delete        1.000000 kIOPS : time 1.000 seconds\n" +
		"[SCORE ] Bandwidth 1.000000 GiB/s : IOPS 1.000000 kiops : TOTAL 1.000000\n"
	if r, err := ParseIO500Summary("ok.txt", []byte(ok)); err != nil || !r.Valid() || r.Score.Total != 1 {
		t.Fatalf("the valid synthetic run: %v %+v", err, r)
	}
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", "empty.txt: not IO500 output"},
		{"other program", "hello\nworld\n", "other program.txt: not IO500 output"},
		{"garbled result", strings.Replace(ok, "1.000000 GiB/s : time 300.000", "1.0 GB : time x", 1), "garbled result.txt:2: not an IO500 result line"},
		{"bad number", strings.Replace(ok, "        1.000000 GiB/s", "        nan GiB/s", 1), "bad number.txt:2: \"nan\" is not a number"},
		{"garbled score", strings.Replace(ok, "TOTAL 1.000000", "TOTAL", 1), "garbled score.txt:14: not an IO500 score line"},
		{"cut short", strings.Split(ok, "[SCORE ]")[0], "cut short.txt: no [SCORE] line"},
		{"missing phase", strings.Replace(ok, "[RESULT]                 find        1.000000 kIOPS : time 1.000 seconds\n", "", 1), "phase find is missing"},
		{"score disagrees", strings.Replace(ok, "TOTAL 1.000000", "TOTAL 2.000000", 1), "disagrees with 1 recomputed"},
		{"twice differently", ok + "[RESULT]                 find        2.000000 kIOPS : time 1.000 seconds\n", "twice differently.txt:15: phase find printed twice"},
		{"result.txt junk", "[run]\nprocs = 2\nthis is not ini\n", "result.txt junk.txt:3: not an IO500 result.txt line"},
		{"result.txt no score", "[run]\nprocs = 2\n[find]\nscore = 1\nt_delta = 1\n", "no [SCORE] section"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseIO500(c.name+".txt", []byte(c.in))
			if err == nil {
				t.Fatalf("no error; parsed %+v", r)
			}
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q (%T), want it to contain %q", err, err, c.want)
			}
		})
	}
}

// A phase scoring 0 makes the run invalid, even unmarked; the geometric
// mean is then 0.
func TestIO500ZeroPhaseInvalid(t *testing.T) {
	in := "[RESULT] BW   phase 1 ior_easy_write 0.000 GB/s : time 1.00 seconds\n" +
		"[RESULT] BW   phase 2 ior_hard_write 1.000 GB/s : time 1.00 seconds\n" +
		"[RESULT] BW   phase 3 ior_easy_read 1.000 GB/s : time 1.00 seconds\n" +
		"[RESULT] BW   phase 4 ior_hard_read 1.000 GB/s : time 1.00 seconds\n"
	for _, p := range standardMetadata {
		in += "[RESULT] IOPS phase 1 " + strings.ReplaceAll(p, "-", "_") + " 1.000 kiops : time 1.00 seconds\n"
	}
	in += "[SCORE] Bandwidth 0 GB/s : IOPS 1 kiops : TOTAL 0\n"
	r, err := ParseIO500Summary("zero.txt", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid() || !strings.Contains(r.Invalid[0], "ior-easy-write") {
		t.Errorf("valid %v %q", r.Valid(), r.Invalid)
	}
}

// ior-rnd4K-easy-read counts in the bandwidth score of io500-sc24 only.
func TestIO500Rnd4KScoredInSC24(t *testing.T) {
	bw, _ := StandardPhases("io500-sc24_v1")
	if len(bw) != 5 || bw[4] != rnd4KEasyRead {
		t.Errorf("sc24: %v", bw)
	}
	for _, v := range []string{"io500-isc25_v1", "io500-isc24_v3", "io500-sc23"} {
		if bw, _ := StandardPhases(v); len(bw) != 4 {
			t.Errorf("%s: %v", v, bw)
		}
	}
}

// An extended run whose [SCOREX] io500 marks [INVALID] is invalid, also
// when the phase that made it so is one of the unscored optional ones
// (mdworkbench-create with md-workbench errors): io500 prints it with
// "[      ]" and leaves the standard score valid. Before, the run read as
// valid and valid.min >= 1 (invalid = "fail") passed.
func TestIO500ExtendedScoreInvalid(t *testing.T) {
	_, summary := readFixture(t, "extended_beegfs_gwdg_scc_2021_sub582/result_summary.txt")
	s := strings.Replace(string(summary), "52.929486 kIOPS : time 60.525 seconds", "52.929486 kIOPS : time 60.525 seconds [INVALID]", 1)
	s = strings.Replace(s, "TOTAL 12.662357", "TOTAL 12.662357 [INVALID]", 1)
	_, result := readFixture(t, "extended_beegfs_gwdg_scc_2021_sub582/result.txt")
	x := strings.Replace(string(result), "SCORE           = 12.662357", "SCORE           = 12.662357 [INVALID]", 1)
	for name, in := range map[string]string{"result_summary.txt": s, "result.txt": x} {
		r, err := ParseIO500(name, []byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Valid() || !strings.Contains(strings.Join(r.Invalid, "; "), "extended score") {
			t.Errorf("%s: valid %v, reasons %q: want invalid, naming the extended score", name, r.Valid(), r.Invalid)
		}
		for _, m := range r.Metrics() {
			if m.Name == MetricValid && m.Value != 0 {
				t.Errorf("%s: metric valid = %v", name, m.Value)
			}
		}
	}
	// The phase itself is named in the summary.
	r, _ := ParseIO500Summary("result_summary.txt", []byte(s))
	if !strings.Contains(strings.Join(r.Invalid, "; "), "mdworkbench-create") {
		t.Errorf("reasons %q do not name mdworkbench-create", r.Invalid)
	}
}

// io500 runs mdtest-hard-read with mdtest's read check (-X) but does not
// look at its outcome: a run whose mdtest-hard-read.txt says the check
// found wrong data is printed valid. Read as a results directory, such a
// run is invalid, naming the file and line.
func TestIO500DirVerificationErrors(t *testing.T) {
	src := fixtures(t) + "/lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44"
	dir := t.TempDir()
	for _, f := range []string{SummaryFile, ResultFile, "mdtest-hard-read.txt"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "mdtest-hard-read.txt" {
			b = []byte(strings.Replace(string(b), "-- finished at", "\nERROR: verifying the data on read (7 errors)! Take the performance values with care!\n-- finished at", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, _, err := ReadIO500Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid() || !strings.Contains(strings.Join(r.Invalid, "; "), "mdtest-hard-read.txt:") {
		t.Errorf("valid %v, reasons %q: want invalid, naming mdtest-hard-read.txt", r.Valid(), r.Invalid)
	}
	// The unchanged directory is valid.
	if r, _, err := ReadIO500Dir(src); err != nil || !r.Valid() {
		t.Errorf("the fixture: %v, %+v", err, r)
	}
}

// io500 (the C releases) leaves a phase that scored 0 out of its
// geometric means, so its printed score covers fewer phases than the
// rules ask. Such a run stays an error, but one that names the phase, not
// "unknown scoring rules".
func TestIO500ZeroPhaseLeftOutOfScore(t *testing.T) {
	_, b := readFixture(t, "lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/result_summary.txt")
	s := strings.Replace(string(b), "227.682852 GiB/s : time 8.760 seconds", "  0.000000 GiB/s : time 8.760 seconds [INVALID]", 1)
	bw := math.Pow(352.803032*5.996531*464.646333, 1.0/3)
	total := math.Sqrt(bw * 192.355126)
	s = strings.Replace(s, "Bandwidth 122.312630 GiB/s : IOPS 192.355126 kiops : TOTAL 153.386640",
		fmt.Sprintf("Bandwidth %f GiB/s : IOPS 192.355126 kiops : TOTAL %f [INVALID]", bw, total), 1)
	_, err := ParseIO500Summary("zero.txt", []byte(s))
	if err == nil || !strings.Contains(err.Error(), "ior-hard-read scored 0") {
		t.Errorf("error %v: want it to name the phase that scored 0", err)
	}
}
