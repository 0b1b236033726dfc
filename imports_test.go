package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// importRule forbids the packages matching from to depend on a package
// matching never, unless it also matches except. A pattern names packages
// of the module by their path inside it: "runner" is that package alone,
// "runner/..." it and every package below it, "..." every package of the
// module. Depending counts imports through other packages of the module
// too: report → baselines → runner breaks a rule of report as well as one
// of baselines. Only the production code is checked; a test file may
// import what helps it test.
type importRule struct {
	from   []string
	never  []string
	except []string
	why    string
}

// importRules are the dependency rules of docs/design.md, one row per
// rule with its reason. A pattern that matches no package is an error, so
// a moved or renamed package cannot silently leave a rule guarding
// nothing: update the rule and docs/design.md together.
var importRules = []importRule{
	{
		from:   []string{"analysis/...", "baselines/...", "report/..."},
		never:  []string{"runner/...", "slurm/..."},
		except: []string{"runner/results/..."},
		why: "analysis, comparison and reports work from a results directory alone, so `benchrun report DIR` " +
			"re-renders without executing anything; the results format (runner/results) is all they share with execution",
	},
	{
		from:  []string{"runner/..."},
		never: []string{"analysis/...", "baselines/...", "report/...", "suites/...", "ci/...", "slurm/..."},
		why: "execution is the bottom layer: it runs services and load and writes samples, " +
			"and knows neither the suite format nor the analysis, reports, CI or SLURM built on it",
	},
	{
		from:  []string{"runner/results/..."},
		never: []string{"..."},
		why:   "the results format is the leaf that execution and analysis share; it executes and computes nothing",
	},
	{
		from:  []string{"runner/h1/..."},
		never: []string{"..."},
		why:   "the HTTP/1.1 transport is a leaf: it speaks HTTP and knows nothing of benchrun's drivers, samples or stamps",
	},
	{
		from:  []string{"suites/..."},
		never: []string{"report/...", "baselines/...", "ci/..."},
		why: "the suite format is decoded and validated before anything runs; " +
			"reports, verdicts and the CLI are built on it, not under it",
	},
}

// matchPackage reports whether pkg (a path inside the module, "." for the
// module's root) matches an importRule pattern.
func matchPackage(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if tree, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == tree || strings.HasPrefix(pkg, tree+"/")
	}
	return pkg == pattern
}

func matchAny(patterns []string, pkg string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matchPackage(p, pkg) })
}

// importGraph maps each package of the module, by its path inside the
// module ("." for the root), to the packages of the module it imports.
type importGraph map[string][]string

// importViolation is a package that depends on one a rule forbids it,
// through path (from the package to the forbidden one, both included).
type importViolation struct {
	pkg, dep string
	path     []string
	rule     importRule
}

func (v importViolation) String() string {
	via := ""
	if len(v.path) > 2 {
		via = " (" + strings.Join(v.path, " → ") + ")"
	}
	return v.pkg + " depends on " + v.dep + via + ": " + v.rule.why
}

// violations lists every dependency that breaks a rule, sorted by package
// and dependency, each once (with the first rule it breaks) and with a
// shortest import path that makes it.
func (g importGraph) violations(rules []importRule) []importViolation {
	var out []importViolation
	for _, pkg := range slices.Sorted(maps.Keys(g)) {
		deps := g.reach(pkg)
		for _, dep := range slices.Sorted(maps.Keys(deps)) {
			for _, rule := range rules {
				if matchAny(rule.from, pkg) && matchAny(rule.never, dep) && !matchAny(rule.except, dep) {
					out = append(out, importViolation{pkg: pkg, dep: dep, path: deps[dep], rule: rule})
					break
				}
			}
		}
	}
	return out
}

// reach returns every package pkg depends on, each with a shortest import
// path from pkg to it.
func (g importGraph) reach(pkg string) map[string][]string {
	paths := map[string][]string{}
	queue := [][]string{{pkg}}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		for _, next := range g[path[len(path)-1]] {
			if _, seen := paths[next]; seen || next == pkg {
				continue
			}
			p := append(slices.Clip(path), next)
			paths[next] = p
			queue = append(queue, p)
		}
	}
	return paths
}

// unmatched lists the patterns of rules that match no package of g.
func (g importGraph) unmatched(rules []importRule) []string {
	var out []string
	for _, rule := range rules {
		for _, pattern := range slices.Concat(rule.from, rule.never, rule.except) {
			if !slices.ContainsFunc(slices.Collect(maps.Keys(g)), func(pkg string) bool { return matchPackage(pattern, pkg) }) {
				out = append(out, pattern)
			}
		}
	}
	return out
}

// loadImportGraph reads the module's package graph with one go list call.
func loadImportGraph(t *testing.T) importGraph {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Module", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	type listed struct {
		ImportPath string
		Imports    []string
		Module     *struct{ Path string }
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Module == nil {
			t.Fatalf("go list: package %s is in no module", p.ImportPath)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list listed no packages")
	}
	module := pkgs[0].Module.Path
	inModule := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		rel, ok := strings.CutPrefix(path, module+"/")
		return rel, ok
	}
	g := importGraph{}
	for _, p := range pkgs {
		rel, ok := inModule(p.ImportPath)
		if !ok {
			t.Fatalf("go list: package %s is outside module %s", p.ImportPath, module)
		}
		g[rel] = []string{}
		for _, imp := range p.Imports {
			if dep, ok := inModule(imp); ok {
				g[rel] = append(g[rel], dep)
			}
		}
	}
	return g
}

