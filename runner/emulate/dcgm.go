package emulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// FlavorDCGM is the DCGM exporter flavour of `benchrun emulate`: GPU
// telemetry for PromQL tests without a GPU.
const FlavorDCGM = "dcgm"

// DCGMOptions configures a DCGM exporter emulator (NewDCGM). Zero values
// take the defaults named on each field.
type DCGMOptions struct {
	GPUs  int    // GPUs exposed, labels gpu="0".. ; default 1
	Model string // modelName label; default "NVIDIA H100 80GB HBM3"
	// Driver is the DCGM_FI_DRIVER_VERSION label, which dcgm-exporter
	// adds to every series with its default counters; default
	// "550.54.15". "none" leaves the label out, as a custom counters
	// file does.
	Driver   string
	Hostname string // Hostname label; default os.Hostname()
	Seed     int64  // seeds UUIDs, noise and the load pattern
	// MemoryMiB is each GPU's framebuffer (FB_USED + FB_FREE + reserved);
	// default 81559 (an H100 80GB).
	MemoryMiB float64
	// IdlePower and MaxPower bound the power draw in watts; defaults 70
	// and 700 (an H100 SXM's board limit).
	IdlePower, MaxPower float64
	// Load returns the GPUs' load, 0–1, sampled every Tick. Nil means a
	// seeded pattern (SeededLoad). VLLMLoad follows a vLLM server.
	Load func(ctx context.Context) (float64, error)
	// Tick is how often the load is sampled and the GPU state advanced
	// (energy integrated, temperature moved); default 100ms.
	Tick time.Duration
}

// DCGM series and their help texts as dcgm-exporter serves them
// (REFERENCE §11); units: %, MiB, °C, W, mJ (counter), MHz, ratio.
const (
	DCGMGPUUtil      = "DCGM_FI_DEV_GPU_UTIL"
	DCGMFBUsed       = "DCGM_FI_DEV_FB_USED"
	DCGMFBFree       = "DCGM_FI_DEV_FB_FREE"
	DCGMGPUTemp      = "DCGM_FI_DEV_GPU_TEMP"
	DCGMPowerUsage   = "DCGM_FI_DEV_POWER_USAGE"
	DCGMTotalEnergy  = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
	DCGMSMClock      = "DCGM_FI_DEV_SM_CLOCK"
	DCGMGrEngActive  = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
	dcgmIdleClockMHz = 345
	dcgmBoostMHz     = 1980
	dcgmAmbientC     = 30
	dcgmReservedMiB  = 512
	dcgmThermalTau   = 20.0 // s: the die's first-order thermal time constant
	dcgmPowerTau     = 0.3  // s: power follows utilisation this fast
	dcgmDegPerWatt   = 0.07 // °C above ambient per watt at steady state
)

// DCGM is an emulated NVIDIA DCGM exporter: it serves /metrics with the
// DCGM series of N GPUs, whose values follow a load signal and move as a
// GPU's do (power lags utilisation, temperature lags power, the energy
// counter integrates power). Serve Handler; Close stops its clock. It is
// safe for concurrent use.
type DCGM struct {
	o       DCGMOptions
	reg     *prometheus.Registry
	mu      sync.Mutex
	gpus    []*gpuState
	load    float64
	cancel  context.CancelFunc
	done    chan struct{}
	pattern *SeededLoad
	last    time.Time
}

// gpuState is one emulated GPU; advance moves it by dt seconds under a
// load.
type gpuState struct {
	index              int
	uuid, busID        string
	rng                *rand.Rand
	util, power, temp  float64 // %, W, °C
	energy             float64 // mJ since the driver loaded
	fbUsed, smClock    float64 // MiB, MHz
	grActive           float64 // ratio
	idlePower, maxPow  float64
	memory, modelFBMiB float64
}

