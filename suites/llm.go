package suites

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// The tables of the openai and ollama benchmark kinds: [benchmark.workload]
// and [benchmark.dataset]. Validation of their combined values is
// checkCase (sweep.go); package ci turns them into driver options.

// LLMWorkload is the workload of an openai or ollama benchmark case: how
// requests are shaped and how load is driven. In the suite any key may be
// given as an array to sweep it.
type LLMWorkload struct {
	API             string   `toml:"api" enum:"chat|completions|generate" doc:"Endpoint: chat (/v1/chat/completions, /api/chat), completions (/v1/completions) or generate (/api/generate). Default chat."`
	Model           string   `toml:"model" doc:"Model name; default: discovered from /v1/models or the service's model."`
	Stream          bool     `toml:"stream" doc:"Stream the response (needed for ttft and itl); default true."`
	MaxTokens       int      `toml:"max_tokens" doc:"Output token cap (ollama: num_predict); default the dataset's output_tokens."`
	IgnoreEOS       bool     `toml:"ignore_eos" doc:"vLLM: generate exactly max_tokens; default true."`
	Temperature     float64  `toml:"temperature" doc:"Sampling temperature; default 0."`
	APIKeyEnv       string   `toml:"api_key_env" doc:"Name of the environment variable holding the API key (the key itself is never written anywhere)."`
	ContinuousUsage bool     `toml:"continuous_usage_stats" doc:"vLLM: ask for usage on every chunk."`
	KeepAlive       string   `toml:"keep_alive" doc:"Ollama keep_alive: a duration (\"5m\") or seconds (\"300\"; \"-1\" keeps the model loaded)."`
	Timeout         Duration `toml:"timeout" doc:"Per-request timeout; default 5m."`

	Mode           string   `toml:"mode" enum:"closed|open" doc:"closed: users send, wait, think, repeat. open: requests arrive at rate. Default closed."`
	Users          int      `toml:"users" doc:"Closed loop: concurrent users; default 1."`
	ThinkTime      Duration `toml:"think_time" doc:"Closed loop: pause between a user's requests."`
	ThinkDist      string   `toml:"think_dist" enum:"fixed|exponential" doc:"Closed loop: think time distribution; default fixed."`
	Rate           float64  `toml:"rate" doc:"Open loop: target requests per second."`
	Arrival        string   `toml:"arrival" enum:"constant|poisson|gamma|trace" doc:"Open loop: inter-arrival distribution; default poisson. trace: replay the arrivals of the trace dataset (dataset kind = \"trace\"), rate unused."`
	TimeScale      float64  `toml:"time_scale" doc:"trace arrivals: multiply the trace's arrival offsets by this (0.5 replays twice as fast); default 1."`
	Burstiness     float64  `toml:"burstiness" doc:"Open loop, gamma arrivals: shape; 1 = Poisson, below 1 burstier."`
	MaxConcurrency int      `toml:"max_concurrency" doc:"Open loop: cap on requests in flight; 0 = 4096 (the default bound). Waiting for a slot counts as queue_delay."`
	RampUp         Duration `toml:"ramp_up" doc:"Open loop: rate grows linearly from 0 over this time."`
	Duration       Duration `toml:"duration" doc:"Stop after this long (measured part); default 30s unless requests is set."`
	Requests       int      `toml:"requests" doc:"Stop after this many measured requests."`
	Warmup         Duration `toml:"warmup" doc:"Requests scheduled in this first part are flagged warm-up and excluded from metrics."`
	WarmupRequests int      `toml:"warmup_requests" doc:"The first N requests are warm-up."`
	Seed           int64    `toml:"seed" doc:"Seed for arrivals, think times and prompts; default 1."`
	LagLimit       Duration `toml:"lag_limit" doc:"queue_delay p99 above which the generator is said to lag (a warning); default 10ms."`
	Drain          Duration `toml:"drain" doc:"How long requests still in flight at the end of the schedule may finish; those still running then are counted as unfinished errors. Default 30s."`
}

func defaultLLMWorkload() *LLMWorkload {
	return &LLMWorkload{API: "chat", Stream: true, IgnoreEOS: true, Mode: "closed", Users: 1,
		ThinkDist: "fixed", Arrival: "poisson", Burstiness: 1, TimeScale: 1, Seed: 1, Timeout: Duration(5 * 60e9), LagLimit: Duration(10e6), Drain: Duration(results.DefaultDrain)}
}

// LLMDataset is the dataset of an openai or ollama benchmark case.
type LLMDataset struct {
	Kind         string  `toml:"kind" enum:"synthetic|jsonl|sharegpt|trace" doc:"synthetic prompts, a JSONL file of prompts, a ShareGPT JSON file, or a trace (JSONL of timestamp, input_length, output_length: replayed with arrival = \"trace\"); default synthetic."`
	Path         string  `toml:"path" doc:"jsonl/sharegpt: the file, relative to the suite file."`
	PromptTokens int     `toml:"prompt_tokens" doc:"synthetic: mean prompt length in tokens; default 128."`
	PromptDist   string  `toml:"prompt_dist" enum:"fixed|uniform|normal" doc:"synthetic: prompt length distribution; default fixed."`
	PromptMin    int     `toml:"prompt_min" doc:"uniform: smallest prompt length."`
	PromptMax    int     `toml:"prompt_max" doc:"uniform: largest prompt length."`
	PromptStddev float64 `toml:"prompt_stddev" doc:"normal: standard deviation of prompt length."`
	OutputTokens int     `toml:"output_tokens" doc:"Mean output length in tokens; default 128."`
	OutputDist   string  `toml:"output_dist" enum:"fixed|uniform|normal" doc:"Output length distribution; default fixed."`
	OutputMin    int     `toml:"output_min" doc:"uniform: smallest output length."`
	OutputMax    int     `toml:"output_max" doc:"uniform: largest output length."`
	OutputStddev float64 `toml:"output_stddev" doc:"normal: standard deviation of output length."`
	Seed         int64   `toml:"seed" doc:"Seed for prompt contents and lengths; default 1."`
}

func defaultLLMDataset() *LLMDataset {
	return &LLMDataset{Kind: "synthetic", PromptTokens: 128, PromptDist: "fixed", OutputTokens: 128, OutputDist: "fixed", Seed: 1}
}

// KeepAliveJSON returns keep_alive as Ollama reads it: a number of seconds
// ("300", "-1": negative keeps the model loaded) becomes a JSON number, a
// duration ("5m") a JSON string; empty means not sent (nil). Ollama parses
// a string only as a Go duration, so "-1" sent as a string would fail
// every request.
func KeepAliveJSON(ka string) (json.RawMessage, error) {
	if ka == "" {
		return nil, nil
	}
	if secs, err := strconv.ParseFloat(ka, 64); err == nil && !math.IsInf(secs, 0) && !math.IsNaN(secs) {
		return json.RawMessage(strconv.FormatFloat(secs, 'f', -1, 64)), nil
	}
	if _, err := time.ParseDuration(ka); err != nil {
		return nil, fmt.Errorf("keep_alive %q: want a duration such as \"5m\" or a number of seconds (negative: keep the model loaded)", ka)
	}
	b, _ := json.Marshal(ka)
	return b, nil
}

// traceScale is the time scale a trace replay records in its Load; 0
// for other arrivals.
func (w *LLMWorkload) traceScale() float64 {
	if w.Arrival != results.ArrivalTrace {
		return 0
	}
	return w.TimeScale
}
