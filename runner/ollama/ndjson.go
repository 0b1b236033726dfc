package ollama

import (
	"bytes"
	"io"

	"github.com/benchrun/benchrun/runner"
)

// NDJSONReader reads newline-delimited JSON (Ollama's streaming format)
// one line at a time, buffering partial lines across reads. It does not
// parse the JSON. It is not safe for concurrent use.
type NDJSONReader struct {
	lines runner.LineReader
}

// NewNDJSONReader returns a reader of the lines in r.
func NewNDJSONReader(r io.Reader) *NDJSONReader {
	return &NDJSONReader{lines: runner.NewLineReader(r)}
}

// Next returns the next line that is not blank, without its "\n" or
// "\r\n", valid until the next call. At a clean end of the stream it
// returns io.EOF. A last line without a terminating newline is returned
// together with io.ErrUnexpectedEOF (it may be complete JSON or a torn
// write; the caller decides). Read errors are returned as they are.
func (n *NDJSONReader) Next() ([]byte, error) {
	for {
		line, err := n.lines.Next()
		if err == io.ErrUnexpectedEOF && isBlank(line) {
			return nil, io.EOF
		}
		if err != nil {
			return line, err
		}
		if !isBlank(line) {
			return line, nil
		}
	}
}

func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }
