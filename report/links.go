package report

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// link is one file of the results directory the report points to.
type link struct {
	Label, Path string
	Href        string // Path with each segment percent-encoded: case files are named chat%2Fusers=8.jsonl
}

// links lists the files of the results directory a reader goes to next:
// manifest.json and summary.json, each service's log and each case's
// samples, as links relative to the directory (the report sits in it).
// Only files that exist are listed, and only paths inside the directory:
// an absolute path or one that leaves it would not follow the directory
// when it is copied or published.
func (in *Input) links() []link {
	var out []link
	add := func(label, rel string) {
		rel = filepath.ToSlash(filepath.Clean(rel))
		if rel == "" || filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains(rel, ":") {
			return
		}
		if st, err := os.Stat(filepath.Join(in.Dir, filepath.FromSlash(rel))); err != nil || st.IsDir() {
			return
		}
		segs := strings.Split(rel, "/")
		for i := range segs {
			segs[i] = url.PathEscape(segs[i])
		}
		out = append(out, link{label, rel, strings.Join(segs, "/")})
	}
	add("manifest", "manifest.json")
	add("summary", "summary.json")
	if in.Manifest == nil {
		return out
	}
	for _, s := range in.Manifest.Services {
		if s.Log != "" {
			add("log of service "+s.Name, s.Log)
		}
	}
	for _, c := range in.Manifest.Cases {
		if c.Samples != "" {
			add("samples of "+c.ID, c.Samples)
		}
	}
	return out
}
