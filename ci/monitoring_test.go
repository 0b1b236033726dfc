package ci

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/suites"
)

// needBinary returns the path of a Debian package's binary the monitoring
// tests start; without it the test is skipped loudly, or fails under
// CI=true (.ci/deps.sh installs it).
func needBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not installed (Debian package %s; .ci/deps.sh installs it)", name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s", msg)
	}
	t.Logf("!!! SKIPPED: %s", msg)
	t.Skip(msg)
	return ""
}

// startDaemon starts argv on a free loopback port (the argument "PORT" in
// argv is replaced by it), waits until url+ready answers 200, and stops
// it when the test ends. It returns http://127.0.0.1:port.
func startDaemon(t *testing.T, ready string, argv ...string) string {
	t.Helper()
	port, err := suites.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := range argv {
		argv[i] = strings.ReplaceAll(argv[i], "PORT", fmt.Sprint(port))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	log, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(argv[0])+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); log.Close() })
	url := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("%s not ready at %s: %v\n%s", argv[0], url+ready, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get returns the body of url, "" when it does not answer 200.
func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return ""
	}
	return string(b)
}

// grepLines returns the lines of text that contain every one of parts.
func grepLines(text string, parts ...string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
next:
	for sc.Scan() {
		for _, p := range parts {
			if !strings.Contains(sc.Text(), p) {
				continue next
			}
		}
		out = append(out, sc.Text())
	}
	return out
}

// TestLiveMetricsAndPushgateway: during a run benchrun serves its live
// metrics; when it ends, the real Pushgateway (Debian's) exposes each
// case's summary and the run's status, grouped by suite, case and job id.
func TestLiveMetricsAndPushgateway(t *testing.T) {
	t.Parallel()
	pg := needBinary(t, "prometheus-pushgateway", "prometheus-pushgateway")
	gw := startDaemon(t, "/-/ready", pg, "--web.listen-address=127.0.0.1:PORT")
	livePort, err := suites.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	suite := monitoredSuite(t, work, "", fmt.Sprintf("pushgateway = %q\nlisten = \"127.0.0.1:%d\"", gw, livePort))
	out := filepath.Join(work, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benchrunBinary(t), "suite", suite, "-o", out, "--quiet")
	cmd.Dir, cmd.Env = work, binEnv("CI_JOB_ID=4711")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Poll the live endpoint while the run goes.
	liveURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", livePort)
	var live string
	for i := 0; i < 300 && cmd.ProcessState == nil; i++ {
		if body := get(liveURL); len(grepLines(body, `benchrun_requests_total{case="chat/users=4",outcome="ok",suite="demo"}`)) > 0 {
			live = body
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("benchrun suite: %v\n%s", err, stderr.String())
	}
	if live == "" {
		t.Fatal("the live /metrics never showed a completed request during the run")
	}
	for _, family := range []string{"benchrun_request_duration_seconds_bucket", "benchrun_time_to_first_token_seconds_count",
		"benchrun_generator_lag_seconds_count", `benchrun_tokens_total{case="chat/users=4",direction="output"`, "benchrun_requests_in_flight", `benchrun_case_running{case="chat/users=4"`} {
		if len(grepLines(live, family)) == 0 {
			t.Errorf("live metrics lack %s", family)
		}
	}
	if get(liveURL) != "" {
		t.Error("the live endpoint still answers after the run")
	}
	pushed := get(gw + "/metrics")
	for _, want := range [][]string{
		{"benchrun_ttft_seconds{", `case="chat/users=4"`, `job="benchrun"`, `job_id="4711"`, `stat="p95"`, `suite="demo"`},
		{"benchrun_case_verdict{", `case="chat/users=16"`, `verdict="pass"`, `job_id="4711"`},
		{"benchrun_client_overhead_seconds{", `case="chat/users=16"`, `metric="ttft"`},
		{"benchrun_run_verdict{", `verdict="pass"`, `job_id="4711"`, `suite="demo"`, "} 1"},
		{"benchrun_run_exit_code{", `job_id="4711"`, "} 0"},
		{"benchrun_run_cases{", `verdict="pass"`, "} 2"},
	} {
		if len(grepLines(pushed, want...)) == 0 {
			t.Errorf("the pushgateway's /metrics has no line with %q", want)
		}
	}
}

// TestPushgatewayUnreachableWarns: a Pushgateway that does not answer is
// a warning; the run's verdict and exit code stand.
func TestPushgatewayUnreachableWarns(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	suite := monitoredSuite(t, work, "", `pushgateway = "http://127.0.0.1:1"`)
	r := runBin(t, work, binEnv(), "suite", suite, "-o", filepath.Join(work, "out"))
	if r.code != 0 || !strings.Contains(r.stderr, "pushgateway: run status not pushed") {
		t.Fatalf("exit %d, want 0 with a warning\n%v", r.code, r)
	}
}
