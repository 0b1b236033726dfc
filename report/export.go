package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// Export formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Export writes the per-case statistics and the raw samples of in into
// outDir (created if needed) in format FormatCSV (cases.csv, samples.csv)
// or FormatJSON (cases.json, a JSON array; samples.jsonl, one JSON object
// a line). It returns the paths written.
func Export(in *Input, outDir, format string) ([]string, error) {
	if format != FormatCSV && format != FormatJSON {
		return nil, fmt.Errorf("export: unknown format %q (want csv or json)", format)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	statsName, samplesName := "cases.csv", "samples.csv"
	if format == FormatJSON {
		statsName, samplesName = "cases.json", "samples.jsonl"
	}
	var paths []string
	for _, o := range []struct {
		name  string
		write func(io.Writer, *Input, string) error
	}{{statsName, ExportStats}, {samplesName, ExportSamples}} {
		path := filepath.Join(outDir, o.name)
		err := results.WriteFileAtomic(path, func(f io.Writer) error {
			bw := bufio.NewWriterSize(f, 256<<10)
			if err := o.write(bw, in, format); err != nil {
				return err
			}
			return bw.Flush()
		})
		if err != nil {
			return paths, fmt.Errorf("export %s: %w", o.name, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// statRow is one row of the statistics export.
type statRow struct {
	Benchmark string  `json:"benchmark"`
	Case      string  `json:"case"`
	Verdict   string  `json:"verdict"`
	Metric    string  `json:"metric"`
	Kind      string  `json:"kind"`
	Stat      string  `json:"stat"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit"`
}

var statHeader = []string{"benchmark", "case", "verdict", "metric", "kind", "stat", "value", "unit"}

// ExportStats writes one row per case × metric × statistic (count, mean,
// stddev, min, p50 … p999, max for distributions; value for rates), values
// in base units: CSV with a header, or a JSON array of objects.
func ExportStats(w io.Writer, in *Input, format string) error {
	var rows []statRow
	for _, c := range in.Summary.Cases {
		for _, name := range slices.Sorted(maps.Keys(c.Metrics)) {
			m := c.Metrics[name]
			for _, st := range metricStats(m) {
				v, _ := m.Stat(st)
				rows = append(rows, statRow{c.Benchmark, c.ID, c.Verdict, name, m.Kind, st, v, m.Unit})
			}
		}
	}
	switch format {
	case FormatJSON:
		if rows == nil {
			rows = []statRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(rows)
	case FormatCSV:
		cw := csv.NewWriter(w)
		cw.Write(statHeader)
		for _, r := range rows {
			cw.Write([]string{csvText(r.Benchmark), csvText(r.Case), r.Verdict, csvText(r.Metric), r.Kind, r.Stat, csvNum(r.Value), csvText(r.Unit)})
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("export: unknown format %q (want csv or json)", format)
}

// sampleRow is one sample in the samples export, times in seconds from the
// case start.
type sampleRow struct {
	Benchmark    string             `json:"benchmark"`
	Case         string             `json:"case"`
	Rep          int                `json:"rep"`
	Worker       string             `json:"worker,omitempty"`
	Seq          int64              `json:"seq"`
	Warmup       bool               `json:"warmup"`
	Scheduled    float64            `json:"scheduled_s"`
	Sent         float64            `json:"sent_s"`
	Done         float64            `json:"done_s"`
	TTFB         *float64           `json:"ttfb_s"`
	TTFT         *float64           `json:"ttft_s"`
	E2E          float64            `json:"e2e_s"`
	QueueDelay   *float64           `json:"queue_delay_s"`
	ITLCount     int                `json:"itl_count"`
	ITLMean      *float64           `json:"itl_mean_s"`
	InputTokens  int                `json:"input_tokens"`
	OutputTokens int                `json:"output_tokens"`
	TokenSource  string             `json:"token_source,omitempty"`
	Status       int                `json:"status"`
	Error        string             `json:"error,omitempty"`
	ErrorDetail  string             `json:"error_detail,omitempty"`
	Server       map[string]float64 `json:"server,omitempty"`
	Values       map[string]float64 `json:"values,omitempty"`
}

// sampleRowOf is s as a row; every number in it is analysis's definition
// (analysis.SampleValues).
func sampleRowOf(benchmark, id string, s *results.Sample) sampleRow {
	v := analysis.SampleValues(s)
	r := sampleRow{Benchmark: benchmark, Case: id, Rep: s.Rep, Worker: s.Worker, Seq: s.Seq, Warmup: s.Warmup,
		Scheduled: v.Scheduled, Sent: v.Sent, Done: v.Done, E2E: v.E2E,
		ITLCount: v.ITLCount, InputTokens: s.InputTokens, OutputTokens: s.OutputTokens, TokenSource: s.TokenSource,
		Status: s.Status, Error: s.Error, ErrorDetail: s.ErrorDetail, Server: s.Server, Values: s.Values}
	if v.HasTTFB {
		r.TTFB = &v.TTFB
	}
	if v.HasQueueDelay {
		r.QueueDelay = &v.QueueDelay
	}
	if v.HasTTFT {
		r.TTFT = &v.TTFT
	}
	if v.ITLCount > 0 {
		r.ITLMean = &v.ITLMean
	}
	return r
}

// ExportSamples writes every sample of every case that has a samples file,
// warm-up included (flagged), one row per sample with its case id: CSV with
// a header (server.* and values.* columns for the keys any sample has), or
// JSON Lines. Times are seconds from the case start; ttfb_s, ttft_s and
// e2e_s are measured from the scheduled send time, as analysis defines them
// (analysis.SampleValues: e2e_s is to the last token, or to completion when
// there is none).
func ExportSamples(w io.Writer, in *Input, format string) error {
	if format != FormatCSV && format != FormatJSON {
		return fmt.Errorf("export: unknown format %q (want csv or json)", format)
	}
	each := func(fn func(sampleRow) error) error {
		for _, c := range in.Summary.Cases {
			err := results.ReadSampleFile(in.samplesPath(c.ID), func(s *results.Sample) error {
				return fn(sampleRowOf(c.Benchmark, c.ID, s))
			})
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	if format == FormatJSON {
		enc := json.NewEncoder(w)
		return each(func(r sampleRow) error { return enc.Encode(r) })
	}
	// A first pass collects the server and values keys for the columns.
	serverKeys, valueKeys := map[string]bool{}, map[string]bool{}
	if err := each(func(r sampleRow) error {
		for k := range r.Server {
			serverKeys[k] = true
		}
		for k := range r.Values {
			valueKeys[k] = true
		}
		return nil
	}); err != nil {
		return err
	}
	sk, vk := slices.Sorted(maps.Keys(serverKeys)), slices.Sorted(maps.Keys(valueKeys))
	cw := csv.NewWriter(w)
	head := []string{"benchmark", "case", "rep", "worker", "seq", "warmup", "scheduled_s", "sent_s", "done_s",
		"ttfb_s", "ttft_s", "e2e_s", "queue_delay_s", "itl_count", "itl_mean_s", "input_tokens", "output_tokens",
		"token_source", "status", "error", "error_detail"}
	for _, k := range sk {
		head = append(head, csvText("server."+k))
	}
	for _, k := range vk {
		head = append(head, csvText("values."+k))
	}
	cw.Write(head)
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return csvNum(*p)
	}
	err := each(func(r sampleRow) error {
		rec := []string{csvText(r.Benchmark), csvText(r.Case), strconv.Itoa(r.Rep), csvText(r.Worker), strconv.FormatInt(r.Seq, 10),
			strconv.FormatBool(r.Warmup), csvNum(r.Scheduled), csvNum(r.Sent), csvNum(r.Done),
			opt(r.TTFB), opt(r.TTFT), csvNum(r.E2E), opt(r.QueueDelay), strconv.Itoa(r.ITLCount), opt(r.ITLMean),
			strconv.Itoa(r.InputTokens), strconv.Itoa(r.OutputTokens), csvText(r.TokenSource), strconv.Itoa(r.Status),
			csvText(r.Error), csvText(r.ErrorDetail)}
		for _, k := range sk {
			if v, ok := r.Server[k]; ok {
				rec = append(rec, csvNum(v))
			} else {
				rec = append(rec, "")
			}
		}
		for _, k := range vk {
			if v, ok := r.Values[k]; ok {
				rec = append(rec, csvNum(v))
			} else {
				rec = append(rec, "")
			}
		}
		return cw.Write(rec)
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

func csvNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// csvText defuses a string from a suite or server for spreadsheets: a cell
// starting with = + - @ or a control character is prefixed with a quote, so
// it is shown, never evaluated as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
