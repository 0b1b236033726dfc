package emulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
)

// modelState is the Ollama flavour's loaded model, guarded by Emulator.mu.
type modelState struct {
	loadEnd time.Time // when the current load finishes or finished; zero = never loaded
	expires time.Time // unloaded from then on, once idle
	forever bool      // keep_alive < 0
	active  int       // requests holding the model
}

// loaded reports whether the model is in memory at now.
func (m *modelState) loaded(now time.Time) bool {
	return !m.loadEnd.IsZero() && !now.Before(m.loadEnd) && (m.active > 0 || m.forever || now.Before(m.expires))
}

// waitLoaded holds the model for one request, loading it first (LoadTime)
// when it is not in memory; requests arriving during a load wait for the
// same load. It returns how long the request waited. The caller must call
// modelIdle afterwards, even on error.
func (e *Emulator) waitLoaded(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	e.mu.Lock()
	st := &e.load
	if st.loadEnd.IsZero() || (st.active == 0 && !st.forever && !start.Before(st.expires)) {
		st.loadEnd = start.Add(e.scale(e.o.LoadTime, nil))
		st.forever = false
	}
	st.active++
	end := st.loadEnd
	e.mu.Unlock()
	if end.After(start) {
		if err := e.sleepUntil(ctx, end); err != nil {
			return time.Since(start), err
		}
	}
	return time.Since(start), nil
}

// modelIdle releases the model held by one request; the last request out
// starts its keep_alive timer (negative: forever, 0: unload now).
func (e *Emulator) modelIdle(keepAlive time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &e.load
	st.active--
	if st.active > 0 {
		return
	}
	st.forever = keepAlive < 0
	st.expires = time.Now().Add(keepAlive)
}

// defaultKeepAlive is Ollama's default keep_alive.
const defaultKeepAlive = 5 * time.Minute

// parseKeepAlive reads Ollama's keep_alive as Ollama does: a number of
// seconds (whole seconds; negative keeps the model loaded) or a string Go's
// time.ParseDuration reads ("5m"; "-1" as a string is an error, as in
// Ollama). Absent means 5 minutes.
func parseKeepAlive(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return defaultKeepAlive, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err == nil {
		if secs < 0 {
			return -1, nil
		}
		return time.Duration(int64(secs)) * time.Second, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, errors.New("keep_alive must be a duration string or a number of seconds")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("keep_alive: %w", err)
	}
	return d, nil
}

