package openai

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/results"
)

// OpenAI API flavours.
const (
	APIChat        = "chat"        // /v1/chat/completions, /api/chat
	APICompletions = "completions" // /v1/completions
	APIGenerate    = "generate"    // /api/generate
)

// OpenAIOptions configures an OpenAI-compatible (vLLM) driver.
type OpenAIOptions struct {
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
	Timeout         time.Duration // per request; 0 = none
	Dataset         Dataset       // required
	Client          *http.Client  // optional; default a client with a pool sized for benchmarking
}

// OpenAI is a runner.Driver for the OpenAI-compatible completions and chat
// APIs as vLLM serves them. It is safe for concurrent use once Prepare has
// returned.
type OpenAI struct {
	o      OpenAIOptions
	url    string
	apiKey string
	client *http.Client
}

var (
	_ runner.Driver   = (*OpenAI)(nil)
	_ runner.Preparer = (*OpenAI)(nil)
)

// NewOpenAI validates o and returns a driver. Nothing is contacted until
// Prepare.
func NewOpenAI(o OpenAIOptions) (*OpenAI, error) {
	url, err := endpoint("openai", o.BaseURL, &o.API, o.Dataset, map[string]string{
		APIChat: "/v1/chat/completions", APICompletions: "/v1/completions"})
	if err != nil {
		return nil, err
	}
	if o.MaxTokens < 0 || o.Timeout < 0 {
		return nil, errors.New("openai: max tokens and timeout must not be negative")
	}
	return &OpenAI{o: o, url: url, client: clientOr(o.Client)}, nil
}

// endpoint checks what both drivers need, defaults *api to APIChat, and
// returns the URL of *api among paths.
func endpoint(driver, baseURL string, api *string, ds Dataset, paths map[string]string) (string, error) {
	if *api == "" {
		*api = APIChat
	}
	path, ok := paths[*api]
	if !ok {
		return "", fmt.Errorf("%s: api %q: want one of %s", driver, *api, strings.Join(slices.Sorted(maps.Keys(paths)), ", "))
	}
	if baseURL == "" {
		return "", fmt.Errorf("%s: base URL is required", driver)
	}
	if ds == nil {
		return "", fmt.Errorf("%s: a dataset is required", driver)
	}
	return strings.TrimRight(baseURL, "/") + path, nil
}

// clientOr returns c, or a benchmarking client when c is nil.
func clientOr(c *http.Client) *http.Client {
	if c == nil {
		return newBenchClient()
	}
	return c
}

// newBenchClient returns a client whose pool keeps a connection per
// concurrent request, so connection setup does not pollute latencies.
func newBenchClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = 4096
	t.DisableCompression = true // compressed SSE would be buffered
	// Chunks are stamped with the kernel's receive time where it has one
	// (runner.ReceiveTime), not when this process got to read them.
	t.DialContext = runner.ReceiveDialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
	return &http.Client{Transport: t}
}

// Model returns the model the driver sends (after Prepare, the discovered
// one).
func (c *OpenAI) Model() string { return c.o.Model }

// Prepare reads the API key from APIKeyEnv (an error if it is unset or
// empty) and, when no model was given, takes the first id of GET /v1/models.
func (c *OpenAI) Prepare(ctx context.Context) error {
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
		return fmt.Errorf("openai: GET %s: %s: %s", url, resp.Status, snippet(body))
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
	return nil
}

func (c *OpenAI) authorize(req *http.Request) {
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
}

// openAIRequest is the request body.
type openAIRequest struct {
	Model         string    `json:"model"`
	Prompt        string    `json:"prompt,omitempty"`
	Messages      []Message `json:"messages,omitempty"`
	MaxTokens     int       `json:"max_tokens,omitempty"`
	Temperature   float64   `json:"temperature"`
	Stream        bool      `json:"stream"`
	StreamOptions *struct {
		IncludeUsage         bool `json:"include_usage"`
		ContinuousUsageStats bool `json:"continuous_usage_stats,omitempty"`
	} `json:"stream_options,omitempty"`
	IgnoreEOS bool `json:"ignore_eos,omitempty"`
}

// body builds the request for a prompt.
func (c *OpenAI) body(p Prompt) ([]byte, error) {
	r := openAIRequest{Model: c.o.Model, MaxTokens: c.o.MaxTokens, Temperature: c.o.Temperature,
		Stream: c.o.Stream, IgnoreEOS: c.o.IgnoreEOS}
	if p.MaxTokens > 0 {
		r.MaxTokens = p.MaxTokens
	}
	if c.o.API == APIChat {
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
	if c.o.Stream {
		r.StreamOptions = &struct {
			IncludeUsage         bool `json:"include_usage"`
			ContinuousUsageStats bool `json:"continuous_usage_stats,omitempty"`
		}{true, c.o.ContinuousUsage}
	}
	return json.Marshal(r)
}

func joinMessages(ms []Message) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n")
}

