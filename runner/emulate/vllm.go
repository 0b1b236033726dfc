package emulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Version is the version the emulators report (/version,
// /api/version).
const Version = "0.0.0-benchrun-emulator"

// vllmMetrics are the vLLM V1 metrics the emulator serves on /metrics, in
// its own registry. Every method is a no-op on a nil receiver (the Ollama
// flavour has no metrics).
type vllmMetrics struct {
	reg *prometheus.Registry

	promptTokens, generationTokens         prometheus.Counter
	preemptions, prefixQueries, prefixHits prometheus.Counter
	success                                *prometheus.CounterVec

	ttft, itl, e2e, queue, prefill, decode *prometheus.HistogramVec
	reqPrompt, reqGeneration               *prometheus.HistogramVec
}

func newVLLMMetrics(model string) *vllmMetrics {
	labels := prometheus.Labels{"model_name": model, "engine": "0"}
	reg := prometheus.NewRegistry()
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
		reg.MustRegister(c)
		return c
	}
	hist := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: labels, Buckets: buckets}, nil)
		reg.MustRegister(h)
		return h
	}
	latency := []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560}
	itl := []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}
	request := []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680}
	tokens := []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000}
	m := &vllmMetrics{
		reg:              reg,
		promptTokens:     counter("vllm:prompt_tokens_total", "Number of prefill tokens processed."),
		generationTokens: counter("vllm:generation_tokens_total", "Number of generation tokens processed."),
		preemptions:      counter("vllm:num_preemptions_total", "Cumulative number of preemptions from the engine."),
		prefixQueries:    counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in number of queried tokens."),
		prefixHits:       counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in number of cached tokens."),
		success: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vllm:request_success_total",
			Help: "Count of successfully processed requests.", ConstLabels: labels}, []string{"finished_reason"}),
		ttft:          hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", latency),
		itl:           hist("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itl),
		e2e:           hist("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", request),
		queue:         hist("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", request),
		prefill:       hist("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", request),
		decode:        hist("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", request),
		reqPrompt:     hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", tokens),
		reqGeneration: hist("vllm:request_generation_tokens", "Number of generation tokens processed.", tokens),
	}
	reg.MustRegister(m.success)
	for _, reason := range []string{"stop", "length", "abort"} {
		m.success.WithLabelValues(reason) // expose zeros, as vLLM does
	}
	return m
}

// register adds the gauges that read the scheduler.
func (m *vllmMetrics) registerGauges(e *Emulator) {
	labels := prometheus.Labels{"model_name": e.o.Model, "engine": "0"}
	gauge := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, f))
	}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.", func() float64 {
		r, _ := e.sched.counts()
		return float64(r)
	})
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", func() float64 {
		_, w := e.sched.counts()
		return float64(w)
	})
	gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", func() float64 {
		r, _ := e.sched.counts()
		return float64(r) / float64(e.o.Slots)
	})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vllm:cache_config_info",
		Help: "Information of the LLMEngine CacheConfig", ConstLabels: labels}, []string{"block_size", "num_gpu_blocks"})
	info.WithLabelValues("16", strconv.Itoa(e.o.Slots*64)).Set(1)
	m.reg.MustRegister(info)
}

func (m *vllmMetrics) queued(d time.Duration) {
	if m != nil {
		m.queue.WithLabelValues().Observe(d.Seconds())
	}
}

func (m *vllmMetrics) firstToken(ttft, prefill time.Duration, promptTokens int) {
	if m != nil {
		m.ttft.WithLabelValues().Observe(ttft.Seconds())
		m.prefill.WithLabelValues().Observe(prefill.Seconds())
		m.promptTokens.Add(float64(promptTokens))
		m.prefixQueries.Add(float64(promptTokens))
		m.generationTokens.Inc()
	}
}

func (m *vllmMetrics) token(itl time.Duration) {
	if m != nil {
		m.itl.WithLabelValues().Observe(itl.Seconds())
		m.generationTokens.Inc()
	}
}

// finished records a request that ran (got a slot), completed or aborted.
func (m *vllmMetrics) finished(g genRequest, res genResult) {
	if m == nil || res.slot.IsZero() {
		return
	}
	end := res.end
	if end.IsZero() {
		end = time.Now()
	}
	m.success.WithLabelValues(res.finish).Inc()
	m.e2e.WithLabelValues().Observe(end.Sub(g.arrival).Seconds())
	if res.tokens > 0 {
		m.decode.WithLabelValues().Observe(res.last.Sub(res.first).Seconds())
		m.reqPrompt.WithLabelValues().Observe(float64(g.promptTokens))
		m.reqGeneration.WithLabelValues().Observe(float64(res.tokens))
	}
}

