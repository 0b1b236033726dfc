package emulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/benchrun/benchrun/runner/results"
	promscrape "github.com/benchrun/benchrun/runner/scrape"
)

// TestGPUAdvance pins the GPU model: idle at no load, near full
// utilisation and power under full load, the temperature approaching its
// steady state, and the energy counter the integral of the power.
func TestGPUAdvance(t *testing.T) {
	o := DCGMOptions{Seed: 3, MemoryMiB: 81559, IdlePower: 70, MaxPower: 700}
	g := newGPU(o, 0)
	e0 := g.energy
	for range 100 { // 10 s idle
		g.advance(0.1, 0)
	}
	if g.util != 0 || g.grActive != 0 || g.smClock != dcgmIdleClockMHz || math.Abs(g.power-70) > 10 {
		t.Errorf("idle: util %g, gr %g, clock %g, power %g", g.util, g.grActive, g.smClock, g.power)
	}
	if got := (g.energy - e0) / 1e3; math.Abs(got-700) > 100 { // ~70 W × 10 s
		t.Errorf("idle energy over 10 s = %g J, want about 700", got)
	}
	e1, joules := g.energy, 0.0
	for range 3000 { // 300 s at full load
		prev := g.power
		g.advance(0.1, 1)
		joules += (prev + g.power) / 2 * 0.1
	}
	if g.util < 88 || g.util > 100 || g.grActive < 0.8 || g.power < 500 || g.power > 700 {
		t.Errorf("loaded: util %g, gr %g, power %g", g.util, g.grActive, g.power)
	}
	if want := dcgmAmbientC + dcgmDegPerWatt*g.power; math.Abs(g.temp-want) > 3 {
		t.Errorf("temperature after 300 s = %g, want about %g (steady state)", g.temp, want)
	}
	if got := (g.energy - e1) / 1e3; math.Abs(got-joules) > 1e-6*joules {
		t.Errorf("energy counter rose %g J, the power integrates to %g J", got, joules)
	}
	if g.fbUsed <= g.modelFBMiB || g.smClock < 1500 {
		t.Errorf("loaded: fb %g (model %g), clock %g", g.fbUsed, g.modelFBMiB, g.smClock)
	}
}

// TestGPUSeeded: the same seed gives the same GPU, a different one
// another UUID and noise.
func TestGPUSeeded(t *testing.T) {
	run := func(seed int64, idx int) string {
		g := newGPU(DCGMOptions{Seed: seed, MemoryMiB: 81559, IdlePower: 70, MaxPower: 700}, idx)
		for range 50 {
			g.advance(0.1, 0.5)
		}
		return fmt.Sprint(g.uuid, g.util, g.power, g.temp, g.energy)
	}
	if run(1, 0) != run(1, 0) {
		t.Error("the same seed gave two GPUs")
	}
	if run(1, 0) == run(2, 0) || run(1, 0) == run(1, 1) {
		t.Error("another seed or index gave the same GPU")
	}
}

func TestSeededLoad(t *testing.T) {
	a, b, c := NewSeededLoad(5), NewSeededLoad(5), NewSeededLoad(6)
	levels, differs := map[float64]bool{}, false
	for s := range 600 {
		at := time.Duration(s) * 100 * time.Millisecond
		va := a.At(at)
		if vb := b.At(at); va != vb {
			t.Fatalf("seed 5 at %v: %g and %g", at, va, vb)
		}
		differs = differs || c.At(at) != va
		levels[va] = true
	}
	if !differs || len(levels) < 2 {
		t.Errorf("pattern does not move (levels %v) or ignores its seed (differs %v)", levels, differs)
	}
	// Asked out of order, the same values.
	if a.At(3*time.Second) != b.At(3*time.Second) {
		t.Error("out-of-order reads disagree")
	}
}

