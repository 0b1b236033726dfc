package openai

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// wholeSeeds are non-streaming bodies: the usual ones the scanner reads,
// and the ones it must leave to encoding/json.
var wholeSeeds = []string{
	string(instantCompletion),
	`{"choices":[{"message":{"role":"assistant","content":"hi there"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
	`{"choices":[{"text":"a b c"}]}`,                                              // no usage: words
	`{"choices":[{"text":"   "}],"usage":{"completion_tokens":0}}`,                // no output
	`{"choices":[{"text":5}],"usage":{"completion_tokens":3}}`,                    // text not a string: parse error
	`{"choices":[{"message":{"content":["x"]}}],"usage":{"completion_tokens":1}}`, // content not a string
	`{"choices":[{"message":{"tool_calls":[{"id":"1"}]}}],"usage":{"completion_tokens":4}}`,
	`{"choices":[{"text":"a"}],"usage":{"completion_tokens":1.5}}`, // fractional: parse error
	`{"choices":[{"text":"a"}],"usage":{"completion_tokens":1}} x`, // trailing garbage
	`{"choices":null,"usage":{"completion_tokens":7,"prompt_tokens":0}}`,
	`{"Choices":[{"text":"a b"}],"usage":{"completion_tokens":2}}`, // folded key
	`[]`,
	``,
	`{"error":{"message":"model overloaded"},"usage":{"completion_tokens":3}}`, // an error body with 200: failed
	`{"error":null,"choices":[{"text":"a"}],"usage":{"completion_tokens":1}}`,
	`{"ERROR":"x","usage":{"completion_tokens":2}}`,
}

// readWholeResult is what readWhole decided about a body, without times.
type readWholeResult struct {
	Error, TokenSource        string
	InputTokens, OutputTokens int
	FirstToken, LastToken     bool
}

func readWholeWith(t testing.TB, body []byte, slow bool) readWholeResult {
	d := &Driver{}
	s := &results.Sample{InputTokens: 11, Sent: 1}
	x := runner.NewExchange(runner.Op{Start: time.Now().Add(-time.Second)}, s)
	if slow {
		d.decodeWhole(body, x.Arrival(), x, s)
	} else {
		d.readWhole(context.Background(), context.Background(), bytes.NewReader(body), x, s)
	}
	return readWholeResult{s.Error, s.TokenSource, s.InputTokens, s.OutputTokens, s.FirstToken != 0, s.LastToken != 0}
}

// FuzzReadWhole: whatever the body, readWhole (the scanner's fast path
// where it applies) decides what encoding/json alone decides: the same
// error class, token counts and token times.
func FuzzReadWhole(f *testing.F) {
	for _, s := range wholeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, slow := readWholeWith(t, body, false), readWholeWith(t, body, true)
		if fast != slow {
			t.Errorf("%q: readWhole %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

// TestReadWholeFastPath: the usual response takes the scanner and is read
// right: usage tokens, first = last token at the arrival.
func TestReadWholeFastPath(t *testing.T) {
	got := readWholeWith(t, instantCompletion, false)
	want := readWholeResult{TokenSource: results.TokensFromUsage, InputTokens: 16, OutputTokens: 16, FirstToken: true, LastToken: true}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if bad := readWholeWith(t, []byte(wholeSeeds[4]), false); bad.Error != results.ErrParse {
		t.Errorf("a numeric text read as %+v, want a parse error", bad)
	}
	if n := testing.AllocsPerRun(100, func() { readWholeWith(t, instantCompletion, false) }); n > 4 {
		t.Errorf("%v allocations per usual response (sample and exchange included), want at most 4", n)
	}
}

// TestReadWholeErrorBody: a 200 response whose body is an error object is
// a failed request, not a success with no output (the streaming path
// already failed such a chunk); a null error is no error.
func TestReadWholeErrorBody(t *testing.T) {
	for _, body := range []string{
		`{"error":{"message":"model overloaded","code":503}}`,
		`{"error":{"message":"x"},"choices":[{"text":"a b"}],"usage":{"completion_tokens":2}}`,
		`{"object":"error","error":"quota exceeded"}`,
	} {
		if got := readWholeWith(t, []byte(body), false); got.Error != results.ErrOther {
			t.Errorf("%s read as %+v, want error %q", body, got, results.ErrOther)
		}
	}
	ok := `{"error":null,"choices":[{"text":"a"}],"usage":{"completion_tokens":1}}`
	if got := readWholeWith(t, []byte(ok), false); got.Error != "" || got.OutputTokens != 1 {
		t.Errorf("%s read as %+v, want a success", ok, got)
	}
}
