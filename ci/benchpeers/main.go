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
	"math"
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
	"unicode/utf8"
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
		{name: "vegeta", install: goInstall("vegeta", "github.com/tsenart/vegeta/v12@v12.13.0"), run: runVegeta},
		{name: "k6", install: noK6},
	}
}

// noK6 explains the k6 row: k6 (go.k6.io/k6) is under the AGPL, which the
// project's package policy excludes, so it is never installed or run.
func noK6(string) error {
	return errors.New("go.k6.io/k6 is AGPL-licensed, which this project's package policy excludes")
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
	dir, out, err := benchrunSuite(ctx, e, fmt.Sprintf("mode = \"closed\"\n  users = %d", e.conns))
	if err != nil {
		return 0, err
	}
	return benchrunRate(filepath.Join(dir, "results"), out)
}

// benchrunSuite runs `benchrun suite` with one non-streaming completions
// benchmark of the given workload lines against the instant server, for
// e.dur, and returns the suite's directory (results in results/) and
// benchrun's output.
func benchrunSuite(ctx context.Context, e *benchEnv, workload string) (dir, out string, err error) {
	return benchrunSuiteExit(ctx, e, workload)
}

// benchrunSuiteExit is benchrunSuite where the exit codes ok (verdicts,
// not failures of the run) are not errors.
func benchrunSuiteExit(ctx context.Context, e *benchEnv, workload string, ok ...int) (dir, out string, err error) {
	dir, err = os.MkdirTemp(e.dir, "suite")
	if err != nil {
		return "", "", err
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
  %s
  duration = %q
  [benchmark.dataset]
  kind = "synthetic"
  prompt_tokens = 16
  output_tokens = 16
`, e.url, workload, e.dur.String())
	if err := os.WriteFile(suite, []byte(toml), 0o644); err != nil {
		return "", "", err
	}
	// From dir: benchrun records history under ./baselines.
	cmd := e.command(ctx, e.benchrun, "suite", "--local", "-o", filepath.Join(dir, "results"), suite)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && slices.Contains(ok, exit.ExitCode())) {
		return "", "", fmt.Errorf("benchrun suite: %v\n%s", err, tail(b))
	}
	return dir, string(b), nil
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
	m := &measured{got: map[string][]float64{}, open: map[string][]float64{}, notes: map[string]string{},
		rounds: rounds, conns: conns, dur: dur, pinned: pinned}
	var ts []tool
	for _, t := range tools() {
		if t.install != nil {
			if err := t.install(bin); err != nil {
				m.notes[t.name] = "not installed: " + firstLine(err.Error())
				fmt.Fprintf(os.Stderr, "%s: %v\n", t.name, err)
				continue
			}
		}
		ts = append(ts, t)
	}
	for r := range rounds {
		for _, t := range ts { // interleaved, so drift hits every tool alike
			m.round(r, t.name, false, func(ctx context.Context) (float64, error) { return t.run(ctx, e) })
		}
	}
	// Open loop, after the closed loop: benchrun and vegeta (the peer with
	// an open loop).
	for r := range rounds {
		m.round(r, "benchrun", true, func(ctx context.Context) (float64, error) { return runBenchrunOpen(ctx, e, openRate) })
		if !strings.HasPrefix(m.notes["vegeta"], "not installed") {
			m.round(r, "vegeta", true, func(ctx context.Context) (float64, error) { return runVegetaOpen(ctx, e, openRate) })
		}
	}
	m.figs = goFigures()
	m.figResults = runGoFigures(context.Background(), e, m.figs)
	var buf bytes.Buffer
	m.writeTable(&buf)
	os.Stdout.Write(buf.Bytes())
	if outPath != "" {
		if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
			return err
		}
		return os.WriteFile(outPath, buf.Bytes(), 0o644)
	}
	return nil
}

// round runs one tool's measurement of round r into into[name]; a failure
// is a note, never a number.
func (m *measured) round(r int, name string, open bool, measure func(context.Context) (float64, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), m.dur+2*time.Minute)
	v, err := measure(ctx)
	cancel()
	key, into := name, m.got
	if open {
		key, into = name+" open", m.open
	}
	if err != nil {
		m.notes[key] = "failed: " + firstLine(err.Error())
		fmt.Fprintf(os.Stderr, "round %d %s: %v\n", r+1, key, err)
		return
	}
	fmt.Fprintf(os.Stderr, "round %d %-12s %10.0f req/s\n", r+1, key, v)
	into[name] = append(into[name], v)
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
}{{"hey", 1.0}, {"wrk", 0.7}, {"vegeta", 0}, {"k6", 0}}

// peers are the table's tools, in order.
var peers = []string{"benchrun", "wrk", "hey", "vegeta", "k6"}

// measured is everything one run measured: req/s per tool and round
// (closed loop, and open loop at openRate), why a tool has no figure, and
// the Go benchmarks' figures.
type measured struct {
	got, open  map[string][]float64
	notes      map[string]string // by tool, "tool open" for the open loop
	figs       []goFigure
	figResults []goResult

	rounds, conns int
	dur           time.Duration
	pinned        bool
}

func (m *measured) writeTable(w io.Writer) {
	pin := "server on CPU 0, each tool on CPU 1 (taskset)"
	if !m.pinned {
		pin = "unpinned (taskset missing or one CPU)"
	}
	fmt.Fprintf(w, "# Load generators side by side\n\nNon-streaming POST /v1/completions to an instant server, %d connections (closed loop) or %d req/s constant arrivals (open loop), %s per run, median of %d rounds; %s; %s/%s, %d CPUs, %s.\n\n",
		m.conns, openRate, m.dur, m.rounds, pin, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintln(w, "| tool | closed loop req/s (median) | rounds | open loop sent req/s (median) | rounds |")
	fmt.Fprintln(w, "|---|---:|---|---:|---|")
	for _, name := range peers {
		c, cr := m.cell(m.got[name], m.notes[name])
		o, or := "—", "no open loop run"
		if name == "benchrun" || name == "vegeta" {
			o, or = m.cell(m.open[name], m.notes[name+" open"])
			if strings.HasPrefix(m.notes[name], "not installed") {
				or = m.notes[name]
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, c, cr, o, or)
	}
	fmt.Fprintln(w, "\n| figure | goal | measured | ratio | verdict |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|")
	m.peerRows(w)
	m.openRows(w)
	for i, f := range m.figs {
		r := m.figResults[i]
		if r.err != nil {
			fmt.Fprintf(w, "| %s | %s | — | — | not measured: %s |\n", f.figure, f.goalText(), cellText(firstLine(r.err.Error())))
			continue
		}
		ratio, verdict := f.verdict(r.value)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", f.figure, f.goalText(), formatFigure(r.value, f.unit), ratioText(ratio), verdict)
	}
}

// cell is a tool's median and its rounds, or a dash and why.
func (m *measured) cell(xs []float64, note string) (med, rounds string) {
	if len(xs) < m.rounds {
		return "—", cellText(orDefault(note, fmt.Sprintf("%d of %d rounds", len(xs), m.rounds)))
	}
	return strconv.FormatFloat(median(xs), 'f', 0, 64), roundsText(xs)
}

func (m *measured) peerRows(w io.Writer) {
	b := m.got["benchrun"]
	for _, g := range goals {
		p := m.got[g.peer]
		figure := "closed-loop req/s, benchrun ÷ " + g.peer
		goal := "— (information)"
		if g.min > 0 {
			goal = fmt.Sprintf("≥ %.1f×", g.min)
		}
		if len(b) < m.rounds || len(p) < m.rounds {
			why := orDefault(m.notes[g.peer], m.notes["benchrun"])
			fmt.Fprintf(w, "| %s | %s | — | — | not measured%s |\n", figure, goal, prefixed(": ", cellText(why)))
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

// openRows: the share of the offered rate benchrun sent (goal openGoal),
// and vegeta's for comparison.
func (m *measured) openRows(w io.Writer) {
	for _, name := range []string{"benchrun", "vegeta"} {
		figure := fmt.Sprintf("open loop %d req/s: sent ÷ offered, %s", openRate, name)
		goal := fmt.Sprintf("≥ %.2f", openGoal)
		if name != "benchrun" {
			goal = "— (information)"
		}
		xs := m.open[name]
		if len(xs) < m.rounds {
			why := orDefault(m.notes[name+" open"], m.notes[name])
			fmt.Fprintf(w, "| %s | %s | — | — | not measured%s |\n", figure, goal, prefixed(": ", cellText(why)))
			continue
		}
		share := median(xs) / openRate
		verdict := "info"
		if name == "benchrun" {
			verdict = "ok"
			if share < openGoal {
				verdict = fmt.Sprintf("short (%.0f%% of goal)", 100*share/openGoal)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %.0f req/s | %.3f | %s |\n", figure, goal, median(xs), share, verdict)
	}
}

func ratioText(r float64) string {
	switch {
	case math.IsNaN(r):
		return "—"
	case math.IsInf(r, 1):
		return "∞"
	}
	return fmt.Sprintf("%.2f×", r)
}

// cellText keeps a note inside its table cell.
func cellText(s string) string {
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		n := 160
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
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
