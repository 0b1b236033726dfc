package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/benchrun/benchrun/suites"
)

// The TOML examples of README.md and docs/*.md are suites or parts of
// suites, and TestDocTOML validates every one, so the docs cannot drift
// from the format. The info string of a fenced block says which it is:
//
//   - ```toml — a whole suite, validated as it stands;
//   - ```toml fragment — a part of a suite (a `[slurm]` table, one
//     service, a benchmark's sweep). It must be valid TOML and not a whole
//     suite, and is validated completed by the parts of fragmentBase it
//     lacks, appended after it: the `[suite]` table if it has none, the
//     service named "vllm" if it has no service of that name, and the
//     benchmark "chat" on it if it has no [[benchmark]]. So a fragment may
//     refer to the service "vllm" without defining it.
//
// Any other word after toml is an error, so a typo cannot exempt a block.

// fragmentBase completes a fragment; see above.
var fragmentBase = struct{ suite, service, benchmark string }{
	suite: "[suite]\nname = \"doc-fragment\"\n",
	service: "[[service]]\nname = \"vllm\"\nkind = \"vllm\"\n" +
		"model = \"meta-llama/Meta-Llama-3-8B-Instruct\"\n",
	benchmark: "[[benchmark]]\nname = \"chat\"\nservice = \"vllm\"\n",
}

// docBlock is one fenced ```toml block of a markdown file.
type docBlock struct {
	file     string
	line     int // of the opening fence; the block's first line is line+1
	fragment bool
	src      string
}

// tomlBlocks returns the ```toml fenced blocks of a markdown text: fences
// of three or more ` or ~ as CommonMark reads them, but at any
// indentation (the opening fence's is removed from the block's lines).
func tomlBlocks(file, text string) ([]docBlock, error) {
	var blocks []docBlock
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " \t")
		indent := len(lines[i]) - len(trimmed)
		fence := trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
		if len(fence) < 3 {
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "~"))]
		}
		if len(fence) < 3 || fence[0] == '`' && strings.Contains(trimmed[len(fence):], "`") {
			continue // not a fence: a backtick fence's info string has no backtick
		}
		info := strings.Fields(trimmed[len(fence):])
		end := i + 1
		for ; end < len(lines); end++ {
			t := strings.TrimSpace(lines[end])
			if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				break
			}
		}
		if end == len(lines) {
			return nil, fmt.Errorf("%s:%d: fenced block never closed", file, i+1)
		}
		if len(info) > 0 && info[0] == "toml" {
			b := docBlock{file: file, line: i + 1}
			switch {
			case len(info) == 1:
			case len(info) == 2 && info[1] == "fragment":
				b.fragment = true
			default:
				return nil, fmt.Errorf("%s:%d: info string %q: want \"toml\" (a whole suite) or \"toml fragment\" (a part of one)", file, i+1, strings.Join(info, " "))
			}
			var body strings.Builder
			for _, l := range lines[i+1 : end] {
				n := min(indent, len(l)-len(strings.TrimLeft(l, " \t")))
				body.WriteString(l[n:])
				body.WriteByte('\n')
			}
			b.src = body.String()
			blocks = append(blocks, b)
		}
		i = end
	}
	return blocks, nil
}

// completed returns a fragment with the parts of fragmentBase it lacks
// appended, or the problem that keeps it from being one.
func (b docBlock) completed() (string, error) {
	var tree map[string]any
	if _, err := toml.Decode(b.src, &tree); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("%s:%d: TOML syntax: %s", b.file, b.line+pe.Position.Line, pe.Message)
		}
		return "", fmt.Errorf("%s:%d: %v", b.file, b.line+1, err)
	}
	if _, err := suites.Parse(b.file, []byte(b.src)); err == nil {
		return "", fmt.Errorf("%s:%d: a whole suite marked ```toml fragment: mark it ```toml", b.file, b.line)
	}
	src := b.src
	if _, ok := tree["suite"]; !ok {
		src += fragmentBase.suite
	}
	services, _ := tree["service"].([]map[string]any)
	if !slices.ContainsFunc(services, func(sv map[string]any) bool { return sv["name"] == "vllm" }) {
		src += fragmentBase.service
	}
	if _, ok := tree["benchmark"]; !ok {
		src += fragmentBase.benchmark
	}
	return src, nil
}

