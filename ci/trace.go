package ci

import (
	"time"

	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// caseSchedule is the arrival schedule of a trace replay (load arrival
// results.ArrivalTrace): the trace dataset's offsets times the load's time
// scale (docs/suite-format.md), looped (dataset.LoopTrace) to the load's
// requests; nil for every other load.
func caseSchedule(s *suites.Suite, cs suites.Case, load results.Load) ([]time.Duration, error) {
	ds, ok := cs.Dataset.(*suites.LLMDataset)
	if load.Arrival != results.ArrivalTrace || !ok {
		return nil, nil
	}
	tr, err := dataset.ReadTraceFile(s.Path(ds.Path))
	if err != nil {
		return nil, err
	}
	// A probe of a search over speed measures whole loops of the trace
	// (suites.ProbeCase): its requests may exceed the trace's length.
	return dataset.Schedule(dataset.LoopTrace(tr, int(load.Requests)), load.TimeScale), nil
}