// oaRequest is the part of an OpenAI completion or chat request the
// emulator reads.
type oaRequest struct {
	Model    string          `json:"model"`
	Prompt   json.RawMessage `json:"prompt"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage         bool `json:"include_usage"`
		ContinuousUsageStats bool `json:"continuous_usage_stats"`
	} `json:"stream_options"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	IgnoreEOS           bool `json:"ignore_eos"`
}

// countPrompt counts the words of a completion prompt: a string, or an
// array of token ids (one token each).
func countPrompt(raw json.RawMessage) (int, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return dataset.CountWords(s), nil
	}
	var ids []int
	if err := json.Unmarshal(raw, &ids); err == nil {
		return len(ids), nil
	}
	return 0, errors.New("prompt must be a string or an array of token ids")
}

// countContent counts the words of a chat message content: a string or an
// array of {"type":"text","text":...} parts.
func countContent(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return dataset.CountWords(s), nil
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return 0, errors.New("message content must be a string or an array of parts")
	}
	n := 0
	for _, p := range parts {
		n += dataset.CountWords(p.Text)
	}
	return n, nil
}

// writeOpenAIError writes vLLM's error body.
func writeOpenAIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": http.StatusText(status), "param": nil, "code": status}})
	w.Write(b)
}

func (e *Emulator) vllmHandler() http.Handler {
	e.vllm.registerGauges(e)
	metrics := promhttp.HandlerFor(e.vllm.reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { e.serveOpenAI(w, r, false) })
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { e.serveOpenAI(w, r, true) })
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"object": "list", "data": []any{map[string]any{
			"id": e.o.Model, "object": "model", "created": e.start.Unix(), "owned_by": "vllm",
			"root": e.o.Model, "parent": nil, "max_model_len": 32768}}})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"version": Version})
	})
	mux.Handle("GET /metrics", metrics)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.ready() {
			writeOpenAIError(w, http.StatusServiceUnavailable, "server starting")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	w.Write(b)
}