// ollamaRequest is the part of /api/generate and /api/chat the emulator reads.
type ollamaRequest struct {
	Model    string  `json:"model"`
	Prompt   *string `json:"prompt"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream  *bool `json:"stream"`
	Options struct {
		NumPredict *int `json:"num_predict"`
	} `json:"options"`
	KeepAlive json.RawMessage `json:"keep_alive"`
}

func writeOllamaError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(b)
}

func (e *Emulator) ollamaHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/generate", func(w http.ResponseWriter, r *http.Request) { e.serveOllama(w, r, false) })
	mux.HandleFunc("POST /api/chat", func(w http.ResponseWriter, r *http.Request) { e.serveOllama(w, r, true) })
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"version": Version})
	})
	details := map[string]any{"format": "gguf", "family": "emulated", "parameter_size": "1B", "quantization_level": "Q4_0"}
	mux.HandleFunc("GET /api/tags", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"models": []any{map[string]any{
			"name": e.o.Model, "model": e.o.Model, "modified_at": e.start.UTC().Format(time.RFC3339Nano),
			"size": 1 << 30, "digest": "0000000000000000000000000000000000000000000000000000000000000000", "details": details}}})
	})
	mux.HandleFunc("GET /api/ps", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		e.mu.Lock()
		st := e.load
		e.mu.Unlock()
		models := []any{}
		if st.loaded(now) {
			exp := st.expires
			if st.forever {
				exp = now.AddDate(290, 0, 0)
			} else if st.active > 0 {
				exp = now.Add(defaultKeepAlive)
			}
			models = append(models, map[string]any{"name": e.o.Model, "model": e.o.Model, "size": 1 << 30,
				"digest": "0000000000000000000000000000000000000000000000000000000000000000", "details": details,
				"expires_at": exp.UTC().Format(time.RFC3339Nano), "size_vram": 1 << 30})
		}
		writeJSON(w, map[string]any{"models": models})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Ollama is running")) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.ready() {
			writeOllamaError(w, http.StatusServiceUnavailable, "server starting")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// serveOllama answers /api/generate (chat false) and /api/chat.
func (e *Emulator) serveOllama(w http.ResponseWriter, r *http.Request, chat bool) {
	if e.gate(w, writeOllamaError) {
		return
	}
	var req ollamaRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&req); err != nil {
		writeOllamaError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	// The request arrived when its last bytes did: the read that ended
	// the body (see runner.ReceiveListener).
	arrival := runner.RequestArrival(r)
	switch req.Model {
	case "":
		writeOllamaError(w, http.StatusBadRequest, "model is required")
		return
	case e.o.Model, e.o.Model + ":latest":
	default:
		writeOllamaError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", req.Model))
		return
	}
	keepAlive, err := parseKeepAlive(req.KeepAlive)
	if err != nil {
		writeOllamaError(w, http.StatusBadRequest, err.Error())
		return
	}
	g := genRequest{arrival: arrival, maxTokens: e.o.OutputTokens, ollama: true, keepAlive: keepAlive}
	if n := req.Options.NumPredict; n != nil && *n > 0 {
		// The emulated model never emits EOS before num_predict.
		g.maxTokens, g.ignoreEOS = *n, true
	}
	if chat {
		for _, m := range req.Messages {
			g.promptTokens += dataset.CountWords(m.Content)
		}
	} else if req.Prompt != nil {
		g.promptTokens = dataset.CountWords(*req.Prompt)
	}
	if (!chat && (req.Prompt == nil || *req.Prompt == "")) || (chat && len(req.Messages) == 0) {
		// Ollama's way to load (or, with keep_alive 0, unload) a model.
		loadWait, err := e.waitLoaded(r.Context())
		e.modelIdle(keepAlive)
		if err != nil {
			return
		}
		c := &ollamaChunker{model: e.o.Model, chat: chat}
		b := c.start()
		b = append(b, `,"done":true,"done_reason":"load","load_duration":`...)
		b = strconv.AppendInt(b, int64(loadWait), 10)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(append(b, "}\n"...))
		return
	}
	ticket, err := e.sched.enter(arrival)
	if err != nil {
		writeOllamaError(w, http.StatusServiceUnavailable, "server busy, please try again.  maximum pending requests exceeded")
		return
	}
	stream := req.Stream == nil || *req.Stream
	c := &ollamaChunker{model: e.o.Model, chat: chat}
	flusher, _ := w.(http.Flusher)
	if stream {
		w.Header().Set("Content-Type", "application/x-ndjson")
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	wrote := false
	var text []byte
	res, err := e.generate(r.Context(), ticket, g, genHooks{onToken: func(i int, word, finish string) error {
		if !stream {
			text = append(append(text, ' '), word...)
			return nil
		}
		wrote = true
		if _, err := w.Write(c.token(word)); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}})
	if errors.Is(err, errDisconnect) {
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		if !wrote {
			writeOllamaError(w, http.StatusServiceUnavailable, err.Error())
		}
		return
	}
	w.Write(c.final(string(text), g, res))
}

// ollamaChunker builds NDJSON lines into one reused buffer; each result is
// valid until the next call.
type ollamaChunker struct {
	model string
	chat  bool
	buf   []byte
}

func (c *ollamaChunker) start() []byte {
	c.buf = append(c.buf[:0], `{"model":`...)
	c.buf, _ = appendJSONString(c.buf, c.model)
	c.buf = append(c.buf, `,"created_at":"`...)
	c.buf = time.Now().UTC().AppendFormat(c.buf, time.RFC3339Nano)
	c.buf = append(c.buf, '"')
	return c.buf
}

func (c *ollamaChunker) content(text string) {
	if c.chat {
		c.buf = append(c.buf, `,"message":{"role":"assistant","content":`...)
		c.buf, _ = appendJSONString(c.buf, text)
		c.buf = append(c.buf, '}')
	} else {
		c.buf = append(c.buf, `,"response":`...)
		c.buf, _ = appendJSONString(c.buf, text)
	}
}

// token is one streamed token line.
func (c *ollamaChunker) token(word string) []byte {
	c.start()
	if c.chat {
		c.buf = append(c.buf, `,"message":{"role":"assistant","content":" `...)
		c.buf = append(c.buf, word...)
		c.buf = append(c.buf, `"}`...)
	} else {
		c.buf = append(c.buf, `,"response":" `...)
		c.buf = append(c.buf, word...)
		c.buf = append(c.buf, '"')
	}
	c.buf = append(c.buf, `,"done":false}`+"\n"...)
	return c.buf
}

// final is the done line with Ollama's timing fields, in nanoseconds, taken
// from what the emulator actually did.
func (c *ollamaChunker) final(text string, g genRequest, res genResult) []byte {
	c.start()
	c.content(text)
	c.buf = append(c.buf, `,"done":true,"done_reason":"`...)
	c.buf = append(c.buf, res.finish...)
	c.buf = append(c.buf, '"')
	field := func(name string, v int64) {
		c.buf = append(append(append(c.buf, `,"`...), name...), `":`...)
		c.buf = strconv.AppendInt(c.buf, v, 10)
	}
	field("total_duration", int64(res.end.Sub(g.arrival)))
	field("load_duration", int64(res.loadWait))
	field("prompt_eval_count", int64(g.promptTokens))
	field("prompt_eval_duration", int64(res.first.Sub(res.prefill)))
	field("eval_count", int64(res.tokens))
	field("eval_duration", int64(res.last.Sub(res.first)))
	c.buf = append(c.buf, "}\n"...)
	return c.buf
}
