package suites

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// numberKeys returns every numeric key of the suite format (array indexes
// left out, "*" for any key of a table) with its Go type.
func numberKeys() map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	var walk func(prefix string, t reflect.Type, sweep string)
	walk = func(prefix string, t reflect.Type, sweep string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.String {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Int || t.Kind() == reflect.Int64 || t.Kind() == reflect.Float64:
			keys[prefix] = t
		case t.Kind() == reflect.Map && sweep != "":
			for _, k := range kinds {
				proto := k.workload()
				if sweep == "dataset" {
					proto = k.dataset()
				}
				walk(prefix, reflect.TypeOf(proto), "")
			}
		case t.Kind() == reflect.Map:
			walk(prefix+".*", t.Elem(), "")
		case t.Kind() == reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() || f.Tag.Get("toml") == "-" {
					continue
				}
				name := tomlName(f)
				if prefix != "" {
					name = prefix + "." + name
				}
				walk(name, f.Type, f.Tag.Get("sweep"))
			}
		}
	}
	walk("", reflect.TypeFor[Suite](), "")
	return keys
}

// TestBoundsCoverEveryNumber: every number of the format has a bound, and
// every bound names a number of the format and parses as its type.
func TestBoundsCoverEveryNumber(t *testing.T) {
	keys := numberKeys()
	bounded := map[string]bool{}
	for _, b := range bounds {
		bounded[b.Key] = true
		typ, ok := keys[b.Key]
		if !ok {
			t.Errorf("bound of %s: no such number in the suite format", b.Key)
			continue
		}
		for _, end := range []string{b.Lo, b.Hi} {
			if _, err := limit(typ, end); err != nil {
				t.Errorf("bound of %s: %q is not a %s: %v", b.Key, end, typ, err)
			}
		}
		if b.Why == "" || strings.Contains(b.Why, "|") {
			t.Errorf("bound of %s: want a reason without |, got %q", b.Key, b.Why)
		}
	}
	for k, typ := range keys {
		if !bounded[k] {
			t.Errorf("%s (%s) has no bound: add it to bounds in bounds.go", k, typ)
		}
	}
}

// beyond returns the bound's ends and the values just outside them, as
// the TOML decoder gives them (the largest int64 has nothing above it).
func beyond(t *testing.T, typ reflect.Type, b bound) (inside, outside []any) {
	t.Helper()
	switch typ {
	case reflect.TypeFor[Duration]():
		lo, _ := time.ParseDuration(b.Lo)
		hi, _ := time.ParseDuration(b.Hi)
		return []any{b.Lo, b.Hi}, []any{(hi + time.Nanosecond).String(), (lo - time.Nanosecond).String()}
	case reflect.TypeFor[Ratio]():
		var lo, hi Ratio
		if lo.UnmarshalText([]byte(b.Lo)) != nil || hi.UnmarshalText([]byte(b.Hi)) != nil {
			t.Fatalf("bound %s … %s", b.Lo, b.Hi)
		}
		return []any{b.Lo, b.Hi}, []any{math.Nextafter(float64(hi), math.Inf(1)), math.Nextafter(float64(lo), math.Inf(-1))}
	}
	switch typ.Kind() {
	case reflect.Int, reflect.Int64:
		lo, _ := strconv.ParseInt(b.Lo, 10, 64)
		hi, _ := strconv.ParseInt(b.Hi, 10, 64)
		inside, outside = []any{lo, hi}, []any{lo - 1}
		if hi < math.MaxInt64 {
			outside = append(outside, hi+1)
		}
	case reflect.Float64:
		lo, _ := strconv.ParseFloat(b.Lo, 64)
		hi, _ := strconv.ParseFloat(b.Hi, 64)
		inside = []any{lo, hi}
		outside = []any{math.Nextafter(hi, math.Inf(1)), math.Nextafter(lo, math.Inf(-1))}
	}
	return inside, outside
}

// TestBoundsEnds: each bound's ends are accepted and the values just
// beyond them refused, at the key's line.
func TestBoundsEnds(t *testing.T) {
	keys := numberKeys()
	for _, b := range bounds {
		t.Run(b.Key, func(t *testing.T) {
			typ := keys[b.Key]
			path := strings.Split(b.Key, ".")
			if i := slices.Index(path, "*"); i >= 0 {
				path[i] = "ttft.p99"
			}
			pos := &positions{lines: map[string]int{strings.Join(path, "."): 7}}
			inside, outside := beyond(t, typ, b)
			for _, v := range inside {
				d := &decoder{file: "s.toml", pos: pos}
				d.assign(path, v, reflect.New(typ).Elem(), "")
				if len(d.probs) > 0 {
					t.Errorf("%v refused: %v", v, d.probs)
				}
			}
			for _, v := range outside {
				d := &decoder{file: "s.toml", pos: pos}
				d.assign(path, v, reflect.New(typ).Elem(), "")
				if len(d.probs) != 1 || d.probs[0].Line != 7 {
					t.Errorf("%v: problems %v, want one at line 7", v, d.probs)
				}
			}
		})
	}
}

