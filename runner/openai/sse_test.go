package openai

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/benchrun/benchrun/runner/internal/drivertest"
)

// readAllEvents returns every event of r and the error that ended it.
func readAllEvents(r io.Reader) ([]string, error) {
	s := NewSSEReader(r)
	var out []string
	for {
		d, err := s.Next()
		if err != nil {
			return out, err
		}
		out = append(out, string(d))
	}
}

func TestSSEReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
		err  error
	}{
		{"one", "data: a\n\n", []string{"a"}, io.EOF},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}, io.EOF},
		{"multi-line data", "data: a\ndata: b\ndata:c\n\n", []string{"a\nb\nc"}, io.EOF},
		{"comments", ": ping\n\n: ping\ndata: x\n: mid\n\n", []string{"x"}, io.EOF},
		{"other fields", "event: e\nid: 1\nretry: 5\ndata: x\n\n", []string{"x"}, io.EOF},
		{"no data event skipped", "event: e\n\ndata: y\n\n", []string{"y"}, io.EOF},
		{"only one space stripped", "data:  two\n\n", []string{" two"}, io.EOF},
		{"empty data", "data:\n\ndata\n\n", []string{"", ""}, io.EOF},
		{"done", "data: [DONE]\n\n", []string{"[DONE]"}, io.EOF},
		{"extra blank lines", "\n\n\ndata: a\n\n\n\n", []string{"a"}, io.EOF},
		{"truncated event", "data: a\n\ndata: {\"x", []string{"a"}, io.ErrUnexpectedEOF},
		{"event without blank line", "data: a\n", nil, io.ErrUnexpectedEOF},
		{"trailing comment is clean", "data: a\n\n: bye\n", []string{"a"}, io.EOF},
		{"empty", "", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in)),
				iotest.DataErrReader(strings.NewReader(tc.in))} {
				got, err := readAllEvents(r)
				if !slices.Equal(got, tc.want) || err != tc.err {
					t.Errorf("got %q, %v; want %q, %v", got, err, tc.want, tc.err)
				}
			}
		})
	}
}

func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := readAllEvents(io.MultiReader(strings.NewReader("data: a\n\n"), iotest.ErrReader(boom)))
	if err != boom {
		t.Errorf("error %v, want boom", err)
	}
}

func TestSSEReaderLongEvent(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	got, err := readAllEvents(strings.NewReader("data: " + big + "\n\ndata: y\n\n"))
	if err != io.EOF || len(got) != 2 || got[0] != big || got[1] != "y" {
		t.Errorf("long event: %d events, %v", len(got), err)
	}
}

func TestIsSSEDone(t *testing.T) {
	for s, want := range map[string]bool{"[DONE]": true, " [DONE] ": true, "[DONE": false, `{"x":1}`: false} {
		if IsSSEDone([]byte(s)) != want {
			t.Errorf("IsSSEDone(%q) != %v", s, want)
		}
	}
}

// FuzzSSE checks that the reader never panics, that splitting the input
// into arbitrary chunks gives the same events and end as reading it whole,
// and that every event came from a data line.
func FuzzSSE(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"), []byte{3, 1})
	f.Add([]byte(": ping\r\n\r\ndata: a\r\ndata: b\r\n\r\n"), []byte{0})
	f.Add([]byte("data: x\n\ndata: trunc"), []byte{5, 9, 2})
	f.Add([]byte("event: e\nid: 1\n\n\n\ndata:\n\n"), []byte{})
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		whole, werr := readAllEvents(bytes.NewReader(in))
		split, serr := readAllEvents(drivertest.NewChunkReader(in, sizes))
		if !slices.Equal(whole, split) || werr != serr {
			t.Fatalf("whole %q (%v) != split %q (%v)", whole, werr, split, serr)
		}
		if werr != io.EOF && werr != io.ErrUnexpectedEOF {
			t.Fatalf("unexpected error %v", werr)
		}
		if len(whole) > bytes.Count(in, []byte("data")) {
			t.Fatalf("%d events from %d data fields", len(whole), bytes.Count(in, []byte("data")))
		}
	})
}

func BenchmarkSSEReader(b *testing.B) {
	var buf bytes.Buffer
	for range 1000 {
		buf.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewSSEReader(bytes.NewReader(in))
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
	}
}
