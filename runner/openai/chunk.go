package openai

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/benchrun/benchrun/runner"
)

// decodeChunk fills ch (reset first) from one streamed OpenAI chunk or
// whole response. Chunks as servers write them (plain keys spelled as the
// API spells them, integer usage) take a scanner that allocates nothing;
// anything else (escaped, non-ASCII or differently-cased keys, a field
// given twice, other value types) goes to encoding/json, whose result the
// scanner's equals whenever it answers: FuzzDecodeChunk checks that.
func decodeChunk(data []byte, ch *openAIChunk) error {
	ch.reset()
	sc := chunkScanner{b: data}
	if sc.chunk(ch) {
		return nil
	}
	ch.reset()
	return json.Unmarshal(data, ch)
}

// chunkScanner walks JSON text. Every method reports false both for
// invalid JSON and for valid JSON it leaves to encoding/json.
type chunkScanner struct {
	b []byte
	i int
	// textual: text, message.content and message.reasoning_content must be
	// strings (or null), as readWhole's encoding/json struct requires;
	// anything else is left to encoding/json.
	textual bool
}

// maxScanDepth bounds nesting; deeper documents go to encoding/json.
const maxScanDepth = 64

func (s *chunkScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (s *chunkScanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *chunkScanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// chunk scans the top-level object.
func (s *chunkScanner) chunk(ch *openAIChunk) bool {
	var seen [3]bool
	ok := s.object(func(key []byte) bool {
		switch {
		case string(key) == "choices":
			return once(&seen[0]) && s.choices(ch)
		case string(key) == "usage":
			return once(&seen[1]) && s.usage(ch)
		case string(key) == "error":
			if !once(&seen[2]) {
				return false
			}
			start := s.i
			if !s.skip(1) {
				return false
			}
			ch.Error = append(json.RawMessage(nil), bytes.TrimLeft(s.b[start:s.i], " \t\r\n")...)
			return true
		case foldsTo(key, "choices", "usage", "error"):
			return false
		}
		return s.skip(1)
	})
	if !ok {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// once marks a field seen and reports whether it was new.
func once(seen *bool) bool {
	if *seen {
		return false
	}
	*seen = true
	return true
}

// foldsTo reports whether key equals one of names without regard to case:
// encoding/json would match it, the scanner leaves it to encoding/json.
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// object scans an object, calling member with each key (plain: no escapes,
// ASCII) positioned before its value; member must consume the value.
func (s *chunkScanner) object(member func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		if s.peek() != '"' {
			return false
		}
		key, plain := s.str()
		if key == nil || !plain || !s.eat(':') {
			return false
		}
		s.ws()
		if !member(key) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// str scans a string at s.i (its opening quote) and returns its raw
// content (non-nil when valid) and whether it is plain: no escapes and
// ASCII only.
func (s *chunkScanner) str() (raw []byte, plain bool) {
	start := s.i + 1
	plain = true
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i:i], plain
		case c < 0x20:
			return nil, false
		case c >= 0x80:
			plain = false
		case c == '\\':
			plain = false
			i++
			if i >= len(s.b) {
				return nil, false
			}
			switch s.b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s.b) {
					return nil, false
				}
				for _, h := range s.b[i+1 : i+5] {
					if !isHex(h) {
						return nil, false
					}
				}
				i += 4
			default:
				return nil, false
			}
		}
	}
	return nil, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number scans a JSON number and reports whether it is an integer.
func (s *chunkScanner) number() (ok, integer bool) {
	i := s.i
	if i < len(s.b) && s.b[i] == '-' {
		i++
	}
	switch {
	case i < len(s.b) && s.b[i] == '0':
		i++
	case i < len(s.b) && '1' <= s.b[i] && s.b[i] <= '9':
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	default:
		return false, false
	}
	integer = true
	if i < len(s.b) && s.b[i] == '.' {
		integer = false
		i++
		if i >= len(s.b) || !isDigit(s.b[i]) {
			return false, false
		}
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	}
	if i < len(s.b) && (s.b[i] == 'e' || s.b[i] == 'E') {
		integer = false
		i++
		if i < len(s.b) && (s.b[i] == '+' || s.b[i] == '-') {
			i++
		}
		if i >= len(s.b) || !isDigit(s.b[i]) {
			return false, false
		}
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	}
	s.i = i
	return true, integer
}

func (s *chunkScanner) literal(lit string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.i += len(lit)
		return true
	}
	return false
}