// TestBoundsDocumented: docs/suite-format.md shows the bounds as they are
// (go test ./suites -run Bounds -update rewrites the table).
func TestBoundsDocumented(t *testing.T) {
	const path = "../docs/suite-format.md"
	const start, end = "<!-- bounds: from suites/bounds.go -->\n", "<!-- /bounds -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, start), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q … %q block", path, start, end)
	}
	// The example output is what validate prints.
	src, err := os.ReadFile("testdata/bad/many.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, perr := Parse("many.toml", src)
	var ps Problems
	if !errors.As(perr, &ps) {
		t.Fatalf("many.toml: %v", perr)
	}
	examples := 0
	for _, l := range strings.Split(doc[strings.Index(doc, "## Bounds"):i], "\n") {
		if strings.HasPrefix(l, "many.toml:") {
			examples++
			if !slices.ContainsFunc(ps, func(p Problem) bool { return p.String() == l }) {
				t.Errorf("%s: example %q is not what validate prints:\n%v", path, l, ps)
			}
		}
	}
	if examples == 0 {
		t.Errorf("%s: no example output in ## Bounds", path)
	}
	want := boundsTable()
	if got := doc[i+len(start) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(doc[:i+len(start)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s: the bounds table is stale (go test ./suites -run Bounds -update rewrites it):\n%s", path, want)
	}
}

// want is one expected problem: a "# want: MESSAGE" comment at its line.
type want struct {
	line int
	msg  string
}

func wants(t *testing.T, file string) []want {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ws []want
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if _, msg, ok := strings.Cut(sc.Text(), "# want: "); ok {
			ws = append(ws, want{n, msg})
		}
	}
	return ws
}

// TestBadSuites: each suite of testdata/bad is refused with exactly the
// problems its "# want: MESSAGE" comments name, each at the comment's line
// as file:line: MESSAGE, all at once. ci's TestValidateBadSuites runs
// benchrun validate on the same files.
func TestBadSuites(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.toml")
	if len(files) < 25 {
		t.Fatalf("%d bad suites, want at least 25", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ws := wants(t, file)
			if len(ws) == 0 {
				t.Fatal("no # want: comments")
			}
			_, err := Load(file)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want problems, got %v", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			for _, w := range ws {
				prefix := file + ":" + strconv.Itoa(w.line) + ": " + w.msg
				i := slices.IndexFunc(got, func(g string) bool { return strings.HasPrefix(g, prefix) })
				if i < 0 {
					t.Errorf("no problem %q", prefix)
					continue
				}
				got = slices.Delete(got, i, i+1)
			}
			for _, g := range got {
				t.Errorf("unexpected problem %q", g)
			}
		})
	}
}

// TestDatasetFileRelativeToSuite: a dataset path is looked up next to the
// suite file, not in the working directory.
func TestDatasetFileRelativeToSuite(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.jsonl"), []byte(`{"prompt": "hi"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(dir, "s.toml")
	if err := os.WriteFile(suite, []byte(minimal+"[benchmark.dataset]\nkind = \"jsonl\"\npath = \"p.jsonl\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(suite); err != nil {
		t.Errorf("dataset next to the suite: %v", err)
	}
	if _, err := Parse("elsewhere/s.toml", []byte(minimal+"[benchmark.dataset]\nkind = \"jsonl\"\npath = \"p.jsonl\"\n")); err == nil ||
		!strings.Contains(err.Error(), `elsewhere/s.toml:12: benchmark "chat": dataset file "p.jsonl" does not exist (looked for elsewhere/p.jsonl`) {
		t.Errorf("missing dataset: %v", err)
	}
}

// boundsTable renders bounds as the Markdown table of docs/suite-format.md.
func boundsTable() string {
	var b strings.Builder
	b.WriteString("| key | allowed | why |\n|---|---|---|\n")
	for _, x := range bounds {
		fmt.Fprintf(&b, "| `%s` | `%s` … `%s` | %s |\n", x.Key, x.Lo, x.Hi, x.Why)
	}
	return b.String()
}
