package runner

import (
	"bytes"
	"errors"
	"io"
)

// What the readers of streamed responses (SSE in runner/openai, NDJSON in
// runner/ollama) share: line framing that allocates nothing per line, and
// the Present flag their chunk decoders use.

// maxEventBytes bounds one line; a longer one is an error rather than
// unbounded memory.
const maxEventBytes = 16 << 20

// ErrLineTooLong is returned by LineReader (and the SSE and NDJSON readers
// built on it) when one line exceeds 16 MiB.
var ErrLineTooLong = errors.New("line longer than 16 MiB")

// LineReader splits a byte stream into lines ending in "\n" (a "\r" before
// it is dropped), buffering partial lines across reads. Lines returned by
// Next alias its buffer and are valid until the next call. It is not safe
// for concurrent use.
type LineReader struct {
	r        io.Reader
	buf      []byte
	off, end int // unread bytes are buf[off:end]
	err      error
}

// NewLineReader returns a reader of the lines in r. It returns a value so
// that a format's reader can hold it without another allocation.
func NewLineReader(r io.Reader) LineReader {
	return LineReader{r: r, buf: make([]byte, 4096)}
}

// Next returns the next complete line without its terminator. At the end
// of input it returns the unterminated remainder, if any, with
// io.ErrUnexpectedEOF, then the reader's error (io.EOF on a clean end).
func (l *LineReader) Next() ([]byte, error) {
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

// Present is true for a JSON value that carries something: a non-empty
// string, a non-empty array or an object; false for "", [], {} , null.
type Present bool

// UnmarshalJSON implements json.Unmarshaler without allocating.
func (p *Present) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0, string(b) == "null", string(b) == `""`:
		*p = false
	case b[0] == '[' || b[0] == '{':
		*p = len(bytes.TrimSpace(b[1:len(b)-1])) > 0
	default:
		*p = true
	}
	return nil
}
