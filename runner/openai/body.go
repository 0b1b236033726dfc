package openai

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/benchrun/benchrun/runner/dataset"
)

// The request body is built by appending, not by encoding/json: only the
// prompt and max_tokens change between requests, so the rest is encoded
// once (bodyParts) and each request appends its prompt as a JSON string.
// TestRequestBodyMatchesEncodingJSON and FuzzRequestBody check that the
// result decodes to what json.Marshal of openAIRequest decodes to.

// bodyParts are the parts of every request body that do not depend on the
// prompt: `{"model":"…"` and the members after max_tokens up to the
// closing brace.
type bodyParts struct {
	head []byte // {"model":"…"
	tail []byte // ,"temperature":…,"stream":…[,"stream_options":{…}][,"ignore_eos":true]}
}

// newBodyParts encodes the constant parts of o's requests.
func newBodyParts(o Options) (bodyParts, error) {
	model, err := json.Marshal(o.Model)
	if err != nil {
		return bodyParts{}, err
	}
	var so *streamOptions
	if o.Stream {
		so = &streamOptions{IncludeUsage: true, ContinuousUsageStats: o.ContinuousUsage}
	}
	// The members of openAIRequest after max_tokens, in its order.
	tail, err := json.Marshal(struct {
		Temperature   float64        `json:"temperature"`
		Stream        bool           `json:"stream"`
		StreamOptions *streamOptions `json:"stream_options,omitempty"`
		IgnoreEOS     bool           `json:"ignore_eos,omitempty"`
	}{o.Temperature, o.Stream, so, o.IgnoreEOS})
	if err != nil { // a temperature of NaN or ±Inf
		return bodyParts{}, err
	}
	tail[0] = ','
	return bodyParts{head: append([]byte(`{"model":`), model...), tail: tail}, nil
}

// body builds the request for a prompt.
func (c *Driver) body(p dataset.Prompt) ([]byte, error) {
	if c.parts.err != nil {
		return nil, c.parts.err
	}
	bp := c.parts.bodyParts
	n := len(bp.head) + len(bp.tail) + len(p.Text) + 64
	for _, m := range p.Messages {
		n += len(m.Role) + len(m.Content) + 32
	}
	b := make([]byte, 0, n)
	b = append(b, bp.head...)
	if c.o.API == APIChat {
		b = append(b, `,"messages":[`...)
		for i, m := range p.ChatMessages() {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"role":`...)
			b = appendJSONString(b, m.Role)
			b = append(b, `,"content":`...)
			b = appendJSONString(b, m.Content)
			b = append(b, '}')
		}
		b = append(b, ']')
	} else if text := p.CompletionText(); text != "" {
		b = append(b, `,"prompt":`...)
		b = appendJSONString(b, text)
	}
	maxTokens := c.o.MaxTokens
	if p.MaxTokens > 0 {
		maxTokens = p.MaxTokens
	}
	if maxTokens != 0 {
		b = append(b, `,"max_tokens":`...)
		b = strconv.AppendInt(b, int64(maxTokens), 10)
	}
	return append(b, bp.tail...), nil
}

// appendJSONString appends s to b as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json writes it; unlike encoding/json it leaves <, >
// and & unescaped (the same string once decoded).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
