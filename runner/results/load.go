package results

import "time"

// Load modes.
const (
	ModeClosed = "closed" // Users send, wait for the whole response, think, repeat
	ModeOpen   = "open"   // requests are scheduled at Rate regardless of responses
)

// Arrival processes for open-loop load.
const (
	ArrivalConstant = "constant"
	ArrivalPoisson  = "poisson"
	ArrivalGamma    = "gamma"
	// ArrivalTrace replays the arrival offsets of a trace
	// (runner.Case.Schedule) instead of drawing them; Rate is unused.
	ArrivalTrace = "trace"
)

// DefaultDrain is the drain of a Load whose Drain is zero.
const DefaultDrain = 30 * time.Second

// DefaultMaxInFlight bounds the operations in flight of an open-loop Load
// whose MaxConcurrency is 0: due operations beyond it wait for a slot as
// with max_concurrency (their wait is queue delay, those still waiting when
// the drain ends are ErrUnfinished). Without a bound, a generator facing a
// server slower than the offered rate dials a new connection for every late
// request until the machine runs out of local ports. It equals the HTTP
// drivers' idle-connection pool per host, so every connection is reused.
const DefaultMaxInFlight = 4096

// Load describes how one case drives its service. Zero values mean "not
// set"; suites fills in defaults before handing a Load to runner.
type Load struct {
	Mode string `json:"mode"` // ModeClosed or ModeOpen

	// Closed loop.
	Users     int           `json:"users,omitempty"`
	ThinkTime time.Duration `json:"think_time,omitempty"`
	ThinkDist string        `json:"think_dist,omitempty"` // "fixed" (default) or "exponential"

	// Open loop.
	Rate           float64       `json:"rate,omitempty"`            // target operations per second
	Arrival        string        `json:"arrival,omitempty"`         // ArrivalConstant, ArrivalPoisson, ArrivalGamma
	Burstiness     float64       `json:"burstiness,omitempty"`      // gamma shape; 1 = Poisson, <1 burstier
	TimeScale      float64       `json:"time_scale,omitempty"`      // ArrivalTrace: factor on the trace's offsets
	MaxConcurrency int           `json:"max_concurrency,omitempty"` // 0 = DefaultMaxInFlight (InFlightBound)
	RampUp         time.Duration `json:"ramp_up,omitempty"`         // rate grows linearly from 0 over RampUp

	// Stop conditions: whichever comes first; at least one is set.
	Duration time.Duration `json:"duration,omitempty"`
	Requests int64         `json:"requests,omitempty"`

	// Warm-up: operations scheduled before Warmup elapsed, or the first
	// WarmupRequests operations, are flagged Warmup and excluded from metrics.
	Warmup         time.Duration `json:"warmup,omitempty"`
	WarmupRequests int64         `json:"warmup_requests,omitempty"`

	// Drain bounds how long operations in flight (and, in open loop,
	// waiting for a max_concurrency slot) may run once the case stops
	// scheduling; those left then are canceled and recorded as
	// ErrUnfinished. 0 means DefaultDrain.
	Drain time.Duration `json:"drain,omitempty"`

	Seed int64 `json:"seed"`

	// LagLimit is the queue-delay p99 beyond which the generator is said to
	// have fallen behind (a warning in the report). Default 10ms.
	LagLimit time.Duration `json:"lag_limit,omitempty"`

	// Worker and Workers split the load across client processes (SLURM
	// client nodes): worker i of n takes its share of users or rate.
	Worker  int `json:"worker,omitempty"`
	Workers int `json:"workers,omitempty"`
}

// InFlightBound is the cap on operations in flight that the runner applies
// to an open-loop Load: MaxConcurrency, or DefaultMaxInFlight when it is 0.
// It is 0 for a closed loop (its users are the bound).
func (l Load) InFlightBound() int {
	switch {
	case l.Mode != ModeOpen:
		return 0
	case l.MaxConcurrency > 0:
		return l.MaxConcurrency
	}
	return DefaultMaxInFlight
}
