package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/results"
)

// The APIs the driver speaks.
const (
	APIChat     = "chat"     // /api/chat
	APIGenerate = "generate" // /api/generate
)

// DefaultColdStartThreshold is the load_duration above which an Ollama
// request is flagged as a cold start.
const DefaultColdStartThreshold = time.Second

// Options configures a driver for Ollama's native API.
type Options struct {
	BaseURL     string  // e.g. http://node1:11434
	API         string  // APIChat (default, /api/chat) or APIGenerate (/api/generate)
	Model       string  // empty: the first model of GET /api/tags, found by Prepare
	NumPredict  int     // options.num_predict when the prompt gives no length; 0 = not sent
	Temperature float64 // options.temperature, sent as is
	// KeepAlive is keep_alive as Ollama reads it, sent as is: a JSON
	// number of seconds (negative keeps the model loaded) or a JSON string
	// holding a Go duration ("5m"); nil = not sent (server default). A
	// suite's keep_alive becomes this through suites.KeepAliveJSON.
	KeepAlive json.RawMessage
	// ColdStartThreshold is the load_duration above which a sample gets
	// Server["cold_start"] = 1; 0 means DefaultColdStartThreshold.
	ColdStartThreshold time.Duration
	Timeout            time.Duration   // per request; 0 = none
	Dataset            dataset.Dataset // required
	Client             *http.Client    // optional
}

// Driver is a runner.Driver for Ollama's /api/chat and /api/generate NDJSON
// streams. It records Ollama's own timings in Sample.Server, in seconds:
// load_duration, prompt_eval_duration, eval_duration, total_duration, and
// the counts prompt_eval_count and eval_count; cold_start is 1 when
// load_duration exceeded the threshold. It is safe for concurrent use once
// Prepare has returned.
type Driver struct {
	o      Options
	url    string
	client *http.Client
}

var (
	_ runner.Driver   = (*Driver)(nil)
	_ runner.Preparer = (*Driver)(nil)
)

// New validates o and returns a driver. Nothing is contacted until
// Prepare.
func New(o Options) (*Driver, error) {
	if o.API == "" {
		o.API = APIChat
	}
	url, err := runner.Endpoint("ollama", o.BaseURL, o.API, map[string]string{
		APIChat: "/api/chat", APIGenerate: "/api/generate"})
	if err != nil {
		return nil, err
	}
	if o.Dataset == nil {
		return nil, errors.New("ollama: a dataset is required")
	}
	if o.NumPredict < 0 || o.Timeout < 0 || o.ColdStartThreshold < 0 {
		return nil, errors.New("ollama: num_predict, timeout and cold start threshold must not be negative")
	}
	if o.ColdStartThreshold == 0 {
		o.ColdStartThreshold = DefaultColdStartThreshold
	}
	if len(o.KeepAlive) > 0 && !json.Valid(o.KeepAlive) {
		return nil, fmt.Errorf("ollama: keep_alive %s is not JSON", o.KeepAlive)
	}
	return &Driver{o: o, url: url, client: runner.ClientOr(o.Client)}, nil
}

// Model returns the model the driver sends.
func (d *Driver) Model() string { return d.o.Model }

