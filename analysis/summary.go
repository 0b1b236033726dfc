package analysis

// This file holds the contract of summary.json (docs/results-format.md):
// analysis fills Metrics and Warnings, thresholds and package baselines fill
// Checks, and the verdicts follow from the checks.

// SummaryVersion is the version of the summary.json format.
const SummaryVersion = 1

// Verdicts of a check, a case and a run.
const (
	Pass         = "pass"
	Fail         = "fail"         // a threshold or regression check failed
	Error        = "error"        // execution error: the case could not be measured
	Skipped      = "skipped"      // the case did not run (interrupted, time limit)
	Regression   = "regression"   // a significant change beyond tolerance, for the worse
	Improvement  = "improvement"  // a significant change beyond tolerance, for the better
	Inconclusive = "inconclusive" // the change is within noise ("~")
	NoBaseline   = "no_baseline"
	Incomparable = "incomparable" // fingerprint differs from the baseline's
)

// CheckKind says what a Check compares: a threshold of the suite, or a
// baseline.
type CheckKind string

// Check kinds.
const (
	CheckThreshold  CheckKind = "threshold"  // a threshold expression of the benchmark
	CheckRegression CheckKind = "regression" // a statistic against its baseline (package baselines)
)

// Metric kinds.
const (
	KindDistribution = "distribution" // Count, Mean, ..., P999 are set
	KindRate         = "rate"         // Value is set (per second, or a ratio such as error_rate)
)

// Metric is one metric of one case, in base units (seconds, tokens, bytes).
// Its JSON form has {unit, count, mean, stddev, min, max, p50, p90, p95,
// p99, p999, ci} for distributions and {unit, value} for rates.
type Metric struct {
	Kind string `json:"kind"`
	Unit string `json:"unit"`
	// Better is the direction the case declared for the metric
	// (results.MetricSpec): "higher" or "lower"; "" means the rule by name
	// (LowerIsBetter).
	Better string  `json:"better,omitempty"`
	Count  int     `json:"count"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p999"`
	// CI holds a distribution-free 95% confidence interval per percentile
	// ("p50" → [lo, hi]); absent when there are too few samples.
	CI    map[string][2]float64 `json:"ci,omitempty"`
	Value float64               `json:"value"`
	// Reps holds the metric's headline statistic for each repetition, for
	// the significance test against a baseline (see package baselines).
	Reps []float64 `json:"reps,omitempty"`
}

// Check is one threshold or regression check of one case.
type Check struct {
	Name      string    `json:"name"` // the threshold expression, or "metric.stat" for a regression check
	Kind      CheckKind `json:"kind"`
	Metric    string    `json:"metric"` // e.g. "ttft"
	Stat      string    `json:"stat"`   // e.g. "p95", "value"
	Verdict   string    `json:"verdict"`
	Value     float64   `json:"value"`
	Unit      string    `json:"unit"`
	Limit     float64   `json:"limit,omitempty"`     // thresholds
	Op        string    `json:"op,omitempty"`        // thresholds: <, <=, >, >=, ==
	Baseline  float64   `json:"baseline,omitempty"`  // regression
	Delta     float64   `json:"delta,omitempty"`     // regression: relative change (0.1 = +10%)
	Tolerance float64   `json:"tolerance,omitempty"` // regression: allowed relative change
	PValue    float64   `json:"p_value,omitempty"`   // regression: significance test
	// Count and BaseCount are the samples behind the statistic in this
	// run and in the baseline (regression; 0 when not known).
	Count     int    `json:"count,omitempty"`
	BaseCount int    `json:"base_count,omitempty"`
	Detail    string `json:"detail,omitempty"` // why: e.g. which fingerprint field differs
}

