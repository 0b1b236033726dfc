package ci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/emulate"
)

func emulateCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "emulate",
		Usage:     "serve an emulated vLLM, Ollama or DCGM exporter for offline dry runs and tests",
		ArgsUsage: "vllm|ollama|dcgm",
		Description: "A protocol-faithful server with a continuous-batching timing model: requests\n" +
			"wait for one of --slots, the first token comes after the prefill time, then\n" +
			"tokens follow at the decode interval, which grows with the running batch.\n" +
			"vllm serves /v1/completions, /v1/chat/completions, /v1/models, /health,\n" +
			"/version and /metrics (vllm: names); ollama serves /api/generate, /api/chat,\n" +
			"/api/tags, /api/ps and /api/version. Timing and faults are flags; see\n" +
			"docs/emulators.md. Defaults for ollama differ (4 slots, slower decode,\n" +
			"a 2s model load) unless the flags are given. dcgm serves /metrics as NVIDIA's\n" +
			"dcgm-exporter does (DCGM_FI_DEV_GPU_UTIL, power, energy, ... for --gpus GPUs),\n" +
			"following a vLLM server's load with --follow, else a pattern seeded by --seed.\n\n" +
			"Examples:\n   benchrun emulate vllm --port 8000 --slots 16 --decode-base 8ms --jitter 0\n" +
			"   benchrun emulate dcgm --port 9400 --gpus 4 --follow http://127.0.0.1:8000/metrics",
		Flags: emulateFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("emulate: name the flavour, vllm, ollama or dcgm"), ExitUsage)
			}
			flavor := c.Args().First()
			addr := net.JoinHostPort(c.String("host"), strconv.Itoa(c.Int("port")))
			switch flavor {
			case emulate.FlavorVLLM, emulate.FlavorOllama:
				return serveEmulator(c.Context, stdout, flavor, emulateOptions(c, flavor), addr)
			case emulate.FlavorDCGM:
				return serveDCGM(c.Context, stdout, dcgmOptions(c), addr)
			}
			return withExitCode(fmt.Errorf("emulate: unknown flavour %q: want vllm, ollama or dcgm", flavor), ExitUsage)
		},
	}
}

// emulateFlags are the flags of benchrun emulate. Those whose default
// depends on the flavour have none here (only DefaultText): emulateOptions
// keeps the flavour's default unless the flag is set.
func emulateFlags() []cli.Flag {
	d := emulate.DefaultOptions(emulate.FlavorVLLM)
	return []cli.Flag{
		&cli.StringFlag{Name: "host", Value: "127.0.0.1", Usage: "address to listen on"},
		&cli.IntFlag{Name: "port", Value: 8000, Usage: "port to listen on (0 picks one and prints it)"},
		&cli.StringFlag{Name: "model", Value: d.Model, Usage: "served model name"},
		&cli.IntFlag{Name: "slots", Usage: "sequences decoded at once", DefaultText: "256 vllm, 4 ollama"},
		&cli.IntFlag{Name: "max-queue", Usage: "waiting requests beyond which the server answers 503 (-1: unbounded)", DefaultText: "unbounded vllm, 512 ollama"},
		&cli.DurationFlag{Name: "prefill-base", Usage: "fixed part of the time to first token", DefaultText: "20ms"},
		&cli.DurationFlag{Name: "prefill-per-token", Usage: "prefill time per prompt token", DefaultText: "50µs vllm, 200µs ollama"},
		&cli.DurationFlag{Name: "decode-base", Usage: "inter-token time with one running sequence", DefaultText: "10ms vllm, 25ms ollama"},
		&cli.DurationFlag{Name: "decode-per-seq", Usage: "extra inter-token time per other running sequence", DefaultText: "50µs vllm, 2ms ollama"},
		&cli.Float64Flag{Name: "jitter", Value: d.Jitter, Usage: "relative jitter on every delay (0 = exact timing)"},
		&cli.Int64Flag{Name: "seed", Value: d.Seed, Usage: "seed for jitter, output lengths and faults"},
		&cli.IntFlag{Name: "output-tokens", Value: d.OutputTokens, Usage: "output length when a request sets none"},
		&cli.Float64Flag{Name: "slowdown", Value: 1, Usage: "multiply every delay (1.3 = 30% slower)", EnvVars: []string{"BENCHRUN_EMULATE_SLOWDOWN"}},
		&cli.DurationFlag{Name: "load-time", Usage: "ollama: model load paid by the first request (cold start)", DefaultText: "2s"},
		&cli.Float64Flag{Name: "error-rate", Usage: "fraction of requests answered 500"},
		&cli.IntFlag{Name: "burst-status", Usage: "status of error bursts: 429 or 503"},
		&cli.DurationFlag{Name: "burst-every", Usage: "a burst starts this often"},
		&cli.DurationFlag{Name: "burst-length", Usage: "how long each burst lasts"},
		&cli.Float64Flag{Name: "disconnect-rate", Usage: "fraction of streams cut mid-way"},
		&cli.Float64Flag{Name: "stall-rate", Usage: "fraction of streams that pause once"},
		&cli.DurationFlag{Name: "stall-for", Usage: "length of a stall"},
		&cli.DurationFlag{Name: "start-delay", Usage: "slow start: every endpoint answers 503 for this long"},
		&cli.IntFlag{Name: "gpus", Value: 1, Usage: "dcgm: GPUs exposed"},
		&cli.StringFlag{Name: "gpu-model", Usage: "dcgm: the modelName label", DefaultText: "NVIDIA H100 80GB HBM3"},
		&cli.StringFlag{Name: "hostname", Usage: "dcgm: the Hostname label", DefaultText: "this host's name"},
		&cli.StringFlag{Name: "gpu-driver", Usage: "dcgm: the DCGM_FI_DRIVER_VERSION label (\"none\": no such label)", DefaultText: "550.54.15"},
		&cli.StringFlag{Name: "follow", Usage: "dcgm: a vLLM /metrics URL whose KV-cache usage is the GPUs' load (default: a seeded pattern)"},
		&cli.DurationFlag{Name: "tick", Value: 100 * time.Millisecond, Usage: "dcgm: how often the load is sampled and the GPUs' state advanced"},
	}
}

