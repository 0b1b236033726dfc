package analysis

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/benchrun/benchrun/runner/results"
)

// ReadSummary reads DIR/summary.json.
func ReadSummary(dir string) (*Summary, error) {
	path := filepath.Join(dir, results.SummaryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// WriteSummary writes s to DIR/summary.json atomically.
func WriteSummary(dir string, s *Summary) error {
	return results.WriteJSONAtomic(filepath.Join(dir, results.SummaryFile), s)
}

// CaseSampleFiles returns the sample files of a case in a results
// directory, sorted: info.Samples when it is a file; when it is a
// directory (one file per client node), every *.jsonl file in it. A missing
// path gives that path, so SummarizeCase reports it (or tolerates it for a
// failed case).
func CaseSampleFiles(resultsDir string, info results.CaseInfo) ([]string, error) {
	rel := info.Samples
	if rel == "" {
		rel = results.SamplePath(info.ID)
	}
	p := filepath.Join(resultsDir, rel)
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return []string{p}, nil
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".jsonl") {
			files = append(files, filepath.Join(p, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// SummarizeCaseIn summarises case info of the results directory dir from
// its sample files (CaseSampleFiles, then SummarizeCase) and its
// telemetry files (Case.Telemetry).
func SummarizeCaseIn(dir string, info results.CaseInfo, o Options) (Case, *Raw, error) {
	files, err := CaseSampleFiles(dir, info)
	if err != nil {
		return Case{}, nil, fmt.Errorf("case %s: %w", info.ID, err)
	}
	return summarizeCase(info, files, o, readTelemetry(dir, info))
}

// SummarizeDir summarises every case of a results directory, in manifest
// order, labels the plateaus of users sweeps (PlateauLabels), finds the
// knees of swept benchmarks (Knees) and lists the GPUs the telemetry saw
// (GPUInventories) and those nvidia-smi listed in the services' steps
// (StepGPUInventories), returning
// the summary (not yet rolled up: thresholds and baselines
// add checks first) and each case's Raw by case id.
func SummarizeDir(dir string, o Options) (*Summary, map[string]*Raw, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	s := &Summary{Version: SummaryVersion, Suite: m.Suite, Incomplete: m.Incomplete, Cases: []Case{}}
	raws := map[string]*Raw{}
	for _, info := range m.Cases {
		c, raw, err := SummarizeCaseIn(dir, info, o)
		if err != nil {
			return nil, nil, err
		}
		s.Cases = append(s.Cases, c)
		raws[info.ID] = raw
	}
	PlateauLabels(s.Cases)
	s.Knees = Knees(s.Cases)
	s.GPUs = GPUInventories(s.Cases)
	s.ServiceGPUs = StepGPUInventories(m.Services)
	return s, raws, nil
}
