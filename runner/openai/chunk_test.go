package openai

import (
	"bytes"
	"encoding/json"
	"runtime"
	"testing"
	"time"
)

var chunkSamples = []string{
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":11,"total_tokens":18,"completion_tokens":7}}`,
	`{"id":"c","choices":[{"index":0,"text":" w","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
	`{"choices":[{"delta":{"reasoning_content":"think"}},{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[]}}],"usage":null}`,
	`{"choices":null,"error":{"message":"boom","code":500}}`,
	`{"error":null}`,
	` { "choices" : [ null , { "message" : { "content" : "a b" } } ] } `,
	`{"choices":[{"delta":{"content":"caf\u00e9 \"q\""}}],"logprobs":{"content":[{"token":"x","logprob":-0.5e-3}]}}`,
	// Left to encoding/json:
	`{"Choices":[{"delta":{"content":"a"}}]}`,
	`{"choices":[{"delta":{"content":"a"}}],"choices":[]}`,
	`{"ch\u006fices":[{"delta":{"content":"a"}}]}`,
	`{"choices":[{"delta":{"content":"a"}}],"usage":{"completion_tokens":2.0}}`,
	`{"choices":[{"delta":{"content":"a"}}],"usage":{"completion_tokens":99999999999999999999}}`,
	`{"choices":"nope"}`,
	`null`,
	`[1]`,
	`{"choices":[1]}`,
	`{"choices":[{"delta":{"content":"a"}}]} x`,
	`{"choices":[{"delta":{"content":"a"}`,
	`{"choices":[{"delta":{"CONTENT":"a"}}]}`,
}

// sameChunk reports whether two decoded chunks mean the same to the driver.
func sameChunk(a, b *openAIChunk) bool {
	if len(a.Choices) != len(b.Choices) || (a.Usage == nil) != (b.Usage == nil) || !bytes.Equal(a.Error, b.Error) {
		return false
	}
	if a.Usage != nil && (a.Usage.PromptTokens != b.Usage.PromptTokens || a.Usage.CompletionTokens != b.Usage.CompletionTokens) {
		return false
	}
	for i := range a.Choices {
		if a.Choices[i] != b.Choices[i] {
			return false
		}
	}
	return true
}

// checkChunk decodes data both ways and fails when the scanner answered
// differently from encoding/json. It returns whether the scanner answered.
func checkChunk(t *testing.T, data []byte) bool {
	t.Helper()
	var fast openAIChunk
	sc := chunkScanner{b: data}
	if !sc.chunk(&fast) {
		return false
	}
	var slow openAIChunk
	if err := json.Unmarshal(data, &slow); err != nil {
		t.Fatalf("the scanner accepted %q, encoding/json says %v", data, err)
	}
	if !sameChunk(&fast, &slow) {
		t.Fatalf("%q: scanner %+v (usage %+v), encoding/json %+v (usage %+v)", data, fast, fast.Usage, slow, slow.Usage)
	}
	return true
}

func TestDecodeChunk(t *testing.T) {
	scanned := 0
	for _, c := range chunkSamples {
		if checkChunk(t, []byte(c)) {
			scanned++
		}
		// decodeChunk itself agrees with encoding/json on error and result.
		var got, want openAIChunk
		gotErr := decodeChunk([]byte(c), &got)
		wantErr := json.Unmarshal([]byte(c), &want)
		if (gotErr == nil) != (wantErr == nil) || gotErr == nil && !sameChunk(&got, &want) {
			t.Errorf("%s: decodeChunk %+v, %v; encoding/json %+v, %v", c, got, gotErr, want, wantErr)
		}
	}
	if scanned != 10 {
		t.Errorf("the scanner answered %d of the samples, want the first 10", scanned)
	}
	var ch openAIChunk
	if err := decodeChunk([]byte(chunkSamples[2]), &ch); err != nil || ch.Usage == nil || ch.Usage.CompletionTokens != 7 || ch.Usage.PromptTokens != 11 {
		t.Errorf("usage chunk: %+v, %v", ch.Usage, err)
	}
	if err := decodeChunk([]byte(chunkSamples[0]), &ch); err != nil || ch.Usage != nil || !ch.tokenBearing() {
		t.Errorf("a token chunk after a usage chunk: %+v, %v", ch, err)
	}
}

func TestDecodeChunkAllocs(t *testing.T) {
	data := []byte(chunkSamples[0])
	var ch openAIChunk
	decodeChunk(data, &ch)
	if n := testing.AllocsPerRun(100, func() { decodeChunk(data, &ch) }); n != 0 {
		t.Errorf("%v allocations per token chunk, want 0", n)
	}
}

// FuzzDecodeChunk: whenever the scanner answers, encoding/json accepts
// the input and decodes the same chunk.
func FuzzDecodeChunk(f *testing.F) {
	for _, c := range chunkSamples {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkChunk(t, data)
	})
}

// BenchmarkOpenAIChunkDecode decodes a token chunk 10,000 times per
// iteration, so that make bench's -benchtime 1x still measures: ns and
// allocations per chunk, for the scanner and for encoding/json.
func BenchmarkOpenAIChunkDecode(b *testing.B) {
	data := []byte(chunkSamples[0])
	for _, tc := range []struct {
		name   string
		decode func(ch *openAIChunk) error
	}{
		{"scanner", func(ch *openAIChunk) error { return decodeChunk(data, ch) }},
		{"encoding-json", func(ch *openAIChunk) error { ch.reset(); return json.Unmarshal(data, ch) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 10000
			var ch openAIChunk
			tc.decode(&ch) // first use grows the choices
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			for b.Loop() {
				for range n {
					if err := tc.decode(&ch); err != nil || !ch.tokenBearing() {
						b.Fatal(err)
					}
				}
			}
			el := time.Since(start)
			runtime.ReadMemStats(&after)
			chunks := float64(b.N * n)
			b.ReportMetric(float64(el.Nanoseconds())/chunks, "ns/chunk")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/chunks, "allocs/chunk")
		})
	}
}
