package slurm

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxHostlistHosts bounds how many names ExpandHostlist produces, so a typo
// such as node[1-99999999] fails instead of exhausting memory.
const MaxHostlistHosts = 1 << 16

// ExpandHostlist expands a SLURM hostlist expression such as
// "node[01-04,07]", "a[1-2]b[3-4]" or "gpu1,cpu[1-2]" into host names, in the
// order `scontrol show hostnames` prints them: comma-separated entries left to
// right; in an entry with several bracket groups the last group varies
// fastest; duplicates are kept. A range takes its zero padding from its first
// number ("[01-10]" gives 01..10, "[1-010]" gives 1..10). Empty entries
// ("a,,b") are skipped. Unlike scontrol 22.05, text after the last bracket
// ("n[1-2]-ib") is accepted.
func ExpandHostlist(s string) ([]string, error) {
	var hosts []string
	for _, entry := range splitTopLevel(s) {
		if entry == "" {
			continue
		}
		expanded, err := expandEntry(entry, MaxHostlistHosts-len(hosts))
		if err != nil {
			return nil, fmt.Errorf("hostlist %q: %w", s, err)
		}
		hosts = append(hosts, expanded...)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("hostlist %q: no hosts", s)
	}
	return hosts, nil
}

// splitTopLevel splits s at commas outside brackets. Unbalanced brackets are
// left for expandEntry to report.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// expandEntry expands one comma-free (outside brackets) entry, producing at
// most limit names.
func expandEntry(entry string, limit int) ([]string, error) {
	out := []string{""}
	rest := entry
	for rest != "" {
		open := strings.IndexByte(rest, '[')
		if open < 0 {
			if strings.IndexByte(rest, ']') >= 0 {
				return nil, fmt.Errorf("unbalanced ']' in %q", entry)
			}
			out = appendAll(out, []string{rest})
			break
		}
		literal := rest[:open]
		if strings.IndexByte(literal, ']') >= 0 {
			return nil, fmt.Errorf("unbalanced ']' in %q", entry)
		}
		closing := strings.IndexByte(rest[open:], ']')
		if closing < 0 {
			return nil, fmt.Errorf("unbalanced '[' in %q", entry)
		}
		body := rest[open+1 : open+closing]
		if strings.IndexByte(body, '[') >= 0 {
			return nil, fmt.Errorf("nested '[' in %q", entry)
		}
		nums, err := expandRanges(body, limit)
		if err != nil {
			return nil, err
		}
		if len(out)*len(nums) > limit {
			return nil, fmt.Errorf("more than %d hosts", MaxHostlistHosts)
		}
		out = appendAll(out, []string{literal})
		out = appendAll(out, nums)
		rest = rest[open+closing+1:]
	}
	for _, h := range out {
		if h == "" {
			return nil, fmt.Errorf("empty host name in %q", entry)
		}
		if strings.ContainsAny(h, " \t\r\n") {
			return nil, fmt.Errorf("white space in host name %q", h)
		}
	}
	return out, nil
}

// appendAll returns the cartesian concatenation of prefixes and suffixes,
// suffixes varying fastest.
func appendAll(prefixes, suffixes []string) []string {
	out := make([]string, 0, len(prefixes)*len(suffixes))
	for _, p := range prefixes {
		for _, s := range suffixes {
			out = append(out, p+s)
		}
	}
	return out
}

// expandRanges expands the inside of one bracket group: "01-04,07".
func expandRanges(body string, limit int) ([]string, error) {
	if body == "" {
		return nil, errors.New("empty range \"[]\"")
	}
	var out []string
	for _, r := range strings.Split(body, ",") {
		lo, hi, ok := strings.Cut(r, "-")
		if !ok {
			hi = lo
		}
		a, err := parseRangeNumber(lo, r)
		if err != nil {
			return nil, err
		}
		b, err := parseRangeNumber(hi, r)
		if err != nil {
			return nil, err
		}
		if b < a {
			return nil, fmt.Errorf("invalid range %q: end before start", r)
		}
		if b-a >= uint64(limit-len(out)) {
			return nil, fmt.Errorf("more than %d hosts", MaxHostlistHosts)
		}
		width := len(lo)
		for n := a; n <= b; n++ {
			out = append(out, fmt.Sprintf("%0*d", width, n))
		}
	}
	return out, nil
}

func parseRangeNumber(s, r string) (uint64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("invalid range %q", r)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("invalid range %q: %q is not a number", r, s)
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// CompressHostlist returns a hostlist expression for hosts, sorted and
// deduplicated the way `scontrol show hostlistsorted` prints them: names are
// grouped by the text before their trailing number, groups sorted by that
// text, numbers sorted and joined into ranges that keep their zero padding
// ("n01,n02,n3" gives "n[01-02,3]"). Names without a trailing number appear
// as they are. ExpandHostlist(CompressHostlist(h)) returns the sorted,
// deduplicated h for names without ',', '[' or ']'.
func CompressHostlist(hosts []string) string {
	type numbered struct {
		n      uint64
		digits string
	}
	groups := map[string][]numbered{}
	var plain []string
	for _, h := range hosts {
		i := len(h)
		for i > 0 && h[i-1] >= '0' && h[i-1] <= '9' {
			i--
		}
		digits := h[i:]
		if digits == "" || len(digits) > 18 {
			plain = append(plain, h)
			continue
		}
		n, _ := strconv.ParseUint(digits, 10, 64)
		groups[h[:i]] = append(groups[h[:i]], numbered{n, digits})
	}
	type item struct{ key, text string }
	var items []item
	seen := map[string]bool{}
	for _, h := range plain {
		if !seen[h] {
			seen[h] = true
			items = append(items, item{h, h})
		}
	}
	for prefix, nums := range groups {
		sort.Slice(nums, func(i, j int) bool {
			if nums[i].n != nums[j].n {
				return nums[i].n < nums[j].n
			}
			return nums[i].digits < nums[j].digits
		})
		var ranges []string
		for i := 0; i < len(nums); {
			start := nums[i]
			width := len(start.digits)
			j := i + 1
			last := start
			for j < len(nums) {
				if nums[j].digits == last.digits { // duplicate
					j++
					continue
				}
				if nums[j].n != last.n+1 || nums[j].digits != fmt.Sprintf("%0*d", width, nums[j].n) {
					break
				}
				last = nums[j]
				j++
			}
			if last == start {
				ranges = append(ranges, start.digits)
			} else {
				ranges = append(ranges, start.digits+"-"+fmt.Sprintf("%0*d", width, last.n))
			}
			i = j
		}
		text := prefix + ranges[0]
		if len(ranges) > 1 || strings.Contains(ranges[0], "-") {
			text = prefix + "[" + strings.Join(ranges, ",") + "]"
		}
		items = append(items, item{prefix, text})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].key < items[j].key })
	texts := make([]string, len(items))
	for i, it := range items {
		texts[i] = it.text
	}
	return strings.Join(texts, ",")
}
