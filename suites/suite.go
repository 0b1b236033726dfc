package suites

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/slurm"
)

// SchemaVersion is the suite format version this benchrun writes and reads.
const SchemaVersion = 1

// Suite is a loaded, validated suite file.
type Suite struct {
	SchemaVersion int           `toml:"schema_version" doc:"Version of the suite format; 1 is current. Omitted means current."`
	Suite         Meta          `toml:"suite" doc:"What the suite is and where its results and baselines go."`
	Services      []Service     `toml:"service" doc:"Services the benchmarks drive: started by benchrun, or existing endpoints given by url."`
	Benchmarks    []Benchmark   `toml:"benchmark" doc:"Benchmarks; workload or dataset keys given as arrays expand into a matrix of cases."`
	Slurm         *slurm.Config `toml:"slurm" doc:"Run the whole suite in one SLURM job (see docs/slurm.md)."`
	Monitoring    Monitoring    `toml:"monitoring" doc:"Service metrics scraped during cases, PromQL telemetry, benchrun's live metrics and Pushgateway (see docs/monitoring.md)."`

	// File is the path the suite was loaded from; SHA256 is its content hash.
	File   string `toml:"-"`
	SHA256 string `toml:"-"`

	// dir is the directory relative paths in the suite resolve against:
	// the suite file's, or for a run's copy the original's (LoadCopy).
	dir string

	pos *positions
}

// Meta is the [suite] table.
type Meta struct {
	Name        string            `toml:"name" doc:"Suite name: letters, digits, '.', '_', '-'. Names the results and baselines files."`
	Description string            `toml:"description" doc:"Free text shown in reports."`
	Output      string            `toml:"output" doc:"Results directory; default results/<name>/<UTC timestamp>. -o overrides."`
	Baselines   string            `toml:"baselines" doc:"Baselines directory kept in git; default baselines/. --baselines overrides."`
	Tolerance   *Ratio            `toml:"tolerance" doc:"Default regression tolerance, e.g. \"10%\"; 0 counts every significant change."`
	Fingerprint map[string]string `toml:"fingerprint" doc:"Extra environment fingerprint fields (partition, gpu, ...): baselines only compare runs whose fingerprints match."`
	// IgnoreFingerprint lists fingerprint fields allowed to differ from
	// the baseline's; --ignore-fingerprint adds to it.
	IgnoreFingerprint []string `toml:"ignore_fingerprint" doc:"Fingerprint fields allowed to differ from the baseline's (e.g. [\"cpu\"]): compared anyway, and the difference is shown as a warning. --ignore-fingerprint adds more."`
}

// Service is one [[service]].
type Service struct {
	Name      string            `toml:"name" doc:"Service name, referenced by benchmarks."`
	Kind      string            `toml:"kind" enum:"vllm|ollama|chroma|command|emulator" doc:"What the service is; decides its default command, readiness probe and protocol."`
	Command   []string          `toml:"command" doc:"Command to start it (argv); a string runs through sh -c. Default per kind."`
	Args      []string          `toml:"args" doc:"Extra arguments appended to the default command."`
	Image     string            `toml:"image" doc:"Container image (apptainer) when running under SLURM with a container runtime."`
	Model     string            `toml:"model" doc:"Model the service serves (vllm: passed to vllm serve)."`
	Port      int               `toml:"port" doc:"Port to listen on; 0 picks a free port."`
	URL       string            `toml:"url" doc:"An existing endpoint: benchrun probes it but never starts or stops it."`
	Env       map[string]string `toml:"env" doc:"Environment variables for the service process."`
	Readiness Readiness         `toml:"readiness" doc:"How benchrun knows the service is ready."`
	Nodes     int               `toml:"nodes" doc:"SLURM: nodes this service gets (default 1)."`
	GPUs      int               `toml:"gpus" doc:"SLURM: GPUs per node this service uses."`
	CPUs      int               `toml:"cpus" doc:"SLURM with [slurm.services]: CPUs of the service's step (--cpus-per-task)."`
	Memory    string            `toml:"memory" doc:"SLURM with [slurm.services]: memory of the service's step (--mem), such as \"64G\"."`
	Pre       []string          `toml:"pre" doc:"Commands (sh -c) run in order on the service's node, in its container, before it starts (model staging such as \"ollama pull llama3\"); their time is recorded in the manifest."`
	Emulator  EmulatorSection   `toml:"emulator" doc:"kind = \"emulator\": the emulated server's behaviour."`
	Ray       *slurm.Ray        `toml:"ray" doc:"SLURM, vllm: run one vLLM across this service's nodes with Ray (tensor and pipeline parallel sizes)."`
	// MetricsURL is the service's Prometheus endpoint (Suite.MetricsURL).
	MetricsURL string `toml:"metrics_url" doc:"Prometheus endpoint scraped during each case; default <url>/metrics for vllm and the vllm emulator, none for other kinds."`
	DataPath   string `toml:"data_path" doc:"chroma: the directory chroma run keeps its data in (--path); default data/<service> under the results directory."`
	Tenant     string `toml:"tenant" doc:"chroma: tenant the benchmarks use; default default_tenant (created when missing)."`
	Database   string `toml:"database" doc:"chroma: database the benchmarks use; default default_database (created when missing)."`
}

