package analysis

import (
	"fmt"
	"math"
	"strings"

	"github.com/benchrun/benchrun/runner/results"
)

// DefaultInfrastructureLimit is the share of a case's measured operations
// that may fail with an infrastructure class (connect, client) before the
// case is an execution error: a few refused connections while a server
// restarts a worker are data, a dead server or a client out of file
// descriptors is not. A suite sets its own with the benchmark key
// max_infrastructure_errors.
const DefaultInfrastructureLimit = 0.01

// ApplyInfrastructureLimit makes c an execution error when its
// infrastructure_error_rate is above limit (a ratio, 0–1; 0 allows none):
// its operations measured the path to the server or the client, not the
// server, so its numbers must neither pass nor fail a check. The error
// gives the share, the count and each infrastructure class's share. A
// case without measured operations is left alone (it has its own error).
// It is judged once, before Rollup.
func (c *Case) ApplyInfrastructureLimit(limit float64) {
	m, ok := c.Metrics[MetricInfrastructureErrorRate]
	if !ok || m.Count == 0 || m.Value <= limit {
		return
	}
	var classes []string
	for _, class := range knownErrorClasses {
		if r, ok := c.Metrics[ErrorRatePrefix+class]; ok && results.Infrastructure(class) {
			classes = append(classes, fmt.Sprintf("%s %s", class, FormatValue(r.Value, UnitRatio)))
		}
	}
	n := int(math.Round(m.Value * float64(m.Count)))
	c.Errors = append(c.Errors, fmt.Sprintf(
		"infrastructure errors: %d of %d measured operations (%s: %s) never reached a working server or failed in the client, above the limit of %s (max_infrastructure_errors): the case measured the infrastructure, not the server",
		n, m.Count, FormatValue(m.Value, UnitRatio), strings.Join(classes, ", "), FormatValue(limit, UnitRatio)))
}
