package suites

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/suite.schema.json")

func problems(t *testing.T, src string) []string {
	t.Helper()
	_, err := Parse("s.toml", []byte(src))
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %T: %v", err, err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

const minimal = `
[suite]
name = "s"
[[service]]
name = "llm"
kind = "emulator"
[[benchmark]]
name = "chat"
service = "llm"
`

func TestThreeMistakes(t *testing.T) {
	_, err := Load("testdata/three-mistakes.toml")
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	got := strings.Split(ps.Error(), "\n")
	want := []string{
		`testdata/three-mistakes.toml:10: benchmark "chat": service "lm" is not defined (did you mean "llm"?)`,
		`testdata/three-mistakes.toml:12: unknown key "userz" in benchmark "chat" workload (did you mean "users"?)`,
		`testdata/three-mistakes.toml:13: benchmark[0].workload.duration: bad duration "10 sec": want a number with a unit such as "500ms", "30s" or "2m"`,
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings, one per expected problem, in order
	}{
		{"minimal ok", minimal, nil},
		{"syntax error", "[suite\nname=1", []string{"s.toml:2: TOML syntax"}},
		{"missing suite name", strings.Replace(minimal, `name = "s"`, ``, 1), []string{"suite.name is required"}},
		{"bad suite name", strings.Replace(minimal, `name = "s"`, `name = "a b"`, 1), []string{`s.toml:3: suite.name "a b"`}},
		{"unknown top-level key", "colour = 1\n" + minimal, []string{`s.toml:1: unknown key "colour" in the top level`}},
		{"wrong type", strings.Replace(minimal, `kind = "emulator"`, `kind = "emulator"`+"\nport = \"80\"", 1), []string{`s.toml:7: service[0].port: want an integer, got a string`}},
		{"bad enum", strings.Replace(minimal, `kind = "emulator"`, `kind = "tgi"`, 1), []string{`s.toml:6: service[0].kind: "tgi" is not one of vllm, ollama, chroma, command, emulator`}},
		{"duplicate service", minimal + "[[service]]\nname = \"llm\"\nkind = \"emulator\"\n", []string{`s.toml:11: service "llm" is defined twice`}},
		{"no benchmarks", "[suite]\nname = \"s\"\n", []string{"the suite has no [[benchmark]]"}},
		{"bad saturation effect", minimal + "saturation = \"panic\"\n", []string{`s.toml:10: benchmark[0].saturation: "panic" is not one of warn, fail, error`}},
		{"bad threshold", minimal + "thresholds = [\"ttft.p95 < 500xs\"]\n", []string{`s.toml:10: benchmark "chat": threshold`}},
		{"open loop without rate", minimal + "[benchmark.workload]\nmode = \"open\"\n", []string{"open loop needs rate > 0"}},
		{"empty sweep", minimal + "[benchmark.workload]\nusers = []\n", []string{`s.toml:11: benchmark[0].workload.users: an empty array sweeps nothing`}},
		{"bad sweep element", minimal + "[benchmark.workload]\nusers = [1, \"two\"]\n", []string{`s.toml:11: benchmark[0].workload.users[1]: want an integer, got a string`}},
		{"negative", minimal + "[benchmark.workload]\nusers = -1\n", []string{"must not be negative"}},
		{"url and command", strings.Replace(minimal, `kind = "emulator"`, `kind = "vllm"`+"\nurl = \"http://x\"\ncommand = [\"x\"]", 1), []string{"give either url"}},
		{"url scheme", strings.Replace(minimal, `kind = "emulator"`, `kind = "vllm"`+"\nurl = \"x:80\"", 1), []string{"must start with http://"}},
		{"vllm needs model", strings.Replace(minimal, `kind = "emulator"`, `kind = "vllm"`, 1), []string{"needs model"}},
		{"ollama has no completions", strings.Replace(minimal, `kind = "emulator"`, "kind = \"emulator\"\n[service.emulator]\nflavor = \"ollama\"", 1) + "[benchmark.workload]\napi = \"completions\"\n", []string{"ollama speaks chat or generate"}},
		{"newer schema", "schema_version = 9\n" + minimal, []string{"s.toml:1: schema_version 9 is newer than this benchrun understands (1)"}},
		{"bad env name", strings.Replace(minimal, `kind = "emulator"`, "kind = \"emulator\"\nenv = { \"A-B\" = \"1\" }", 1), []string{`"A-B" is not a valid environment variable name`}},
		{"bad ratio", strings.Replace(minimal, `name = "s"`, "name = \"s\"\ntolerance = \"ten%\"", 1), []string{`s.toml:4: suite.tolerance: bad ratio "ten%"`}},
		{"kind cannot drive service", strings.Replace(minimal, `kind = "emulator"`, "kind = \"chroma\"", 1) + "kind = \"openai\"\n", []string{`s.toml:9: benchmark "chat": a openai benchmark cannot drive service "llm" of kind "chroma"`}},
		{"slurm: nodes without ray", strings.Replace(minimal, `kind = "emulator"`, "kind = \"emulator\"\nnodes = 2", 1) + "[slurm]\nnodes = 3\n", []string{`s.toml:7: service "llm": nodes = 2 needs a [service.ray] table`}},
		{"slurm: image without apptainer", strings.Replace(minimal, `kind = "emulator"`, "kind = \"emulator\"\nimage = \"x.sif\"", 1) + "[slurm]\n", []string{`s.toml:7: service "llm": image needs container = "apptainer"`}},
		{"slurm: bad partition", minimal + "[slurm]\npartition = \"a;b\"\n", []string{`s.toml:11: slurm.partition "a;b"`}},
		{"jsonl needs path", minimal + "[benchmark.dataset]\nkind = \"jsonl\"\n", []string{"a jsonl dataset needs path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSweepExpansion(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		ids   []string
	}{
		{"no sweep", "[benchmark.workload]\nusers = 4\n", []string{"chat"}},
		{"one key", "[benchmark.workload]\nusers = [1, 8]\n", []string{"chat/users=1", "chat/users=8"}},
		{"single-element array is not in the id", "[benchmark.workload]\nusers = [8]\n", []string{"chat"}},
		{"workload then dataset, last fastest", "[benchmark.dataset]\nprompt_tokens = [128, 512]\n[benchmark.workload]\nusers = [8, 32]\n",
			[]string{"chat/users=8,prompt_tokens=128", "chat/users=8,prompt_tokens=512", "chat/users=32,prompt_tokens=128", "chat/users=32,prompt_tokens=512"}},
		{"field order, not file order", "[benchmark.workload]\nusers = [1, 2]\napi = [\"chat\", \"completions\"]\n",
			[]string{"chat/api=chat,users=1", "chat/api=chat,users=2", "chat/api=completions,users=1", "chat/api=completions,users=2"}},
		{"durations and floats", "[benchmark.workload]\nmode = \"open\"\nrate = [0.5, 2]\nduration = [\"10s\", \"1m\"]\n",
			[]string{"chat/rate=0.5,duration=10s", "chat/rate=0.5,duration=1m", "chat/rate=2,duration=10s", "chat/rate=2,duration=1m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("s.toml", []byte(minimal+tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range s.Cases() {
				ids = append(ids, c.ID)
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("ids = %q, want %q", ids, tt.ids)
			}
		})
	}
}

func TestCaseValues(t *testing.T) {
	s, err := Parse("s.toml", []byte(minimal+"[benchmark.workload]\nusers = [2, 4]\nduration = \"5s\"\n[benchmark.dataset]\noutput_tokens = 32\n"))
	if err != nil {
		t.Fatal(err)
	}
	cs := s.Cases()
	w := cs[1].Workload.(*LLMWorkload)
	if w.Users != 4 || w.Duration.D().String() != "5s" || w.MaxTokens != 32 || !w.Stream || w.API != "chat" {
		t.Errorf("case 2 workload = %+v", w)
	}
	if cs[1].Params["users"] != "4" || len(cs[1].Params) != 1 {
		t.Errorf("params = %v", cs[1].Params)
	}
	if s.Benchmarks[0].Saturation != "warn" {
		t.Errorf("saturation default %q, want warn", s.Benchmarks[0].Saturation)
	}
	if s.Benchmarks[0].Kind != "openai" || s.Benchmarks[0].Repetitions != 1 {
		t.Errorf("defaults not applied: %+v", s.Benchmarks[0])
	}
}

func TestExamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.toml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestPositions(t *testing.T) {
	src := `a = 1
[suite]
name = "x" # comment with = sign
desc = """
not = a key
"""
[[service]]
name = "one"
[[service]]
name = "two"
env = { A = "1", B = "2" }
list = [
  "x = y",
]
[service.readiness]
path = "/"
after = 1
`
	p := indexPositions(src)
	for key, line := range map[string]int{
		"a": 1, "suite": 2, "suite.name": 3, "suite.desc": 4, "service.0.name": 8,
		"service.1": 9, "service.1.name": 10, "service.1.env.B": 11, "service.1.list": 12,
		"service.1.readiness.path": 16, "service.1.readiness.after": 17,
	} {
		if got := p.line(strings.Split(key, ".")); got != line {
			t.Errorf("line(%s) = %d, want %d", key, got, line)
		}
	}
	if _, ok := p.lines["not"]; ok {
		t.Error("a line inside a multi-line string was indexed as a key")
	}
}

func TestSchemaCoversEveryKey(t *testing.T) {
	b, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	schema := string(b)
	// Every TOML key of every type the decoder fills must be in the schema.
	var walk func(rt reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(rt reflect.Type) {
		if rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if !f.IsExported() || f.Tag.Get("toml") == "-" {
				continue
			}
			if !strings.Contains(schema, `"`+tomlName(f)+`": {`) {
				t.Errorf("schema lacks %s.%s (%q)", rt.Name(), f.Name, tomlName(f))
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Suite]())
	for _, k := range kinds {
		walk(reflect.TypeOf(k.workload()))
		walk(reflect.TypeOf(k.dataset()))
	}
	// The committed copy for editors must be current.
	if *update {
		if err := os.WriteFile("../docs/suite.schema.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile("../docs/suite.schema.json")
	if err != nil {
		t.Fatalf("docs/suite.schema.json: %v (regenerate with: go test ./suites -run Schema -update)", err)
	}
	if strings.TrimSpace(string(committed)) != strings.TrimSpace(schema) {
		t.Error("docs/suite.schema.json is stale: regenerate with: go test ./suites -run Schema -update")
	}
}

// TestRegressionMetricNames: a misspelt metric or statistic in
// regression.metrics or regression.tolerances is a problem at its line with
// a suggestion, since the comparison would silently skip it.
func TestRegressionMetricNames(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  []string
	}{
		{"defaults and every form ok", "[benchmark.regression]\n" +
			"metrics = [\"ttft.p50\", \"itl.p99.9\", \"e2e\", \"error_rate\", \"error_rate_timeout\", \"requests_per_second.value\", \"server_load_duration.p95\"]\n" +
			"tolerances = { \"*\" = \"10%\", \"ttft\" = \"20%\", \"e2e.median\" = \"15%\" }\n", nil},
		{"review example", "[benchmark.regression]\nmetrics = [\"tft.p50\",\"ttft.p59\",\"output_tokens_per_sec\"]\n", []string{
			`s.toml:11: benchmark "chat": regression.metrics: unknown metric "tft" in "tft.p50" (did you mean "ttft"?)`,
			`s.toml:11: benchmark "chat": regression.metrics: unknown stat "p59" in "ttft.p59" (did you mean "ttft.p50"?)`,
			`s.toml:11: benchmark "chat": regression.metrics: unknown metric "output_tokens_per_sec" (did you mean "output_tokens_per_second"?)`,
		}},
		{"multi-line array: the element's line", "[benchmark.regression]\nmetrics = [\n  \"ttft.p95\",\n  \"recall_at_10\",\n]\n", []string{
			`s.toml:13: benchmark "chat": regression.metrics: unknown metric "recall_at_10" (known metrics: e2e, error_rate, error_rate_client, error_rate_connect,`,
		}},
		{"stat of the other kind", "[benchmark.regression]\nmetrics = [\"error_rate.p95\", \"ttft.value\"]\n", []string{
			`s.toml:11: benchmark "chat": regression.metrics: "error_rate.p95": error_rate is a rate and has no p95 (it has count, value)`,
			`s.toml:11: benchmark "chat": regression.metrics: "ttft.value": ttft is a distribution and has no value (it has count, max, mean,`,
		}},
		{"unknown error class", "[benchmark.regression]\nmetrics = [\"error_rate_timout\"]\n", []string{
			`regression.metrics: unknown metric "error_rate_timout" (did you mean "error_rate_timeout"?)`,
		}},
		{"goodput without slo", "[benchmark.regression]\nmetrics = [\"goodput\"]\n", []string{
			`s.toml:11: benchmark "chat": regression.metrics: "goodput": goodput is only measured with a [benchmark.slo] table`,
		}},
		{"goodput with slo", "[benchmark.slo]\nttft = \"1s\"\n[benchmark.regression]\nmetrics = [\"goodput\"]\n", nil},
		{"tolerance keys", "[benchmark.regression]\ntolerances = { \"tft.p99\" = \"20%\", \"ttft.p98\" = \"5%\" }\n", []string{
			`s.toml:11: benchmark "chat": regression.tolerances: unknown metric "tft" in "tft.p99" (did you mean "ttft"?)`,
			`s.toml:11: benchmark "chat": regression.tolerances: unknown stat "p98" in "ttft.p98" (did you mean "ttft.p90"?)`,
		}},
		{"tolerance table", "[benchmark.regression.tolerances]\n\"ttft.p95\" = \"5%\"\n\"itl.p95\" = \"5%\"\n\"e2e.p95\" = \"5%\"\n\"e2e.p59\" = \"5%\"\n", []string{
			`s.toml:14: benchmark "chat": regression.tolerances: unknown stat "p59" in "e2e.p59" (did you mean "e2e.p50"?)`,
		}},
		{"same statistic twice", "[benchmark.regression]\ntolerances = { \"ttft.p50\" = \"5%\", \"ttft.median\" = \"9%\" }\n", []string{
			`s.toml:11: benchmark "chat": regression.tolerances: "ttft.median" and "ttft.p50" are the same statistic`,
		}},
		{"ratio tolerance that allows any change", "[benchmark.regression]\ntolerances = { \"error_rate\" = 5, \"error_rate_timeout.value\" = \"100%\", \"ttft\" = 5, \"error_rate_http_5xx\" = \"2%\" }\n", []string{
			`s.toml:11: benchmark "chat": regression.tolerances: "error_rate": error_rate is a ratio and its tolerance absolute (percentage points): 500% allows any change`,
			`s.toml:11: benchmark "chat": regression.tolerances: "error_rate_timeout.value": error_rate_timeout is a ratio`,
		}},
		{"checked when disabled too", "[benchmark.regression]\ndisable = true\nmetrics = [\"ttfb.p95\", \"tpot.p5\"]\n", []string{
			`s.toml:12: benchmark "chat": regression.metrics: unknown stat "p5" in "tpot.p5" (did you mean "tpot.p50"?)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, minimal+tt.extra)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q\nwant it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestRegressionStatsCanonical: statistics spelt as thresholds allow reach
// the comparison under the names it uses.
func TestRegressionStatsCanonical(t *testing.T) {
	s, err := Parse("s.toml", []byte(minimal+"[benchmark.regression]\n"+
		"metrics = [\"ttft.median\", \"itl.p99.9\", \"e2e.p(95)\", \"error_rate.rate\", \"error_rate\"]\n"+
		"tolerances = { \"*\" = \"10%\", \"ttft.avg\" = \"20%\", \"itl\" = \"30%\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := s.Benchmarks[0].Regression
	if want := []string{"ttft.p50", "itl.p999", "e2e.p95", "error_rate.value", "error_rate"}; !reflect.DeepEqual(r.Metrics, want) {
		t.Errorf("metrics %q, want %q", r.Metrics, want)
	}
	if want := map[string]Ratio{"*": 0.1, "ttft.mean": 0.2, "itl": 0.3}; !reflect.DeepEqual(r.Tolerances, want) {
		t.Errorf("tolerances %v, want %v", r.Tolerances, want)
	}
}

// TestMaxInfrastructureErrors: the key defaults to analysis's default
// share, takes a percentage or a fraction, and 0 is kept as 0 (no
// connect or client failure allowed), not taken for "unset".
func TestMaxInfrastructureErrors(t *testing.T) {
	for _, tc := range []struct {
		line string
		want float64
	}{
		{"", analysis.DefaultInfrastructureLimit},
		{"max_infrastructure_errors = \"5%\"\n", 0.05},
		{"max_infrastructure_errors = 0.2\n", 0.2},
		{"max_infrastructure_errors = 0\n", 0},
		{"max_infrastructure_errors = \"0%\"\n", 0},
	} {
		s, err := Parse("s.toml", []byte(minimal+tc.line))
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		got := s.Benchmarks[0].MaxInfrastructureErrors
		if got == nil || float64(*got) != tc.want {
			t.Errorf("%q: max_infrastructure_errors %v, want %v", tc.line, got, tc.want)
		}
	}
}

// TestChromaValidation: every problem of a chroma benchmark is reported
// at once, before anything runs.
func TestChromaValidation(t *testing.T) {
	src := `schema_version = 1
[suite]
name = "c"
[[service]]
name = "db"
kind = "chroma"
[[benchmark]]
name = "b"
service = "db"
  [benchmark.workload]
  workload = "load"
  requests = 10
  filter = "colour"
  collection = "-x"
  [benchmark.dataset]
  fields = [{name = "category", cardinality = 3}]
[[benchmark]]
name = "m"
service = "db"
  [benchmark.workload]
  workload = "mixed"
  [benchmark.dataset]
  kind = "fvecs"
  fields = [{name = "", cardinality = 2}]
`
	_, err := Parse("c.toml", []byte(src))
	if err == nil {
		t.Fatal("no problems")
	}
	for _, want := range []string{
		"a load inserts the whole dataset once",
		`filter on "colour": the dataset has no such field`,
		`collection name "-x"`,
		`metadata field "" needs a name and cardinality`,
		"mixed needs writer_rate > 0",
		"an fvecs dataset needs base and query_file",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing problem %q in:\n%v", want, err)
		}
	}
	ok := strings.NewReplacer("  requests = 10\n", "", `filter = "colour"`, `filter = "category"`, `collection = "-x"`, `collection = "bench.x"`,
		`name = ""`, `name = "x"`, `workload = "mixed"`, "workload = \"mixed\"\n  writer_rate = 5", `kind = "fvecs"`, "dimension = 8").Replace(src)
	s, err := Parse("c.toml", []byte(ok))
	if err != nil {
		t.Fatalf("fixed suite: %v", err)
	}
	if got := s.Benchmarks[0].Kind; got != "chroma" {
		t.Errorf("kind %q, want chroma from the service", got)
	}
	if m := s.Benchmarks[1].DefaultRegressionMetrics(); !slices.Contains(m, "recall_at_10.mean") {
		t.Errorf("default regression metrics %v", m)
	}
	// k swept: every case's recall is compared (with the first k alone
	// taken, a k = 50 case's recall_at_50 went uncompared, silently).
	for _, k := range []string{"k = 50", "k = [10, 50]", "k = [\n    50,\n  ]"} {
		swept := strings.Replace(ok, "workload = \"mixed\"", k+"\n  workload = \"mixed\"", 1)
		s, err := Parse("c.toml", []byte(swept))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		m := s.Benchmarks[1].DefaultRegressionMetrics()
		if !slices.Contains(m, "recall_at_50.mean") || strings.Contains(k, "10") != slices.Contains(m, "recall_at_10.mean") {
			t.Errorf("%s: default regression metrics %v", k, m)
		}
	}
	// A recall no case measures, named in regression.metrics or
	// tolerances: a problem, not a comparison skipped silently.
	for _, tt := range []struct{ k, want string }{
		{"", `regression.metrics: "recall_at_100.mean": recall_at_100 is not measured: the benchmark's k is 10`},
		{"k = [10, 50]\n  ", `recall_at_100 is not measured: the benchmark's k is 10, 50`},
		{"k = [10, 100]\n  ", ""},
	} {
		src := strings.Replace(ok, "workload = \"mixed\"", tt.k+"workload = \"mixed\"", 1) +
			"  [benchmark.regression]\n  metrics = [\"recall_at_100.mean\", \"e2e.p95\"]\n  tolerances = { recall_at_100 = \"2%\" }\n"
		_, err := Parse("c.toml", []byte(src))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.k, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "regression.tolerances")):
			t.Errorf("%q: problems %v, want %q for metrics and tolerances", tt.k, err, tt.want)
		}
	}
}