// Readiness is a service's readiness probe.
type Readiness struct {
	Path     string   `toml:"path" doc:"HTTP path probed until it answers 200; default per kind (/health, /api/version, /api/v2/heartbeat)."`
	Timeout  Duration `toml:"timeout" doc:"How long to wait for readiness; default 2m."`
	Interval Duration `toml:"interval" doc:"Time between probes; default 250ms."`
}

// EmulatorSection configures `benchrun emulate` when a service has kind
// "emulator". Durations are per request (prefill) or per token (decode).
type EmulatorSection struct {
	Flavor          string   `toml:"flavor" enum:"vllm|ollama" doc:"Protocol to emulate; default vllm."`
	Slots           int      `toml:"slots" doc:"Sequences decoded at once (continuous batching); default 256 (vllm), 4 (ollama)."`
	MaxQueue        int      `toml:"max_queue" doc:"Waiting requests beyond which the server answers 503 (ollama); 0 = unbounded."`
	PrefillBase     Duration `toml:"prefill_base" doc:"Fixed part of time to first token."`
	PrefillPerToken Duration `toml:"prefill_per_token" doc:"Prefill time per prompt token."`
	DecodeBase      Duration `toml:"decode_base" doc:"Inter-token time with one running sequence."`
	DecodePerSeq    Duration `toml:"decode_per_seq" doc:"Extra inter-token time per additional running sequence."`
	Jitter          *float64 `toml:"jitter" doc:"Relative jitter on every delay (0.1 = ±10%); 0 = exact timing; default 0.05."`
	Seed            int64    `toml:"seed" doc:"Seed for jitter, output lengths and faults."`
	ErrorRate       float64  `toml:"error_rate" doc:"Fraction of requests answered with HTTP 500."`
	DisconnectRate  float64  `toml:"disconnect_rate" doc:"Fraction of streams cut mid-way."`
	StartDelay      Duration `toml:"start_delay" doc:"Slow start: not ready until this long after start."`
}

// Benchmark is one [[benchmark]].
type Benchmark struct {
	Name        string         `toml:"name" doc:"Benchmark name: the first part of its case ids."`
	Service     string         `toml:"service" doc:"Name of the [[service]] it drives."`
	Kind        string         `toml:"kind" enum:"openai|ollama|chroma|exec|io500" doc:"Protocol driver; default from the service kind (vllm → openai, ollama → ollama, chroma → chroma). exec and io500 run a command and drive no service."`
	Repetitions int            `toml:"repetitions" doc:"Times each case runs; default 1. Four or more enable the Mann-Whitney test against baselines."`
	Thresholds  []string       `toml:"thresholds" doc:"Pass/fail expressions such as \"ttft.p95 < 500ms\" or \"error_rate < 1%\"."`
	Workload    map[string]any `toml:"workload" sweep:"workload" doc:"How load is driven; any key given as an array is swept."`
	Dataset     map[string]any `toml:"dataset" sweep:"dataset" doc:"What is sent; any key given as an array is swept."`
	SLO         SLO            `toml:"slo" doc:"Service-level objectives that define goodput."`
	Regression  Regression     `toml:"regression" doc:"How this benchmark is compared with its baseline."`
	Search      *Search        `toml:"search" doc:"Capacity search: the highest load meeting the SLOs (docs/capacity.md)."`
	Saturation  string         `toml:"saturation" enum:"warn|fail|error" doc:"What a saturation label (saturated, backpressure, client_lag) does to a case: warn (default) shows it, fail fails the case, error makes it an execution error."`
	// MaxInfrastructureErrors is never nil after validation: the default
	// is analysis.DefaultInfrastructureLimit.
	MaxInfrastructureErrors *Ratio `toml:"max_infrastructure_errors" doc:"Share of a case's measured operations that may fail to connect or fail in the client (error classes connect, client) before the case is an execution error; default 1%, 0 allows none."`
}