// serveOpenAI answers /v1/completions (chat false) and /v1/chat/completions.
func (e *Emulator) serveOpenAI(w http.ResponseWriter, r *http.Request, chat bool) {
	if e.gate(w, writeOpenAIError) {
		return
	}
	var req oaRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&req); err != nil {
		writeOpenAIError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	// The request arrived when its last bytes did: the read that ended
	// the body (see runner.ReceiveListener).
	arrival := runner.RequestArrival(r)
	if req.StreamOptions != nil && !req.Stream {
		writeOpenAIError(w, http.StatusBadRequest, "Stream options can only be defined when `stream=True`.")
		return
	}
	if req.Model != "" && req.Model != e.o.Model {
		writeOpenAIError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return
	}
	g := genRequest{arrival: arrival, maxTokens: e.o.OutputTokens, ignoreEOS: req.IgnoreEOS}
	var err error
	if chat {
		if len(req.Messages) == 0 {
			writeOpenAIError(w, http.StatusBadRequest, "messages must not be empty")
			return
		}
		for _, m := range req.Messages {
			n, cerr := countContent(m.Content)
			if cerr != nil {
				err = cerr
				break
			}
			g.promptTokens += n
		}
	} else {
		g.promptTokens, err = countPrompt(req.Prompt)
	}
	if err != nil {
		writeOpenAIError(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, mt := range []*int{req.MaxTokens, req.MaxCompletionTokens} {
		if mt != nil {
			if *mt < 1 {
				writeOpenAIError(w, http.StatusBadRequest, "max_tokens must be at least 1")
				return
			}
			g.maxTokens = *mt
		}
	}
	ticket, err := e.sched.enter(arrival)
	if err != nil {
		writeOpenAIError(w, http.StatusServiceUnavailable, "too many requests waiting")
		return
	}
	object, idPrefix := "text_completion", "cmpl-"
	if chat {
		object, idPrefix = "chat.completion.chunk", "chatcmpl-"
		if !req.Stream {
			object = "chat.completion"
		}
	}
	c := &oaChunker{
		prefix: fmt.Appendf(nil, `{"id":"%s%016x","object":"%s","created":%d,"model":`,
			idPrefix, e.ids.Add(1), object, arrival.Unix()),
		chat:   chat,
		prompt: g.promptTokens,
	}
	c.prefix, _ = appendJSONString(c.prefix, e.o.Model)
	if !req.Stream {
		e.serveOpenAIWhole(w, r, ticket, g, c)
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	// vLLM: usage on every chunk only with include_usage as well.
	c.continuous = includeUsage && req.StreamOptions.ContinuousUsageStats
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush() // the headers go out at arrival, as vLLM's do
	}
	send := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	res, err := e.generate(r.Context(), ticket, g, genHooks{
		onToken: func(i int, word, finish string) error {
			if i == 1 && chat {
				// vLLM sends the role chunk with the engine's first output:
				// after prefill, in the same write as the first token.
				first := append([]byte(nil), c.role()...)
				return send(append(first, c.token(i, word, finish)...))
			}
			return send(c.token(i, word, finish))
		},
	})
	e.vllm.finished(g, res)
	if errors.Is(err, errDisconnect) {
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		return // the client went away or the emulator closed: no [DONE]
	}
	// The usage chunk and [DONE] follow the last token at once: one write.
	tail := []byte("data: [DONE]\n\n")
	if includeUsage {
		tail = append(c.usage(res.tokens), tail...)
	}
	send(tail)
}

// serveOpenAIWhole answers a non-streaming request once generation ends.
func (e *Emulator) serveOpenAIWhole(w http.ResponseWriter, r *http.Request, ticket *waiter, g genRequest, c *oaChunker) {
	var text []byte
	res, err := e.generate(r.Context(), ticket, g, genHooks{onToken: func(i int, word, finish string) error {
		text = append(append(text, ' '), word...)
		return nil
	}})
	e.vllm.finished(g, res)
	if errors.Is(err, errDisconnect) {
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		writeOpenAIError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	b := c.prefix
	if c.chat {
		b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
		b, _ = appendJSONString(b, string(text))
		b = append(b, `},"logprobs":null,"finish_reason":"`...)
	} else {
		b = append(b, `,"choices":[{"index":0,"text":`...)
		b, _ = appendJSONString(b, string(text))
		b = append(b, `,"logprobs":null,"finish_reason":"`...)
	}
	b = append(b, res.finish...)
	b = append(b, `"}],`...)
	b = appendUsage(b, c.prompt, res.tokens)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// oaChunker builds SSE chunks into one reused buffer; each result is valid
// until the next call.
type oaChunker struct {
	prefix     []byte // {"id":...,"object":...,"created":...,"model":"..."
	chat       bool
	continuous bool
	prompt     int
	buf        []byte
}

func (c *oaChunker) start() []byte {
	c.buf = append(append(c.buf[:0], "data: "...), c.prefix...)
	return c.buf
}

func (c *oaChunker) end(completion int) []byte {
	if c.continuous {
		c.buf = append(c.buf, ',')
		c.buf = appendUsage(c.buf, c.prompt, completion)
	}
	c.buf = append(c.buf, "}\n\n"...)
	return c.buf
}

// role is vLLM's first chat chunk: a role and empty content, no token.
func (c *oaChunker) role() []byte {
	c.start()
	c.buf = append(c.buf, `,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`...)
	return c.end(0)
}

// token is the chunk carrying token i; the last one has a finish reason.
func (c *oaChunker) token(i int, word, finish string) []byte {
	c.start()
	if c.chat {
		c.buf = append(c.buf, `,"choices":[{"index":0,"delta":{"content":" `...)
	} else {
		c.buf = append(c.buf, `,"choices":[{"index":0,"text":" `...)
	}
	c.buf = append(c.buf, word...)
	c.buf = append(c.buf, `"`...)
	if c.chat {
		c.buf = append(c.buf, '}')
	}
	c.buf = append(c.buf, `,"logprobs":null,"finish_reason":`...)
	if finish != "" {
		c.buf = append(append(append(c.buf, '"'), finish...), '"')
	} else {
		c.buf = append(c.buf, "null"...)
	}
	c.buf = append(c.buf, "}]"...)
	return c.end(i)
}

// usage is the include_usage chunk: no choices, the whole request's usage.
func (c *oaChunker) usage(completion int) []byte {
	c.start()
	c.buf = append(c.buf, `,"choices":[],`...)
	c.buf = appendUsage(c.buf, c.prompt, completion)
	c.buf = append(c.buf, "}\n\n"...)
	return c.buf
}

func appendUsage(b []byte, prompt, completion int) []byte {
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	return append(b, '}')
}

func appendJSONString(b []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	return append(b, q...), err
}
