package suites

import (
	"strconv"
	"strings"
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
			// Skip the continuation lines of multi-line arrays and strings so
			// their contents are not mistaken for keys.
			switch {
			case strings.HasPrefix(value, `"""`) || strings.HasPrefix(value, `'''`):
				delim := value[:3]
				if strings.Count(value, delim) < 2 {
					for i+1 < len(lines) && !strings.Contains(lines[i+1], delim) {
						i++
					}
					i++
				}
			case strings.HasPrefix(value, "["):
				depth := bracketDepth(value)
				for depth > 0 && i+1 < len(lines) {
					i++
					depth += bracketDepth(stripComment(lines[i]))
				}
			}
		}
	}
	return p
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

func (p *positions) set(key []string, line int) {
	k := strings.Join(key, ".")
	if _, ok := p.lines[k]; !ok {
		p.lines[k] = line
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

func splitKey(s string) []string {
	var keys []string
	var b strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			keys = append(keys, strings.TrimSpace(b.String()))
			b.Reset()
		case c == ' ' || c == '\t':
		default:
			b.WriteByte(c)
		}
	}
	return append(keys, strings.TrimSpace(b.String()))
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

func bracketDepth(s string) int {
	depth := 0
	eachOutsideQuotes(stripComment(s), func(_ int, c byte) bool {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		}
		return true
	})
	return depth
}
