package ci

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function of package ci may be, from its
// func keyword to its closing brace: one step of the pipeline per
// function, short enough to hold in one's head.
const maxFuncLines = 80

// longFuncs are functions allowed over maxFuncLines for now, each with the
// reason. An entry that is no longer needed fails the test too, so the
// list only shrinks.
var longFuncs = map[string]string{
	"emulate.go:emulateCommand": "moves with the emulators (issue 10); split its flags out there",
}

func TestFunctionLength(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := f + ":" + fd.Name.Name
			n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			if _, allowed := longFuncs[name]; allowed {
				seen[name] = n > maxFuncLines
				continue
			}
			if n > maxFuncLines {
				t.Errorf("%s is %d lines, over %d: split it into steps", name, n, maxFuncLines)
			}
		}
	}
	for name := range longFuncs {
		if !seen[name] {
			t.Errorf("%s is no longer over %d lines (or gone): remove it from longFuncs", name, maxFuncLines)
		}
	}
}
