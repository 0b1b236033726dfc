package suites

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// bound is the allowed range of one number of the suite format. Lo and Hi
// are written as in a suite ("100000", "168h", "1000%") and parsed as the
// key's own type, so a bound reads like the value it limits; both ends are
// allowed. Key is the key path without array indexes; "*" stands for any
// one key of a table (regression.tolerances).
//
// The bounds are generous for real use and refuse what cannot be meant:
// values that would overflow an int or a time.Duration further on, build
// prompts of gigabytes, or keep a job busy for longer than any batch system
// lets it run. docs/suite-format.md lists them (TestBoundsDocumented).
type bound struct {
	Key    string
	Lo, Hi string
	Why    string
}

// Limits shared by several keys.
const (
	maxTokens   = "10000000"            // 10M: the longest context windows of current models
	maxSeed     = "9223372036854775807" // every non-negative int64
	maxDuration = "168h"                // a week: longer than batch systems let a job run
	maxCases    = 10000                 // cases one benchmark's sweep may expand into
)

var bounds = []bound{
	{"schema_version", "1", "1", "the only format so far; newer ones are refused with a message"},
	{"suite.tolerance", "0", "1000%", "a change of more than 10× is never within tolerance"},

	{"service.port", "0", "65535", "TCP ports; 0 picks a free one"},
	{"service.nodes", "0", "200000", "above the node count of the largest machines (Fugaku: 158,976)"},
	{"service.gpus", "0", "1024", "GPUs per node; the densest nodes have 8 to 16"},
	{"service.cpus", "0", "65536", "far above the cores of any node"},
	{"service.readiness.timeout", "0", "24h", "loading the largest models from a parallel file system takes tens of minutes, not days"},
	{"service.readiness.interval", "0", "10m", "probing less often than this only delays the run"},
	{"service.ray.tensor_parallel_size", "0", "1024", "GPUs one model layer spans; their product with pipeline_parallel_size is compared with nodes × gpus"},
	{"service.ray.pipeline_parallel_size", "0", "1024", "stages of one model"},
	{"service.ray.port", "0", "65535", "TCP ports; 0 means 6379"},
	{"service.emulator.slots", "0", "100000", "vLLM's max_num_seqs is at most a few thousand"},
	{"service.emulator.max_queue", "0", "1000000", "beyond it the emulator answers 503"},
	{"service.emulator.prefill_base", "0", "1h", "emulated delays; longer ones would outlast any request timeout"},
	{"service.emulator.prefill_per_token", "0", "1s", "times up to 10M prompt tokens stays far from time.Duration's limit"},
	{"service.emulator.decode_base", "0", "1m", "emulated time between tokens"},
	{"service.emulator.decode_per_seq", "0", "1s", "times up to 100000 slots stays far from time.Duration's limit"},
	{"service.emulator.jitter", "0", "1", "relative: above 1 a delay could be negative"},
	{"service.emulator.seed", "0", maxSeed, "any non-negative 64-bit integer"},
	{"service.emulator.error_rate", "0", "1", "a fraction of requests"},
	{"service.emulator.disconnect_rate", "0", "1", "a fraction of streams"},
	{"service.emulator.start_delay", "0", "1h", "emulated model load"},

	{"benchmark.repetitions", "0", "1000", "each repetition runs the case's whole schedule; 0 means 1, 4 enable the Mann-Whitney test"},
	{"benchmark.slo.ttft", "0", "24h", "per-request objective"},
	{"benchmark.slo.tpot", "0", "24h", "per-token objective"},
	{"benchmark.slo.e2e", "0", "24h", "per-request objective"},
	{"benchmark.regression.tolerance", "0", "1000%", "a change of more than 10× is never within tolerance"},
	{"benchmark.regression.tolerances.*", "0", "1000%", "as regression.tolerance"},
	{"benchmark.search.min", "0", "1000000", "requests/s or users, as workload.rate and workload.users; a speed also within workload.time_scale's bounds (checked at validation)"},
	{"benchmark.search.max", "0", "1000000", "as search.min"},
	{"benchmark.search.attainment", "0", "100%", "a share of requests"},
	{"benchmark.search.precision", "0", "100%", "the relative width at which bisection ends"},
	{"benchmark.search.budget", "0", "720h", "a month of probes is beyond any allocation"},
	{"benchmark.search.remeasure", "0", "5", "each re-measure doubles the requests: 5 is 32 times the first probe"},
	{"benchmark.search.requests", "0", "10000000", "measured requests of a first probe"},
	{"benchmark.max_infrastructure_errors", "0", "100%", "a share of the case's measured operations; 0 makes any connect or client failure an execution error"},

	{"benchmark.workload.tasks", "0", "10000000", "MPI processes of a batch benchmark: more cores than the largest machines have"},
	{"benchmark.workload.tasks_per_node", "0", "100000", "MPI processes per node"},
	{"benchmark.workload.nodes", "0", "200000", "as service.nodes"},
	{"benchmark.workload.metrics.*.scale", "0", "1e18", "a unit conversion factor (TiB/s → bytes/s is 1.1e12)"},
	{"benchmark.workload.max_tokens", "0", maxTokens, "the longest context windows of current models; 0 means the dataset's output_tokens"},
	{"benchmark.workload.temperature", "0", "100", "servers take 0 to 2 (OpenAI) or any non-negative number (vLLM, Ollama)"},
	{"benchmark.workload.timeout", "0", "24h", "per request"},
	{"benchmark.workload.users", "0", "1000000", "each user holds a connection: more than any deployment serves; under SLURM the users are divided among the client nodes"},
	{"benchmark.workload.think_time", "0", "24h", "pause between a user's requests"},
	{"benchmark.workload.rate", "0", "1000000", "requests per second, far above what one client node can send; open loop needs more than 0"},
	{"benchmark.workload.burstiness", "0.01", "100", "gamma shape: below 0.01 nearly all requests arrive at once, above 100 arrivals are as regular as constant"},
	{"benchmark.workload.time_scale", "0.000001", "1000000", "trace replay: a million times faster or slower than recorded is beyond any replay"},
	{"benchmark.workload.max_concurrency", "0", "1000000", "requests in flight, as users"},
	{"benchmark.workload.ramp_up", "0", maxDuration, "part of the case's schedule"},
	{"benchmark.workload.duration", "0", maxDuration, "the measured part of one case"},
	{"benchmark.workload.requests", "0", "1000000000", "a million seconds at 1000 requests/s; requests × users stays far inside 64 bits when split among client workers"},
	{"benchmark.workload.warmup", "0", maxDuration, "as duration"},
	{"benchmark.workload.warmup_requests", "0", "1000000000", "as requests"},
	{"benchmark.workload.seed", "0", maxSeed, "any non-negative 64-bit integer"},
	{"benchmark.workload.lag_limit", "0", "1h", "queue delay above which the generator is said to lag"},
	{"benchmark.workload.drain", "0", "24h", "as the per-request timeout: a request still running after it is unfinished; 0 means 30s"},

	{"benchmark.dataset.prompt_tokens", "1", maxTokens, "the longest context windows of current models, about 60 MB of synthetic text a prompt; 2^63−1 used to overflow and panic"},
	{"benchmark.dataset.prompt_min", "0", maxTokens, "as prompt_tokens"},
	{"benchmark.dataset.prompt_max", "0", maxTokens, "as prompt_tokens"},
	{"benchmark.dataset.prompt_stddev", "0", maxTokens, "as prompt_tokens"},
	{"benchmark.dataset.output_tokens", "0", maxTokens, "as prompt_tokens; 0 keeps the lengths a file gives"},
	{"benchmark.dataset.output_min", "0", maxTokens, "as prompt_tokens"},
	{"benchmark.dataset.output_max", "0", maxTokens, "as prompt_tokens"},
	{"benchmark.dataset.output_stddev", "0", maxTokens, "as prompt_tokens"},
	{"benchmark.dataset.seed", "0", maxSeed, "any non-negative 64-bit integer"},

	{"monitoring.scrape_interval", "100ms", "1h", "100 ms is AIPerf's default and the shortest a scrape of a busy server keeps up with; beyond an hour a case has one scrape"},
	{"monitoring.query_step", "100ms", "1h", "as scrape_interval: the resolution of the stored PromQL series"},

	{"benchmark.workload.batch_size", "0", "1000000", "chroma: vectors per add; the server's max_batch_size caps it anyway (5461 for Chroma 1.0); 0 means that maximum"},
	{"benchmark.workload.writer_batch", "1", "1000000", "chroma mixed: vectors per upsert, capped like batch_size"},
	{"benchmark.workload.writer_rate", "0", "100000", "chroma mixed: upserts per second; needs more than 0"},
	{"benchmark.workload.k", "1", "10000", "chroma: n_results of a query"},
	{"benchmark.workload.ef_construction", "1", "100000", "chroma: HNSW build-time candidate list"},
	{"benchmark.workload.ef_search", "1", "100000", "chroma: HNSW query-time candidate list"},
	{"benchmark.workload.max_neighbors", "2", "10000", "chroma: HNSW M"},
	{"benchmark.dataset.dimension", "1", "65536", "chroma: vector dimension; the largest embedding models give a few thousand"},
	{"benchmark.dataset.count", "0", "50000000", "chroma: base vectors, held in memory (50M × 128 dimensions is 25 GiB); 0 reads a whole file"},
	{"benchmark.dataset.queries", "0", "10000000", "chroma: query vectors; brute-force ground truth costs queries × count × dimension"},
	{"benchmark.dataset.clusters", "0", "1000000", "chroma: centres of a clustered synthetic set"},
	{"benchmark.dataset.spread", "0", "1000", "chroma: standard deviation around a centre"},
	{"benchmark.dataset.fields.cardinality", "1", "1000000000", "chroma: values of a metadata field"},

	{"slurm.nodes", "0", "200000", "as service.nodes"},
	{"slurm.gpus_per_node", "0", "1024", "as service.gpus"},
	{"slurm.cpus_per_task", "0", "65536", "far above the cores of any node"},
	{"slurm.services.nodes", "0", "200000", "as service.nodes; 0 = as many as the packing needs"},
	{"slurm.services.gpus_per_node", "0", "1024", "as service.gpus"},
	{"slurm.services.cpus_per_node", "0", "65536", "as slurm.cpus_per_task"},
	{"slurm.services.per_node", "0", "0", "clients only"},
	{"slurm.clients.nodes", "0", "200000", "as service.nodes; 0 = 1"},
	{"slurm.clients.gpus_per_node", "0", "0", "sizes the services' nodes only"},
	{"slurm.clients.cpus_per_node", "0", "0", "sizes the services' nodes only"},
	{"slurm.clients.per_node", "0", "1024", "worker processes per client node; 0 = 1"},
	{"slurm.monitor.port", "0", "65535", "TCP ports; 0 means 9090"},
	{"slurm.monitor.node_exporter_port", "0", "65535", "TCP ports; 0 means 9100"},
	{"slurm.monitor.gpu_exporter_port", "0", "65535", "TCP ports; 0 means 9400 (DCGM exporter)"},
	{"slurm.monitor.benchrun_port", "0", "65535", "TCP ports; 0 means 9464; client workers serve on the ports after it"},
}