// TestImportRules checks the module's packages against importRules.
func TestImportRules(t *testing.T) {
	g := loadImportGraph(t)
	for _, pattern := range g.unmatched(importRules) {
		t.Errorf("import rule pattern %q matches no package: update importRules and docs/design.md", pattern)
	}
	for _, v := range g.violations(importRules) {
		t.Error(v)
	}
}

// TestImportRulesCheck shows the checker catches violations, direct and
// through other packages, and lets the allowed imports through.
func TestImportRulesCheck(t *testing.T) {
	// clean is the shape the rules describe.
	clean := importGraph{
		".":              {"ci"},
		"ci":             {"analysis", "baselines", "report", "runner", "runner/openai", "runner/results", "slurm", "suites"},
		"analysis":       {"runner/results"},
		"baselines":      {"analysis", "runner/results"},
		"report":         {"analysis", "baselines", "runner/results"},
		"runner":         {"runner/results"},
		"runner/openai":  {"runner", "runner/results"},
		"runner/results": {},
		"slurm":          {},
		"suites":         {"analysis", "runner", "runner/openai", "slurm"},
	}
	with := func(pkg string, imports ...string) importGraph {
		g := importGraph{}
		for k, v := range clean {
			g[k] = slices.Clone(v)
		}
		g[pkg] = append(g[pkg], imports...)
		return g
	}
	type pair struct{ pkg, dep string }
	tests := []struct {
		name string
		g    importGraph
		want []pair // sorted
	}{
		{"clean", clean, nil},
		{"report imports runner", with("report", "runner"), []pair{{"report", "runner"}}},
		{"analysis imports a runner subpackage", with("analysis", "runner/openai"),
			// analysis → runner/openai → runner; baselines and report reach both through analysis.
			[]pair{{"analysis", "runner"}, {"analysis", "runner/openai"}, {"baselines", "runner"}, {"baselines", "runner/openai"}, {"report", "runner"}, {"report", "runner/openai"}}},
		{"baselines imports slurm", with("baselines", "slurm"), []pair{{"baselines", "slurm"}, {"report", "slurm"}}},
		{"runner imports analysis", with("runner", "analysis"), []pair{{"runner", "analysis"}, {"runner/openai", "analysis"}}},
		{"runner subpackage imports suites", with("runner/openai", "suites"),
			// and through suites analysis and slurm; suites → runner stays allowed.
			[]pair{{"runner/openai", "analysis"}, {"runner/openai", "slurm"}, {"runner/openai", "suites"}}},
		{"runner imports ci", with("runner", "ci"),
			// ci reaches everything; suites reaches ci through runner.
			[]pair{
				{"runner", "analysis"}, {"runner", "baselines"}, {"runner", "ci"}, {"runner", "report"}, {"runner", "slurm"}, {"runner", "suites"},
				{"runner/openai", "analysis"}, {"runner/openai", "baselines"}, {"runner/openai", "ci"}, {"runner/openai", "report"}, {"runner/openai", "slurm"}, {"runner/openai", "suites"},
				{"suites", "baselines"}, {"suites", "ci"}, {"suites", "report"},
			}},
		{"results imports runner", with("runner/results", "runner"),
			[]pair{{"analysis", "runner"}, {"baselines", "runner"}, {"report", "runner"}, {"runner/results", "runner"}}},
		{"results imports analysis", with("runner/results", "analysis"),
			// Two rules forbid results → analysis: it is reported once.
			[]pair{{"runner", "analysis"}, {"runner/openai", "analysis"}, {"runner/results", "analysis"}}},
		{"suites imports report", with("suites", "report"), []pair{{"suites", "baselines"}, {"suites", "report"}}},
		{"suites imports ci", with("suites", "ci"), []pair{{"suites", "baselines"}, {"suites", "ci"}, {"suites", "report"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []pair
			for _, v := range tt.g.violations(importRules) {
				got = append(got, pair{v.pkg, v.dep})
				if v.path[0] != v.pkg || v.path[len(v.path)-1] != v.dep {
					t.Errorf("%v: path %v does not lead from %s to %s", v, v.path, v.pkg, v.dep)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestImportViolationNamesThePath(t *testing.T) {
	g := importGraph{"report": {"baselines"}, "baselines": {"runner"}, "runner": {}}
	vs := g.violations(importRules)
	var msgs []string
	for _, v := range vs {
		msgs = append(msgs, v.String())
	}
	want := "report depends on runner (report → baselines → runner): " + importRules[0].why
	if !slices.Contains(msgs, want) {
		t.Errorf("messages %q lack %q", msgs, want)
	}
}

func TestImportRulesUnmatched(t *testing.T) {
	g := importGraph{"analysis": {}, "runner": {}}
	rules := []importRule{{from: []string{"analysis/..."}, never: []string{"runner", "slurm/..."}, except: []string{"runner/results/..."}}}
	if got, want := g.unmatched(rules), []string{"slurm/...", "runner/results/..."}; !slices.Equal(got, want) {
		t.Errorf("unmatched %q, want %q", got, want)
	}
}
