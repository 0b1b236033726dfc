package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// DefaultColdStartThreshold is the load_duration above which an Ollama
// request is flagged as a cold start.
const DefaultColdStartThreshold = time.Second

// OllamaOptions configures a driver for Ollama's native API.
type OllamaOptions struct {
	BaseURL     string  // e.g. http://node1:11434
	API         string  // APIChat (default, /api/chat) or APIGenerate (/api/generate)
	Model       string  // empty: the first model of GET /api/tags, found by Prepare
	NumPredict  int     // options.num_predict when the prompt gives no length; 0 = not sent
	KeepAlive   string  // keep_alive, e.g. "5m"; empty = not sent (server default)
	Temperature float64 // options.temperature, sent as is
	// ColdStartThreshold is the load_duration above which a sample gets
	// Server["cold_start"] = 1; 0 means DefaultColdStartThreshold.
	ColdStartThreshold time.Duration
	Timeout            time.Duration // per request; 0 = none
	Dataset            Dataset       // required
	Client             *http.Client  // optional
}

// Ollama is a runner.Driver for Ollama's /api/chat and /api/generate NDJSON
// streams. It records Ollama's own timings in Sample.Server, in seconds:
// load_duration, prompt_eval_duration, eval_duration, total_duration, and
// the counts prompt_eval_count and eval_count; cold_start is 1 when
// load_duration exceeded the threshold. It is safe for concurrent use once
// Prepare has returned.
type Ollama struct {
	o         OllamaOptions
	url       string
	keepAlive json.RawMessage
	client    *http.Client
}

var (
	_ runner.Driver   = (*Ollama)(nil)
	_ runner.Preparer = (*Ollama)(nil)
)

// NewOllama validates o and returns a driver. Nothing is contacted until
// Prepare.
func NewOllama(o OllamaOptions) (*Ollama, error) {
	url, err := endpoint("ollama", o.BaseURL, &o.API, o.Dataset, map[string]string{
		APIChat: "/api/chat", APIGenerate: "/api/generate"})
	if err != nil {
		return nil, err
	}
	if o.NumPredict < 0 || o.Timeout < 0 || o.ColdStartThreshold < 0 {
		return nil, errors.New("ollama: num_predict, timeout and cold start threshold must not be negative")
	}
	if o.ColdStartThreshold == 0 {
		o.ColdStartThreshold = DefaultColdStartThreshold
	}
	ka, err := KeepAliveJSON(o.KeepAlive)
	if err != nil {
		return nil, fmt.Errorf("ollama: %w", err)
	}
	return &Ollama{o: o, url: url, client: clientOr(o.Client), keepAlive: ka}, nil
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

// Model returns the model the driver sends.
func (d *Ollama) Model() string { return d.o.Model }

// Prepare takes the first model of GET /api/tags when no model was given.
// It does not load the model: the first request pays the load, and is
// flagged as a cold start.
func (d *Ollama) Prepare(ctx context.Context) error {
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
		return fmt.Errorf("ollama: GET %s: %s: %s", url, resp.Status, snippet(body))
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
	Model     string          `json:"model"`
	Prompt    string          `json:"prompt,omitempty"`
	Messages  []Message       `json:"messages,omitempty"`
	Stream    bool            `json:"stream"`
	KeepAlive json.RawMessage `json:"keep_alive,omitempty"`
	Options   struct {
		NumPredict  int     `json:"num_predict,omitempty"`
		Temperature float64 `json:"temperature"`
	} `json:"options"`
}

func (d *Ollama) body(p Prompt) ([]byte, error) {
	r := ollamaRequest{Model: d.o.Model, Stream: true, KeepAlive: d.keepAlive}
	r.Options.NumPredict = d.o.NumPredict
	if p.MaxTokens > 0 {
		r.Options.NumPredict = p.MaxTokens
	}
	r.Options.Temperature = d.o.Temperature
	if d.o.API == APIChat {
		r.Messages = p.Messages
		if len(r.Messages) == 0 {
			r.Messages = []Message{{Role: "user", Content: p.Text}}
		}
	} else {
		r.Prompt = p.Text
		if p.Text == "" {
			r.Prompt = joinMessages(p.Messages)
		}
	}
	return json.Marshal(r)
}

// ollamaChunk is the part of one NDJSON line the driver reads.
type ollamaChunk struct {
	Response present `json:"response"`
	Thinking present `json:"thinking"`
	Message  struct {
		Content   present `json:"content"`
		Thinking  present `json:"thinking"`
		ToolCalls present `json:"tool_calls"`
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
func (d *Ollama) Do(ctx context.Context, op runner.Op, s *results.Sample) {
	q := newRequest(op, s)
	defer q.settle()
	p := d.o.Dataset.Prompt(op.Seq)
	s.InputTokens = p.InputTokens
	body, err := d.body(p)
	if err != nil {
		s.Error, s.ErrorDetail, s.Done = results.ErrOther, err.Error(), q.now()
		return
	}
	resp, rctx, done := post(ctx, d.client, d.url, body, d.o.Timeout, nil, q)
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
			fail(q, ctx, rctx, err, results.ErrStreamTruncated)
			return
		}
		now := q.arrival()
		ch = ollamaChunk{}
		if jerr := json.Unmarshal(line, &ch); jerr != nil {
			s.Done = now
			s.OutputTokens, s.TokenSource = chunks, results.TokensFromCounted
			if err == io.ErrUnexpectedEOF {
				s.Error, s.ErrorDetail = results.ErrStreamTruncated, "stream ended mid-line"
			} else {
				s.Error, s.ErrorDetail = results.ErrParse, truncate(jerr.Error()+": "+string(line), 200)
			}
			return
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			s.Done = now
			s.Error, s.ErrorDetail = results.ErrOther, "error in stream: "+snippet(ch.Error)
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
	s.Done = q.now()
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
