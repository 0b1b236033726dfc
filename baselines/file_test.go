package baselines

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// goodFile is a valid baseline file of suite name with one entry.
func goodFile(name string) string {
	return `{
  "version": 1,
  "suite": "` + name + `",
  "benchmarks": {
    "chat": {
      "chat/users=4": {"fingerprint": {}, "run": {"start": "2025-03-01T02:00:00Z"}, "repetitions": 1, "seconds": 2, "metrics": {}}
    }
  }
}
`
}

func writeBaseline(t *testing.T, dir, suite, text string) string {
	t.Helper()
	p := Path(dir, suite)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadNamesFileAndLine: a baseline file that does not check is an
// error naming the file and, for a problem in the JSON text, its line and
// column; never an empty baseline (every case "no baseline", a pass).
func TestLoadNamesFileAndLine(t *testing.T) {
	tests := []struct {
		name, text string
		want       string // the error after "baseline <path>"
	}{
		{"syntax error", "{\n  \"version\": 1,\n  \"suite\": \"demo\"\n  \"benchmarks\": {}\n}\n",
			":4:3: invalid character '\"' after object key:value pair"},
		{"cut short", "{\n  \"version\": 1,\n  \"suite\": \"de",
			":3:14: unexpected end of JSON input"},
		{"wrong type", "{\n  \"version\": 1,\n  \"suite\": \"demo\",\n  \"benchmarks\": {\"chat\": {\"c\": {\"repetitions\": \"five\"}}}\n}\n",
			":4:53: json: cannot unmarshal string into Go struct field"},
		{"non-ASCII before the problem", "{\"suite\": \"démo\", \"version\": 1,,}",
			":1:32: invalid character ','"},
		{"empty", "", ":1:1: unexpected end of JSON input"},
		{"wrong version", `{"version": 2, "suite": "demo"}`, ": version 2, this benchrun reads 1"},
		{"null entry", `{"version": 1, "suite": "demo", "benchmarks": {"chat": {"chat/users=4": null}}}`,
			`: benchmark "chat", case "chat/users=4": the entry is null`},
		{"another suite's file", goodFile("other"), `: holds the baselines of suite "other", not "demo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeBaseline(t, dir, "demo", tt.text)
			f, err := Load(dir, "demo")
			if f != nil || err == nil {
				t.Fatalf("Load = %+v, %v; want an error", f, err)
			}
			if want := "baseline " + p + tt.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n  %s\nwant it to start with\n  %s", err, want)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != p {
				t.Errorf("not a *FileError naming %s: %#v", p, err)
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a corrupt file reads as a missing one: %v", err)
			}
		})
	}
}

// TestListKeepsGoodFiles: one corrupt baseline file is reported on its
// own line of the list; the other suites' files are listed.
func TestListKeepsGoodFiles(t *testing.T) {
	dir := t.TempDir()
	writeBaseline(t, dir, "alpha", goodFile("alpha"))
	bad := writeBaseline(t, dir, "beta", "{\"version\": 1,\n  oops\n}")
	writeBaseline(t, dir, "gamma", goodFile("gamma"))
	infos, err := List(dir)
	if err != nil || len(infos) != 3 {
		t.Fatalf("List = %+v, %v; want 3 files", infos, err)
	}
	for i, want := range []string{"alpha", "", "gamma"} {
		if infos[i].Suite != want {
			t.Errorf("file %d: suite %q, want %q", i, infos[i].Suite, want)
		}
	}
	if infos[0].Err != nil || infos[0].Cases != 1 || infos[2].Err != nil || infos[2].Cases != 1 {
		t.Errorf("good files: %+v, %+v", infos[0], infos[2])
	}
	if infos[1].Path != bad || infos[1].Err == nil || !strings.Contains(infos[1].Err.Error(), bad+":2:3: invalid character 'o'") {
		t.Errorf("corrupt file: %+v", infos[1])
	}
	// The other suites still load.
	if f, err := Load(dir, "alpha"); err != nil || f.Entry("chat", "chat/users=4") == nil {
		t.Errorf("Load(alpha) next to a corrupt file: %+v, %v", f, err)
	}
}
