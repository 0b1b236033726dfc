package openai

import (
	"bytes"
	"io"

	"github.com/benchrun/benchrun/runner"
)

// SSEReader reads Server-Sent Events (the text/event-stream format of
// OpenAI-compatible streaming) from a byte stream. It buffers partial
// events across reads, ends events at a blank line ("\n\n" or "\r\n\r\n"),
// joins the values of several data: lines with "\n", strips one space
// after "data:", skips comment lines (starting with ':') and ignores the
// other fields (event, id, retry). A lone "\r" is not a line end.
//
// It is not safe for concurrent use.
type SSEReader struct {
	lines runner.LineReader
	data  []byte
}

// NewSSEReader returns a reader of the events in r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{lines: runner.NewLineReader(r)}
}

// Next returns the data of the next event that has at least one data line
// (events with none are skipped, as the SSE specification says). The slice
// is valid until the next call. At the end of the stream Next returns
// io.EOF; when the stream ends inside an event (bytes after the last blank
// line that are not comments) that event is discarded and Next returns
// io.ErrUnexpectedEOF. Read errors are returned as they are.
func (s *SSEReader) Next() ([]byte, error) {
	s.data = s.data[:0]
	hasData, pending := false, false
	for {
		line, err := s.lines.Next()
		if err != nil {
			if err == io.ErrUnexpectedEOF || (err == io.EOF && pending) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if hasData {
				return s.data, nil
			}
			pending = false
			continue
		}
		if line[0] == ':' {
			continue
		}
		pending = true
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		if string(field) != "data" {
			continue
		}
		if hasData {
			s.data = append(s.data, '\n')
		}
		s.data = append(s.data, value...)
		hasData = true
	}
}

// IsSSEDone reports whether an event's data is the OpenAI end-of-stream
// marker "[DONE]" (surrounding whitespace allowed).
func IsSSEDone(data []byte) bool {
	return string(bytes.TrimSpace(data)) == "[DONE]"
}