// skip scans any value.
func (s *chunkScanner) skip(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	switch s.peek() {
	case '{':
		return s.object(func([]byte) bool { return s.skip(depth + 1) })
	case '[':
		return s.array(func() bool { return s.skip(depth + 1) })
	case '"':
		raw, _ := s.str()
		return raw != nil
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		ok, _ := s.number()
		return ok
	}
}

// array scans an array, calling elem positioned before each element.
func (s *chunkScanner) array(elem func() bool) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat(']')
	}
}

// choices scans the choices array (or null).
func (s *chunkScanner) choices(ch *openAIChunk) bool {
	if s.peek() == 'n' {
		if !s.literal("null") {
			return false
		}
		ch.Choices = nil
		return true
	}
	if s.peek() != '[' {
		return false
	}
	ch.Choices = ch.Choices[:0]
	return s.array(func() bool {
		ch.Choices = append(ch.Choices, openAIChoice{})
		c := &ch.Choices[len(ch.Choices)-1]
		if s.peek() == 'n' {
			return s.literal("null")
		}
		var seen [3]bool
		return s.object(func(key []byte) bool {
			switch {
			case string(key) == "text":
				return once(&seen[0]) && s.text() && s.present(&c.Text)
			case string(key) == "delta":
				return once(&seen[1]) && s.parts(&c.Delta.Content, &c.Delta.ReasoningContent, &c.Delta.Reasoning, &c.Delta.ToolCalls, false)
			case string(key) == "message":
				return once(&seen[2]) && s.parts(&c.Message.Content, &c.Message.ReasoningContent, &c.Message.Reasoning, &c.Message.ToolCalls, s.textual)
			case foldsTo(key, "text", "delta", "message"):
				return false
			}
			return s.skip(3)
		})
	})
}

// parts scans a delta or message object (or null); textual: its content
// and reasoning_content must be strings or null.
func (s *chunkScanner) parts(content, reasoningContent, reasoning, toolCalls *runner.Present, textual bool) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	var seen [4]bool
	return s.object(func(key []byte) bool {
		switch {
		case string(key) == "content":
			return once(&seen[0]) && (!textual || s.stringOrNull()) && s.present(content)
		case string(key) == "reasoning_content":
			return once(&seen[1]) && (!textual || s.stringOrNull()) && s.present(reasoningContent)
		case string(key) == "reasoning":
			return once(&seen[2]) && s.present(reasoning)
		case string(key) == "tool_calls":
			return once(&seen[3]) && s.present(toolCalls)
		case foldsTo(key, "content", "reasoning_content", "reasoning", "tool_calls"):
			return false
		}
		return s.skip(4)
	})
}

// text reports whether a choice's text may be scanned: always, unless
// textual, when it must be a string or null.
func (s *chunkScanner) text() bool { return !s.textual || s.stringOrNull() }

// stringOrNull reports whether the value at s.i starts as a string or null.
func (s *chunkScanner) stringOrNull() bool {
	c := s.peek()
	return c == '"' || c == 'n'
}

// present scans a value and sets p as runner.Present.UnmarshalJSON would.
func (s *chunkScanner) present(p *runner.Present) bool {
	start := s.i
	if !s.skip(4) {
		return false
	}
	return p.UnmarshalJSON(s.b[start:s.i]) == nil
}

// usage scans the usage object (or null); its counts must be integers.
func (s *chunkScanner) usage(ch *openAIChunk) bool {
	if s.peek() == 'n' {
		if !s.literal("null") {
			return false
		}
		ch.Usage = nil
		return true
	}
	var u openAIUsage
	var seen [2]bool
	ok := s.object(func(key []byte) bool {
		switch {
		case string(key) == "prompt_tokens":
			return once(&seen[0]) && s.count(&u.PromptTokens)
		case string(key) == "completion_tokens":
			return once(&seen[1]) && s.count(&u.CompletionTokens)
		case foldsTo(key, "prompt_tokens", "completion_tokens"):
			return false
		}
		return s.skip(2)
	})
	if !ok {
		return false
	}
	ch.setUsage(u)
	return true
}

// maxCountDigits keeps a count within int: 18 digits on 64-bit systems,
// 9 where int has 32 bits.
const maxCountDigits = 9 + 9*(strconv.IntSize/64)

// count scans an integer of at most maxCountDigits digits (or null, which
// leaves n); a longer one is left to encoding/json.
func (s *chunkScanner) count(n *int) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	start := s.i
	ok, integer := s.number()
	if !ok || !integer {
		return false
	}
	digits := s.b[start:s.i]
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	if len(digits) > maxCountDigits {
		return false
	}
	v := 0
	for _, d := range digits {
		v = v*10 + int(d-'0')
	}
	if neg {
		v = -v
	}
	*n = v
	return true
}