// check validates the block; each problem names the line of the markdown
// file it is on (a problem in what completes a fragment, the fence's).
func (b docBlock) check() []string {
	src := b.src
	kind := "```toml"
	if b.fragment {
		kind = "```toml fragment"
		var err error
		if src, err = b.completed(); err != nil {
			return []string{err.Error()}
		}
	}
	_, err := suites.Parse(b.file, []byte(src))
	if err == nil {
		return nil
	}
	var probs suites.Problems
	if !errors.As(err, &probs) {
		return []string{fmt.Sprintf("%s:%d: %s block: %v", b.file, b.line, kind, err)}
	}
	blockLines := strings.Count(b.src, "\n")
	var out []string
	for _, p := range probs {
		// Examples name the user's dataset files (datasets/sharegpt.json),
		// which are not in the repository: the format is what is checked.
		if strings.Contains(p.Msg, "paths are relative to the suite file") {
			continue
		}
		line, note := b.line, ""
		switch {
		case p.Line > 0 && p.Line <= blockLines:
			line += p.Line
		case p.Line > blockLines:
			note = " (in what completes the fragment)"
		}
		out = append(out, fmt.Sprintf("%s:%d: %s block: %s%s", b.file, line, kind, p.Msg, note))
	}
	if !b.fragment && len(out) > 0 {
		out = append(out, fmt.Sprintf("%s:%d: (if the block is a part of a suite, mark it ```toml fragment)", b.file, b.line))
	}
	return out
}

func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, files...)
}

// TestDocTOML validates every ```toml block of README.md and docs/*.md.
func TestDocTOML(t *testing.T) {
	wholes, fragments := 0, 0
	for _, file := range docFiles(t) {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := tomlBlocks(file, string(text))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, b := range blocks {
			if b.fragment {
				fragments++
			} else {
				wholes++
			}
			for _, p := range b.check() {
				t.Error(p)
			}
		}
	}
	// The README's suite and the complete examples of docs/suite-format.md
	// at least; none found means the files moved, not that all is well.
	if wholes == 0 || fragments == 0 {
		t.Errorf("found %d whole-suite and %d fragment ```toml blocks: want some of each", wholes, fragments)
	}
}

