package results

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// appendSample appends s as encoding/json encodes it (without the
// newline), without reflection: the sample writer's hot path. Strings
// that need escaping and maps go through encoding/json for that member,
// so the bytes are encoding/json's in every case (FuzzAppendSample); ok is
// false when s cannot be encoded (a NaN or infinite value), for the
// caller to let encoding/json report why.
func appendSample(b []byte, s *Sample) (_ []byte, ok bool) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, s.Seq, 10)
	b = append(b, `,"rep":`...)
	b = strconv.AppendInt(b, int64(s.Rep), 10)
	b = appendStr(b, `,"worker":`, s.Worker)
	if s.Warmup {
		b = append(b, `,"warmup":true`...)
	}
	b = appendStr(b, `,"op":`, s.Op)
	b = appendDur(b, `,"scheduled_ns":`, s.Scheduled, true)
	b = appendDur(b, `,"sent_ns":`, s.Sent, true)
	b = appendDur(b, `,"first_byte_ns":`, s.FirstByte, false)
	b = appendDur(b, `,"first_token_ns":`, s.FirstToken, false)
	b = appendDur(b, `,"last_token_ns":`, s.LastToken, false)
	b = appendDur(b, `,"done_ns":`, s.Done, true)
	b = appendDur(b, `,"slot_wait_ns":`, s.SlotWait, false)
	if len(s.ITL) > 0 {
		b = append(b, `,"itl_ns":[`...)
		for i, d := range s.ITL {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, ']')
	}
	b = appendInt(b, `,"input_tokens":`, s.InputTokens)
	b = appendInt(b, `,"output_tokens":`, s.OutputTokens)
	b = appendStr(b, `,"token_source":`, s.TokenSource)
	b = appendInt(b, `,"status":`, s.Status)
	b = appendStr(b, `,"error":`, s.Error)
	b = appendStr(b, `,"error_detail":`, s.ErrorDetail)
	b = appendDur(b, `,"retry_after_ns":`, s.RetryAfter, false)
	if b, ok = appendFloats(b, `,"server":`, s.Server); !ok {
		return b, false
	}
	if b, ok = appendFloats(b, `,"values":`, s.Values); !ok {
		return b, false
	}
	return append(b, '}'), true
}

func appendDur(b []byte, key string, d time.Duration, always bool) []byte {
	if d == 0 && !always {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, int64(d), 10)
}

func appendInt(b []byte, key string, v int) []byte {
	if v == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, int64(v), 10)
}

// appendStr appends a non-empty string member (omitempty).
func appendStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(append(b, key...), v)
}

// appendJSONString appends v quoted as encoding/json quotes it: printable
// ASCII that needs no escape is copied, anything else is left to
// encoding/json (control characters, quotes, HTML characters, non-ASCII,
// invalid UTF-8).
func appendJSONString(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(v) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// appendFloats appends a map member as encoding/json does: omitted when
// empty, keys sorted, numbers in its format; ok is false for a NaN or an
// infinity, which encoding/json refuses.
func appendFloats(b []byte, key string, m map[string]float64) ([]byte, bool) {
	if len(m) == 0 {
		return b, true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, key...)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		v := m[k]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b, false
		}
		b = appendFloat(b, v)
	}
	return append(b, '}'), true
}

// appendFloat formats v as encoding/json does: the shortest
// representation, in exponent form below 1e-6 and from 1e21, with a
// one-digit negative exponent written e-7, not e-07.
func appendFloat(b []byte, v float64) []byte {
	format := byte('f')
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