// NewDCGM validates o and starts the emulator's clock.
func NewDCGM(o DCGMOptions) (*DCGM, error) {
	if o.GPUs == 0 {
		o.GPUs = 1
	}
	if o.Driver == "" {
		o.Driver = "550.54.15"
	}
	if o.Model == "" {
		o.Model = "NVIDIA H100 80GB HBM3"
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = 81559
	}
	if o.IdlePower == 0 {
		o.IdlePower = 70
	}
	if o.MaxPower == 0 {
		o.MaxPower = 700
	}
	if o.Tick == 0 {
		o.Tick = 100 * time.Millisecond
	}
	var errs []string
	if o.GPUs < 0 || o.GPUs > 1024 {
		errs = append(errs, fmt.Sprintf("gpus %d: want 1 to 1024", o.GPUs))
	}
	if o.MemoryMiB < 4*dcgmReservedMiB {
		errs = append(errs, fmt.Sprintf("memory %g MiB: want at least %d", o.MemoryMiB, 4*dcgmReservedMiB))
	}
	if o.IdlePower < 0 || o.MaxPower <= o.IdlePower {
		errs = append(errs, fmt.Sprintf("power: want 0 <= idle (%g W) < max (%g W)", o.IdlePower, o.MaxPower))
	}
	if o.Tick < time.Millisecond {
		errs = append(errs, "tick must be at least 1ms")
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("dcgm emulator: %s", strings.Join(errs, "; "))
	}
	d := &DCGM{o: o, reg: prometheus.NewRegistry(), done: make(chan struct{})}
	if o.Load == nil {
		d.pattern = NewSeededLoad(o.Seed)
	}
	for i := range o.GPUs {
		d.gpus = append(d.gpus, newGPU(o, i))
	}
	d.reg.MustRegister(dcgmCollector{d})
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.last = time.Now()
	go d.run(ctx, d.last)
	return d, nil
}

func newGPU(o DCGMOptions, i int) *gpuState {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(i)+0xdc9))
	uuid := fmt.Sprintf("GPU-%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff,
		rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
	g := &gpuState{index: i, uuid: uuid, busID: fmt.Sprintf("00000000:%02X:00.0", 0x18+8*i), rng: rng,
		idlePower: o.IdlePower, maxPow: o.MaxPower, memory: o.MemoryMiB,
		// A served model's weights and vLLM's preallocated KV cache: 90%
		// of the memory, as gpu_memory_utilization's default.
		modelFBMiB: math.Round(0.9 * o.MemoryMiB),
		energy:     math.Round(1e9 + rng.Float64()*1e9),
		smClock:    dcgmIdleClockMHz,
	}
	g.power = o.IdlePower
	g.temp = dcgmAmbientC + dcgmDegPerWatt*o.IdlePower
	g.fbUsed = g.modelFBMiB
	return g
}

// advance moves the GPU by dt seconds under load (0–1): utilisation
// answers at once (with seeded noise), power approaches its target with
// dcgmPowerTau, temperature with dcgmThermalTau, and the energy counter
// integrates the power over dt.
func (g *gpuState) advance(dt, load float64) {
	load = min(max(load, 0), 1)
	util := 0.0
	if load > 0 {
		util = 100*(1-math.Exp(-3*load)) + 2*g.rng.NormFloat64()
	}
	g.util = math.Round(min(max(util, 0), 100))
	g.grActive = min(max(g.util/100*0.97+0.005*g.rng.NormFloat64(), 0), 1)
	if load == 0 {
		g.grActive = 0
	}
	target := g.idlePower + (g.maxPow-g.idlePower)*(g.util/100)*(0.8+0.2*load) + 2*g.rng.NormFloat64()
	prev := g.power
	g.power += (target - g.power) * (1 - math.Exp(-dt/dcgmPowerTau))
	g.power = max(g.power, 0)
	g.energy += (prev + g.power) / 2 * dt * 1e3
	tTarget := dcgmAmbientC + dcgmDegPerWatt*g.power
	g.temp += (tTarget - g.temp) * (1 - math.Exp(-dt/dcgmThermalTau))
	g.smClock = dcgmIdleClockMHz
	if g.util > 0 {
		// Boost, less as the die heats past 80 °C (thermal slowdown).
		g.smClock = dcgmBoostMHz - 15*max(g.temp-80, 0)
	}
	// Activations and the CUDA graphs' workspace grow with the batch.
	g.fbUsed = g.modelFBMiB + math.Round(400*load)
}