// request is what one Do shares with its helpers. The httptrace callbacks
// run on the transport's goroutines, possibly after Do returned (a
// canceled request): they touch only start, sent and the atomics, never
// the sample.
type request struct {
	start     time.Time
	sent      time.Duration // s.Sent, copied for the callbacks
	s         *results.Sample
	firstByte atomic.Int64 // offset from start, set by httptrace
	conn      atomic.Pointer[connRef]
	floor     time.Duration // the latest arrival given to the body reader
}

type connRef struct{ c net.Conn }

func newRequest(op runner.Op, s *results.Sample) *request {
	return &request{start: op.Start, sent: s.Sent, s: s}
}

func (q *request) now() time.Duration { return time.Since(q.start) }

func (q *request) gotConn() bool { return q.conn.Load() != nil }

// settle runs when Do ends. The first byte cannot arrive after the first
// token; when it was measured so, its read had no kernel stamp and was
// timed when the process got to it, so the token's arrival bounds it.
func (q *request) settle() {
	if s := q.s; s.FirstToken > 0 && s.FirstByte > s.FirstToken {
		s.FirstByte = s.FirstToken
	}
}

// received returns when the bytes just read reached this host, as an
// offset from start: the kernel's receive stamp when the connection has
// one (runner.ReceiveTime) and it falls between the send and now, else
// now.
func (q *request) received() time.Duration {
	now := q.now()
	if r := q.conn.Load(); r != nil {
		if t, ok := runner.ReceiveTime(r.c); ok {
			if d := t.Sub(q.start); d >= q.sent && d < now {
				return d
			}
		}
	}
	return now
}

// arrival is received for the body reader: never earlier than the arrival
// it gave before, since a stamped read may follow one timed by the clock.
func (q *request) arrival() time.Duration {
	q.floor = max(q.received(), q.floor)
	return q.floor
}

// header sets the driver's request headers.
func (c *OpenAI) header(req *http.Request) {
	if c.o.Stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	c.authorize(req)
}

// post sends body to url as JSON under the per-request timeout (0: none),
// with header adding the driver's own headers, tracing q. On failure it
// has filled in q.s and resp is nil. rctx is the request's context; the
// caller calls done when it has read the response.
func post(ctx context.Context, client *http.Client, url string, body []byte, timeout time.Duration, header func(*http.Request), q *request) (resp *http.Response, rctx context.Context, done context.CancelFunc) {
	rctx, done = ctx, func() {}
	if timeout > 0 {
		rctx, done = context.WithTimeout(ctx, timeout)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		q.s.Error, q.s.ErrorDetail, q.s.Done = results.ErrOther, err.Error(), q.now()
		return nil, rctx, done
	}
	req.Header.Set("Content-Type", "application/json")
	if header != nil {
		header(req)
	}
	return send(rctx, ctx, client, req, q), rctx, done
}