// TestDocTOMLCheck shows what the doc test catches.
func TestDocTOMLCheck(t *testing.T) {
	const whole = "[suite]\nname = \"s\"\n[[service]]\nname = \"vllm\"\nkind = \"vllm\"\nmodel = \"m\"\n[[benchmark]]\nname = \"b\"\nservice = \"vllm\"\n"
	tests := []struct {
		name string
		md   string
		want []string // each a substring of one problem, in order; none: valid
	}{
		{"whole suite", "text\n```toml\n" + whole + "```\n", nil},
		{"whole suite, unknown key at its line", "a\nb\n```toml\n" + strings.Replace(whole, "kind = \"vllm\"", "knd = \"vllm\"", 1) + "```\n",
			[]string{"doc.md:8: ```toml block: unknown key \"knd\"", "doc.md:3: (if the block is a part of a suite"}},
		{"part of a suite not marked", "```toml\n[slurm]\npartition = \"gpu\"\n```\n",
			[]string{"suite.name is required", "no [[benchmark]]", "mark it ```toml fragment"}},
		{"slurm fragment", "```toml fragment\n[slurm]\npartition = \"gpu\"\nnodes = 2\n```\n", nil},
		{"fragment with a bad value at its line", "x\n```toml fragment\n[slurm]\npartition = \"gpu;x\"\n```\n",
			[]string{"doc.md:4: ```toml fragment block: slurm.partition"}},
		{"fragment on the base service", "```toml fragment\n[[benchmark]]\nname = \"chat\"\nservice = \"vllm\"\n  [benchmark.workload]\n  users = [8, 32]\n```\n", nil},
		{"fragment on an unknown service", "```toml fragment\n[[benchmark]]\nname = \"chat\"\nservice = \"llm\"\n```\n",
			[]string{"doc.md:4: ```toml fragment block: benchmark \"chat\": service \"llm\" is not defined"}},
		{"service fragment", "```toml fragment\n[[service]]\nname = \"big\"\nkind = \"vllm\"\nmodel = \"m\"\n```\n", nil},
		{"service fragment without a model", "```toml fragment\n[[service]]\nname = \"big\"\nkind = \"vllm\"\n```\n",
			[]string{"doc.md:2: ```toml fragment block: service \"big\": a vllm service started by benchrun needs model"}},
		{"whole suite marked fragment", "```toml fragment\n" + whole + "```\n", []string{"doc.md:1: a whole suite marked ```toml fragment"}},
		{"fragment that is not TOML", "a\n```toml fragment\n[slurm]\npartition = gpu\n```\n", []string{"doc.md:4: TOML syntax"}},
		{"unknown info word", "```toml fragmnet\n[slurm]\n```\n", []string{"doc.md:1: info string \"toml fragmnet\""}},
		{"never closed", "```toml\n[suite]\n", []string{"doc.md:1: fenced block never closed"}},
		{"inline code at the start of a line", "```` ```toml ```` blocks\nare checked\n", nil},
		{"other languages are not checked", "```sh\nbenchrun suite x.toml\n```\n~~~json\n{}\n~~~\n", nil},
		{"tilde fence, indented in a list", "- item\n\n  ~~~~toml\n  " + strings.ReplaceAll(whole, "\n", "\n  ") + "~~~~\n", nil},
		{"shorter fence inside a longer one", "````toml fragment\n[suite]\nname = \"s\"\ndescription = \"\"\"\n```\n\"\"\"\n````\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			blocks, err := tomlBlocks("doc.md", tt.md)
			if err != nil {
				got = []string{err.Error()}
			}
			for _, b := range blocks {
				got = append(got, b.check()...)
			}
			if len(tt.want) == 0 && len(got) > 0 || len(tt.want) > 0 && len(got) == 0 {
				t.Fatalf("problems %q, want %q", got, tt.want)
			}
			rest := got
			for _, w := range tt.want {
				i := slices.IndexFunc(rest, func(p string) bool { return strings.Contains(p, w) })
				if i < 0 {
					t.Fatalf("problems %q: none (in order) contains %q", got, w)
				}
				rest = rest[i+1:]
			}
		})
	}
}

// The tests docs/reliability.md cites as `package.TestName` (or
// `package.TestName/subtest`) exist, so the document cannot drift from the
// tests that show what it claims: TestReliabilityDocCitesTests.

// citedTestRE matches a test cited in backticks: package, test, and the
// subtest path ("/a/b"), if any.
var citedTestRE = regexp.MustCompile("`([a-z][a-z0-9]*)\\.((?:Test|Fuzz)[A-Za-z0-9_]*)((?:/[^`/]+)*)`")

// bareTestRE matches a test name cited without its package.
var bareTestRE = regexp.MustCompile("`(?:Test|Fuzz)[A-Za-z0-9_]*(?:/[^`]*)?`")

// testIndex holds, by package name, the tests (Test and Fuzz functions)
// of its _test.go files and the string literals of those files, which
// name the subtests (t.Run's names, table rows).
type testIndex map[string]*pkgTests

type pkgTests struct {
	funcs   map[string]bool
	strings map[string]bool // as go test names a subtest: spaces as '_'
}

