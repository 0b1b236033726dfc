package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// saturationSuite drives the emulator (one slot, ~60 ms a request: about
// 16 requests/s) with an open loop at 80 requests/s for half a second.
const saturationSuite = `schema_version = 1
[suite]
name = "overload"
[[service]]
name = "llm"
kind = "emulator"
model = "m"
  [service.emulator]
  flavor = "vllm"
  slots = 1
  prefill_base = "20ms"
  decode_base = "5ms"
  seed = 3
[[benchmark]]
name = "chat"
service = "llm"
saturation = "EFFECT"
  [benchmark.workload]
  mode = "open"
  rate = 80
  arrival = "constant"
  duration = "500ms"
  [benchmark.dataset]
  prompt_tokens = 16
  output_tokens = 8
`

// TestOpenLoopOverloadLabelled: an open loop far above the emulator's
// capacity is labelled saturated with its numbers in every output, and
// the suite's saturation key decides the exit code.
func TestOpenLoopOverloadLabelled(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		effect, verdict string
		code            int
	}{{"warn", "pass", ExitOK}, {"fail", "fail", ExitFailed}} {
		t.Run(tt.effect, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			suite := strings.Replace(saturationSuite, "EFFECT", tt.effect, 1)
			if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(suite), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runBin(t, work, binEnv(), "suite", "-o", "r", "s.toml")
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d: %v", r.code, tt.code, r)
			}
			if !strings.Contains(r.stdout, "label saturated: achieved") || !strings.Contains(r.stdout, "of 80 requests/s offered") {
				t.Errorf("the terminal does not show the label with its numbers:\n%s", r.stdout)
			}
			var sum struct {
				Verdict string `json:"verdict"`
				Cases   []struct {
					Verdict string `json:"verdict"`
					Labels  []struct {
						Name, Test, Effect string
						Values             map[string]float64
					} `json:"labels"`
				} `json:"cases"`
			}
			dir := filepath.Join(work, "r")
			readJSON(t, filepath.Join(dir, "summary.json"), &sum)
			if sum.Verdict != tt.verdict || len(sum.Cases) != 1 || sum.Cases[0].Verdict != tt.verdict {
				t.Fatalf("summary.json verdicts: %+v", sum)
			}
			found := false
			for _, l := range sum.Cases[0].Labels {
				if l.Name == "saturated" && l.Test == "rate" && l.Effect == tt.effect {
					found = true
					if r := l.Values["ratio"]; !(r > 0 && r < 0.5) {
						t.Errorf("achieved/offered %v, want well below 0.5", r)
					}
				}
			}
			if !found {
				t.Errorf("summary.json: no saturated/rate label with effect %s: %+v", tt.effect, sum.Cases[0].Labels)
			}
			for file, want := range map[string]string{
				"report.md":   "label saturated",
				"report.html": "saturation labels",
				"junit.xml":   "label.saturated.rate",
			} {
				b, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil || !strings.Contains(string(b), want) {
					t.Errorf("%s lacks %q (%v)", file, want, err)
				}
			}
			if junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml")); tt.effect == "fail" && !strings.Contains(string(junit), `type="saturation"`) {
				t.Errorf("junit.xml has no saturation failure:\n%.2000s", junit)
			}
		})
	}
}