// dcgmOptions are the DCGM emulator's options from the command line.
func dcgmOptions(c *cli.Context) emulate.DCGMOptions {
	o := emulate.DCGMOptions{GPUs: c.Int("gpus"), Model: c.String("gpu-model"), Driver: c.String("gpu-driver"), Hostname: c.String("hostname"),
		Seed: c.Int64("seed"), Tick: c.Duration("tick")}
	if u := c.String("follow"); u != "" {
		o.Load = emulate.VLLMLoad(u)
	}
	return o
}

// serveDCGM serves a DCGM exporter emulator on addr until ctx is done,
// which is a normal end.
func serveDCGM(ctx context.Context, stdout io.Writer, o emulate.DCGMOptions, addr string) error {
	d, err := emulate.NewDCGM(o)
	if err != nil {
		return withExitCode(fmt.Errorf("emulate: %w", err), ExitUsage)
	}
	defer d.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return withExitCode(fmt.Errorf("emulate: %w", err), ExitError)
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "benchrun emulate dcgm: listening on http://%s (%d GPUs)\n", ln.Addr(), max(o.GPUs, 1))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return withExitCode(err, ExitError)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return nil
	}
}

// emulateOptions are the flavour's defaults with the flags given on the
// command line.
func emulateOptions(c *cli.Context, flavor string) emulate.Options {
	o := emulate.DefaultOptions(flavor)
	o.Model = c.String("model")
	o.Jitter = c.Float64("jitter")
	o.Seed = c.Int64("seed")
	o.OutputTokens = c.Int("output-tokens")
	o.Slowdown = c.Float64("slowdown")
	o.ErrorRate = c.Float64("error-rate")
	o.DisconnectRate = c.Float64("disconnect-rate")
	o.StallRate = c.Float64("stall-rate")
	for name, dst := range map[string]*int{"slots": &o.Slots, "max-queue": &o.MaxQueue, "burst-status": &o.BurstStatus} {
		if c.IsSet(name) {
			*dst = c.Int(name)
		}
	}
	for name, dst := range map[string]*time.Duration{
		"prefill-base": &o.PrefillBase, "prefill-per-token": &o.PrefillPerToken,
		"decode-base": &o.DecodeBase, "decode-per-seq": &o.DecodePerSeq, "load-time": &o.LoadTime,
		"burst-every": &o.BurstEvery, "burst-length": &o.BurstLength,
		"stall-for": &o.StallFor, "start-delay": &o.StartDelay,
	} {
		if c.IsSet(name) {
			*dst = c.Duration(name)
		}
	}
	return o
}

// serveEmulator serves an emulator with options o on addr until ctx is
// done, which is a normal end.
func serveEmulator(ctx context.Context, stdout io.Writer, flavor string, o emulate.Options, addr string) error {
	em, err := emulate.New(o)
	if err != nil {
		return withExitCode(fmt.Errorf("emulate: %w", err), ExitUsage)
	}
	closeOnce := sync.OnceFunc(em.Close)
	defer closeOnce()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return withExitCode(fmt.Errorf("emulate: %w", err), ExitError)
	}
	srv := em.NewServer()
	fmt.Fprintf(stdout, "benchrun emulate %s: listening on http://%s (model %s, slowdown %g)\n", flavor, ln.Addr(), o.Model, o.Slowdown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(runner.ReceiveListener(ln)) }()
	select {
	case err := <-errc:
		return withExitCode(err, ExitError)
	case <-ctx.Done():
		closeOnce() // end open streams so Shutdown does not wait for them
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return nil // a stopped emulator is a normal end
	}
}
