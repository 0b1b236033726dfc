package results

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ResultsVersion is the version of the results directory layout
// (docs/results-format.md).
const ResultsVersion = 1

// Paths inside a results directory.
const (
	ManifestFile = "manifest.json"
	SummaryFile  = "summary.json"
	SamplesDir   = "samples"
	LogsDir      = "logs"
)

// Manifest describes one run: what ran, where, with what. It is written at
// the start of a run and rewritten as cases finish, so a killed run still
// has one.
type Manifest struct {
	Version         int               `json:"version"`
	Suite           string            `json:"suite"`
	Description     string            `json:"description,omitempty"` // the suite's [suite] description
	SuiteFile       string            `json:"suite_file"`
	SuiteSHA256     string            `json:"suite_sha256"`
	BenchrunVersion string            `json:"benchrun_version"`
	BenchrunCommit  string            `json:"benchrun_commit,omitempty"`
	Host            string            `json:"host"`
	Start           time.Time         `json:"start"`
	End             time.Time         `json:"end,omitzero"`
	Incomplete      bool              `json:"incomplete,omitempty"`
	Reason          string            `json:"reason,omitempty"` // why incomplete: Interrupted, "SLURM job TIMEOUT", ...
	Slurm           *SlurmInfo        `json:"slurm,omitempty"`
	CI              *CIInfo           `json:"ci,omitempty"` // the CI job the run was made in; nil outside CI
	Fingerprint     map[string]string `json:"fingerprint"`
	Services        []ServiceInfo     `json:"services,omitempty"`
	// Environment is what benchrun found out about the node it ran on:
	// cpu, cpus, arch, kernel, gpu and gpu_driver (nvidia-smi), when known.
	Environment map[string]string `json:"environment,omitempty"`
	Cases       []CaseInfo        `json:"cases"`
}

// CIInfo is the CI job a run was made in, from the CI system's
// environment (GitLab: CI_PIPELINE_ID, CI_JOB_ID, CI_JOB_URL,
// CI_PIPELINE_URL, CI_COMMIT_SHA, CI_COMMIT_REF_NAME).
type CIInfo struct {
	System      string `json:"system"` // "gitlab"
	PipelineID  string `json:"pipeline_id,omitempty"`
	PipelineURL string `json:"pipeline_url,omitempty"`
	JobID       string `json:"job_id,omitempty"`
	JobURL      string `json:"job_url,omitempty"`
	CommitSHA   string `json:"commit_sha,omitempty"`
	Ref         string `json:"ref,omitempty"`
}

// Unfinished says why a manifest that does not say it is incomplete was
// nevertheless left unfinished, or "" when it was not: the run's process
// was killed (SIGKILL, a lost node, a job script cut short) before it
// could end the run, so the manifest has no end time or still has a case
// pending or running. Readers that judge a run (analysis, reports,
// promote) treat such a run as incomplete; see Settle.
func (m *Manifest) Unfinished() string {
	if m.Incomplete {
		return ""
	}
	for _, c := range m.Cases {
		if c.Status == StatusRunning || c.Status == StatusPending {
			return fmt.Sprintf("unfinished: case %s is still %s (the run was killed or is still going)", c.ID, c.Status)
		}
	}
	if m.End.IsZero() {
		return "unfinished: no end time (the run was killed or is still going)"
	}
	return ""
}

// Settle marks an unfinished manifest (see Unfinished) incomplete, in
// memory, and reports whether it did.
func (m *Manifest) Settle() bool {
	why := m.Unfinished()
	if why == "" {
		return false
	}
	m.Incomplete, m.Reason = true, why
	return true
}

// SlurmInfo records the allocation a run used.
type SlurmInfo struct {
	JobID     string   `json:"job_id"`
	Nodes     []string `json:"nodes"`
	Partition string   `json:"partition,omitempty"`
	State     string   `json:"state,omitempty"` // final job state seen by the submit side
}

