package openai

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/benchrun/benchrun/runner/dataset"
)

// referenceBody is the request body as encoding/json writes openAIRequest:
// what Driver.body must decode to.
func referenceBody(o Options, p dataset.Prompt) ([]byte, error) {
	r := openAIRequest{Model: o.Model, MaxTokens: o.MaxTokens, Temperature: o.Temperature,
		Stream: o.Stream, IgnoreEOS: o.IgnoreEOS}
	if p.MaxTokens > 0 {
		r.MaxTokens = p.MaxTokens
	}
	if o.API == APIChat {
		r.Messages = p.ChatMessages()
	} else {
		r.Prompt = p.CompletionText()
	}
	if o.Stream {
		r.StreamOptions = &streamOptions{true, o.ContinuousUsage}
	}
	return json.Marshal(r)
}

// checkBody fails t unless the driver's body for p decodes to what
// referenceBody's does, or both fail.
func checkBody(t *testing.T, o Options, p dataset.Prompt) {
	t.Helper()
	o.BaseURL, o.Dataset = "http://localhost:1", cycle{}
	if o.API == "" {
		o.API = APIChat
	}
	d, err := New(o)
	if err != nil {
		t.Skip(err)
	}
	got, gerr := d.body(p)
	want, werr := referenceBody(o, p)
	if (gerr != nil) != (werr != nil) {
		t.Fatalf("error %v, encoding/json's %v", gerr, werr)
	}
	if werr != nil {
		return
	}
	if !utf8.Valid(got) {
		t.Fatalf("body %q is not valid UTF-8 (a strict server rejects it)", got)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q does not decode: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body %s\nencoding/json's %s", got, want)
	}
}

func TestRequestBodyMatchesEncodingJSON(t *testing.T) {
	ctl := string([]byte{0, 1, 0x1f, 0x7f, '\b', '\f'})
	for _, tc := range []struct {
		name string
		o    Options
		p    dataset.Prompt
	}{
		{"completion", Options{API: APICompletions, Model: "m"}, dataset.Prompt{Text: "hello world"}},
		{"completion max tokens", Options{API: APICompletions, Model: "m", MaxTokens: 7}, dataset.Prompt{Text: "x", MaxTokens: 9}},
		{"completion from messages", Options{API: APICompletions, Model: "m"}, dataset.Prompt{Messages: []dataset.Message{{Role: "system", Content: "a"}, {Role: "user", Content: "b"}}}},
		{"empty prompt", Options{API: APICompletions, Model: "m", MaxTokens: 3}, dataset.Prompt{}},
		{"chat", Options{API: APIChat, Model: "m", Temperature: 0.7}, dataset.Prompt{Text: "hi"}},
		{"chat messages", Options{API: APIChat, Model: "m"}, dataset.Prompt{Messages: []dataset.Message{{Role: "system", Content: "be \"brief\""}, {Role: "user", Content: "q\\a\n"}}}},
		{"stream", Options{API: APIChat, Model: "m", Stream: true, ContinuousUsage: true, IgnoreEOS: true, MaxTokens: 99}, dataset.Prompt{Text: "x", MaxTokens: 8}},
		{"stream without continuous usage", Options{API: APICompletions, Model: "m", Stream: true}, dataset.Prompt{Text: "x"}},
		{"escapes", Options{API: APICompletions, Model: "a\"b<>&\u2028"}, dataset.Prompt{Text: "tab\there\r\n" + ctl + "<script>&\u2028\u2029 é 日本 🙂"}},
		{"invalid UTF-8", Options{API: APIChat, Model: "m\xff"}, dataset.Prompt{Text: "a\xffb\xc3(c\xe2\x82", Messages: nil}},
		{"long", Options{API: APICompletions, Model: "m"}, dataset.Prompt{Text: strings.Repeat("word ", 10000)}},
		{"temperature NaN", Options{API: APICompletions, Model: "m", Temperature: math.NaN()}, dataset.Prompt{Text: "x"}},
		{"large temperature", Options{API: APICompletions, Model: "m", Temperature: 1e21}, dataset.Prompt{Text: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkBody(t, tc.o, tc.p) })
	}
}

// TestRequestBodyNaNFails: a temperature encoding/json cannot write is a
// failed request, as before.
func TestRequestBodyNaNFails(t *testing.T) {
	d, err := New(Options{BaseURL: "http://localhost:1", API: APICompletions, Model: "m", Temperature: math.Inf(1), Dataset: cycle{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.body(dataset.Prompt{Text: "x"}); err == nil {
		t.Error("no error for an infinite temperature")
	}
}

func FuzzRequestBody(f *testing.F) {
	f.Add("m", "hello", "user", "hi", 0, false, false, 0.0)
	f.Add("m\xff", "a\x00\"\\\n\u2028", "sys\xc3", "<&>", 5, true, true, 0.5)
	f.Fuzz(func(t *testing.T, model, text, role, content string, maxTokens int, chat, stream bool, temp float64) {
		o := Options{API: APICompletions, Model: model, MaxTokens: max(maxTokens%1000, 0), Stream: stream, ContinuousUsage: stream && chat, Temperature: temp}
		if chat {
			o.API = APIChat
		}
		p := dataset.Prompt{Text: text, MaxTokens: maxTokens / 1000}
		if role != "" || content != "" {
			p.Messages = []dataset.Message{{Role: role, Content: content}, {Role: content, Content: text}}
		}
		checkBody(t, o, p)
	})
}

// BenchmarkRequestBody: the driver's body for a 100-word completion
// prompt, and encoding/json's (referenceBody) for comparison.
func BenchmarkRequestBody(b *testing.B) {
	o := Options{BaseURL: "http://localhost:1", API: APICompletions, Model: "m", Dataset: cycle{}}
	d, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	p := dataset.Prompt{Text: strings.Repeat("a few words of prompt ", 20), MaxTokens: 16}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.body(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := referenceBody(o, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
