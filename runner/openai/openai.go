package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/results"
)

// The APIs the driver speaks.
const (
	APIChat        = "chat"        // /v1/chat/completions
	APICompletions = "completions" // /v1/completions
)

// Options configures an OpenAI-compatible (vLLM) driver.
type Options struct {
	BaseURL     string  // e.g. http://node1:8000, without /v1
	API         string  // APIChat (default) or APICompletions
	Model       string  // empty: the first id of GET /v1/models, found by Prepare
	Stream      bool    // stream the response (needed for ttft and itl)
	MaxTokens   int     // output cap when the prompt gives none; 0 = server default
	IgnoreEOS   bool    // vLLM: generate exactly max_tokens
	Temperature float64 // sent as is (0 = greedy)
	// APIKeyEnv names the environment variable holding the API key. The key
	// is read by Prepare and sent as a Bearer token; it is never logged nor
	// written anywhere.
	APIKeyEnv string
	// ContinuousUsage asks vLLM for cumulative usage on every chunk
	// (stream_options.continuous_usage_stats), so ITL can be divided
	// exactly among the tokens of multi-token chunks.
	ContinuousUsage bool
	Timeout         time.Duration   // per request; 0 = none
	Dataset         dataset.Dataset // required
	Client          *http.Client    // optional; default a client with a pool sized for benchmarking
}

// Driver is a runner.Driver for the OpenAI-compatible completions and chat
// APIs as vLLM serves them. It is safe for concurrent use once Prepare has
// returned.
type Driver struct {
	o      Options
	url    string
	target *neturl.URL // url parsed once; nil if it does not parse (every request then fails as Post reports)
	apiKey string
	client *http.Client
	parts  struct { // the constant parts of the request body (body.go); set by New and Prepare
		bodyParts
		err error
	}
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
	url, err := runner.Endpoint("openai", o.BaseURL, o.API, map[string]string{
		APIChat: "/v1/chat/completions", APICompletions: "/v1/completions"})
	if err != nil {
		return nil, err
	}
	if o.Dataset == nil {
		return nil, errors.New("openai: a dataset is required")
	}
	if o.MaxTokens < 0 || o.Timeout < 0 {
		return nil, errors.New("openai: max tokens and timeout must not be negative")
	}
	target, _ := runner.ParseTarget(url)
	d := &Driver{o: o, url: url, target: target, client: runner.ClientOr(o.Client)}
	d.parts.bodyParts, d.parts.err = newBodyParts(o)
	return d, nil
}

// Model returns the model the driver sends (after Prepare, the discovered
// one).
func (c *Driver) Model() string { return c.o.Model }

// Prepare reads the API key from APIKeyEnv (an error if it is unset or
// empty) and, when no model was given, takes the first id of GET /v1/models.
func (c *Driver) Prepare(ctx context.Context) error {
	if c.o.APIKeyEnv != "" {
		c.apiKey = os.Getenv(c.o.APIKeyEnv)
		if c.apiKey == "" {
			return fmt.Errorf("openai: environment variable %s (api_key_env) is empty", c.o.APIKeyEnv)
		}
	}
	if c.o.Model != "" {
		return nil
	}
	url := strings.TrimRight(c.o.BaseURL, "/") + "/v1/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("openai: %w", err)
	}
	c.authorize(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("openai: model discovery: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("openai: GET %s: %s: %s", url, resp.Status, runner.Snippet(body, c.apiKey))
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("openai: GET %s: %w", url, err)
	}
	if len(list.Data) == 0 || list.Data[0].ID == "" {
		return fmt.Errorf("openai: GET %s: no models served", url)
	}
	c.o.Model = list.Data[0].ID
	c.parts.bodyParts, c.parts.err = newBodyParts(c.o)
	return nil
}

func (c *Driver) authorize(req *http.Request) {
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
}

// openAIRequest is the request body.
type openAIRequest struct {
	Model         string            `json:"model"`
	Prompt        string            `json:"prompt,omitempty"`
	Messages      []dataset.Message `json:"messages,omitempty"`
	MaxTokens     int               `json:"max_tokens,omitempty"`
	Temperature   float64           `json:"temperature"`
	Stream        bool              `json:"stream"`
	StreamOptions *streamOptions    `json:"stream_options,omitempty"`
	IgnoreEOS     bool              `json:"ignore_eos,omitempty"`
}

type streamOptions struct {
	IncludeUsage         bool `json:"include_usage"`
	ContinuousUsageStats bool `json:"continuous_usage_stats,omitempty"`
}

// header sets the driver's request headers.
func (c *Driver) header(req *http.Request) {
	if c.o.Stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	c.authorize(req)
}

