package ollama

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/benchrun/benchrun/runner/internal/drivertest"
)

func readAllLines(r io.Reader) ([]string, error) {
	n := NewNDJSONReader(r)
	var out []string
	for {
		l, err := n.Next()
		if len(l) > 0 {
			out = append(out, string(l))
		}
		if err != nil {
			return out, err
		}
	}
}

func TestNDJSONReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
		err  error
	}{
		{"lines", "{\"a\":1}\n{\"b\":2}\n", []string{`{"a":1}`, `{"b":2}`}, io.EOF},
		{"crlf and blanks", "{}\r\n\r\n  \n{}\n", []string{"{}", "{}"}, io.EOF},
		{"unterminated last", "{}\n{\"done\":true}", []string{"{}", `{"done":true}`}, io.ErrUnexpectedEOF},
		{"trailing blank", "{}\n  ", []string{"{}"}, io.EOF},
		{"empty", "", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readAllLines(r)
				if !slices.Equal(got, tc.want) || err != tc.err {
					t.Errorf("got %q, %v; want %q, %v", got, err, tc.want, tc.err)
				}
			}
		})
	}
}

// FuzzNDJSON checks that chunking never changes the lines and that no line
// is blank or contains a newline.
func FuzzNDJSON(f *testing.F) {
	f.Add([]byte("{\"response\":\"a\"}\n{\"done\":true}\n"), []byte{2})
	f.Add([]byte("\r\n\n{}\r\n{"), []byte{0, 7})
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		whole, werr := readAllLines(bytes.NewReader(in))
		split, serr := readAllLines(drivertest.NewChunkReader(in, sizes))
		if !slices.Equal(whole, split) || werr != serr {
			t.Fatalf("whole %q (%v) != split %q (%v)", whole, werr, split, serr)
		}
		for _, l := range whole {
			if strings.TrimSpace(l) == "" || strings.Contains(l, "\n") {
				t.Fatalf("bad line %q", l)
			}
		}
	})
}