// SLO holds the per-request objectives for goodput.
type SLO struct {
	TTFT Duration `toml:"ttft" doc:"Time to first token objective."`
	TPOT Duration `toml:"tpot" doc:"Time per output token objective."`
	E2E  Duration `toml:"e2e" doc:"End-to-end latency objective."`
}

// Regression configures the baseline comparison of a benchmark.
type Regression struct {
	Disable    bool             `toml:"disable" doc:"Skip baseline comparison for this benchmark."`
	Tolerance  *Ratio           `toml:"tolerance" doc:"Relative change allowed before a significant change counts; default the suite's, else 5%; 0 counts every significant change."`
	Metrics    []string         `toml:"metrics" doc:"metric.stat pairs compared, e.g. [\"ttft.p95\", \"output_tokens_per_second\"]; default: ttft.p50, ttft.p95, ttft.p99, itl.p50, e2e.p95, output_tokens_per_second, requests_per_second, error_rate."`
	Tolerances map[string]Ratio `toml:"tolerances" doc:"Per-metric tolerance overrides keyed by metric.stat or metric."`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Load reads, decodes and validates a suite file. An invalid suite returns
// Problems listing every problem with its line.
func Load(path string) (*Suite, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes and validates suite text; file names it in problems, and
// the dataset files the suite names are looked for relative to it.
func Parse(file string, src []byte) (*Suite, error) {
	return parseSuite(file, filepath.Dir(file), src)
}

// LoadCopy reads the copy of a suite kept with a run (DIR/suite.toml):
// problems name path, while dataset and trace paths resolve against dir,
// the directory of the suite file as run (the manifest's suite_file), so
// a suite naming "prompts.jsonl" beside itself reads the same file when
// its run is re-analysed or its SLURM workers load the copy.
func LoadCopy(path, dir string) (*Suite, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseSuite(path, dir, b)
}

func parseSuite(file, dir string, src []byte) (*Suite, error) {
	sum := sha256.Sum256(src)
	s := &Suite{File: file, SHA256: hex.EncodeToString(sum[:]), dir: dir}
	var tree map[string]any
	if _, err := toml.Decode(string(src), &tree); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Problems{{File: file, Line: pe.Position.Line, Msg: "TOML syntax: " + pe.Message}}
		}
		return nil, Problems{{File: file, Msg: err.Error()}}
	}
	s.pos = indexPositions(string(src))
	d := &decoder{file: file, dir: dir, pos: s.pos}
	if probs := migrate(file, tree, s.pos); len(probs) > 0 {
		return nil, probs
	}
	d.decodeStruct(nil, tree, reflect.ValueOf(s).Elem())
	d.validate(s)
	if len(d.probs) > 0 {
		// In file order, as an editor shows them; problems of one line keep
		// the order they were found in.
		sort.SliceStable(d.probs, func(i, j int) bool { return d.probs[i].Line < d.probs[j].Line })
		return nil, d.probs
	}
	return s, nil
}