// ServiceInfo records one service as it ran.
type ServiceInfo struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	URL      string `json:"url"`
	External bool   `json:"external,omitempty"` // given by url: probed, never started
	Node     string `json:"node,omitempty"`
	Log      string `json:"log,omitempty"` // relative to the results directory
	Version  string `json:"version,omitempty"`
	// GPUs are the devices the service's step saw in CUDA_VISIBLE_DEVICES,
	// checked against the placement (SLURM with [slurm.services]).
	GPUs string `json:"gpus,omitempty"`
	// StepGPUs are those GPUs' model and driver as nvidia-smi inside the
	// service's step listed them (SLURM with [slurm.services]); nil when
	// the step did not look (an older benchrun, no binding record).
	StepGPUs *StepGPUs `json:"step_gpus,omitempty"`
	// Pre are its pre steps (model staging), run before it started.
	Pre []PreStep `json:"pre,omitempty"`
}

// StepGPUs is what nvidia-smi in a service's step said of the step's GPUs:
// the devices, or why they are unknown (nvidia-smi absent, failed or timed
// out, output it could not read exactly; Devices is then empty).
type StepGPUs struct {
	Devices []GPUDevice `json:"devices,omitempty"`
	Unknown string      `json:"unknown,omitempty"`
}

// GPUDevice is one GPU as nvidia-smi lists it (index as the step numbers
// it, model name, driver version, total memory in bytes; 0 when unknown).
type GPUDevice struct {
	Index       int    `json:"index"`
	Model       string `json:"model"`
	Driver      string `json:"driver"`
	MemoryBytes int64  `json:"memory_bytes,omitempty"`
}

