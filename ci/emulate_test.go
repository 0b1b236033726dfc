package ci

import (
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/scrape"
)

// emulateContext parses args with the flags of benchrun emulate.
func emulateContext(t *testing.T, args ...string) *cli.Context {
	t.Helper()
	set := flag.NewFlagSet("emulate", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range emulateFlags() {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Parse(args); err != nil {
		t.Fatal(err)
	}
	return cli.NewContext(cli.NewApp(), set, nil)
}

func TestEmulateOptions(t *testing.T) {
	t.Run("flavour defaults kept", func(t *testing.T) {
		t.Setenv("BENCHRUN_EMULATE_SLOWDOWN", "")
		for _, flavor := range []string{emulate.FlavorVLLM, emulate.FlavorOllama} {
			got := emulateOptions(emulateContext(t), flavor)
			if want := emulate.DefaultOptions(flavor); got != want {
				t.Errorf("%s without flags:\n got %+v\nwant %+v", flavor, got, want)
			}
		}
	})
	t.Run("every flag", func(t *testing.T) {
		c := emulateContext(t, "--model", "m", "--slots", "9", "--max-queue", "-1",
			"--prefill-base", "1ms", "--prefill-per-token", "2ms", "--decode-base", "3ms", "--decode-per-seq", "4ms",
			"--jitter", "0.5", "--seed", "7", "--output-tokens", "11", "--slowdown", "1.5", "--load-time", "5ms",
			"--error-rate", "0.1", "--burst-status", "429", "--burst-every", "6ms", "--burst-length", "7ms",
			"--disconnect-rate", "0.2", "--stall-rate", "0.3", "--stall-for", "8ms", "--start-delay", "9ms")
		want := emulate.Options{Flavor: emulate.FlavorOllama, Model: "m", Slots: 9, MaxQueue: -1,
			PrefillBase: time.Millisecond, PrefillPerToken: 2 * time.Millisecond,
			DecodeBase: 3 * time.Millisecond, DecodePerSeq: 4 * time.Millisecond,
			Jitter: 0.5, Seed: 7, OutputTokens: 11, Slowdown: 1.5, LoadTime: 5 * time.Millisecond,
			ErrorRate: 0.1, BurstStatus: 429, BurstEvery: 6 * time.Millisecond, BurstLength: 7 * time.Millisecond,
			DisconnectRate: 0.2, StallRate: 0.3, StallFor: 8 * time.Millisecond, StartDelay: 9 * time.Millisecond}
		if got := emulateOptions(c, emulate.FlavorOllama); got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
}

// TestEmulateDCGMFollowsVLLM runs `benchrun emulate dcgm --follow` beside
// `benchrun emulate vllm`: idle GPUs while the vLLM emulator is idle, busy
// ones while it serves, two GPUs with dcgm-exporter's labels.
func TestEmulateDCGMFollowsVLLM(t *testing.T) {
	dir := t.TempDir()
	vllm := startBin(t, dir, "emulate", "vllm", "--port", "0", "--slots", "2", "--decode-base", "20ms")
	vURL := vllm.listening(t)
	dcgm := startBin(t, dir, "emulate", "dcgm", "--port", "0", "--gpus", "2", "--hostname", "gpu01",
		"--follow", vURL+"/metrics", "--tick", "20ms")
	dURL := dcgm.listening(t)
	util := func() map[string]float64 {
		t.Helper()
		pts, err := (&scrape.Scraper{URL: dURL + "/metrics", Timeout: 30 * time.Second}).Scrape(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]float64{}
		for _, p := range pts {
			if p.Metric == emulate.DCGMGPUUtil && p.Labels["Hostname"] == "gpu01" {
				m[p.Labels["gpu"]] = p.Value
			}
		}
		return m
	}
	time.Sleep(100 * time.Millisecond)
	if u := util(); len(u) != 2 || u["0"] != 0 || u["1"] != 0 {
		t.Fatalf("idle vLLM: utilisation %v, want 0 on gpus 0 and 1", u)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Post(vURL+"/v1/completions", "application/json",
			strings.NewReader(`{"model":"benchrun-emulated","prompt":"x","max_tokens":50,"ignore_eos":true}`))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	busy := 0.0
	for deadline := time.Now().Add(900 * time.Millisecond); time.Now().Before(deadline) && busy == 0; time.Sleep(30 * time.Millisecond) {
		busy = util()["1"]
	}
	<-done
	if busy < 40 {
		t.Errorf("vLLM serving 1 of 2 slots: GPU utilisation %g%%, want above 40%%", busy)
	}
}
