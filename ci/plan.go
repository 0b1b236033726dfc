package ci

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/suites"
)

func planCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "dry run: print the services, the expanded cases in order and the job script",
		ArgsUsage: "FILE",
		Description: "Nothing is started. With a [slurm] section the job script that `benchrun suite`\n" +
			"would submit is printed too.\n\n" +
			"Example:\n   benchrun plan examples/demo.toml",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("plan: name exactly one suite file"), ExitUsage)
			}
			s, err := loadSuite(stderr, c.Args().First())
			if err != nil {
				return err
			}
			return writePlan(stdout, s)
		},
	}
}

// writePlan prints what a run of s would do, deterministically.
func writePlan(w io.Writer, s *suites.Suite) error {
	fmt.Fprintf(w, "suite %s (%s, sha256 %s)\n", s.Suite.Name, s.File, s.SHA256[:12])
	if s.Suite.Description != "" {
		fmt.Fprintf(w, "  %s\n", s.Suite.Description)
	}
	fmt.Fprintf(w, "\nservices:\n")
	for i := range s.Services {
		sv := &s.Services[i]
		if !usedService(s, sv.Name) {
			fmt.Fprintf(w, "  %s (%s): not used by any benchmark, not started\n", sv.Name, sv.Kind)
			continue
		}
		rs := sv.RunnerService(suites.ServiceOptions{Exe: "benchrun"})
		if rs.External {
			fmt.Fprintf(w, "  %s (%s): existing endpoint %s, probed, never started or stopped\n", sv.Name, sv.Kind, rs.URL)
		} else {
			fmt.Fprintf(w, "  %s (%s): start %s\n", sv.Name, sv.Kind, shellJoin(rs.Command))
			for _, kv := range rs.Env {
				k, _, _ := strings.Cut(kv, "=")
				fmt.Fprintf(w, "      env %s\n", k)
			}
		}
		fmt.Fprintf(w, "      ready when GET %s answers 200, within %s\n", rs.Probe.URL, rs.Probe.Timeout)
	}
	cases := s.Cases()
	fmt.Fprintf(w, "\ncases (%d, run in this order):\n", len(cases))
	for i, cs := range cases {
		b := cs.Benchmark
		target := b.Service
		if isBatch(cs) {
			target = "a command"
		}
		fmt.Fprintf(w, "  %d. %s  [%s → %s", i+1, cs.ID, b.Kind, target)
		if b.Repetitions > 1 {
			fmt.Fprintf(w, ", %d repetitions", b.Repetitions)
		}
		fmt.Fprintf(w, "]\n")
		if wl, ok := cs.Workload.(*suites.LLMWorkload); ok {
			ds := cs.Dataset.(*suites.LLMDataset)
			fmt.Fprintf(w, "      %s\n", describeLoad(wl))
			fmt.Fprintf(w, "      %s %s, stream=%t, max_tokens=%d; dataset %s\n", wl.API, modelOf(wl), wl.Stream, wl.MaxTokens, describeDataset(ds))
		}
		for _, line := range describeBatch(s, cs) {
			fmt.Fprintf(w, "      %s\n", line)
		}
		if len(b.Thresholds) > 0 {
			fmt.Fprintf(w, "      thresholds: %s\n", strings.Join(b.Thresholds, "; "))
		}
	}
	if s.Slurm != nil {
		script, err := jobScript(s)
		if err != nil {
			return withExitCode(fmt.Errorf("%s: job script: %w", s.File, err), ExitUsage)
		}
		fmt.Fprintf(w, "\njob script (sbatch):\n%s", script)
		if s.Slurm.Placed() {
			if err := writePlacedSteps(w, s); err != nil {
				return withExitCode(fmt.Errorf("%s: job steps: %w", s.File, err), ExitUsage)
			}
		}
		if s.Slurm.Monitor != nil {
			return writeMonitorPlan(w, s)
		}
	}
	return nil
}

func modelOf(w *suites.LLMWorkload) string {
	if w.Model == "" {
		return "model=auto"
	}
	return "model=" + w.Model
}

func describeLoad(w *suites.LLMWorkload) string {
	var parts []string
	if w.Mode == "open" {
		parts = append(parts, fmt.Sprintf("open loop %g req/s %s", w.Rate, w.Arrival))
		if w.Arrival == "gamma" {
			parts = append(parts, fmt.Sprintf("burstiness %g", w.Burstiness))
		}
		if w.MaxConcurrency > 0 {
			parts = append(parts, fmt.Sprintf("max %d in flight", w.MaxConcurrency))
		}
		if w.RampUp > 0 {
			parts = append(parts, "ramp-up "+w.RampUp.D().String())
		}
	} else {
		parts = append(parts, fmt.Sprintf("closed loop %d users", w.Users))
		if w.ThinkTime > 0 {
			parts = append(parts, fmt.Sprintf("think %s %s", w.ThinkTime.D(), w.ThinkDist))
		}
	}
	if w.Duration > 0 {
		parts = append(parts, "for "+w.Duration.D().String())
	}
	if w.Requests > 0 {
		parts = append(parts, fmt.Sprintf("up to %d requests", w.Requests))
	}
	if w.Warmup > 0 {
		parts = append(parts, "warm-up "+w.Warmup.D().String())
	}
	if w.WarmupRequests > 0 {
		parts = append(parts, fmt.Sprintf("warm-up %d requests", w.WarmupRequests))
	}
	parts = append(parts, fmt.Sprintf("seed %d", w.Seed))
	return strings.Join(parts, ", ")
}

func describeDataset(d *suites.LLMDataset) string {
	if d.Kind != "synthetic" {
		return fmt.Sprintf("%s %s", d.Kind, d.Path)
	}
	return fmt.Sprintf("synthetic prompts %d tokens (%s), outputs %d tokens (%s)", d.PromptTokens, d.PromptDist, d.OutputTokens, d.OutputDist)
}

// shellJoin renders argv for reading; it is not used to run anything.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\;|&<>()*?[]{}!#~") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			out[i] = a
		}
	}
	return strings.Join(out, " ")
}