// run samples the load and advances the GPUs every Tick until ctx ends.
func (d *DCGM) run(ctx context.Context, start time.Time) {
	defer close(d.done)
	t := time.NewTicker(d.o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			load := 0.0
			if d.pattern != nil {
				load = d.pattern.At(now.Sub(start))
			} else {
				lctx, cancel := context.WithTimeout(ctx, max(d.o.Tick, time.Second))
				if l, err := d.o.Load(lctx); err == nil {
					load = l
				}
				cancel()
			}
			d.mu.Lock()
			dt := now.Sub(d.last).Seconds()
			d.last = now
			d.load = load
			for _, g := range d.gpus {
				g.advance(dt, load)
			}
			d.mu.Unlock()
		}
	}
}

// Handler serves GET /metrics (the DCGM series) and GET /health.
func (d *DCGM) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("OK\n"))
	})
	return mux
}

// Close stops the emulator's clock; /metrics keeps the last values.
// Close is idempotent.
func (d *DCGM) Close() {
	d.cancel()
	<-d.done
}

// dcgmCollector exposes the GPUs' state as dcgm-exporter does: gauges,
// and the energy counter.
type dcgmCollector struct{ d *DCGM }

var dcgmSeries = []struct {
	name, help string
	counter    bool
	value      func(g *gpuState) float64
}{
	{DCGMGPUUtil, "GPU utilization (in %).", false, func(g *gpuState) float64 { return g.util }},
	{DCGMFBUsed, "Framebuffer memory used (in MiB).", false, func(g *gpuState) float64 { return g.fbUsed }},
	{DCGMFBFree, "Framebuffer memory free (in MiB).", false, func(g *gpuState) float64 { return g.memory - dcgmReservedMiB - g.fbUsed }},
	{DCGMGPUTemp, "GPU temperature (in C).", false, func(g *gpuState) float64 { return math.Round(g.temp) }},
	{DCGMPowerUsage, "Power draw (in W).", false, func(g *gpuState) float64 { return math.Round(g.power*1000) / 1000 }},
	{DCGMTotalEnergy, "Total energy consumption since boot (in mJ).", true, func(g *gpuState) float64 { return math.Floor(g.energy) }},
	{DCGMSMClock, "SM clock frequency (in MHz).", false, func(g *gpuState) float64 { return math.Round(g.smClock) }},
	{DCGMGrEngActive, "Ratio of time the graphics engine is active.", false, func(g *gpuState) float64 { return g.grActive }},
}

var dcgmLabels = []string{"gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname"}

// DCGMDriverLabel is the label dcgm-exporter puts the driver version in.
const DCGMDriverLabel = "DCGM_FI_DRIVER_VERSION"

// labels are the series' label names: dcgmLabels, and the driver's
// unless Driver is "none".
func (c dcgmCollector) labels() []string {
	if c.d.o.Driver == "none" {
		return dcgmLabels
	}
	return append(slices.Clip(dcgmLabels), DCGMDriverLabel)
}

func (c dcgmCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range dcgmSeries {
		ch <- prometheus.NewDesc(s.name, s.help, c.labels(), nil)
	}
}

