package parse

import (
	"math"
	"testing"
)

// checkMetrics is what every parser promises on any input: an error, or
// metrics with names and finite, non-negative values in a known unit.
func checkMetrics(t *testing.T, ms []Metric, err error) {
	if err != nil {
		return
	}
	if len(ms) == 0 {
		t.Fatal("no error and no metric")
	}
	for _, m := range ms {
		if m.Name == "" || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) || m.Value < 0 {
			t.Fatalf("bad metric %+v", m)
		}
		switch m.Unit {
		case UnitSeconds, UnitBytesPerSec, UnitOpsPerSec, UnitRatio, UnitNone:
		default:
			t.Fatalf("unit %q", m.Unit)
		}
		if m.Better != Higher && m.Better != Lower {
			t.Fatalf("better %q", m.Better)
		}
	}
}

func seedFixture(f *testing.F, rel string) {
	if d := fixturesIfPresent(); d != "" {
		if b, err := readIfPresent(d + "/" + rel); err == nil {
			f.Add(b)
		}
	}
}

func FuzzIO500(f *testing.F) {
	f.Add([]byte("[RESULT]       ior-easy-write        0.286279 GiB/s : time 6.170 seconds [INVALID]\n[SCORE ] Bandwidth 0 GiB/s : IOPS 0 kiops : TOTAL 0\n"))
	f.Add([]byte("[RESULT] BW   phase 1            ior_easy_write               40.915 GB/s : time 586.58 seconds\n"))
	f.Add([]byte("[run]\nprocs = 2\n[find]\nscore = 1\nt_delta = 1\n[SCORE]\nMD = 1\nBW = 1\nSCORE = 1 [INVALID]\n"))
	seedFixture(f, "local_run/io500_stdout.txt")
	seedFixture(f, "local_run/results/result.txt")
	seedFixture(f, "extended_beegfs_gwdg_scc_2021_sub582/result_summary.txt")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseIO500("fuzz", b)
		if err == nil {
			if r.Score == nil || len(r.Phases) == 0 {
				t.Fatal("a run without score or phases")
			}
			if err := r.Check(); err != nil {
				t.Fatalf("accepted a run whose scores do not check: %v", err)
			}
		}
		ms, err := io500Metrics("fuzz", b, Options{})
		checkMetrics(t, ms, err)
	})
}

func FuzzIOR(f *testing.F) {
	f.Add([]byte("Max Write: 820.72 MiB/sec (860.59 MB/sec)\n"))
	f.Add([]byte(`{"summary":[{"operation":"write","bwMaxMIB":1,"bwMinMIB":1,"bwMeanMIB":1,"OPsMax":1,"OPsMean":1,"MeanTime":1}]}`))
	seedFixture(f, "local_run/standalone/ior_posix_fpp_i3.txt")
	seedFixture(f, "local_run/standalone/ior_posix_shared_i2_verbose.txt")
	seedFixture(f, "lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/ior-easy-write.txt")
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := IOR("fuzz", b, Options{})
		checkMetrics(t, ms, err)
	})
}

func FuzzMDTest(f *testing.F) {
	f.Add([]byte("SUMMARY rate: (of 1 iterations)\n   File creation  3  1  2  0\n"))
	f.Add([]byte("SUMMARY: (of 1 iterations)\n   File creation     :  3  1  2  0\n"))
	f.Add([]byte("SUMMARY rate: (of 1 iterations)\n   File creation  3  1  2  0\n\nSUMMARY time (in ms/op): (of 1 iterations)\n   File creation  3  1  2  0\n"))
	seedFixture(f, "local_run/standalone/mdtest_n2000_i2.txt")
	seedFixture(f, "local_run/results/mdtest-easy-write.txt")
	seedFixture(f, "lustre_cyfronet_helios_2024_sub708/results/2024.05.03-09.25.44/mdtest-hard-stat.txt")
	seedFixture(f, "extended_beegfs_gwdg_scc_2021_sub582/mdtest-easy-delete.txt")
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := MDTest("fuzz", b, Options{})
		checkMetrics(t, ms, err)
	})
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"a": {"b": [1, 2.5]}}`))
	f.Add([]byte(`{"a": {"b": [1, -2.5e308]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := JSON("fuzz", b, Options{Metrics: map[string]Spec{"m": {Path: "a.b.1", Unit: UnitSeconds}}})
		if err == nil && (len(ms) != 1 || math.IsNaN(ms[0].Value) || math.IsInf(ms[0].Value, 0)) {
			t.Fatalf("%+v", ms)
		}
	})
}

func FuzzRegex(f *testing.F) {
	f.Add([]byte("2097152 bytes (2.1 MB, 2.0 MiB) copied, 0.25 s, 8.4 MB/s\n"))
	f.Add([]byte("copied, NaN s"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := Regex("fuzz", b, Options{Patterns: []string{`copied, (?P<elapsed>\S+) s`}})
		if err == nil && (len(ms) != 1 || math.IsNaN(ms[0].Value) || math.IsInf(ms[0].Value, 0)) {
			t.Fatalf("%+v", ms)
		}
	})
}