// indexTests reads every _test.go file of the module below root.
func indexTests(root string) (testIndex, error) {
	idx := testIndex{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(f.Name.Name, "_test")
		pt := idx[name]
		if pt == nil {
			pt = &pkgTests{funcs: map[string]bool{}, strings: map[string]bool{}}
			idx[name] = pt
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil {
				pt.funcs[fn.Name.Name] = true
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					pt.strings[strings.ReplaceAll(s, " ", "_")] = true
				}
			}
			return true
		})
		return nil
	})
	return idx, err
}

// citedTestProblems returns a problem for each test doc cites that idx
// does not hold, and for each test cited without its package; n is the
// number of tests cited.
func citedTestProblems(file, doc string, idx testIndex) (problems []string, n int) {
	for i, line := range strings.Split(doc, "\n") {
		for _, m := range citedTestRE.FindAllStringSubmatch(line, -1) {
			n++
			pkg, test, subs := m[1], m[2], m[3]
			pt := idx[pkg]
			switch {
			case pt == nil:
				problems = append(problems, fmt.Sprintf("%s:%d: %s.%s: no package %s has tests", file, i+1, pkg, test, pkg))
				continue
			case !pt.funcs[test]:
				problems = append(problems, fmt.Sprintf("%s:%d: %s.%s: no such test in package %s", file, i+1, pkg, test, pkg))
				continue
			}
			for _, sub := range strings.Split(strings.TrimPrefix(subs, "/"), "/") {
				if sub != "" && sub != "…" && !pt.strings[sub] {
					problems = append(problems, fmt.Sprintf("%s:%d: %s.%s%s: no subtest named %q in package %s", file, i+1, pkg, test, subs, sub, pkg))
				}
			}
		}
		for _, m := range bareTestRE.FindAllString(line, -1) {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: name the test with its package (`pkg.TestName`)", file, i+1, m))
		}
	}
	return problems, n
}

// TestReliabilityDocCitesTests: every test docs/reliability.md cites
// exists, with its subtest.
func TestReliabilityDocCitesTests(t *testing.T) {
	const file = "docs/reliability.md"
	doc, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := indexTests(".")
	if err != nil {
		t.Fatal(err)
	}
	problems, n := citedTestProblems(file, string(doc), idx)
	for _, p := range problems {
		t.Error(p)
	}
	// Every fault has a test: none found means the notation changed.
	if n < 50 {
		t.Errorf("%s cites %d tests as `package.TestName`: want every fault's", file, n)
	}
}

// TestCitedTestProblems shows what the reliability doc test catches.
func TestCitedTestProblems(t *testing.T) {
	idx := testIndex{"ci": {
		funcs:   map[string]bool{"TestFaultMatrix": true},
		strings: map[string]bool{"service_never_ready": true, "disk_full": true},
	}}
	for _, tt := range []struct {
		name, doc string
		want      []string // each a substring of one problem, in order; none: no problem
	}{
		{"test and subtests", "| x | `ci.TestFaultMatrix`, `ci.TestFaultMatrix/service_never_ready` |\n`ci.TestFaultMatrix/…`", nil},
		{"prose is not a citation", "ci.TestFaultMatrix and `go test -run TestFaultMatrix ./ci`", nil},
		{"no such test", "a\n`ci.TestFaultMatrx`", []string{"doc.md:2: ci.TestFaultMatrx: no such test in package ci"}},
		{"no such package", "`cli.TestFaultMatrix`", []string{"no package cli has tests"}},
		{"no such subtest", "`ci.TestFaultMatrix/disk_ful`", []string{`no subtest named "disk_ful"`}},
		{"without its package", "`TestFaultMatrix`, `FuzzParse`", []string{"`TestFaultMatrix`: name the test with its package", "`FuzzParse`: name the test"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := citedTestProblems("doc.md", tt.doc, idx)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q does not contain %q", got[i], w)
				}
			}
		})
	}
}