// boundFor returns the bound of the key at path, if it has one.
func boundFor(path []string) (bound, bool) {
	var keys []string
	for _, p := range path {
		if _, err := strconv.Atoi(p); err != nil {
			keys = append(keys, p)
		}
	}
	for _, b := range bounds {
		pat := strings.Split(b.Key, ".")
		if len(pat) == len(keys) && matchKey(pat, keys) {
			return b, true
		}
	}
	return bound{}, false
}

func matchKey(pat, keys []string) bool {
	for i := range pat {
		if pat[i] != "*" && pat[i] != keys[i] {
			return false
		}
	}
	return true
}

// limit parses text (a bound's end) as a value of type t.
func limit(t reflect.Type, text string) (reflect.Value, error) {
	v := reflect.New(t)
	if u, ok := v.Interface().(encoding.TextUnmarshaler); ok {
		return v.Elem(), u.UnmarshalText([]byte(text))
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		v.Elem().SetInt(n)
		return v.Elem(), err
	case reflect.Float64:
		f, err := strconv.ParseFloat(text, 64)
		v.Elem().SetFloat(f)
		return v.Elem(), err
	}
	return v.Elem(), fmt.Errorf("no bounds for %s", t)
}

// compare returns -1, 0 or 1 as a is less than, equal to or greater than
// b, two numbers of the same type.
func compare(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.Int, reflect.Int64:
		x, y := a.Int(), b.Int()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	x, y := a.Float(), b.Float()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// checkBound reports a problem when the number rv, decoded from the TOML
// value v at path, is outside its key's bound.
func (d *decoder) checkBound(path []string, v any, rv reflect.Value) {
	b, ok := boundFor(path)
	if !ok {
		return
	}
	lo, errLo := limit(rv.Type(), b.Lo)
	hi, errHi := limit(rv.Type(), b.Hi)
	if errLo != nil || errHi != nil {
		// TestBoundsParse keeps every bound parseable for its key's type.
		panic(fmt.Sprintf("suites: bound of %s does not parse as %s", b.Key, rv.Type()))
	}
	switch {
	case compare(rv, lo) < 0:
		d.problem(path, "%s: %s is below the minimum %s (%s)", keyName(path), formatParam(v), b.Lo, b.Why)
	case compare(rv, hi) > 0:
		d.problem(path, "%s: %s is above the maximum %s (%s)", keyName(path), formatParam(v), b.Hi, b.Why)
	}
}
