package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// TelemetryDir is the directory of a results directory that holds the
// series recorded beside the samples: a service's Prometheus endpoint
// scraped during a case.
const TelemetryDir = "telemetry"

// Telemetry sources kinds (TelemetryFile.Kind).
const (
	TelemetryScrape = "scrape" // a Prometheus exposition endpoint scraped during the case
	TelemetryPromQL = "promql" // PromQL range queries over the case's window; a point's metric is the query's name
)

// TelemetryPromQLSource is the source name of a case's PromQL series:
// telemetry/<case>/promql.jsonl.
const TelemetryPromQLSource = "promql"

// TelemetryPath returns the file of one source's series for a case,
// relative to the results directory: telemetry/<case file>/<source>.jsonl.
func TelemetryPath(caseID, source string) string {
	return filepath.Join(TelemetryDir, CaseFileName(caseID), CaseFileName(source)+".jsonl")
}

// Point is one value of one series at one time, one JSONL line of a
// telemetry file. A histogram is stored as its flat series (name_bucket{le}, name_sum, name_count), as
// Prometheus itself stores it.
type Point struct {
	// T is the offset in nanoseconds from the file's start
	// (TelemetryFile.Start), the time the value was taken (the start of
	// the scrape, or the evaluation time of a query step).
	T      time.Duration     `json:"t_ns"`
	Metric string            `json:"metric"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

// TelemetryFile records one source's series of a case in the manifest
// (CaseInfo.Telemetry), once its writer closed the file.
type TelemetryFile struct {
	Source string `json:"source"` // e.g. "vllm", the service scraped, or "promql"
	Kind   string `json:"kind"`   // TelemetryScrape or TelemetryPromQL
	URL    string `json:"url"`    // the endpoint scraped, or the Prometheus server
	Path   string `json:"path"`   // relative to the results directory
	// Start is the wall clock of offset zero of the file's points. It is
	// not the case's Start (which the load sets a little later): readers
	// shift by the difference.
	Start time.Time `json:"start"`
	// Points is how many points the file holds; readers check it.
	Points int64 `json:"points"`
	// Attempts and Failures count the scrapes tried and those that gave
	// nothing; Error is the last failure.
	Attempts int    `json:"attempts"`
	Failures int    `json:"failures"`
	Error    string `json:"error,omitempty"`
	// Skipped counts values not stored because they are not finite (NaN,
	// ±Inf cannot be written as JSON numbers).
	Skipped int64 `json:"skipped,omitempty"`
	// Warnings are what the server said may make its answers incomplete
	// (Prometheus's warnings with a PromQL answer, "query NAME: text");
	// the answers' points are in the file.
	Warnings []string `json:"warnings,omitempty"`
	// Queries are the PromQL queries run, by name (kind TelemetryPromQL),
	// and Step their resolution.
	Queries map[string]string `json:"queries,omitempty"`
	Step    time.Duration     `json:"step_ns,omitempty"`
}

// PointWriter appends points to a JSONL stream, one line each. It is safe
// for concurrent use; non-finite values are counted (Skipped) and not
// written.
type PointWriter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	c       io.Closer
	n       int64
	skipped int64
	err     error
}

// NewPointWriter writes to w; if w is an io.Closer, Close closes it.
func NewPointWriter(w io.Writer) *PointWriter {
	pw := &PointWriter{w: bufio.NewWriterSize(w, 64<<10)}
	if c, ok := w.(io.Closer); ok {
		pw.c = c
	}
	return pw
}

// CreatePointFile creates (truncates) path and its directory for writing.
func CreatePointFile(path string) (*PointWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return NewPointWriter(f), nil
}

// Write appends points and flushes them.
func (pw *PointWriter) Write(pts ...Point) error {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.err != nil {
		return pw.err
	}
	for i := range pts {
		if math.IsNaN(pts[i].Value) || math.IsInf(pts[i].Value, 0) {
			pw.skipped++
			continue
		}
		b, err := json.Marshal(&pts[i])
		if err != nil {
			return err
		}
		pw.w.Write(b)
		pw.w.WriteByte('\n')
		pw.n++
	}
	pw.err = pw.w.Flush()
	return pw.err
}

// Count returns the points written and the non-finite values skipped.
func (pw *PointWriter) Count() (written, skipped int64) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.n, pw.skipped
}

// Close flushes and closes the underlying writer.
func (pw *PointWriter) Close() error {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	err := pw.w.Flush()
	if pw.c != nil {
		if cerr := pw.c.Close(); err == nil {
			err = cerr
		}
		pw.c = nil
	}
	return err
}

// ErrPointFormat is wrapped by every error of DecodePoint: a line that is
// not a point of this format.
var ErrPointFormat = errors.New("not a telemetry point")

// pointLine is Point as decoded, with presence of every field checked.
type pointLine struct {
	T      *int64            `json:"t_ns"`
	Metric *string           `json:"metric"`
	Labels map[string]string `json:"labels"`
	Value  *float64          `json:"value"`
}

// DecodePoint decodes one line of a telemetry file. It refuses what this
// format never holds, so that another format is never read as zeros: an
// unknown field, a missing t_ns, metric or value, an empty metric name.
func DecodePoint(line []byte) (Point, error) {
	var pl pointLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pl); err != nil {
		return Point{}, fmt.Errorf("%w: %v", ErrPointFormat, err)
	}
	if dec.More() {
		return Point{}, fmt.Errorf("%w: more than one JSON value on the line", ErrPointFormat)
	}
	switch {
	case pl.T == nil:
		return Point{}, fmt.Errorf("%w: no t_ns", ErrPointFormat)
	case pl.Metric == nil || *pl.Metric == "":
		return Point{}, fmt.Errorf("%w: no metric", ErrPointFormat)
	case pl.Value == nil:
		return Point{}, fmt.Errorf("%w: no value", ErrPointFormat)
	}
	return Point{T: time.Duration(*pl.T), Metric: *pl.Metric, Labels: pl.Labels, Value: *pl.Value}, nil
}

// ScanPoints calls fn for every point of a telemetry stream. Damage is
// reported, not fatal: Integrity counts the lines, the points and the bad
// lines (the first few with their error), and a last line without its
// newline that does not decode is a torn line (a killed writer). The error
// is fn's or the reader's.
func ScanPoints(r io.Reader, fn func(Point) error) (Integrity, error) {
	var in Integrity
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			in.Lines++
			complete := line[len(line)-1] == '\n'
			trimmed := bytes.TrimSpace(line)
			if len(trimmed) == 0 {
				in.Lines--
			} else if p, derr := DecodePoint(trimmed); derr != nil {
				if !complete {
					in.TornLine = in.Lines
				} else {
					in.BadCount++
					if len(in.BadLines) < MaxBadLines {
						in.BadLines = append(in.BadLines, BadLine{Line: in.Lines, Err: derr.Error()})
					}
				}
			} else {
				in.Samples++
				if ferr := fn(p); ferr != nil {
					return in, ferr
				}
			}
		}
		if err == io.EOF {
			return in, nil
		}
		if err != nil {
			return in, err
		}
	}
}

// ScanPointFile is ScanPoints on a file.
func ScanPointFile(path string, fn func(Point) error) (Integrity, error) {
	f, err := os.Open(path)
	if err != nil {
		return Integrity{}, err
	}
	defer f.Close()
	in, err := ScanPoints(f, fn)
	if err != nil {
		return in, fmt.Errorf("%s: %w", path, err)
	}
	return in, nil
}