// migrate brings an older suite up to SchemaVersion, or refuses it saying
// what changed. Version 1 is the first released format, so there is
// nothing to migrate yet: older or newer versions are refused.
func migrate(file string, tree map[string]any, pos *positions) Problems {
	v, ok := tree["schema_version"]
	if !ok {
		return nil
	}
	n, isInt := v.(int64)
	switch {
	case !isInt:
		return Problems{{File: file, Line: pos.line([]string{"schema_version"}), Msg: fmt.Sprintf("schema_version: want an integer, got %s", tomlType(v))}}
	case n > SchemaVersion:
		return Problems{{File: file, Line: pos.line([]string{"schema_version"}), Msg: fmt.Sprintf("schema_version %d is newer than this benchrun understands (%d): upgrade benchrun", n, SchemaVersion)}}
	case n < 1:
		return Problems{{File: file, Line: pos.line([]string{"schema_version"}), Msg: fmt.Sprintf("schema_version %d does not exist: the first format is 1", n)}}
	}
	return nil
}

func (d *decoder) validate(s *Suite) {
	if s.SchemaVersion == 0 {
		s.SchemaVersion = SchemaVersion
	}
	switch {
	case s.Suite.Name == "":
		d.problem([]string{"suite"}, "suite.name is required")
	case !nameRE.MatchString(s.Suite.Name):
		d.problem([]string{"suite", "name"}, "suite.name %q: use letters, digits, '.', '_' and '-' only", s.Suite.Name)
	}
	d.validateIgnoreFingerprint(s.Suite.IgnoreFingerprint)
	services := map[string]*Service{}
	for i := range s.Services {
		sv := &s.Services[i]
		p := []string{"service", fmt.Sprint(i)}
		switch {
		case sv.Name == "":
			d.problem(p, "service[%d]: name is required", i)
		case !nameRE.MatchString(sv.Name):
			d.problem(child(p, "name"), "service %q: name must use letters, digits, '.', '_' and '-' only", sv.Name)
		case services[sv.Name] != nil:
			d.problem(child(p, "name"), "service %q is defined twice", sv.Name)
		default:
			services[sv.Name] = sv
		}
		d.validateService(p, sv)
	}
	if len(s.Benchmarks) == 0 {
		d.problem(nil, "the suite has no [[benchmark]]")
	}
	seen := map[string]bool{}
	for i := range s.Benchmarks {
		b := &s.Benchmarks[i]
		p := []string{"benchmark", fmt.Sprint(i)}
		switch {
		case b.Name == "":
			d.problem(p, "benchmark[%d]: name is required", i)
		case !nameRE.MatchString(b.Name):
			d.problem(child(p, "name"), "benchmark %q: name must use letters, digits, '.', '_' and '-' only", b.Name)
		case seen[b.Name]:
			d.problem(child(p, "name"), "benchmark %q is defined twice", b.Name)
		}
		seen[b.Name] = true
		sv := services[b.Service]
		switch {
		case kinds[b.Kind].batch && b.Service != "":
			d.problem(child(p, "service"), "benchmark %q: a %s benchmark runs a command and drives no service", b.Name, b.Kind)
		case kinds[b.Kind].batch:
		case b.Service == "":
			d.problem(p, "benchmark %q: service is required", b.Name)
		case sv == nil:
			d.problem(child(p, "service"), "benchmark %q: service %q is not defined%s", b.Name, b.Service, suggest(b.Service, serviceNames(s)))
		}
		if b.Kind == "" && sv != nil && sv.Kind != "" {
			b.Kind = defaultBenchmarkKind(sv)
			if b.Kind == "" {
				d.problem(child(p, "kind"), "benchmark %q: kind is required for a %q service", b.Name, sv.Kind)
			}
		}
		if k, ok := kinds[b.Kind]; ok && sv != nil && sv.Kind != "" && !slices.Contains(k.services, sv.Kind) {
			d.problem(child(p, "service"), "benchmark %q: a %s benchmark cannot drive service %q of kind %q (it drives %s)",
				b.Name, b.Kind, sv.Name, sv.Kind, strings.Join(k.services, ", "))
		}
		if b.Repetitions == 0 {
			b.Repetitions = 1
		}
		if b.Saturation == "" {
			b.Saturation = analysis.EffectWarn
		}
		if b.MaxInfrastructureErrors == nil {
			limit := Ratio(analysis.DefaultInfrastructureLimit)
			b.MaxInfrastructureErrors = &limit
		}
		for j, expr := range b.Thresholds {
			if _, err := analysis.ParseThreshold(expr); err != nil {
				d.problem(child(child(p, "thresholds"), fmt.Sprint(j)), "benchmark %q: %v", b.Name, err)
			}
		}
		d.validateRegression(p, b)
		d.validateSearch(p, b)
		if _, err := d.expand(s, i); err != nil {
			// problems already recorded
			_ = err
		}
	}
	if s.Slurm != nil {
		d.validateSlurm(s)
	}
	d.validateMonitoring(s)
}