// send performs the HTTP request with tracing. On failure it has filled in
// s and returns a nil response.
func send(ctx, parent context.Context, client *http.Client, req *http.Request, q *request) *http.Response {
	trace := &httptrace.ClientTrace{
		GotConn:              func(i httptrace.GotConnInfo) { q.conn.Store(&connRef{i.Conn}) },
		GotFirstResponseByte: func() { q.firstByte.Store(int64(q.received())) },
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	resp, err := client.Do(req)
	q.s.FirstByte = time.Duration(q.firstByte.Load())
	if err != nil {
		fail(q, parent, ctx, err, results.ErrConnect)
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		q.s.Status = resp.StatusCode
		q.s.Done = q.now()
		switch {
		case resp.StatusCode >= 500:
			q.s.Error = results.ErrHTTP5xx
		case resp.StatusCode >= 400:
			q.s.Error = results.ErrHTTP4xx
		default:
			q.s.Error = results.ErrOther
		}
		q.s.ErrorDetail = resp.Status + ": " + snippet(body)
		return nil
	}
	q.s.Status = resp.StatusCode
	return resp
}

// fail records err as the sample's error class. A canceled parent context
// is "canceled"; a deadline (per-request timeout, parent deadline, client
// timeout) is "timeout"; a failure before a connection existed is
// "connect"; anything else is class other (fallback is used for errors
// while reading a response, typically results.ErrStreamTruncated).
func fail(q *request, parent, ctx context.Context, err error, fallback string) {
	q.s.Done = q.now()
	q.s.ErrorDetail = truncate(err.Error(), 200)
	var ne net.Error
	var op *net.OpError
	var terr tls.RecordHeaderError
	switch {
	case errors.Is(parent.Err(), context.Canceled):
		q.s.Error = results.ErrCanceled
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		q.s.Error = results.ErrTimeout
	case !q.gotConn() || (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &terr):
		q.s.Error = results.ErrConnect
	case fallback == results.ErrConnect:
		q.s.Error = results.ErrOther
	default:
		q.s.Error = fallback
	}
}

// snippet returns the start of a body as valid UTF-8 text.
func snippet(b []byte) string { return truncate(strings.TrimSpace(string(b)), 200) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Do sends one request for Dataset.Prompt(op.Seq) and records it in s; see
// docs/metrics.md for what each field means.
func (c *OpenAI) Do(ctx context.Context, op runner.Op, s *results.Sample) {
	q := newRequest(op, s)
	defer q.settle()
	p := c.o.Dataset.Prompt(op.Seq)
	s.InputTokens = p.InputTokens
	body, err := c.body(p)
	if err != nil {
		s.Error, s.ErrorDetail, s.Done = results.ErrOther, err.Error(), q.now()
		return
	}
	resp, rctx, done := post(ctx, c.client, c.url, body, c.o.Timeout, c.header, q)
	defer done()
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	if c.o.Stream {
		c.readStream(rctx, ctx, resp.Body, q)
	} else {
		c.readWhole(rctx, ctx, resp.Body, q)
	}
}

// openAIChunk is the part of a streamed chunk (or a whole response) the
// driver reads. present fields only record whether they carried anything,
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
	Text  present `json:"text"`
	Delta struct {
		Content          present `json:"content"`
		ReasoningContent present `json:"reasoning_content"`
		Reasoning        present `json:"reasoning"`
		ToolCalls        present `json:"tool_calls"`
	} `json:"delta"`
	Message struct {
		Content          present `json:"content"`
		ReasoningContent present `json:"reasoning_content"`
		Reasoning        present `json:"reasoning"`
		ToolCalls        present `json:"tool_calls"`
	} `json:"message"`
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// present is true for a JSON value that carries something: a non-empty
// string, a non-empty array or an object; false for "", [], {} , null.
type present bool

// UnmarshalJSON implements json.Unmarshaler without allocating.
func (p *present) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0, string(b) == "null", string(b) == `""`:
		*p = false
	case b[0] == '[' || b[0] == '{':
		*p = len(bytes.TrimSpace(b[1:len(b)-1])) > 0
	default:
		*p = true
	}
	return nil
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
func (c *OpenAI) readStream(ctx, parent context.Context, body io.Reader, q *request) {
	s := q.s
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
			fail(q, parent, ctx, err, results.ErrStreamTruncated)
			return
		}
		now := q.arrival()
		if IsSSEDone(data) {
			break
		}
		if err := decodeChunk(data, &ch); err != nil {
			s.Done = now
			s.Error = results.ErrParse
			s.ErrorDetail = truncate(err.Error()+": "+string(data), 200)
			c.finish(s, chunks, usage, haveUsage)
			return
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			s.Done = now
			s.Error = results.ErrOther
			s.ErrorDetail = "error in stream: " + snippet(ch.Error)
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
	s.Done = q.now()
	c.finish(s, chunks, usage, haveUsage)
}

// finish fills in the token counts.
func (c *OpenAI) finish(s *results.Sample, chunks int, usage openAIUsage, haveUsage bool) {
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

// readWhole reads a non-streaming response: FirstToken = LastToken = the
// arrival of the body's last bytes.
// Without usage, the output is counted in whitespace-separated words.
func (c *OpenAI) readWhole(ctx, parent context.Context, body io.Reader, q *request) {
	s := q.s
	b, err := io.ReadAll(body)
	if err != nil {
		fail(q, parent, ctx, err, results.ErrStreamTruncated)
		return
	}
	now := q.arrival()
	s.Done = q.now()
	var resp struct {
		Choices []struct {
			Text    string `json:"text"`
			Message struct {
				Content          string `json:"content"`
				ReasoningContent string `json:"reasoning_content"`
			} `json:"message"`
		} `json:"choices"`
		Usage *openAIUsage `json:"usage"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		s.Error = results.ErrParse
		s.ErrorDetail = truncate(err.Error(), 200)
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
