package suites

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

// positions maps key paths ("benchmark.1.workload.users") to the line that
// defines them. BurntSushi/toml keeps key positions private, so benchrun
// indexes the file itself: a line scanner that follows [tables],
// [[arrays of tables]], dotted keys and inline tables. It only needs to be
// right for files that already parsed, so it does not validate anything.
type positions struct {
	lines map[string]int
}

func indexPositions(src string) *positions {
	p := &positions{lines: map[string]int{}}
	counts := map[string]int{} // array-of-tables path → number seen
	var current []string
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(stripComment(lines[i]))
		if line == "" {
			continue
		}
		switch {
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSuffix(strings.TrimPrefix(line, "[["), "]]")
			keys := resolve(splitKey(name), counts)
			base := strings.Join(keys, ".")
			idx := counts[base]
			counts[base] = idx + 1
			current = append(keys, strconv.Itoa(idx))
			p.set(current, lineNo)
			if idx == 0 {
				p.set(keys, lineNo)
			}
		case strings.HasPrefix(line, "["):
			name := strings.TrimSuffix(strings.TrimPrefix(line, "["), "]")
			current = resolve(splitKey(name), counts)
			p.set(current, lineNo)
		default:
			eq := indexOutsideQuotes(line, '=')
			if eq < 0 {
				continue
			}
			key := append(append([]string{}, current...), splitKey(line[:eq])...)
			p.set(key, lineNo)
			value := strings.TrimSpace(line[eq+1:])
			if strings.HasPrefix(value, "{") {
				p.inline(key, value, lineNo)
			}
			// Skip the continuation lines of multi-line arrays, strings and
			// tables so their contents are not mistaken for keys.
			raw := lines[i]
			col := len(raw) - len(strings.TrimLeftFunc(raw, unicode.IsSpace)) + eq + 1
			i = p.value(key, lines, i, col)
		}
	}
	return p
}

// value scans the value of key that starts at or after column col of
// lines[i] and returns the index of the line it ends on. Each element of
// an array is recorded as key.N at the line it starts on, so a problem
// with one element of a multi-line array points at that element.
func (p *positions) value(key []string, lines []string, i, col int) int {
	depth := 0
	array := false // the value is an array, whose elements are recorded
	elem := -1
	next := false // the next character at depth 1 starts an element
	for ; i < len(lines); i, col = i+1, 0 {
		s := lines[i]
		for j := col; j < len(s); j++ {
			c := s[j]
			if c == ' ' || c == '\t' || c == '\r' {
				continue
			}
			if depth == 1 && array && next && c != ',' && c != ']' && c != '#' {
				elem++
				next = false
				p.set(child(key, strconv.Itoa(elem)), i+1)
			}
			switch c {
			case '#':
				j = len(s)
			case '"', '\'':
				if strings.HasPrefix(s[j:], strings.Repeat(string(c), 3)) {
					i, j = skipMultiline(lines, i, j)
					s = lines[i]
				} else {
					j = skipString(s, j)
				}
			case '[', '{':
				if depth == 0 && c == '[' {
					array, next = true, true
				}
				depth++
			case ']', '}':
				depth--
			case ',':
				if depth == 1 {
					next = true
				}
			}
			if depth <= 0 {
				return i // a scalar, a string, or the end of an array or table
			}
		}
		if depth <= 0 {
			return i
		}
	}
	return len(lines) - 1
}

// skipString returns the index of the quote that closes the one-line
// string opening at s[j], or the last index of s when it does not close.
func skipString(s string, j int) int {
	q := s[j]
	for k := j + 1; k < len(s); k++ {
		switch {
		case q == '"' && s[k] == '\\':
			k++
		case s[k] == q:
			return k
		}
	}
	return len(s) - 1
}

// skipMultiline returns the line and index of the last quote that closes
// the multi-line string opening at lines[i][j] (three double or three
// single quotes), or the end of the text when it does not close. Up to two
// quotes may precede the closing delimiter as content.
func skipMultiline(lines []string, i, j int) (int, int) {
	q := lines[i][j]
	delim := strings.Repeat(string(q), 3)
	col := j + 3
	for ; i < len(lines); i, col = i+1, 0 {
		s := lines[i]
		for k := col; k < len(s); k++ {
			switch {
			case q == '"' && s[k] == '\\':
				k++
			case strings.HasPrefix(s[k:], delim):
				end := k + 2
				for extra := 0; extra < 2 && end+1 < len(s) && s[end+1] == q; extra++ {
					end++
				}
				return i, end
			}
		}
	}
	last := len(lines) - 1
	return last, len(lines[last])
}

// inline records the keys of an inline table, all on the same line.
func (p *positions) inline(prefix []string, value string, line int) {
	body := strings.TrimSuffix(strings.TrimPrefix(value, "{"), "}")
	for _, part := range strings.Split(body, ",") {
		eq := indexOutsideQuotes(part, '=')
		if eq < 0 {
			continue
		}
		p.set(append(append([]string{}, prefix...), splitKey(part[:eq])...), line)
	}
}

// set records the line of key, and of the tables a dotted key or a
// [a.b.c] header defines on the way, unless an earlier line did.
func (p *positions) set(key []string, line int) {
	for n := 1; n <= len(key); n++ {
		k := strings.Join(key[:n], ".")
		if _, ok := p.lines[k]; !ok {
			p.lines[k] = line
		}
	}
}

// line returns the line of path, or of its nearest defined parent, or 0.
func (p *positions) line(path []string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := p.lines[strings.Join(path[:n], ".")]; ok {
			return l
		}
	}
	return 0
}

// resolve replaces each prefix that names an array of tables with its
// latest element, as TOML does for [a.b] after [[a]].
func resolve(keys []string, counts map[string]int) []string {
	var out []string
	for i, k := range keys {
		out = append(out, k)
		if i == len(keys)-1 {
			break
		}
		if n, ok := counts[strings.Join(out, ".")]; ok && n > 0 {
			out = append(out, strconv.Itoa(n-1))
		}
	}
	return out
}

// splitKey splits a dotted TOML key into its parts: bare parts without
// the blanks around them, quoted ones as their string value.
func splitKey(s string) []string {
	var keys []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			b.WriteString(unescapeKey(s[i+1 : min(j, len(s))]))
			i = j
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case '.':
			keys = append(keys, b.String())
			b.Reset()
		case ' ', '\t':
		default:
			b.WriteByte(c)
		}
	}
	return append(keys, b.String())
}

// unescapeKey returns the value of a quoted key's escapes (\n, \u00e9, ...),
// as the TOML decoder reads them.
func unescapeKey(raw string) string {
	if !strings.Contains(raw, "\\") {
		return raw
	}
	var v map[string]string
	if _, err := toml.Decode("k = \""+raw+"\"", &v); err != nil {
		return raw
	}
	return v["k"]
}

func stripComment(s string) string {
	if i := indexOutsideQuotes(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// eachOutsideQuotes calls fn with every byte of s that is outside a TOML
// string, stopping when fn returns false.
func eachOutsideQuotes(s string, fn func(i int, c byte) bool) {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '"' && c == '\\':
			i++ // an escaped character inside a basic string
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case !fn(i, c):
			return
		}
	}
}

func indexOutsideQuotes(s string, target byte) int {
	at := -1
	eachOutsideQuotes(s, func(i int, c byte) bool {
		if c == target {
			at = i
			return false
		}
		return true
	})
	return at
}