// validateIgnoreFingerprint checks suite.ignore_fingerprint: field names
// as fingerprints spell them, each once. Any name is allowed, since a
// baseline may hold fields this benchrun does not record.
func (d *decoder) validateIgnoreFingerprint(keys []string) {
	seen := map[string]bool{}
	for i, k := range keys {
		p := []string{"suite", "ignore_fingerprint", fmt.Sprint(i)}
		switch {
		case !FingerprintKeyRE.MatchString(k):
			d.problem(p, "suite.ignore_fingerprint: %q is not a fingerprint field name (letters, digits, '.', '_', '-')", k)
		case seen[k]:
			d.problem(p, "suite.ignore_fingerprint: %q is listed twice", k)
		}
		seen[k] = true
	}
}

// FingerprintKeyRE matches a fingerprint field name, as ignore_fingerprint
// and --ignore-fingerprint take it.
var FingerprintKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func serviceNames(s *Suite) []string {
	var n []string
	for _, sv := range s.Services {
		n = append(n, sv.Name)
	}
	return n
}

func (d *decoder) validateService(p []string, sv *Service) {
	if sv.URL != "" {
		if !strings.HasPrefix(sv.URL, "http://") && !strings.HasPrefix(sv.URL, "https://") {
			d.problem(child(p, "url"), "service %q: url %q must start with http:// or https://", sv.Name, sv.URL)
		}
		if len(sv.Command) > 0 {
			d.problem(child(p, "command"), "service %q: give either url (an existing endpoint) or command, not both", sv.Name)
		}
	}
	if sv.Kind == "" && !d.hadProblem(child(p, "kind")...) {
		d.problem(p, "service %q: kind is required (vllm, ollama, chroma, command or emulator)", sv.Name)
	}
	if sv.Kind == "command" && len(sv.Command) == 0 && sv.URL == "" {
		d.problem(p, "service %q: kind \"command\" needs a command or a url", sv.Name)
	}
	if sv.Kind == "command" && sv.URL == "" && sv.Port == 0 {
		d.problem(p, "service %q: kind \"command\" needs the port it listens on", sv.Name)
	}
	if sv.Kind == "vllm" && sv.Model == "" && len(sv.Command) == 0 && sv.URL == "" {
		d.problem(p, "service %q: a vllm service started by benchrun needs model (or a command)", sv.Name)
	}
	for i, c := range sv.Pre {
		if strings.TrimSpace(c) == "" || strings.ContainsAny(c, "\x00\n\r") {
			d.problem(child(p, "pre"), "service %q: pre[%d] %q: want one command line", sv.Name, i, c)
		}
	}
	if sv.Memory != "" && !memoryPattern.MatchString(sv.Memory) {
		d.problem(child(p, "memory"), "service %q: memory %q: want a number with an optional unit K, M, G or T, such as \"64G\"", sv.Name, sv.Memory)
	}
	if sv.Readiness.Path != "" && !strings.HasPrefix(sv.Readiness.Path, "/") {
		d.problem(child(child(p, "readiness"), "path"), "service %q: readiness.path %q must start with /", sv.Name, sv.Readiness.Path)
	}
	for _, k := range slices.Sorted(maps.Keys(sv.Env)) {
		if !envNameRE.MatchString(k) {
			d.problem(child(child(p, "env"), k), "service %q: %q is not a valid environment variable name", sv.Name, k)
		}
	}
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func defaultBenchmarkKind(sv *Service) string {
	switch sv.Kind {
	case "vllm":
		return "openai"
	case "ollama":
		return "ollama"
	case "chroma":
		return "chroma"
	case "emulator":
		if sv.Emulator.Flavor == "ollama" {
			return "ollama"
		}
		return "openai"
	}
	return ""
}

// Service returns the service a benchmark drives.
func (s *Suite) Service(name string) *Service {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}

// validateSlurm reports the [slurm] section's problems at the line of the
// key each names ("slurm.partition ..."), else at the section.
func (d *decoder) validateSlurm(s *Suite) {
	for _, err := range s.Slurm.Validate() {
		msg := err.Error()
		path := []string{"slurm"}
		if rest, ok := strings.CutPrefix(msg, "slurm."); ok {
			key := rest
			if i := strings.IndexAny(rest, " :["); i >= 0 {
				key = rest[:i]
			}
			path = append(path, strings.Split(key, ".")...)
		}
		d.problem(path, "%s", msg)
	}
	nodes := 0
	for _, sv := range s.Services {
		if sv.URL == "" && usedBy(s, sv.Name) {
			nodes += max(sv.Nodes, 1)
		}
	}
	if s.Slurm.Placed() {
		d.validatePacking(s)
	}
	if s.Slurm.Nodes > 0 && nodes > s.Slurm.Nodes {
		d.problem([]string{"slurm", "nodes"}, "slurm.nodes = %d, but the services need %d nodes", s.Slurm.Nodes, nodes)
	}
	for i, sv := range s.Services {
		p := []string{"service", fmt.Sprint(i)}
		switch {
		case sv.Ray != nil && sv.Kind != "vllm":
			d.problem(child(p, "ray"), "service %q: ray is only for vllm services", sv.Name)
		case sv.Ray != nil && sv.GPUs > 0 && sv.Ray.TensorParallelSize*sv.Ray.PipelineParallelSize > max(sv.Nodes, 1)*sv.GPUs:
			d.problem(child(p, "ray"), "service %q: tensor_parallel_size × pipeline_parallel_size = %d needs more GPUs than nodes × gpus = %d",
				sv.Name, sv.Ray.TensorParallelSize*sv.Ray.PipelineParallelSize, max(sv.Nodes, 1)*sv.GPUs)
		case sv.Nodes > 1 && sv.Ray == nil:
			d.problem(child(p, "nodes"), "service %q: nodes = %d needs a [service.ray] table (one vLLM across nodes); without it a service runs on one node", sv.Name, sv.Nodes)
		}
		if sv.Image != "" && s.Slurm.Container != slurm.ContainerApptainer {
			d.problem(child(p, "image"), "service %q: image needs container = \"apptainer\" in [slurm]", sv.Name)
		}
	}
}

var memoryPattern = regexp.MustCompile(`^[0-9]+[KMGT]?$`)

// validatePacking packs the started services on the services' nodes
// (slurm.Pack) and reports a service that does not fit at its gpus line.
func (d *decoder) validatePacking(s *Suite) {
	demands, index := PackDemands(s)
	role := s.Slurm.ServicesRole()
	size := slurm.NodeSize{GPUs: role.GPUsPerNode, CPUs: role.CPUsPerNode}
	if size.GPUs == 0 {
		size.GPUs = s.Slurm.GPUsPerNode
	}
	_, _, err := slurm.Pack(demands, size, role.Nodes)
	var pe *slurm.PackError
	if errors.As(err, &pe) {
		for k, dm := range demands {
			if dm.Name == pe.Service {
				d.problem([]string{"service", fmt.Sprint(index[k]), "gpus"}, "%v", err)
				return
			}
		}
		d.problem([]string{"slurm", "services"}, "%v", err)
	}
}

// PackDemands returns what the services a run starts (used by a benchmark,
// no url) ask of the services' nodes, and each one's index in s.Services.
func PackDemands(s *Suite) ([]slurm.Demand, []int) {
	var demands []slurm.Demand
	var index []int
	for i, sv := range s.Services {
		if sv.URL != "" || !usedBy(s, sv.Name) {
			continue
		}
		demands = append(demands, slurm.Demand{Name: sv.Name, GPUs: sv.GPUs, CPUs: sv.CPUs, Nodes: max(sv.Nodes, 1)})
		index = append(index, i)
	}
	return demands, index
}

func usedBy(s *Suite, service string) bool {
	for _, b := range s.Benchmarks {
		if b.Service == service {
			return true
		}
	}
	return false
}
