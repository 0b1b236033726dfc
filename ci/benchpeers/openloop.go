package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// openRate is the open-loop figure's offered rate (issue 18: achieved
// within 1% at 20,000 req/s).
const openRate = 20_000

// openGoal is the least share of the offered rate benchrun must send.
const openGoal = 0.99

// openConns bounds the open loop's connections (benchrun's
// max_concurrency, vegeta's -max-connections), as the closed loop's are:
// without a bound a generator that falls behind opens a connection for
// every late request, and the dial storm that follows exhausts the local
// ports for every later measurement of the run.
const openConns = 1000

// runBenchrunOpen runs an open-loop benchmark at rate requests/s, constant
// arrivals, at most openConns in flight, and returns the rate benchrun
// actually sent at: the measured (not warm-up) requests it sent over the
// span of their send times, from the samples file. An operation still
// waiting for a slot when the case ended was never sent and does not
// count; any other failure makes the run a failure, not a rate. The
// suite's own verdict (a saturation label, the unfinished operations in
// the error rate) is not this figure's: exit codes 1 and 2 with a samples
// file are read; a crash or an invalid suite is an error.
func runBenchrunOpen(ctx context.Context, e *benchEnv, rate int) (float64, error) {
	workload := fmt.Sprintf("mode = \"open\"\n  arrival = \"constant\"\n  rate = %d\n  max_concurrency = %d\n  warmup = \"500ms\"\n  drain = \"2s\"", rate, openConns)
	dir, out, err := benchrunSuiteExit(ctx, e, workload, 1, 2)
	if err != nil {
		return 0, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "results", "samples", "*.jsonl"))
	if err != nil || len(files) != 1 {
		return 0, fmt.Errorf("benchrun open loop: %d samples files (%v)\n%s", len(files), err, tail([]byte(out)))
	}
	return sentRate(files[0])
}

// sentRate is the send rate of a samples file's measured requests. An
// unfinished operation that was never sent (Sent 0) is not counted; any
// other failure is an error.
func sentRate(path string) (float64, error) {
	var n, failed int
	var first, last time.Duration = -1, 0
	var why string
	in, err := results.ScanSampleFile(path, func(s *results.Sample) error {
		switch {
		case s.Warmup, s.Error == results.ErrUnfinished && s.Sent == 0:
			return nil
		case !s.OK() && s.Error != results.ErrUnfinished:
			failed++
			why = s.Error + ": " + s.ErrorDetail
			return nil
		}
		if first < 0 || s.Sent < first {
			first = s.Sent
		}
		last = max(last, s.Sent)
		n++
		return nil
	})
	switch {
	case err != nil:
		return 0, err
	case in.BadCount > 0 || in.TornLine > 0:
		return 0, fmt.Errorf("%s: damaged samples file", path)
	case failed > 0:
		return 0, fmt.Errorf("%d of %d requests failed (%s)", failed, failed+n, why)
	case n < 2 || last <= first:
		return 0, errors.New("fewer than two requests sent")
	}
	return float64(n-1) / (last - first).Seconds(), nil
}

var vegetaAttackRate = regexp.MustCompile(`Requests\s+\[total, rate, throughput\]\s+\d+, ([0-9.]+), [0-9.]+`)

// runVegetaOpen has vegeta attack at rate requests/s and returns the rate
// it sent at (its report's "rate"); anything short of 100% success is a
// failure.
func runVegetaOpen(ctx context.Context, e *benchEnv, offered int) (float64, error) {
	body := filepath.Join(e.dir, "body.json")
	target := fmt.Sprintf("POST %s/v1/completions\nContent-Type: application/json\n@%s\n", e.url, body)
	if err := os.WriteFile(body, []byte(requestBody), 0o644); err != nil {
		return 0, err
	}
	cmd := e.command(ctx, "sh", "-c", "vegeta attack -rate="+strconv.Itoa(offered)+" -max-connections="+strconv.Itoa(openConns)+
		" -duration="+e.dur.String()+" | vegeta report")
	cmd.Stdin = strings.NewReader(target)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("vegeta: %v\n%s", err, tail(out))
	}
	if !vegetaOK.Match(out) {
		return 0, fmt.Errorf("vegeta: not every request succeeded:\n%s", tail(out))
	}
	return rate(string(out), vegetaAttackRate)
}
