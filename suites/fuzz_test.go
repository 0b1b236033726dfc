package suites

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// seedSuites adds every suite in the repository to the fuzz corpus.
func seedSuites(f *testing.F, add func(string)) {
	f.Helper()
	var files []string
	for _, pattern := range []string{"../examples/*.toml", "testdata/*.toml", "testdata/bad/*.toml", "../ci/testdata/*.toml"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) == 0 {
		f.Fatal("no suites to seed the corpus with")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(string(b))
	}
	add(minimal)
}

// FuzzParse: Parse never panics; it returns a suite whose cases expand, or
// problems that name the file and a line of it (0: no single place), the
// same problems in the same order every time.
func FuzzParse(f *testing.F) {
	seedSuites(f, func(s string) { f.Add([]byte(s)) })
	f.Fuzz(func(t *testing.T, src []byte) {
		const file = "fuzz.toml"
		lines := strings.Count(string(src), "\n") + 1
		s, err := Parse(file, src)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("want Problems, got %T: %v", err, err)
			}
			for _, p := range ps {
				if p.File != file || p.Line < 0 || p.Line > lines || p.Msg == "" {
					t.Errorf("problem %+v: want file %s and a line in 0…%d", p, file, lines)
				}
			}
			if _, again := Parse(file, src); again.Error() != err.Error() {
				t.Errorf("problems differ between two runs:\n%v\n---\n%v", err, again)
			}
			return
		}
		cases := s.Cases()
		if len(cases) < len(s.Benchmarks) || len(cases) > maxCases*len(s.Benchmarks) {
			t.Errorf("%d benchmarks expand into %d cases", len(s.Benchmarks), len(cases))
		}
	})
}

// FuzzPositions: the line scanner never panics or loops, records only
// lines of the text, and finds every top-level key of a valid TOML file.
func FuzzPositions(f *testing.F) {
	seedSuites(f, func(s string) { f.Add(s) })
	for _, s := range []string{
		"a = [\n 1, # c\n \"x,]\",\n [2, 3],\n { b = 1 },\n]\nb = 2\n",
		"s = \"\"\"\nk = v\n\"\"\"\nt = '''\n'''\n",
		"\"quoted.key\" = 1\n'lit' = 2\na.b.c = 3\n",
		"[[x]]\n[x.y]\nz = 1\n[[x]]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		p := indexPositions(src)
		for k, l := range p.lines {
			if l < 1 || l > lines {
				t.Errorf("key %q at line %d, want 1…%d", k, l, lines)
			}
		}
		var tree map[string]any
		if _, err := toml.Decode(src, &tree); err != nil {
			return
		}
		for k := range tree {
			if _, ok := p.lines[k]; !ok {
				t.Errorf("top-level key %q has no line (indexed: %v)", k, p.lines)
			}
		}
	})
}