// TestDCGMServes scrapes the emulator as Prometheus would: every series
// for every GPU with dcgm-exporter's labels, values that follow the load
// signal, and an energy counter that only grows.
func TestDCGMServes(t *testing.T) {
	var load atomic.Value
	load.Store(1.0)
	d, err := NewDCGM(DCGMOptions{GPUs: 2, Hostname: "node7", Seed: 1, Tick: 5 * time.Millisecond,
		Load: func(context.Context) (float64, error) { return load.Load().(float64), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	sc := &promscrape.Scraper{URL: srv.URL + "/metrics", Timeout: 30 * time.Second} // a busy test machine, not the emulator, is slow
	read := func() map[string]results.Point {
		t.Helper()
		pts, err := sc.Scrape(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]results.Point{}
		for _, p := range pts {
			m[p.Metric+"/"+p.Labels["gpu"]] = p
		}
		return m
	}
	time.Sleep(200 * time.Millisecond)
	busy := read()
	for _, name := range []string{DCGMGPUUtil, DCGMFBUsed, DCGMFBFree, DCGMGPUTemp, DCGMPowerUsage, DCGMTotalEnergy, DCGMSMClock, DCGMGrEngActive} {
		for _, gpu := range []string{"0", "1"} {
			p, ok := busy[name+"/"+gpu]
			if !ok {
				t.Fatalf("no %s for gpu %s", name, gpu)
			}
			l := p.Labels
			if l["Hostname"] != "node7" || l["modelName"] != "NVIDIA H100 80GB HBM3" || !strings.HasPrefix(l["UUID"], "GPU-") || l["device"] != "nvidia"+gpu ||
				l[DCGMDriverLabel] != "550.54.15" {
				t.Errorf("%s labels %v", name, l)
			}
		}
	}
	if busy[DCGMGPUUtil+"/0"].Value < 85 || busy[DCGMPowerUsage+"/0"].Value < 200 {
		t.Errorf("under load: util %g, power %g", busy[DCGMGPUUtil+"/0"].Value, busy[DCGMPowerUsage+"/0"].Value)
	}
	if u0, u1 := busy[DCGMFBUsed+"/0"].Value+busy[DCGMFBFree+"/0"].Value, 81559.0-dcgmReservedMiB; u0 != u1 {
		t.Errorf("used + free = %g MiB, want %g", u0, u1)
	}
	load.Store(0.0)
	time.Sleep(100 * time.Millisecond)
	idle := read()
	if idle[DCGMGPUUtil+"/1"].Value != 0 || idle[DCGMSMClock+"/1"].Value != dcgmIdleClockMHz {
		t.Errorf("idle: util %g, clock %g", idle[DCGMGPUUtil+"/1"].Value, idle[DCGMSMClock+"/1"].Value)
	}
	if idle[DCGMTotalEnergy+"/0"].Value <= busy[DCGMTotalEnergy+"/0"].Value {
		t.Errorf("energy counter did not grow: %g then %g", busy[DCGMTotalEnergy+"/0"].Value, idle[DCGMTotalEnergy+"/0"].Value)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(b.String(), "# TYPE "+DCGMTotalEnergy+" counter") || !strings.Contains(b.String(), "# TYPE "+DCGMGPUUtil+" gauge") {
		t.Errorf("types:\n%s", b.String())
	}
}

func TestDCGMOptionsRefused(t *testing.T) {
	for _, o := range []DCGMOptions{{GPUs: -1}, {MemoryMiB: 10}, {IdlePower: 800}, {Tick: time.Microsecond}} {
		if d, err := NewDCGM(o); err == nil {
			d.Close()
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestVLLMLoad follows the vLLM emulator: idle 0, busy its KV-cache usage.
func TestVLLMLoad(t *testing.T) {
	o := DefaultOptions(FlavorVLLM)
	o.Slots, o.DecodeBase, o.Jitter = 4, 20*time.Millisecond, 0
	_, srv := newTestEmulator(t, o)
	load := VLLMLoad(srv.URL + "/metrics")
	if l, err := load(context.Background()); err != nil || l != 0 {
		t.Fatalf("idle load %g, %v", l, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Post(srv.URL+"/v1/completions", "application/json",
			strings.NewReader(`{"model":"benchrun-emulated","prompt":"a b c","max_tokens":20,"ignore_eos":true}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	got := 0.0
	for time.Now().Before(deadline) && got == 0 {
		got, _ = load(context.Background())
		time.Sleep(10 * time.Millisecond)
	}
	<-done
	if got != 0.25 {
		t.Errorf("load with one of 4 slots running = %g, want 0.25", got)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "other_metric 1")
	}))
	defer bad.Close()
	if _, err := VLLMLoad(bad.URL)(context.Background()); err == nil {
		t.Error("an endpoint without vLLM series gave a load")
	} else if errors.Is(err, context.Canceled) {
		t.Error(err)
	}
}

// FuzzVLLMLoad: any exposition gives a load within 0–1 or an error, never
// a panic.
func FuzzVLLMLoad(f *testing.F) {
	f.Add([]byte("vllm:kv_cache_usage_perc{engine=\"0\"} 0.5\nvllm:num_requests_running 3\n"))
	f.Add([]byte("vllm:num_requests_running{engine=\"0\"} 2\n"))
	f.Add([]byte("vllm:gpu_cache_usage_perc 7\n"))
	f.Add([]byte("#0000000000000000\n{}0")) // runner/scrape's FuzzParse crasher
	f.Fuzz(func(t *testing.T, data []byte) {
		load, err := vllmLoad(bytes.NewReader(data), expfmt.NewFormat(expfmt.TypeTextPlain))
		if err == nil && (load < 0 || load > 1 || math.IsNaN(load)) {
			t.Fatalf("load %v from %q", load, data)
		}
	})
}

// Driver "none" serves no driver label, as dcgm-exporter with a custom
// counters file does; a driver given is served as given.
func TestDCGMDriverLabel(t *testing.T) {
	for driver, want := range map[string]string{"none": "", "535.104.05": "535.104.05"} {
		d, err := NewDCGM(DCGMOptions{Driver: driver, Hostname: "n", Seed: 1, Tick: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(d.Handler())
		pts, err := (&promscrape.Scraper{URL: srv.URL + "/metrics", Timeout: 30 * time.Second}).Scrape(context.Background(), 0)
		srv.Close()
		d.Close()
		if err != nil || len(pts) == 0 {
			t.Fatalf("driver %q: %d points, %v", driver, len(pts), err)
		}
		for _, p := range pts {
			if got, ok := p.Labels[DCGMDriverLabel]; got != want || ok != (want != "") {
				t.Errorf("driver %q: %s has %s=%q (present %v)", driver, p.Metric, DCGMDriverLabel, got, ok)
			}
		}
	}
}
