package baselines

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// HistoryVersion is the version of a history record.
const HistoryVersion = 1

// History is one suite's history: a record per run, oldest first. Its file
// is JSON lines, <dir>/<suite>.jsonl, one Record appended per run, so
// appending never rewrites what earlier nights wrote.
type History []Record

// Record is one run in a suite's history: the key statistics of each
// measured case (base units), and where the run came from.
type Record struct {
	Version int    `json:"version"`
	Suite   string `json:"suite"`
	Run     string `json:"run"` // RFC 3339 UTC start of the run: its identity in the history
	Verdict string `json:"verdict"`
	// Commit, Pipeline and JobURL say where the run was made (CI).
	Commit          string `json:"commit,omitempty"`
	Pipeline        string `json:"pipeline,omitempty"`
	JobURL          string `json:"job_url,omitempty"`
	BenchrunVersion string `json:"benchrun_version,omitempty"`
	// Cases maps case id → "metric.stat" → value. Only cases that were
	// measured (not skipped, no execution error) are recorded: a case
	// that could not be measured has no number to trend.
	Cases map[string]map[string]Value `json:"cases"`
	// Fingerprints maps case id → a digest of the case's fingerprint (the
	// fields a baseline comparison requires to match: model, image,
	// partition, suite hash, ...). A series starts again where it changes:
	// numbers from another model or machine are not one trend. Absent in
	// records written before it existed; those never break a series.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
}

// Value is one statistic of one case in a Record.
type Value struct {
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	Better string  `json:"better,omitempty"` // "higher" or "lower"
}

// HistoryPath is the history file of suite in dir.
func HistoryPath(dir, suite string) string {
	return filepath.Join(dir, suite+".jsonl")
}

// RecordOf is the history record of a judged run: for each measured case,
// the statistics keyOf names ("metric.stat" or a bare metric, meaning its
// DefaultStat); the case's metrics it lacks are left out.
func RecordOf(m *results.Manifest, sum *analysis.Summary, keyOf func(*analysis.Case) []string) Record {
	rec := Record{Version: HistoryVersion, Suite: sum.Suite, Run: m.Start.UTC().Format("2006-01-02T15:04:05Z"),
		Verdict: sum.Verdict, BenchrunVersion: m.BenchrunVersion, Cases: map[string]map[string]Value{}}
	if m.CI != nil {
		rec.Commit, rec.Pipeline, rec.JobURL = m.CI.CommitSHA, m.CI.PipelineID, m.CI.JobURL
	}
	for i := range sum.Cases {
		c := &sum.Cases[i]
		if !measured(c) {
			continue
		}
		vals := map[string]Value{}
		for _, spec := range keyOf(c) {
			name, stat, cm, v, ok := LookupSpec(c.Metrics, spec)
			if !ok {
				continue
			}
			better := "higher"
			if cm.Lower(name) {
				better = "lower"
			}
			vals[name+"."+stat] = Value{Value: v, Unit: cm.Unit, Better: better}
		}
		if len(vals) > 0 {
			rec.Cases[c.ID] = vals
			if fp := fingerprintDigest(c.Fingerprint); fp != "" {
				if rec.Fingerprints == nil {
					rec.Fingerprints = map[string]string{}
				}
				rec.Fingerprints[c.ID] = fp
			}
		}
	}
	return rec
}

// fingerprintDigest is a short stable digest of fingerprint fp ("" when
// it is empty).
func fingerprintDigest(fp map[string]string) string {
	if len(fp) == 0 {
		return ""
	}
	keys := make([]string, 0, len(fp))
	for k := range fp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, fp[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Append adds rec to its suite's history in dir (created when missing)
// unless a record of the same run is there already; added says which.
func Append(dir string, rec Record) (added bool, err error) {
	h, err := LoadHistory(dir, rec.Suite)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	for _, r := range h {
		if r.Run == rec.Run {
			return false, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	path := HistoryPath(dir, rec.Suite)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return false, err
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("history %s: %w", path, err)
	}
	return true, nil
}

// LoadHistory reads suite's history from dir, oldest run first; the error
// wraps fs.ErrNotExist when there is none yet.
func LoadHistory(dir, suite string) (History, error) {
	path := HistoryPath(dir, suite)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := DecodeHistory(f)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	return h, nil
}

// DecodeHistory reads history records, one JSON object a line, and sorts
// them by run. Every bad line is reported (line numbers), not only the
// first; an unknown version is an error, never read as zeros.
func DecodeHistory(r io.Reader) (History, error) {
	var h History
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		switch err := dec.Decode(&rec); {
		case err != nil:
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
		case rec.Version != HistoryVersion:
			errs = append(errs, fmt.Errorf("line %d: history version %d, want %d", n, rec.Version, HistoryVersion))
		case rec.Run == "":
			errs = append(errs, fmt.Errorf("line %d: no run", n))
		default:
			h = append(h, rec)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(h, func(i, j int) bool { return h[i].Run < h[j].Run })
	return h, nil
}

// Series is one statistic of one case across a history: the runs that
// measured it and their values, oldest first.
type Series struct {
	Case, Stat string // case id, "metric.stat"
	Unit       string
	Better     string
	Runs       []string
	Values     []float64

	fp string // fingerprint digest of the latest value, "" when unknown
}

// Series returns every (case, statistic) of h as a series, sorted by case
// and statistic. A series holds the latest runs whose values share the
// newest run's unit, direction and case fingerprint: older ones in
// another are left out.
func (h History) Series() []Series {
	idx := map[[2]string]int{}
	var out []Series
	for _, rec := range h {
		for id, vals := range rec.Cases {
			for stat, v := range vals {
				k := [2]string{id, stat}
				i, ok := idx[k]
				if !ok {
					i = len(out)
					idx[k] = i
					out = append(out, Series{Case: id, Stat: stat})
				}
				s := &out[i]
				fp := rec.Fingerprints[id]
				if len(s.Values) > 0 && (s.Unit != v.Unit || s.Better != v.Better || (fp != "" && s.fp != "" && fp != s.fp)) {
					// Values in another unit or direction, or of another
					// model or machine, are not one series (a trend or
					// change point over them would compare apples and
					// oranges): it starts again here.
					s.Runs, s.Values = s.Runs[:0], s.Values[:0]
				}
				s.Unit, s.Better = v.Unit, v.Better
				if fp != "" {
					s.fp = fp
				}
				s.Runs = append(s.Runs, rec.Run)
				s.Values = append(s.Values, v.Value)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Case != out[j].Case {
			return out[i].Case < out[j].Case
		}
		return out[i].Stat < out[j].Stat
	})
	return out
}