// PreStep is one pre step of a service and how long it took.
type PreStep struct {
	Command string  `json:"command"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// Status is where a case is in its run (manifest.json's cases[].status).
type Status string

// Case statuses. A case starts pending and moves to running, then done or
// error; a case the run never reached ends skipped (the run was stopped)
// or error (its services did not start).
const (
	StatusPending Status = "pending"
	StatusRunning Status = "running"
	StatusDone    Status = "done"
	StatusError   Status = "error"
	StatusSkipped Status = "skipped"
)

// Interrupted is the Manifest.Reason of a run the user stopped (SIGINT,
// SIGTERM), and the CaseInfo.Error of the case it cut short (status done:
// its samples so far count).
const Interrupted = "interrupted"

// CaseInfo records one case as it ran.
type CaseInfo struct {
	ID          string            `json:"id"`
	Benchmark   string            `json:"benchmark"`
	Kind        string            `json:"kind"`
	Params      map[string]string `json:"params,omitempty"`
	Samples     string            `json:"samples"` // relative path of the JSONL file
	Status      Status            `json:"status"`
	Error       string            `json:"error,omitempty"`
	Start       time.Time         `json:"start,omitzero"` // wall clock of offset zero in the samples
	End         time.Time         `json:"end,omitzero"`
	Repetitions int               `json:"repetitions"`
	DatasetHash string            `json:"dataset_sha256,omitempty"`
	Load        *Load             `json:"load,omitempty"`
	// Settings holds what analysis needs to know about the case beyond
	// its samples (SLO targets for goodput, ...), as strings.
	Settings map[string]string `json:"settings,omitempty"`
	// Metrics declares the unit and direction of the case's own metrics
	// (Sample.Values keys a driver or an output parser records: recall,
	// vectors/s, an IO500 phase), by metric name. Analysis uses them
	// instead of its rules by name; metrics not listed keep those rules.
	Metrics map[string]MetricSpec `json:"metrics,omitempty"`
	// Warnings are what the executor found wrong with the case that its
	// metrics do not say (an IO500 run that is invalid by IO500's rules),
	// one sentence each; analysis shows them in every output.
	Warnings []string `json:"warnings,omitempty"`
	// SampleCounts records how many samples were written to each samples
	// file of the case, by file name (the base name: the case's one file,
	// or each worker's file in its samples directory), once the writer
	// closed it. Readers check the files against it (a file cut short at
	// a line boundary looks whole otherwise). A file without a count — the
	// writing process was killed, or an older benchrun wrote it — is read
	// as it is.
	SampleCounts map[string]int64 `json:"sample_counts,omitempty"`
	// Telemetry lists the series recorded for the case (a service's
	// metrics endpoint scraped during it),
	// one file per source, each added once its file is closed.
	Telemetry []TelemetryFile `json:"telemetry,omitempty"`
}

// RecordSamples records that n samples were written to the samples file
// at path (only its base name is kept; see SampleCounts).
func (c *CaseInfo) RecordSamples(path string, n int64) {
	if c.SampleCounts == nil {
		c.SampleCounts = map[string]int64{}
	}
	c.SampleCounts[filepath.Base(path)] = n
}

// RecordedSamples returns the count recorded for the samples file at
// path, and whether there is one.
func (c *CaseInfo) RecordedSamples(path string) (int64, bool) {
	n, ok := c.SampleCounts[filepath.Base(path)]
	return n, ok
}

// CaseFileName maps a case id such as "chat/users=8,prompt_tokens=512" to a
// file name: characters outside [A-Za-z0-9._=,+-] become %XX, so the mapping
// is reversible and distinct ids give distinct names.
func CaseFileName(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.' && i > 0, c == '_', c == '=', c == ',', c == '+', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// SamplePath returns the samples file of a case, relative to the results directory.
func SamplePath(id string) string {
	return filepath.Join(SamplesDir, CaseFileName(id)+".jsonl")
}

// WriteJSONAtomic writes v as indented JSON to path via a temporary file and
// a rename, so readers never see a half-written file.
func WriteJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteFileAtomic writes path through a temporary file in the same
// directory, synced, and a rename, so readers (and a machine that
// crashed) see the old file or the whole new one, never a part. write produces the content; on its error nothing is
// replaced.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	// On disk before the rename, so a crash leaves the old file or the
	// whole new one, never an empty one.
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir syncs a directory so a rename in it is on disk. It is best
// effort: some file systems cannot sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ReadManifest reads DIR/manifest.json (DecodeManifest).
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := DecodeManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// DecodeManifest decodes the content of a manifest.json. Besides JSON
// errors it refuses what no benchrun writes and readers must not trust: a
// case status that is not a Status, or a negative sample count.
func DecodeManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for i, c := range m.Cases {
		switch c.Status {
		case StatusPending, StatusRunning, StatusDone, StatusError, StatusSkipped:
		default:
			return nil, fmt.Errorf("cases[%d] (%s): unknown status %q", i, c.ID, c.Status)
		}
		for j, t := range c.Telemetry {
			if t.Points < 0 || t.Path == "" || filepath.IsAbs(t.Path) || strings.HasPrefix(filepath.Clean(t.Path), "..") {
				return nil, fmt.Errorf("cases[%d] (%s): telemetry[%d]: path %q, %d points: not a telemetry file of this directory", i, c.ID, j, t.Path, t.Points)
			}
		}
		for f, n := range c.SampleCounts {
			if n < 0 {
				return nil, fmt.Errorf("cases[%d] (%s): sample_counts[%q] = %d: negative", i, c.ID, f, n)
			}
		}
	}
	return &m, nil
}

// Settings of an io500 case (CaseInfo.Settings) that reports read: the
// phases in run order and those in the standard score, by io500's names
// ("ior-easy-write"), comma-separated. A phase's metrics are its name with
// '-' as '_', lower case, and that name + "_time" and + "_valid".
const (
	SettingIO500Phases = "io500_phases"
	SettingIO500Scored = "io500_scored"
)

// SettingSamples (CaseInfo.Settings) says what one sample of the case
// is: SamplesRuns for a batch benchmark (one sample per run of its
// command); absent for request loops (one sample per request). Analysis
// then leaves out the footnote on too few operations for tail
// percentiles, which is about request latencies.
const (
	SettingSamples = "samples"
	SamplesRuns    = "runs"
)

// MetricSpec is the unit and direction of one metric (CaseInfo.Metrics).
type MetricSpec struct {
	// Unit is one of analysis's units: "s", "bytes", "bytes/s", "ops/s",
	// "ratio", "tokens", "requests/s", "tokens/s", or "" for a plain number.
	// Values are in that base unit (seconds, bytes, not ms or GiB).
	Unit string `json:"unit"`
	// Better is "higher" or "lower": which way a change is an improvement.
	Better string `json:"better"`
}

// Directions of MetricSpec.Better.
const (
	HigherIsBetter = "higher"
	LowerIsBetter  = "lower"
)