// Prepare takes the first model of GET /api/tags when no model was given.
// It does not load the model: the first request pays the load, and is
// flagged as a cold start.
func (d *Driver) Prepare(ctx context.Context) error {
	if d.o.Model != "" {
		return nil
	}
	url := strings.TrimRight(d.o.BaseURL, "/") + "/api/tags"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("ollama: %w", err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("ollama: model discovery: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ollama: GET %s: %s: %s", url, resp.Status, runner.Snippet(body))
	}
	var tags struct {
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	if err := json.Unmarshal(body, &tags); err != nil {
		return fmt.Errorf("ollama: GET %s: %w", url, err)
	}
	if len(tags.Models) == 0 || tags.Models[0].Name == "" {
		return fmt.Errorf("ollama: GET %s: no models", url)
	}
	d.o.Model = tags.Models[0].Name
	return nil
}

type ollamaRequest struct {
	Model     string            `json:"model"`
	Prompt    string            `json:"prompt,omitempty"`
	Messages  []dataset.Message `json:"messages,omitempty"`
	Stream    bool              `json:"stream"`
	KeepAlive json.RawMessage   `json:"keep_alive,omitempty"`
	Options   struct {
		NumPredict  int     `json:"num_predict,omitempty"`
		Temperature float64 `json:"temperature"`
	} `json:"options"`
}

func (d *Driver) body(p dataset.Prompt) ([]byte, error) {
	r := ollamaRequest{Model: d.o.Model, Stream: true, KeepAlive: d.o.KeepAlive}
	r.Options.NumPredict = d.o.NumPredict
	if p.MaxTokens > 0 {
		r.Options.NumPredict = p.MaxTokens
	}
	r.Options.Temperature = d.o.Temperature
	if d.o.API == APIChat {
		r.Messages = p.ChatMessages()
	} else {
		r.Prompt = p.CompletionText()
	}
	return json.Marshal(r)
}

// ollamaChunk is the part of one NDJSON line the driver reads.
type ollamaChunk struct {
	Response runner.Present `json:"response"`
	Thinking runner.Present `json:"thinking"`
	Message  struct {
		Content   runner.Present `json:"content"`
		Thinking  runner.Present `json:"thinking"`
		ToolCalls runner.Present `json:"tool_calls"`
	} `json:"message"`
	Done               bool            `json:"done"`
	Error              json.RawMessage `json:"error"`
	TotalDuration      int64           `json:"total_duration"`
	LoadDuration       int64           `json:"load_duration"`
	PromptEvalCount    int             `json:"prompt_eval_count"`
	PromptEvalDuration int64           `json:"prompt_eval_duration"`
	EvalCount          int             `json:"eval_count"`
	EvalDuration       int64           `json:"eval_duration"`
}

func (c *ollamaChunk) tokenBearing() bool {
	return bool(c.Response || c.Thinking || c.Message.Content || c.Message.Thinking || c.Message.ToolCalls)
}

// Do sends one request for Dataset.Prompt(op.Seq) and records it in s.
// The stream must end with a done line; otherwise the sample is
// stream_truncated.
func (d *Driver) Do(ctx context.Context, op runner.Op, s *results.Sample) {
	x := runner.NewExchange(op, s)
	defer x.Settle()
	p := d.o.Dataset.Prompt(op.Seq)
	s.InputTokens = p.InputTokens
	body, err := d.body(p)
	if err != nil {
		s.Error, s.ErrorDetail, s.Done = results.ErrOther, err.Error(), x.Now()
		return
	}
	resp, rctx, done := x.Post(ctx, d.client, d.url, body, d.o.Timeout, nil)
	defer done()
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	nd := NewNDJSONReader(resp.Body)
	var (
		ch     ollamaChunk
		chunks int
		last   time.Duration
	)
	for {
		line, err := nd.Next()
		if err != nil && (err != io.ErrUnexpectedEOF || len(line) == 0) {
			if err == io.EOF {
				err = errors.New("stream ended without a done line")
			}
			s.OutputTokens, s.TokenSource = chunks, results.TokensFromCounted
			x.Fail(ctx, rctx, err, results.ErrStreamTruncated)
			return
		}
		now := x.Arrival()
		ch = ollamaChunk{}
		if jerr := json.Unmarshal(line, &ch); jerr != nil {
			s.Done = now
			s.OutputTokens, s.TokenSource = chunks, results.TokensFromCounted
			if err == io.ErrUnexpectedEOF {
				s.Error, s.ErrorDetail = results.ErrStreamTruncated, "stream ended mid-line"
			} else {
				s.Error, s.ErrorDetail = results.ErrParse, x.Detail(jerr.Error()+": "+string(line))
			}
			return
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			s.Done = now
			s.Error, s.ErrorDetail = results.ErrOther, "error in stream: "+x.Snippet(ch.Error)
			s.OutputTokens, s.TokenSource = chunks, results.TokensFromCounted
			return
		}
		if ch.tokenBearing() {
			chunks++
			if s.FirstToken == 0 {
				s.FirstToken = now
			} else {
				s.ITL = append(s.ITL, now-last)
			}
			last, s.LastToken = now, now
		}
		if ch.Done {
			break
		}
		if err != nil {
			s.Done = now
			s.OutputTokens, s.TokenSource = chunks, results.TokensFromCounted
			s.Error, s.ErrorDetail = results.ErrStreamTruncated, "stream ended without a done line"
			return
		}
	}
	s.Done = x.Now()
	if err := runner.DrainBody(resp.Body); err != nil {
		x.Fail(ctx, rctx, err, results.ErrOther)
		return
	}
	s.OutputTokens, s.TokenSource = ch.EvalCount, results.TokensFromUsage
	if ch.EvalCount == 0 && chunks > 0 {
		s.OutputTokens, s.TokenSource = chunks, results.TokensFromCounted
	}
	if ch.PromptEvalCount > 0 {
		s.InputTokens = ch.PromptEvalCount
	}
	s.Server = map[string]float64{
		"load_duration":        seconds(ch.LoadDuration),
		"prompt_eval_duration": seconds(ch.PromptEvalDuration),
		"eval_duration":        seconds(ch.EvalDuration),
		"total_duration":       seconds(ch.TotalDuration),
		"prompt_eval_count":    float64(ch.PromptEvalCount),
		"eval_count":           float64(ch.EvalCount),
	}
	if time.Duration(ch.LoadDuration) > d.o.ColdStartThreshold {
		s.Server["cold_start"] = 1
	}
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }
