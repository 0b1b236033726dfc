package baselines

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// FileVersion is the version of the baseline file format.
const FileVersion = 1

// File is one suite's baseline file, <dir>/<suite>.json.
type File struct {
	Version int    `json:"version"`
	Suite   string `json:"suite"`
	// Benchmarks maps benchmark name → case id → entry.
	Benchmarks map[string]map[string]*Entry `json:"benchmarks"`
}

// Entry is the baseline of one case.
type Entry struct {
	// Fingerprint describes the environment (partition, GPU, model, server
	// version, suite hash, ...); a comparison needs it to match.
	Fingerprint map[string]string `json:"fingerprint"`
	Run         Run               `json:"run"`
	Repetitions int               `json:"repetitions"`
	Seconds     float64           `json:"seconds"`
	Metrics     map[string]Metric `json:"metrics"`
	// Compared is the metric.stat list the suite compared this benchmark
	// on when the entry was promoted ([benchmark.regression] metrics);
	// empty means the defaults (DefaultMetrics). baseline show lists these.
	Compared []string `json:"compared,omitempty"`
}

// Run records where a baseline entry came from.
type Run struct {
	Start           string `json:"start,omitempty"` // RFC 3339 UTC start of the promoted run
	BenchrunVersion string `json:"benchrun_version,omitempty"`
	BenchrunCommit  string `json:"benchrun_commit,omitempty"`
	SlurmJob        string `json:"slurm_job,omitempty"`
	SuiteSHA256     string `json:"suite_sha256,omitempty"`
	// Promoted is when `baseline promote` wrote the entry (RFC 3339 UTC);
	// the CI fields are the job the promoted run was made in (manifest
	// ci), empty outside CI.
	Promoted  string `json:"promoted,omitempty"`
	CIJobURL  string `json:"ci_job_url,omitempty"`
	CommitSHA string `json:"commit_sha,omitempty"` // the CI commit of the promoted run
	Ref       string `json:"ref,omitempty"`
}

// Metric is a baseline metric: the summary metric plus the raw material
// of the significance tests.
type Metric struct {
	analysis.Metric
	// RepStats holds, for distributions of a case with several
	// repetitions, each repetition's value of mean, p50, p90, p95, p99.
	RepStats map[string][]float64 `json:"rep_stats,omitempty"`
	// Histogram is the whole distribution, bucketed (relative error 1%),
	// base64 of analysis.Histogram's binary form.
	Histogram *analysis.Histogram `json:"histogram,omitempty"`
}

// repStatNames are the statistics kept per repetition.
var repStatNames = []string{"mean", "p50", "p90", "p95", "p99"}

// NewEntry builds the baseline entry of a case from its summary, its raw
// values (may be nil: no histograms or repetition statistics then) and the
// environment fingerprint.
func NewEntry(c *analysis.Case, raw *analysis.Raw, fingerprint map[string]string) *Entry {
	e := &Entry{Fingerprint: maps.Clone(fingerprint), Repetitions: c.Repetitions, Seconds: c.Seconds,
		Metrics: map[string]Metric{}}
	if e.Fingerprint == nil {
		e.Fingerprint = map[string]string{}
	}
	for name, m := range c.Metrics {
		bm := Metric{Metric: m}
		if m.Kind == analysis.KindDistribution && raw != nil {
			if d := raw.Dists[name]; d != nil && d.Count() > 0 {
				bm.Histogram = d.Histogram()
			}
			for _, st := range repStatNames {
				if v := raw.RepStat(name, st); v != nil {
					if bm.RepStats == nil {
						bm.RepStats = map[string][]float64{}
					}
					bm.RepStats[st] = v
				}
			}
		}
		e.Metrics[name] = bm
	}
	return e
}

// Entry returns the entry of a case, nil when there is none.
func (f *File) Entry(benchmark, caseID string) *Entry {
	if f == nil {
		return nil
	}
	return f.Benchmarks[benchmark][caseID]
}

// Set stores e as the entry of a case.
func (f *File) Set(benchmark, caseID string, e *Entry) {
	if f.Benchmarks == nil {
		f.Benchmarks = map[string]map[string]*Entry{}
	}
	if f.Benchmarks[benchmark] == nil {
		f.Benchmarks[benchmark] = map[string]*Entry{}
	}
	f.Benchmarks[benchmark][caseID] = e
}

// Path returns the baseline file of a suite in dir.
func Path(dir, suite string) string {
	return filepath.Join(dir, results.CaseFileName(suite)+".json")
}

// Load reads the baseline file of a suite from dir.
//
//   - dir exists and has the suite's file: that file;
//   - dir exists but has no file for the suite: an empty File (no entries,
//     so every case compares as no_baseline) and no error;
//   - dir does not exist: a nil File and an error naming dir that wraps
//     fs.ErrNotExist (errors.Is(err, fs.ErrNotExist)); the caller says where
//     dir came from;
//   - anything else (unreadable, corrupt, wrong version, dir not a
//     directory): a nil File and that error.
func Load(dir, suite string) (*File, error) {
	f, err := readFile(Path(dir, suite))
	if err == nil && f.Suite != "" && f.Suite != suite {
		return nil, &FileError{Path: Path(dir, suite), Err: fmt.Errorf("holds the baselines of suite %q, not %q", f.Suite, suite)}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, missingDirError(dir)
	} else if err != nil {
		return nil, fmt.Errorf("baselines directory %s: %w", dir, err)
	}
	return newFile(suite), nil
}

// missingDirError is Load's error for a baselines directory that does not
// exist: "baselines directory DIR does not exist", wrapping fs.ErrNotExist.
type missingDirError string

func (e missingDirError) Error() string {
	return "baselines directory " + string(e) + " does not exist"
}

func (e missingDirError) Unwrap() error { return fs.ErrNotExist }

// newFile returns an empty baseline file of a suite.
func newFile(suite string) *File {
	return &File{Version: FileVersion, Suite: suite, Benchmarks: map[string]map[string]*Entry{}}
}

// FileError is a baseline file that cannot be used: its path, the line
// and column (1-based, in characters) of the problem when it is in the
// JSON text, 0 otherwise, and the problem.
type FileError struct {
	Path      string
	Line, Col int
	Err       error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("baseline %s:%d:%d: %v", e.Path, e.Line, e.Col, e.Err)
	}
	return fmt.Sprintf("baseline %s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// readFile reads and checks one baseline file. A file that does not
// exist gives an error wrapping fs.ErrNotExist; any other problem a
// *FileError: malformed JSON or a value of the wrong type at its line and
// column, a wrong version, an entry that is null.
func readFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		fe := &FileError{Path: path, Err: err}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			fe.Line, fe.Col = position(b, se.Offset)
		case errors.As(err, &te):
			fe.Line, fe.Col = position(b, te.Offset)
		}
		return nil, fe
	}
	if f.Version != FileVersion {
		return nil, &FileError{Path: path, Err: fmt.Errorf("version %d, this benchrun reads %d", f.Version, FileVersion)}
	}
	if f.Benchmarks == nil {
		f.Benchmarks = map[string]map[string]*Entry{}
	}
	for _, b := range slices.Sorted(maps.Keys(f.Benchmarks)) {
		for _, id := range slices.Sorted(maps.Keys(f.Benchmarks[b])) {
			if f.Benchmarks[b][id] == nil {
				return nil, &FileError{Path: path, Err: fmt.Errorf("benchmark %q, case %q: the entry is null", b, id)}
			}
		}
	}
	return &f, nil
}

// position turns the offset encoding/json reports (the bytes read when it
// stopped) into the 1-based line and column of the last byte read.
func position(b []byte, offset int64) (line, col int) {
	off := int(min(max(offset, 1), int64(len(b))))
	if off > 0 {
		off-- // the byte that stopped the decoder
	}
	before := b[:off]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte{'\n'}) + 1, utf8.RuneCount(before[start:]) + 1
}

// Save writes f to dir atomically as indented JSON with sorted keys, so the
// file diffs well in review. It creates dir if needed.
func Save(dir string, f *File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f.Version = FileVersion
	return results.WriteJSONAtomic(Path(dir, f.Suite), f)
}

// FileInfo describes one baseline file for `benchrun baseline list`.
type FileInfo struct {
	Suite      string
	Path       string
	Benchmarks int
	Cases      int
	Latest     string // the newest Run.Start of its entries
	// Err is why the file cannot be used (a *FileError); the other
	// fields but Path are then empty.
	Err error
}

// List describes every baseline file in dir, sorted by file name. A
// missing dir gives an empty list. A file that cannot be read or does not
// check is listed with its Err: it spoils no other suite's line.
func List(dir string) ([]FileInfo, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []FileInfo
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), ".") {
			continue
		}
		f, err := readFile(p)
		if err != nil {
			out = append(out, FileInfo{Path: p, Err: err})
			continue
		}
		fi := FileInfo{Suite: f.Suite, Path: p, Benchmarks: len(f.Benchmarks)}
		for _, b := range slices.Sorted(maps.Keys(f.Benchmarks)) {
			for _, e := range f.Benchmarks[b] {
				fi.Cases++
				fi.Latest = max(fi.Latest, e.Run.Start)
			}
		}
		out = append(out, fi)
	}
	return out, nil
}

// Fingerprint returns a case's environment fingerprint: the run's
// (manifest) fingerprint overlaid with the case's own keys.
func Fingerprint(m *results.Manifest, c *analysis.Case) map[string]string {
	fp := map[string]string{}
	if m != nil {
		maps.Copy(fp, m.Fingerprint)
	}
	maps.Copy(fp, c.Fingerprint)
	return fp
}
