package openai

import (
	"bytes"
	"errors"
	"io"
)

// maxEventBytes bounds one SSE line or NDJSON line; a longer one is an error
// rather than unbounded memory.
const maxEventBytes = 16 << 20

// ErrLineTooLong is returned by SSEReader and NDJSONReader when one line
// exceeds 16 MiB.
var ErrLineTooLong = errors.New("line longer than 16 MiB")

// lineReader splits a byte stream into lines ending in "\n" (a "\r" before
// it is dropped), buffering partial lines across reads. Lines returned by
// next alias its buffer and are valid until the next call.
type lineReader struct {
	r        io.Reader
	buf      []byte
	off, end int // unread bytes are buf[off:end]
	err      error
}

func newLineReader(r io.Reader) lineReader {
	return lineReader{r: r, buf: make([]byte, 4096)}
}

// next returns the next complete line without its terminator. At the end
// of input it returns the unterminated remainder, if any, with
// io.ErrUnexpectedEOF, then the reader's error (io.EOF on a clean end).
func (l *lineReader) next() ([]byte, error) {
	scanned := 0
	for {
		if i := bytes.IndexByte(l.buf[l.off+scanned:l.end], '\n'); i >= 0 {
			line := l.buf[l.off : l.off+scanned+i]
			l.off += scanned + i + 1
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		scanned = l.end - l.off
		if l.err != nil {
			if scanned > 0 {
				line := l.buf[l.off:l.end]
				l.off = l.end
				return line, io.ErrUnexpectedEOF
			}
			return nil, l.err
		}
		if l.off > 0 && (l.end == len(l.buf) || l.off == l.end) {
			copy(l.buf, l.buf[l.off:l.end])
			l.end -= l.off
			l.off = 0
		}
		if l.end == len(l.buf) {
			if len(l.buf) >= maxEventBytes {
				l.err = ErrLineTooLong
				return nil, l.err
			}
			nb := make([]byte, 2*len(l.buf))
			copy(nb, l.buf[:l.end])
			l.buf = nb
		}
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if err != nil {
			l.err = err
		} else if n == 0 {
			// A reader that returns 0, nil is allowed; try again.
			continue
		}
	}
}

// SSEReader reads Server-Sent Events (the text/event-stream format of
// OpenAI-compatible streaming) from a byte stream. It buffers partial
// events across reads, ends events at a blank line ("\n\n" or "\r\n\r\n"),
// joins the values of several data: lines with "\n", strips one space
// after "data:", skips comment lines (starting with ':') and ignores the
// other fields (event, id, retry). A lone "\r" is not a line end.
//
// It is not safe for concurrent use.
type SSEReader struct {
	lines lineReader
	data  []byte
}

// NewSSEReader returns a reader of the events in r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{lines: newLineReader(r)}
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
		line, err := s.lines.next()
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