// Do sends one request for Dataset.Prompt(op.Seq) and records it in s; see
// docs/metrics.md for what each field means.
func (c *Driver) Do(ctx context.Context, op runner.Op, s *results.Sample) {
	x := runner.NewExchange(op, s)
	defer x.Settle()
	p := c.o.Dataset.Prompt(op.Seq)
	s.InputTokens = p.InputTokens
	body, err := c.body(p)
	if err != nil {
		s.Error, s.ErrorDetail, s.Done = results.ErrOther, err.Error(), x.Now()
		return
	}
	var resp *http.Response
	var rctx context.Context
	var done context.CancelFunc
	if c.target != nil {
		resp, rctx, done = x.PostURL(ctx, c.client, c.target, body, c.o.Timeout, c.header)
	} else {
		resp, rctx, done = x.Post(ctx, c.client, c.url, body, c.o.Timeout, c.header)
	}
	defer done()
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	if c.o.Stream {
		c.readStream(rctx, ctx, resp.Body, x, s)
		if s.Error == "" {
			if err := runner.DrainBody(resp.Body); err != nil {
				x.Fail(ctx, rctx, err, results.ErrOther)
			}
		}
	} else {
		c.readWhole(rctx, ctx, resp.Body, x, s)
	}
}

// openAIChunk is the part of a streamed chunk (or a whole response) the
// driver reads. Present fields only record whether they carried anything,
// so decoding allocates no strings for the text.
type openAIChunk struct {
	Choices []openAIChoice  `json:"choices"`
	Usage   *openAIUsage    `json:"usage"`
	Error   json.RawMessage `json:"error"`

	usage openAIUsage // what Usage points to after the scanner set it
}

// setUsage points Usage at u without allocating.
func (ch *openAIChunk) setUsage(u openAIUsage) {
	ch.usage = u
	ch.Usage = &ch.usage
}

type openAIChoice struct {
	Text  runner.Present `json:"text"`
	Delta struct {
		Content          runner.Present `json:"content"`
		ReasoningContent runner.Present `json:"reasoning_content"`
		Reasoning        runner.Present `json:"reasoning"`
		ToolCalls        runner.Present `json:"tool_calls"`
	} `json:"delta"`
	Message struct {
		Content          runner.Present `json:"content"`
		ReasoningContent runner.Present `json:"reasoning_content"`
		Reasoning        runner.Present `json:"reasoning"`
		ToolCalls        runner.Present `json:"tool_calls"`
	} `json:"message"`
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// tokenBearing reports whether a chunk carries output: text, content,
// reasoning or a tool-call delta in any choice.
func (ch *openAIChunk) tokenBearing() bool {
	for i := range ch.Choices {
		c := &ch.Choices[i]
		if c.Text || c.Delta.Content || c.Delta.ReasoningContent || c.Delta.Reasoning || c.Delta.ToolCalls ||
			c.Message.Content || c.Message.ReasoningContent || c.Message.Reasoning || c.Message.ToolCalls {
			return true
		}
	}
	return false
}

// reset clears ch for reuse, keeping the choices' backing array.
func (ch *openAIChunk) reset() {
	clear(ch.Choices)
	ch.Choices = ch.Choices[:0]
	ch.Usage = nil
	ch.Error = nil
}

// readStream reads an SSE response. Token-bearing chunks give FirstToken,
// LastToken and ITL. The stream must end with [DONE]; otherwise the sample
// is stream_truncated. A stream that ends with [DONE] but without the usage
// chunk is a success with counted tokens: some OpenAI-compatible servers
// ignore stream_options, and that is not a failure of the request.
func (c *Driver) readStream(ctx, parent context.Context, body io.Reader, x *runner.Exchange, s *results.Sample) {
	sse := NewSSEReader(body)
	var (
		ch        openAIChunk
		usage     openAIUsage
		haveUsage bool
		last      time.Duration
		chunks    int
		prevUsage = -1 // completion_tokens in the previous token chunk, continuous usage
	)
	for {
		data, err := sse.Next()
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = errors.New("stream ended without [DONE]")
			}
			c.finish(s, chunks, usage, haveUsage)
			x.Fail(parent, ctx, err, results.ErrStreamTruncated)
			return
		}
		now := x.Arrival()
		if IsSSEDone(data) {
			break
		}
		if err := decodeChunk(data, &ch); err != nil {
			s.Done = now
			s.Error = results.ErrParse
			s.ErrorDetail = x.Detail(err.Error() + ": " + string(data))
			c.finish(s, chunks, usage, haveUsage)
			return
		}
		if inBandError(ch.Error) {
			s.Done = now
			s.Error = results.ErrOther
			s.ErrorDetail = "error in stream: " + x.Snippet(ch.Error)
			c.finish(s, chunks, usage, haveUsage)
			return
		}
		if ch.Usage != nil {
			usage, haveUsage = *ch.Usage, true
		}
		if !ch.tokenBearing() {
			continue
		}
		chunks++
		if s.FirstToken == 0 {
			s.FirstToken = now
		} else {
			k := 1
			if c.o.ContinuousUsage && ch.Usage != nil && prevUsage >= 0 {
				k = max(ch.Usage.CompletionTokens-prevUsage, 1)
			}
			gap := (now - last) / time.Duration(k)
			for range k {
				s.ITL = append(s.ITL, gap)
			}
		}
		if ch.Usage != nil {
			prevUsage = ch.Usage.CompletionTokens
		}
		last = now
		s.LastToken = now
	}
	s.Done = x.Now()
	c.finish(s, chunks, usage, haveUsage)
}

