package parse

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func metricMap(ms []Metric) map[string]Metric {
	out := map[string]Metric{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

func wantValues(t *testing.T, ms []Metric, want map[string]float64) {
	t.Helper()
	got := metricMap(ms)
	for name, w := range want {
		g, ok := got[name]
		if !ok || math.Abs(g.Value-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v (present %v), want %v", name, g.Value, ok, w)
		}
	}
}

func TestIORFixtures(t *testing.T) {
	for _, c := range []struct {
		file string
		want map[string]float64
	}{
		{"local_run/standalone/ior_posix_fpp_i3.txt", map[string]float64{
			"write_bw_max": 1738.10 * mib, "write_bw_min": 316.52 * mib, "write_bw_mean": 1253.89 * mib,
			"read_bw_max": 22536.06 * mib, "read_ops_mean": 18764.52, "read_time_mean": 0.02785}},
		{"local_run/standalone/ior_posix_shared_i2_verbose.txt", map[string]float64{ // -v: Max lines agree with the summary
			"write_bw_max": 820.72 * mib, "read_bw_max": 21279.91 * mib}},
		{"local_run/standalone/ior_posix_shared_i2_json.txt", map[string]float64{
			"write_bw_max": 1551.2331 * mib, "write_bw_min": 1049.7395 * mib, "read_bw_mean": 12526.2186 * mib,
			"write_ops_max": 1551.2331, "write_time_mean": 0.2045}},
		{"legacy_lustre_dkrz_mistral_2019_sub137/results/ior_easy_write.txt", map[string]float64{ // IOR 3.1
			"write_bw_max": 41897.31 * mib, "write_ops_max": 20948.66, "write_time_mean": 586.577}},
		{"lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/ior-easy-write.txt", map[string]float64{ // IO500's IOR: Results table only
			"write_bw_max": 361270 * mib, "write_ops_max": 180641, "write_time_mean": 386.61}},
	} {
		t.Run(c.file, func(t *testing.T) {
			path, data := readFixture(t, c.file)
			ms, err := Parse("ior", path, data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantValues(t, ms, c.want)
			if m := metricMap(ms)["write_time_mean"]; m.Unit != UnitSeconds || m.Better != Lower {
				t.Errorf("write_time_mean %+v", m)
			}
		})
	}
}

func TestIORErrors(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", "not IOR output"},
		{"mdtest output", "SUMMARY rate: (of 1 iterations)\n", "not IOR output"},
		{"max disagrees", "Max Write: 10.00 MiB/sec (10 MB/sec)\n\nSummary of all tests:\nOperation   Max(MiB)   Min(MiB)  Mean(MiB)     StdDev   Max(OPs)   Min(OPs)  Mean(OPs)     StdDev    Mean(s) Test# #Tasks\nwrite 20.00 1 1 0 1 1 1 0 1.0 0 2\n", "max disagrees:1: Max write 10.00"},
		{"bad row", "Summary of all tests:\nOperation   Max(MiB)   Min(MiB)  Mean(MiB)     StdDev   Max(OPs)   Min(OPs)  Mean(OPs)     StdDev    Mean(s) Test# #Tasks\nwrite x 1 1 0 1 1 1 0 1.0 0 2\n", "bad row:3: Max(MiB)"},
		{"json without summary", `{"tests": []}`, "without a summary"},
		{"json syntax", "{\n\"summary\": [\n,]}", "json syntax:3: JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := IOR(c.name, []byte(c.in), Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestMDTestFixtures(t *testing.T) {
	for _, c := range []struct {
		file string
		want map[string]float64
	}{
		{"local_run/standalone/mdtest_n2000_i2.txt", map[string]float64{ // 4.x "SUMMARY rate (in ops/sec):"
			"directory_creation_max": 19293.293, "file_stat_mean": 724864.498, "tree_removal_min": 11.656}},
		{"legacy_lustre_dkrz_mistral_2019_sub137/results/mdtest_easy_write.txt", map[string]float64{ // 1.9.3 "SUMMARY:" with " : "
			"file_creation_max": 11770.644, "tree_creation_mean": 15.782}},
		{"lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/mdtest-easy-write.txt", map[string]float64{ // "SUMMARY time (in ops/sec):"
			"file_creation_mean": 119113.150, "file_creation_time_mean": 372.432, "tree_creation_time_max": 0.234}},
		{"local_run/results/mdtest-easy-write.txt", map[string]float64{ // "SUMMARY time (in ms/op):"
			"file_creation_mean": 34419.288, "file_creation_time_mean": 5.531}},
		{"extended_beegfs_gwdg_scc_2021_sub582/mdtest-easy-delete.txt", map[string]float64{ // 3.x "SUMMARY rate:" and "SUMMARY time:"
			"file_removal_mean": 58292.741, "file_removal_time_min": 471.105, "tree_removal_time_mean": 13.294}},
	} {
		t.Run(c.file, func(t *testing.T) {
			path, data := readFixture(t, c.file)
			ms, err := Parse("mdtest", path, data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			wantValues(t, ms, c.want)
			if _, ok := metricMap(ms)["file_stat_max"]; ok && strings.Contains(c.file, "easy_write") {
				t.Error("an operation that did not run (all zero) is not a metric")
			}
		})
	}
}

// mdtest 3.x prints "SUMMARY rate:" (no fixture has it).
func TestMDTest3Header(t *testing.T) {
	in := "SUMMARY rate: (of 3 iterations)\n   Operation      Max   Min   Mean   Std Dev\n   ---------      ---   ---   ----   -------\n   File creation  30.0  10.0  20.0   1.0\n\n"
	ms, err := MDTest("m3", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, ms, map[string]float64{"file_creation_max": 30, "file_creation_min": 10, "file_creation_mean": 20})
}

// The time table holds the seconds each phase took, whatever unit its
// header states ("(in ops/sec)", "(in ms/op)", none): in every fixture
// with both tables, the one-operation phase Tree removal has rate × time
// = 1. Read as ms/op, the local run's 1.024 would be a thousandth of that.
func TestMDTestTimeIsSeconds(t *testing.T) {
	for _, file := range []string{
		"lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/mdtest-easy-delete.txt",
		"local_run/results/mdtest-easy-delete.txt",
		"extended_beegfs_gwdg_scc_2021_sub582/mdtest-easy-delete.txt",
	} {
		t.Run(file, func(t *testing.T) {
			path, data := readFixture(t, file)
			ms, err := MDTest(path, data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			m := metricMap(ms)
			rate, secs := m["tree_removal_mean"], m["tree_removal_time_mean"]
			if secs.Unit != UnitSeconds || secs.Better != Lower {
				t.Errorf("tree_removal_time_mean %+v", secs)
			}
			if p := rate.Value * secs.Value; p < 0.95 || p > 1.05 {
				t.Errorf("rate %g × time %g = %g, want 1 (one tree removed)", rate.Value, secs.Value, p)
			}
		})
	}
}

func TestMDTestErrors(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"unknown time unit", "SUMMARY rate: (of 1 iterations)\n  File creation 3 1 2 0\n\nSUMMARY time (in us/op): (of 1 iterations)\n  File creation 3 1 2 0\n", `unknown time unit:4: mdtest time summary in unknown unit "us/op"`},
		{"unknown rate unit", "SUMMARY rate (in kops/sec): (of 1 iterations)\n  File creation 3 1 2 0\n", `unknown rate unit:1: mdtest rate summary in unknown unit "kops/sec"`},
		{"unknown header", "SUMMARY latency: (of 1 iterations)\n  File creation 3 1 2 0\n", `unknown header:1: not an mdtest summary header`},
		{"two time tables", "SUMMARY rate: (of 1 iterations)\n  File creation 3 1 2 0\n\nSUMMARY time: (of 1 iterations)\n\nSUMMARY time: (of 1 iterations)\n", "two time tables:6: a second mdtest time summary"},
		{"garbled time row", "SUMMARY rate: (of 1 iterations)\n  File creation 3 1 2 0\n\nSUMMARY time: (of 1 iterations)\n  File creation 3 x 2 0\n", "garbled time row:5: file_creation"},
		{"empty", "", "not mdtest output"},
		{"all zero", "SUMMARY: (of 1 iterations)\n  File creation : 0.000 0.000 0.000 0.000\n", "all zero:1: mdtest summary where no operation ran"},
		{"garbled", "SUMMARY rate: (of 1 iterations)\n  File creation 1 x 1 1\n", "garbled:2: file_creation"},
		{"short row", "SUMMARY rate: (of 1 iterations)\n  File 1 2\n", "garbled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := MDTest(c.name, []byte(c.in), Options{})
			want := c.want
			if c.name == "short row" {
				want = "short row:2: not an mdtest summary row"
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

func TestJSONPath(t *testing.T) {
	path, data := readFixture(t, "local_run/standalone/ior_posix_shared_i2_json.txt")
	ms, err := Parse("json", path, data, Options{Metrics: map[string]Spec{
		"write_max": {Path: "summary.0.bwMaxMIB", Unit: UnitBytesPerSec, Scale: mib},
		"mean_time": {Path: "summary.1.MeanTime", Unit: UnitSeconds},
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, ms, map[string]float64{"write_max": 1551.2331 * mib, "mean_time": 0.0274})
	if m := metricMap(ms)["mean_time"]; m.Better != Lower {
		t.Errorf("a duration defaults to lower is better: %+v", m)
	}
}

func TestJSONErrors(t *testing.T) {
	for _, c := range []struct {
		name, in, path, want string
	}{
		{"missing key", `{"a": {"b": 1}}`, "a.c", `path "a.c": no key "c"`},
		{"index", `{"a": [1]}`, "a.3", "index \"3\" out of an array of 1"},
		{"string", `{"a": "1"}`, "a", "not a number"},
		{"syntax", "{\n\"a\": }", "a", "syntax:2: JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := JSON(c.name, []byte(c.in), Options{Metrics: map[string]Spec{"m": {Path: c.path}}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestRegex(t *testing.T) {
	// dd's last line, as GNU dd prints it (the figure it prints last counts).
	out := "1+0 records in\n1+0 records out\n" +
		"1048576 bytes (1.0 MB, 1.0 MiB) copied, 0.5 s, 2.0 MB/s\n" +
		"2097152 bytes (2.1 MB, 2.0 MiB) copied, 0.25 s, 8.4 MB/s\n"
	ms, err := Regex("dd.txt", []byte(out), Options{
		Patterns: []string{`(?P<bytes>\d+) bytes .* copied, (?P<elapsed_seconds>[0-9.]+) s`},
		Metrics:  map[string]Spec{"elapsed_seconds": {Unit: UnitSeconds}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValues(t, ms, map[string]float64{"bytes": 2097152, "elapsed_seconds": 0.25})
	if m := metricMap(ms)["elapsed_seconds"]; m.Better != Lower || m.Unit != UnitSeconds {
		t.Errorf("%+v", m)
	}
	for _, c := range []struct {
		name, pattern, want string
	}{
		{"no match", `rate (?P<r>\d+)`, `dd.txt: pattern "rate (?P<r>\\d+)" does not match`},
		{"not a number", `(?P<r>records \w+)`, "dd.txt:2: metric r: \"records out\" is not a number"},
		{"no group", `records`, "has no named group"},
		{"bad pattern", `(?P<r>`, "pattern"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Regex("dd.txt", []byte(out), Options{Patterns: []string{c.pattern}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestUnknownParser(t *testing.T) {
	_, err := Parse("hpl", "f", nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "known: io500, ior, json, mdtest, regex") {
		t.Error(err)
	}
	var pe *Error
	if _, err := Parse("mdtest", "f", []byte("x"), Options{}); !errors.As(err, &pe) {
		t.Errorf("%T", err)
	}
}

// mdtest exits 0 when its read check (-X, as io500's mdtest-hard-read
// runs it) found wrong data, and IOR exits with its error count, which
// is 0 modulo 256: both print the summary as usual and say so in a line
// of their own. Such a run is an error naming that line, never its rates
// (before: read as a clean run).
func TestVerificationErrors(t *testing.T) {
	path, data := readFixture(t, "local_run/standalone/mdtest_n2000_i2.txt")
	out := strings.Replace(string(data), "-- finished at", "\nERROR: verifying the data on read (12 errors)! Take the performance values with care!\n-- finished at", 1)
	if _, err := MDTest(path, []byte(out), Options{}); err == nil || !strings.Contains(err.Error(), "verifying the data on read (12 errors)") {
		t.Errorf("mdtest: error %v, want the verification errors named", err)
	}
	for _, f := range []string{"local_run/standalone/ior_posix_fpp_i3.txt", "local_run/standalone/ior_posix_shared_i2_verbose.txt", "local_run/results/ior-easy-read.txt"} {
		path, data := readFixture(t, f)
		lines := strings.SplitAfter(string(data), "\n")
		mid := len(lines) / 2
		out := strings.Join(lines[:mid], "") + "WARNING: Incorrect data on read (256 errors found).\n\nUsed Time Stamp 1 (0x1) for Data Signature\n" + strings.Join(lines[mid:], "")
		if _, err := IOR(path, []byte(out), Options{}); err == nil || !strings.Contains(err.Error(), "Incorrect data on read (256 errors found)") {
			t.Errorf("%s: error %v, want the verification errors named", f, err)
		}
	}
}
