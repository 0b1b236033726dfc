// Command benchpeers measures benchrun's non-streaming load generation side
// by side with other load generators (wrk, hey, and vegeta and k6 when
// installed) against one instant HTTP server, and prints one table: figure,
// goal, measured (median of the rounds), ratio to each peer, ok/short. It is
// tooling for `make bench`, not part of benchrun; docs/performance.md
// explains how to read it.
//
//	go run ./ci/benchpeers -duration 5s -rounds 3 -conns 50 -out testdata/artifacts/bench-peers.md
//	go run ./ci/benchpeers serve -addr 127.0.0.1:18080   # the instant server alone
//
// The server is pinned to CPU 0 and each tool to CPU 1 with taskset (when
// the machine has two CPUs or more and taskset is installed; otherwise the
// table says "unpinned").
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// completionBody is a whole (non-streaming) /v1/completions response as
// vLLM sends one: 16 words of text and the usage.
var completionBody = []byte(`{"id":"cmpl-instant","object":"text_completion","created":1700000000,"model":"instant",` +
	`"choices":[{"index":0,"text":" one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen",` +
	`"logprobs":null,"finish_reason":"length","stop_reason":null}],` +
	`"usage":{"prompt_tokens":16,"total_tokens":32,"completion_tokens":16}}`)

// requestBody is what the peers send (benchrun sends its own, of the same size class).
const requestBody = `{"model":"instant","prompt":"one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen","max_tokens":16,"stream":false}`

func serve(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"instant","object":"model"}]}`)
	})
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(completionBody)))
		w.Write(completionBody)
	})
	return (&http.Server{Addr: addr, Handler: mux}).ListenAndServe()
}

// tool is one load generator: how to make it available and how to run it
// for d at conns connections, returning requests per second.
type tool struct {
	name    string
	install func(bin string) error // nil: nothing to install
	run     func(ctx context.Context, env *benchEnv) (float64, error)
}

type benchEnv struct {
	url, dir, bin, benchrun string
	conns                   int
	dur                     time.Duration
	pin                     []string // taskset prefix for the tool, or nil
}

func (e *benchEnv) command(ctx context.Context, argv ...string) *exec.Cmd {
	argv = append(slices.Clone(e.pin), argv...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+e.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return cmd
}

// output runs argv and returns its combined output; a failure includes it.
func (e *benchEnv) output(ctx context.Context, argv ...string) (string, error) {
	out, err := e.command(ctx, argv...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tail(out))
	}
	return string(out), nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// rate finds re's first group in out as a number; no match is an error
// (never a zero).
func rate(out string, re *regexp.Regexp) (float64, error) {
	m := re.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no %s in output:\n%s", re, tail([]byte(out)))
	}
	return strconv.ParseFloat(m[1], 64)
}

var (
	wrkRate    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	heyRate    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	heyStatus  = regexp.MustCompile(`\[(\d{3})\]\s+(\d+) responses`)
	vegetaRate = regexp.MustCompile(`Requests\s+\[total, rate, throughput\]\s+\d+, [0-9.]+, ([0-9.]+)`)
	vegetaOK   = regexp.MustCompile(`Success\s+\[ratio\]\s+100\.00%`)
	wrkErrors  = regexp.MustCompile(`Non-2xx or 3xx responses|Socket errors`)
)

func tools() []tool {
	return []tool{
		{name: "benchrun", run: runBenchrun},
		{name: "wrk", install: aptInstall("wrk"), run: runWrk},
		{name: "hey", install: aptInstall("hey"), run: runHey},
		{name: "vegeta", install: goInstall("vegeta", "github.com/tsenart/vegeta/v12@v12.12.0"), run: runVegeta},
	}
}

func aptInstall(name string) func(string) error {
	return func(string) error {
		if _, err := exec.LookPath(name); err == nil {
			return nil
		}
		cmd := exec.Command("apt-get", "install", "-y", "-q", name)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get install %s: %v\n%s", name, err, tail(out))
		}
		return nil
	}
}

func goInstall(name, module string) func(string) error {
	return func(bin string) error {
		if _, err := exec.LookPath(name); err == nil {
			return nil
		}
		if _, err := os.Stat(filepath.Join(bin, name)); err == nil {
			return nil
		}
		cmd := exec.Command("go", "install", module)
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod")
		cmd.Dir = os.TempDir() // outside this module
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go install %s: %v\n%s", module, err, tail(out))
		}
		return nil
	}
}

func runWrk(ctx context.Context, e *benchEnv) (float64, error) {
	script := filepath.Join(e.dir, "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", requestBody)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return 0, err
	}
	out, err := e.output(ctx, "wrk", "-t1", "-c"+strconv.Itoa(e.conns), "-d"+e.dur.String(), "-s", script, e.url+"/v1/completions")
	if err != nil {
		return 0, err
	}
	if wrkErrors.MatchString(out) {
		return 0, fmt.Errorf("wrk reported errors:\n%s", out)
	}
	return rate(out, wrkRate)
}

func runHey(ctx context.Context, e *benchEnv) (float64, error) {
	out, err := e.output(ctx, "hey", "-z", e.dur.String(), "-c", strconv.Itoa(e.conns), "-m", "POST",
		"-T", "application/json", "-d", requestBody, e.url+"/v1/completions")
	if err != nil {
		return 0, err
	}
	for _, m := range heyStatus.FindAllStringSubmatch(out, -1) {
		if m[1] != "200" {
			return 0, fmt.Errorf("hey: %s responses with status %s", m[2], m[1])
		}
	}
	if strings.Contains(out, "Error distribution") {
		return 0, fmt.Errorf("hey reported errors:\n%s", tail([]byte(out)))
	}
	return rate(out, heyRate)
}

func runVegeta(ctx context.Context, e *benchEnv) (float64, error) {
	body := filepath.Join(e.dir, "body.json")
	if err := os.WriteFile(body, []byte(requestBody), 0o644); err != nil {
		return 0, err
	}
	target := fmt.Sprintf("POST %s/v1/completions\nContent-Type: application/json\n@%s\n", e.url, body)
	cmd := e.command(ctx, "sh", "-c", fmt.Sprintf("vegeta attack -rate=0 -max-workers=%d -workers=%d -duration=%s | vegeta report",
		e.conns, e.conns, e.dur))
	cmd.Stdin = strings.NewReader(target)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("vegeta: %v\n%s", err, tail(out))
	}
	if !vegetaOK.Match(out) {
		return 0, fmt.Errorf("vegeta: not every request succeeded:\n%s", tail(out))
	}
	return rate(string(out), vegetaRate)
}

// runBenchrun runs `benchrun suite` (the product path: suite, service
// probe, closed-loop runner, openai driver, sample file, analysis) with a
// non-streaming completions benchmark and reads the achieved rate from the
// requests it recorded over the measured seconds.
func runBenchrun(ctx context.Context, e *benchEnv) (float64, error) {
	dir, err := os.MkdirTemp(e.dir, "suite")
	if err != nil {
		return 0, err
	}
	suite := filepath.Join(dir, "peers.toml")
	toml := fmt.Sprintf(`schema_version = 1