// finish fills in the token counts.
func (c *Driver) finish(s *results.Sample, chunks int, usage openAIUsage, haveUsage bool) {
	if haveUsage {
		s.OutputTokens = usage.CompletionTokens
		s.TokenSource = results.TokensFromUsage
		if usage.PromptTokens > 0 {
			s.InputTokens = usage.PromptTokens
		}
		return
	}
	s.OutputTokens = chunks
	s.TokenSource = results.TokensFromCounted
}

// wholeBuf is what readWhole reuses between responses.
type wholeBuf struct {
	b  bytes.Buffer
	ch openAIChunk
}

var wholeBufs = sync.Pool{New: func() any { return new(wholeBuf) }}

// maxKeptWholeBuf bounds the buffers kept for reuse: a rare huge response
// does not pin its memory.
const maxKeptWholeBuf = 1 << 20

// readWhole reads a non-streaming response: FirstToken = LastToken = the
// arrival of the body's last bytes.
// Without usage, the output is counted in whitespace-separated words.
func (c *Driver) readWhole(ctx, parent context.Context, body io.Reader, x *runner.Exchange, s *results.Sample) {
	wb := wholeBufs.Get().(*wholeBuf)
	defer func() {
		if wb.b.Cap() <= maxKeptWholeBuf {
			wholeBufs.Put(wb)
		}
	}()
	wb.b.Reset()
	if _, err := wb.b.ReadFrom(body); err != nil {
		x.Fail(parent, ctx, err, results.ErrStreamTruncated)
		return
	}
	b := wb.b.Bytes()
	now := x.Arrival()
	s.Done = x.Now()
	// The usual response (usage with completion tokens, texts as strings)
	// is read by the chunk scanner, which allocates nothing; the words are
	// not needed then. Anything else goes to encoding/json below.
	wb.ch.reset()
	sc := chunkScanner{b: b, textual: true}
	if sc.chunk(&wb.ch) && wb.ch.Usage != nil && wb.ch.Usage.CompletionTokens > 0 && !inBandError(wb.ch.Error) {
		s.FirstToken, s.LastToken = now, now
		c.finish(s, 0, *wb.ch.Usage, true)
		return
	}
	c.decodeWhole(b, now, x, s)
}

// inBandError reports whether a response's "error" member holds an error
// (is present and not null).
func inBandError(e json.RawMessage) bool {
	return len(e) > 0 && string(e) != "null"
}

// decodeWhole is readWhole's encoding/json path.
func (c *Driver) decodeWhole(b []byte, now time.Duration, x *runner.Exchange, s *results.Sample) {
	var resp struct {
		Choices []struct {
			Text    string `json:"text"`
			Message struct {
				Content          string `json:"content"`
				ReasoningContent string `json:"reasoning_content"`
			} `json:"message"`
		} `json:"choices"`
		Usage *openAIUsage    `json:"usage"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		s.Error = results.ErrParse
		s.ErrorDetail = x.Detail(err.Error())
		return
	}
	if inBandError(resp.Error) {
		// A 200 whose body is an error (as some gateways answer) is a
		// failed request, as an error in a stream is.
		s.Error = results.ErrOther
		s.ErrorDetail = "error in response: " + x.Snippet(resp.Error)
		return
	}
	words := 0
	for _, ch := range resp.Choices {
		words += dataset.CountWords(ch.Text) + dataset.CountWords(ch.Message.Content) + dataset.CountWords(ch.Message.ReasoningContent)
	}
	if words > 0 || resp.Usage != nil && resp.Usage.CompletionTokens > 0 {
		s.FirstToken, s.LastToken = now, now
	}
	if resp.Usage != nil {
		c.finish(s, 0, *resp.Usage, true)
		return
	}
	s.OutputTokens = words
	s.TokenSource = results.TokensFromCounted
}