func (c dcgmCollector) Collect(ch chan<- prometheus.Metric) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	for _, s := range dcgmSeries {
		desc := prometheus.NewDesc(s.name, s.help, c.labels(), nil)
		vt := prometheus.GaugeValue
		if s.counter {
			vt = prometheus.CounterValue
		}
		for _, g := range c.d.gpus {
			values := []string{fmt.Sprint(g.index), g.uuid, g.busID, fmt.Sprintf("nvidia%d", g.index), c.d.o.Model, c.d.o.Hostname}
			if c.d.o.Driver != "none" {
				values = append(values, c.d.o.Driver)
			}
			ch <- prometheus.MustNewConstMetric(desc, vt, s.value(g), values...)
		}
	}
}

// SeededLoad is a deterministic load pattern: segments of 2–8 s at a
// level drawn from 0, 0.25, 0.5, 0.75 and 1, the sequence fixed by the
// seed. It is safe for concurrent use.
type SeededLoad struct {
	mu   sync.Mutex
	rng  *rand.Rand
	ends []time.Duration // end of each segment
	lvls []float64
}

// NewSeededLoad returns the pattern of a seed.
func NewSeededLoad(seed int64) *SeededLoad {
	return &SeededLoad{rng: rand.New(rand.NewPCG(uint64(seed), 0x10ad))}
}

// At returns the load at elapsed time t.
func (p *SeededLoad) At(t time.Duration) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.ends) == 0 || p.ends[len(p.ends)-1] <= t {
		end := time.Duration(0)
		if len(p.ends) > 0 {
			end = p.ends[len(p.ends)-1]
		}
		p.ends = append(p.ends, end+2*time.Second+time.Duration(p.rng.Int64N(int64(6*time.Second))))
		p.lvls = append(p.lvls, float64(p.rng.IntN(5))/4)
	}
	for i, e := range p.ends {
		if t < e {
			return p.lvls[i]
		}
	}
	return p.lvls[len(p.lvls)-1]
}

// VLLMLoad returns a load signal that follows a vLLM server: each call
// reads metricsURL (its /metrics) and returns the KV-cache usage
// (vllm:kv_cache_usage_perc, or the older vllm:gpu_cache_usage_perc),
// the highest over engines, or 1 while requests run and the usage reads 0;
// a server exposing no usage gives 1 while it runs a request
// (vllm:num_requests_running) and 0 otherwise. A read that fails, or an
// endpoint with neither series, is an error (the emulator then takes the
// load as 0).
func VLLMLoad(metricsURL string) func(ctx context.Context) (float64, error) {
	return func(ctx context.Context) (float64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("vllm load: GET %s: %s", metricsURL, resp.Status)
		}
		load, err := vllmLoad(io.LimitReader(resp.Body, 64<<20), expfmt.ResponseFormat(resp.Header))
		if err != nil {
			return 0, fmt.Errorf("vllm load: %s: %w", metricsURL, err)
		}
		return load, nil
	}
}

// vllmLoad reads the load from one exposition (VLLMLoad), clamped to
// 0–1. expfmt's text parser panics on some malformed input
// (runner/scrape.Parse, FuzzParse): that is an error, not a crash.
func vllmLoad(r io.Reader, format expfmt.Format) (load float64, err error) {
	defer func() {
		if v := recover(); v != nil {
			load, err = 0, fmt.Errorf("the parser failed: %v", v)
		}
	}()
	dec := expfmt.NewDecoder(r, format)
	kv, running := 0.0, 0.0
	kvSeen, runningSeen := false, false
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			break
		} else if err != nil {
			return 0, err
		}
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue()
			if math.IsNaN(v) {
				continue
			}
			switch mf.GetName() {
			case "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc":
				kv, kvSeen = max(kv, v), true
			case "vllm:num_requests_running":
				running, runningSeen = running+v, true
			}
		}
	}
	switch {
	case kvSeen && !(running > 0 && kv == 0):
		return min(max(kv, 0), 1), nil
	case running > 0:
		return 1, nil
	case runningSeen:
		return 0, nil
	}
	return 0, errors.New("neither vllm:kv_cache_usage_perc nor vllm:num_requests_running")
}