// Case is the summary of one case (one point of a benchmark's sweep).
type Case struct {
	ID          string            `json:"id"`        // stable, e.g. "chat/users=8,prompt_tokens=512"
	Benchmark   string            `json:"benchmark"` // benchmark name from the suite
	Kind        string            `json:"kind"`      // benchmark kind: "llm", "chroma", "io500", ...
	Params      map[string]string `json:"params"`    // swept parameters and their values
	Verdict     string            `json:"verdict"`   // pass, fail, error or skipped
	Repetitions int               `json:"repetitions"`
	Start       string            `json:"start,omitempty"` // RFC 3339 UTC
	End         string            `json:"end,omitempty"`
	Seconds     float64           `json:"seconds"` // measured window length
	Metrics     map[string]Metric `json:"metrics"`
	Checks      []Check           `json:"checks"`
	Warnings    []string          `json:"warnings,omitempty"` // footnotes, not failures
	// Labels are saturation findings with their evidence (saturated,
	// backpressure, client_lag); what each does to the verdict is its
	// Effect, from the suite.
	Labels []Label `json:"labels,omitempty"`
	// Telemetry holds what the case's telemetry series (a service's
	// /metrics) show: server-side latencies beside the client's,
	// the server's queue and cache; nil without telemetry.
	Telemetry *Telemetry `json:"telemetry,omitempty"`
	// Frontier is the SLO frontier of a capacity search, on its
	// capacity case only (CapacityCase).
	Frontier *Frontier `json:"frontier,omitempty"`
	// Trends are the case's key statistics over the latest runs of its
	// suite's history (AddTrend); absent without a history.
	Trends      []HistoryTrend    `json:"trends,omitempty"`
	Errors      []string          `json:"errors,omitempty"` // execution errors
	Fingerprint map[string]string `json:"fingerprint,omitempty"`
	// BaselineCDFs are the baseline's distributions of the case's
	// CDFMetrics, by metric, for the report's CDF charts; set by package
	// baselines only when the baseline is comparable (absent otherwise).
	BaselineCDFs map[string]*BaselineCDF `json:"baseline_cdfs,omitempty"`
}

// Summary is the content of summary.json.
type Summary struct {
	Version    int    `json:"version"`
	Suite      string `json:"suite"`
	Verdict    string `json:"verdict"` // pass, fail or error
	Incomplete bool   `json:"incomplete,omitempty"`
	// Baseline says what the run was compared with; nil when it was not
	// compared (no baselines directory, or a summary made before).
	Baseline *BaselineSource `json:"baseline,omitempty"`
	Cases    []Case          `json:"cases"`
	// Knees are the knees of the run's swept benchmarks (Knees): where
	// added load stopped adding throughput; absent when none has one.
	Knees []Knee `json:"knees,omitempty"`
	// GPUs are the GPUs the cases' telemetry saw (GPUInventories): the
	// service nodes' models and drivers; absent without GPU telemetry.
	GPUs []GPUInventory `json:"gpus,omitempty"`
	// ServiceGPUs are the GPUs nvidia-smi inside each service's SLURM
	// step listed (StepGPUInventories); absent outside such steps.
	ServiceGPUs []ServiceGPUs `json:"service_gpus,omitempty"`
}

// BaselineSource is the provenance of what a run was compared with: a
// baseline file (File, with the newest promotion among the entries used)
// or another results directory (Run). Package baselines fills it.
type BaselineSource struct {
	File     string `json:"file,omitempty"` // the baseline file
	Run      string `json:"run,omitempty"`  // the results directory compared with (compare BASE DIR)
	Found    bool   `json:"found"`          // the baseline holds entries; false: none promoted yet
	Entries  int    `json:"entries"`        // entries used in the comparison
	Promoted string `json:"promoted,omitempty"`
	// The promoted run's start, benchrun commit, SLURM job, CI job URL,
	// CI commit and ref, as the entry records them.
	RunStart       string `json:"run_start,omitempty"`
	BenchrunCommit string `json:"benchrun_commit,omitempty"`
	SlurmJob       string `json:"slurm_job,omitempty"`
	CIJobURL       string `json:"ci_job_url,omitempty"`
	CommitSHA      string `json:"commit_sha,omitempty"`
	Ref            string `json:"ref,omitempty"`
}