[suite]
name = "peers"
[[service]]
name = "instant"
kind = "vllm"
model = "instant"
url = %q
[[benchmark]]
name = "nonstream"
service = "instant"
  [benchmark.workload]
  api = "completions"
  stream = false
  mode = "closed"
  users = %d
  duration = %q
  [benchmark.dataset]
  kind = "synthetic"
  prompt_tokens = 16
  output_tokens = 16
`, e.url, e.conns, e.dur.String())
	if err := os.WriteFile(suite, []byte(toml), 0o644); err != nil {
		return 0, err
	}
	// From dir: benchrun records history under ./baselines.
	cmd := e.command(ctx, e.benchrun, "suite", "--local", "-o", filepath.Join(dir, "results"), suite)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil {
		err = fmt.Errorf("benchrun suite: %v\n%s", err, tail(b))
		return 0, err
	}
	return benchrunRate(filepath.Join(dir, "results"), out)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		addr := fs.String("addr", "127.0.0.1:18080", "listen address")
		fs.Parse(os.Args[2:])
		if err := serve(*addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	dur := flag.Duration("duration", 5*time.Second, "length of each tool's run")
	rounds := flag.Int("rounds", 3, "rounds; the table shows the median")
	conns := flag.Int("conns", 50, "connections (closed loop)")
	outPath := flag.String("out", "", "also write the table to this file")
	flag.Parse()
	if err := run(*dur, *rounds, *conns, *outPath); err != nil {
		fmt.Fprintln(os.Stderr, "benchpeers:", err)
		os.Exit(1)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(url string) error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url + "/health"); err == nil {
			r.Body.Close()
			return nil
		}
	}
	return errors.New("instant server not ready after 10s")
}

func buildBenchrun(dir string) (string, error) {
	bin := filepath.Join(dir, "benchrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func pins() (server, tool []string, pinned bool) {
	if _, err := exec.LookPath("taskset"); err != nil || runtime.NumCPU() < 2 {
		return nil, nil, false
	}
	return []string{"taskset", "-c", "0"}, []string{"taskset", "-c", "1"}, true
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func run(dur time.Duration, rounds, conns int, outPath string) error {
	dir, err := os.MkdirTemp("", "benchpeers")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	benchrun, err := buildBenchrun(dir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	serverPin, toolPin, pinned := pins()
	argv := append(slices.Clone(serverPin), self, "serve", "-addr", addr)
	srv := exec.Command(argv[0], argv[1:]...)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	e := &benchEnv{url: "http://" + addr, dir: dir, bin: bin, benchrun: benchrun, conns: conns, dur: dur, pin: toolPin}
	if err := waitReady(e.url); err != nil {
		return err
	}
	got := map[string][]float64{}
	notes := map[string]string{}
	var ts []tool
	for _, t := range tools() {
		if t.install != nil {
			if err := t.install(bin); err != nil {
				notes[t.name] = "not installed: " + firstLine(err.Error())
				fmt.Fprintf(os.Stderr, "%s: %v\n", t.name, err)
				continue
			}
		}
		ts = append(ts, t)
	}
	for r := range rounds {
		for _, t := range ts { // interleaved, so drift hits every tool alike
			ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
			v, err := t.run(ctx, e)
			cancel()
			if err != nil {
				notes[t.name] = "failed: " + firstLine(err.Error())
				fmt.Fprintf(os.Stderr, "round %d %s: %v\n", r+1, t.name, err)
				continue
			}
			fmt.Fprintf(os.Stderr, "round %d %-8s %10.0f req/s\n", r+1, t.name, v)
			got[t.name] = append(got[t.name], v)
		}
	}
	var buf bytes.Buffer
	writeTable(&buf, got, notes, rounds, conns, dur, pinned)
	os.Stdout.Write(buf.Bytes())
	if outPath != "" {
		if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
			return err
		}
		return os.WriteFile(outPath, buf.Bytes(), 0o644)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// goals are benchrun's non-streaming closed-loop req/s as a fraction of
// each peer's (issue 18).
var goals = []struct {
	peer string
	min  float64
}{{"hey", 1.0}, {"wrk", 0.7}, {"vegeta", 0}}

func writeTable(w io.Writer, got map[string][]float64, notes map[string]string, rounds, conns int, dur time.Duration, pinned bool) {
	pin := "server on CPU 0, each tool on CPU 1 (taskset)"
	if !pinned {
		pin = "unpinned (taskset missing or one CPU)"
	}
	fmt.Fprintf(w, "# Load generators side by side\n\nNon-streaming POST /v1/completions to an instant server, closed loop, %d connections, %s per run, median of %d rounds; %s; %s/%s, %d CPUs, %s.\n\n",
		conns, dur, rounds, pin, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintln(w, "| tool | req/s (median) | rounds |")
	fmt.Fprintln(w, "|---|---:|---|")
	for _, name := range []string{"benchrun", "wrk", "hey", "vegeta"} {
		xs := got[name]
		if len(xs) < rounds {
			fmt.Fprintf(w, "| %s | — | %s |\n", name, orDefault(notes[name], fmt.Sprintf("%d of %d rounds", len(xs), rounds)))
			continue
		}
		fmt.Fprintf(w, "| %s | %.0f | %s |\n", name, median(xs), roundsText(xs))
	}
	fmt.Fprintln(w, "\n| figure | goal | measured | ratio | verdict |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|")
	b := got["benchrun"]
	for _, g := range goals {
		p := got[g.peer]
		figure := "closed-loop req/s, benchrun ÷ " + g.peer
		goal := "—"
		if g.min > 0 {
			goal = fmt.Sprintf("≥ %.1f×", g.min)
		}
		if len(b) < rounds || len(p) < rounds {
			fmt.Fprintf(w, "| %s | %s | — | — | not measured |\n", figure, goal)
			continue
		}
		ratio := median(b) / median(p)
		verdict := "ok"
		switch {
		case g.min == 0:
			verdict = "info"
		case ratio < g.min:
			verdict = fmt.Sprintf("short (%.0f%% of goal)", 100*ratio/g.min)
		}
		fmt.Fprintf(w, "| %s | %s | %.0f vs %.0f | %.2f× | %s |\n", figure, goal, median(b), median(p), ratio, verdict)
	}
}

func roundsText(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(s, ", ")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// benchrunRate reads requests_per_second of the one case from summary.json
// (analysis's figure). A missing figure, a failed case or any error is an
// error, never a rate.
func benchrunRate(dir, out string) (float64, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return 0, fmt.Errorf("%v\n%s", err, tail([]byte(out)))
	}
	var sum struct {
		Cases []struct {
			Metrics map[string]struct {
				Value *float64 `json:"value"`
				Count int64    `json:"count"`
			} `json:"metrics"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return 0, err
	}
	if len(sum.Cases) != 1 {
		return 0, fmt.Errorf("summary.json: %d cases, want 1", len(sum.Cases))
	}
	m := sum.Cases[0].Metrics
	rps, errRate := m["requests_per_second"], m["error_rate"]
	if rps.Value == nil || *rps.Value <= 0 {
		return 0, fmt.Errorf("summary.json: no requests_per_second")
	}
	if errRate.Value == nil || *errRate.Value != 0 {
		return 0, fmt.Errorf("summary.json: error_rate missing or not 0")
	}
	return *rps.Value, nil
}
