package ollama

import (
	"context"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/internal/drivertest"
)

func TestEmulatedOllamaColdStart(t *testing.T) {
	url := drivertest.StartEmulator(t, emulate.Options{Flavor: emulate.FlavorOllama, Model: "m", LoadTime: 300 * time.Millisecond,
		PrefillBase: 10 * time.Millisecond, DecodeBase: 5 * time.Millisecond})
	ds, _ := dataset.New(dataset.Options{PromptTokens: 12, OutputTokens: 10})
	d, err := New(Options{BaseURL: url, API: APIGenerate, ColdStartThreshold: 100 * time.Millisecond, Dataset: ds})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil || d.Model() != "m" {
		t.Fatalf("prepare: %v, model %q", err, d.Model())
	}
	for i, wantCold := range []bool{true, false} {
		s := drivertest.Do(context.Background(), d, int64(i))
		if s.Error != "" {
			t.Fatalf("%s: %s", s.Error, s.ErrorDetail)
		}
		if (s.Server["cold_start"] == 1) != wantCold {
			t.Errorf("request %d: cold_start %v, load_duration %.3fs", i, s.Server["cold_start"], s.Server["load_duration"])
		}
		if s.OutputTokens != 10 || s.InputTokens != 12 || s.Server["eval_count"] != 10 || len(s.ITL) != 9 {
			t.Errorf("request %d: in %d out %d itl %d server %v", i, s.InputTokens, s.OutputTokens, len(s.ITL), s.Server)
		}
		// eval_duration is the emulator's decode time: 9 gaps of 5ms.
		if ev := s.Server["eval_duration"]; ev < 0.044 || ev > 0.1 && !drivertest.RaceEnabled {
			t.Errorf("eval_duration %.4fs, want ~0.045s", ev)
		}
	}
}
