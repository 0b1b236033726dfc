package parse

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// IO500 is one IO500 run as its output tells it: stdout or
// result_summary.txt (ParseIO500Summary), result.txt (ParseIO500Result),
// or a results directory (ReadIO500Dir).
type IO500 struct {
	Version string // "io500-isc24_v3"; "" when the output does not say (the 2018–19 scripts)
	Mode    string // "standard", "extended"; "" when not said
	Procs   int    // MPI processes; 0 when the output does not say (stdout, result_summary.txt)
	Phases  []Phase
	// Score is the printed [SCORE ] (or [SCORE]) line: the standard score.
	Score *Score
	// ScoreX is the printed [SCOREX] line of an extended run, nil otherwise.
	ScoreX *Score
	// Legacy is set for the 2018–19 bash scripts' "[RESULT] BW phase 1" form.
	Legacy bool
	// Invalid lists why the run is invalid: IO500's "ERROR INVALID" lines,
	// phases marked [INVALID] or scoring 0, and a score or extended score
	// marked [INVALID]. Empty for a valid run.
	Invalid []string
}

// Phase is one phase of an IO500 run.
type Phase struct {
	Name      string  // IO500's name: "ior-easy-write", "find", ... (2018–19 names with '_' are given with '-')
	Value     float64 // GiB/s when Bandwidth, else kIOPS, as printed
	Bandwidth bool    // an IOR phase (GiB/s); otherwise metadata (kIOPS)
	Seconds   float64 // the phase's run time
	Valid     bool    // not marked [INVALID] and not zero
	// Scored is false for the phases IO500 runs but leaves out of every
	// score: printed with "[      ]", or unscored by the rules (timestamp,
	// mdworkbench-create/-delete, ior-rnd4K-easy-read outside io500-sc24).
	Scored bool
}

// Score is one line of IO500 scores: bandwidth in GiB/s, metadata in kIOPS,
// and their geometric mean.
type Score struct {
	Bandwidth float64
	Metadata  float64
	Total     float64
	Invalid   bool // marked [INVALID]
}

// The phases of the standard score (REFERENCE §6): BW is the geometric mean
// of the four IOR phases, MD that of the mdtest phases and find.
var (
	standardBandwidth = []string{"ior-easy-write", "ior-hard-write", "ior-easy-read", "ior-hard-read"}
	standardMetadata  = []string{"mdtest-easy-write", "mdtest-hard-write", "find", "mdtest-easy-stat",
		"mdtest-hard-stat", "mdtest-easy-delete", "mdtest-hard-read", "mdtest-hard-delete"}
	// neverScored run but count in no score.
	neverScored = []string{"timestamp", "mdworkbench-create", "mdworkbench-delete"}
)

// rnd4KEasyRead was scored only in the io500-sc24 release (December
// 2024); it has run unscored since February 2025.
const rnd4KEasyRead = "ior-rnd4K-easy-read"

func rnd4KScored(version string) bool { return strings.HasPrefix(version, "io500-sc24") }

// StandardPhases returns the phases of the standard score for version:
// bandwidth (GiB/s) then metadata (kIOPS) phase names.
func StandardPhases(version string) (bw, md []string) {
	bw = slices.Clone(standardBandwidth)
	if rnd4KScored(version) {
		bw = append(bw, rnd4KEasyRead)
	}
	return bw, slices.Clone(standardMetadata)
}

var (
	resultRE  = regexp.MustCompile(`^\[(RESULT|      )\]\s+(\S+)\s+(\S+)\s+(GiB/s|kIOPS)\s*:\s*time\s+(\S+)\s+seconds(\s+\[INVALID\])?\s*$`)
	legacyRE  = regexp.MustCompile(`^\[RESULT\]\s+(BW|IOPS)\s+phase\s+\d+\s+(\S+)\s+(\S+)\s+(GB/s|kiops)\s*:\s*time\s+(\S+)\s+seconds\s*$`)
	scoreRE   = regexp.MustCompile(`^\[(SCORE ?|SCOREX)\]\s+Bandwidth\s+(\S+)\s+(GiB/s|GB/s)\s*:\s*IOPS\s+(\S+)\s+kiops\s*:\s*TOTAL\s+(\S+)(\s+\[INVALID\])?\s*$`)
	versionRE = regexp.MustCompile(`^IO500 version (\S+) \(([a-z]+)\)\s*$`)
)

// ParseIO500Summary reads IO500's stdout or result_summary.txt, of any
// release: the "[RESULT] phase value GiB/s|kIOPS : time T seconds" lines
// (unscored "[      ]", [INVALID] marks), the "[SCORE ]"/"[SCORE]" and
// "[SCOREX]" lines, the 2018–19 "[RESULT] BW phase 1 ior_easy_write
// 40.915 GB/s" form (those "GB/s" are GiB/s: MiB/s ÷ 1024), and "ERROR
// INVALID" lines among them. Other lines (IO500's progress, MPI warnings)
// are skipped, but a line that starts like a result or score line and is
// not one is an error at its line, and so is output with no phase or no
// score line. The scores are recomputed from the phases and checked
// against the printed ones (Check).
func ParseIO500Summary(file string, data []byte) (*IO500, error) {
	r := &IO500{}
	for i, line := range lines(data) {
		n := i + 1
		trimmed := strings.TrimRight(line, " \t")
		switch {
		case strings.HasPrefix(trimmed, "ERROR INVALID"):
			r.addInvalid(invalidReason(trimmed))
		case versionRE.MatchString(trimmed):
			m := versionRE.FindStringSubmatch(trimmed)
			r.Version, r.Mode = m[1], m[2]
		case strings.HasPrefix(trimmed, "[RESULT]") || strings.HasPrefix(trimmed, "[      ]"):
			p, legacy, err := parseResultLine(trimmed)
			if err != nil {
				return nil, errorf(file, n, "%v", err)
			}
			r.Legacy = r.Legacy || legacy
			if err := r.addPhase(p); err != nil {
				return nil, errorf(file, n, "%v", err)
			}
		case strings.HasPrefix(trimmed, "[SCORE"):
			x, s, err := parseScoreLine(trimmed)
			if err != nil {
				return nil, errorf(file, n, "%v", err)
			}
			if err := r.setScore(x, s); err != nil {
				return nil, errorf(file, n, "%v", err)
			}
		}
	}
	if len(r.Phases) == 0 {
		return nil, errorf(file, 0, "not IO500 output: no [RESULT] line")
	}
	if r.Score == nil {
		return nil, errorf(file, 0, "no [SCORE] line: the IO500 run did not finish")
	}
	return r, r.finish(file)
}

func invalidReason(line string) string {
	s := strings.TrimSpace(strings.TrimPrefix(line, "ERROR INVALID"))
	// "(src/main.c:490) Runtime is ..." → "Runtime is ..."
	if strings.HasPrefix(s, "(") {
		if i := strings.Index(s, ")"); i >= 0 {
			s = strings.TrimSpace(s[i+1:])
		}
	}
	return s
}

func (r *IO500) addInvalid(why string) {
	if why != "" && !slices.Contains(r.Invalid, why) {
		r.Invalid = append(r.Invalid, why)
	}
}

func parseResultLine(line string) (p Phase, legacy bool, err error) {
	if m := resultRE.FindStringSubmatch(line); m != nil {
		p = Phase{Name: m[2], Bandwidth: m[4] == "GiB/s", Scored: m[1] == "RESULT", Valid: m[6] == ""}
		if p.Value, err = number(m[3]); err != nil {
			return p, false, err
		}
		p.Seconds, err = number(m[5])
		return p, false, err
	}
	if m := legacyRE.FindStringSubmatch(line); m != nil {
		p = Phase{Name: strings.ReplaceAll(m[2], "_", "-"), Bandwidth: m[1] == "BW", Scored: true, Valid: true}
		if (m[1] == "BW") != (m[4] == "GB/s") {
			return p, true, fmt.Errorf("%s phase %s given in %s", m[1], m[2], m[4])
		}
		if p.Value, err = number(m[3]); err != nil {
			return p, true, err
		}
		p.Seconds, err = number(m[5])
		return p, true, err
	}
	return p, false, fmt.Errorf("not an IO500 result line: %q", clip(line))
}

func parseScoreLine(line string) (extended bool, s Score, err error) {
	m := scoreRE.FindStringSubmatch(line)
	if m == nil {
		return false, s, fmt.Errorf("not an IO500 score line: %q", clip(line))
	}
	s.Invalid = m[6] != ""
	for _, f := range []struct {
		to  *float64
		txt string
	}{{&s.Bandwidth, m[2]}, {&s.Metadata, m[4]}, {&s.Total, m[5]}} {
		if *f.to, err = number(f.txt); err != nil {
			return false, s, err
		}
	}
	return m[1] == "SCOREX", s, nil
}

func (r *IO500) setScore(extended bool, s Score) error {
	at := &r.Score
	if extended {
		at = &r.ScoreX
	}
	if *at != nil && **at != s {
		return errors.New("a second, different score line")
	}
	*at = &s
	return nil
}

// number parses a printed figure; NaN, infinities and negative values are
// not figures IO500 prints for a phase that ran.
func number(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%q is not a number IO500 prints", s)
	}
	return v, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// addPhase adds p; the 2018–19 scripts print each phase twice (as it
// runs and in the summary), which is fine when the figures agree.
func (r *IO500) addPhase(p Phase) error {
	for _, q := range r.Phases {
		if q.Name != p.Name {
			continue
		}
		if q != p {
			return fmt.Errorf("phase %s printed twice with different figures", p.Name)
		}
		return nil
	}
	r.Phases = append(r.Phases, p)
	return nil
}

// Phase returns the phase called name.
func (r *IO500) Phase(name string) (Phase, bool) {
	for _, p := range r.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

// finish applies the rules that do not depend on the format: a phase
// scoring 0 is invalid, an invalid phase or score makes the run invalid,
// and the printed scores must agree with those recomputed from the phases.
func (r *IO500) finish(file string) error {
	for i := range r.Phases {
		p := &r.Phases[i]
		if slices.Contains(neverScored, p.Name) || p.Name == rnd4KEasyRead && !rnd4KScored(r.Version) {
			p.Scored = false
		}
		if p.Scored && p.Value == 0 && p.Valid {
			p.Valid = false
		}
		// An unscored phase marked invalid counts too: io500 then marks
		// the standard score (a phase every run has) or, for the optional
		// mdworkbench-create/-delete, the extended score [INVALID].
		if !p.Valid {
			r.addInvalid(fmt.Sprintf("phase %s is invalid", p.Name))
		}
	}
	if r.Score != nil && r.Score.Invalid {
		r.addInvalid("the score is marked [INVALID]")
	}
	if r.ScoreX != nil && r.ScoreX.Invalid {
		r.addInvalid("the extended score is marked [INVALID]")
	}
	if err := r.Check(); err != nil {
		return errorf(file, 0, "%v", err)
	}
	return nil
}

// scoreTolerance is how far a recomputed score may be from the printed one,
// relatively: the printed phases are rounded (to 3 decimals in 2018–19).
const scoreTolerance = 5e-4

// Recompute computes the scores from the phases: the standard score
// (StandardPhases), and for an extended run the extended score over every
// scored phase. A standard phase that is missing is an error.
func (r *IO500) Recompute() (std Score, x *Score, err error) {
	bw, md := StandardPhases(r.Version)
	if std, err = r.score(bw, md); err != nil {
		return std, nil, err
	}
	if r.ScoreX == nil && r.Mode != "extended" {
		return std, nil, nil
	}
	bw, md = nil, nil
	for _, p := range r.Phases {
		switch {
		case !p.Scored:
		case p.Bandwidth:
			bw = append(bw, p.Name)
		default:
			md = append(md, p.Name)
		}
	}
	sx, err := r.score(bw, md)
	return std, &sx, err
}

func (r *IO500) score(bw, md []string) (Score, error) {
	var s Score
	var err error
	if s.Bandwidth, err = r.geomean(bw); err != nil {
		return s, err
	}
	if s.Metadata, err = r.geomean(md); err != nil {
		return s, err
	}
	s.Total = math.Sqrt(s.Bandwidth * s.Metadata)
	return s, nil
}

func (r *IO500) geomean(names []string) (float64, error) {
	if len(names) == 0 {
		return 0, errors.New("no scored phase")
	}
	sum := 0.0
	for _, n := range names {
		p, ok := r.Phase(n)
		if !ok {
			return 0, fmt.Errorf("phase %s is missing: the score cannot be recomputed", n)
		}
		if p.Value == 0 {
			return 0, nil
		}
		sum += math.Log(p.Value)
	}
	return math.Exp(sum / float64(len(names))), nil
}

// Check recomputes the scores and compares them with the printed ones: a
// disagreement means the scoring rules of this release are not the ones
// benchrun knows, and is an error rather than a number nobody checked.
func (r *IO500) Check() error {
	std, x, err := r.Recompute()
	if err != nil {
		return err
	}
	if r.Score != nil {
		if err := agree("score", *r.Score, std); err != nil {
			bw, md := StandardPhases(r.Version)
			return r.zeroPhase(err, append(bw, md...))
		}
	}
	if r.ScoreX != nil {
		if x == nil {
			return errors.New("a [SCOREX] line in a run that is not extended")
		}
		if err := agree("extended score", *r.ScoreX, *x); err != nil {
			return r.zeroPhase(err, nil)
		}
	}
	return nil
}

// zeroPhase explains a disagreement of the scores by a phase of the
// score (names; nil: every scored phase) that scored 0, when there is
// one: io500's C releases leave such a phase out of their geometric
// means, so the printed score covers fewer phases than the rules ask and
// is no score to compare.
func (r *IO500) zeroPhase(err error, names []string) error {
	for _, p := range r.Phases {
		if p.Scored && p.Value == 0 && (names == nil || slices.Contains(names, p.Name)) {
			return fmt.Errorf("phase %s scored 0 (it failed): io500 left it out of its score, which covers fewer phases than the rules ask (%v)", p.Name, err)
		}
	}
	return err
}

func agree(what string, printed, computed Score) error {
	for _, f := range []struct {
		name string
		p, c float64
	}{{"bandwidth", printed.Bandwidth, computed.Bandwidth}, {"metadata", printed.Metadata, computed.Metadata}, {"total", printed.Total, computed.Total}} {
		if !near(f.p, f.c) {
			return fmt.Errorf("printed %s %s %g disagrees with %g recomputed from the phases (geometric means): unknown scoring rules", what, f.name, f.p, f.c)
		}
	}
	return nil
}

func near(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= scoreTolerance*math.Max(math.Abs(a), math.Abs(b))
}

// Valid reports whether the run is valid.
func (r *IO500) Valid() bool { return len(r.Invalid) == 0 }

// ParseIO500Result reads IO500's result.txt: an INI-like file with [run]
// (procs, version, mode), one section per phase (score, t_delta, and
// "; ERROR INVALID" comments that invalidate it), and [SCORE]/[SCOREX]
// (BW, MD, SCORE, with " [INVALID]" on an invalid run). A line that is
// none of section, key = value, comment or blank is an error at its line.
func ParseIO500Result(file string, data []byte) (*IO500, error) {
	r := &IO500{}
	section, sline := "", 0
	kv := map[string]string{}
	var sectionInvalid []string
	flush := func() error {
		defer func() { kv, sectionInvalid = map[string]string{}, nil }()
		return r.resultSection(section, kv, sectionInvalid)
	}
	for i, line := range lines(data) {
		n := i + 1
		t := strings.TrimSpace(line)
		switch {
		case t == "":
		case strings.HasPrefix(t, ";"):
			if why, ok := strings.CutPrefix(strings.TrimSpace(t[1:]), "ERROR INVALID"); ok {
				sectionInvalid = append(sectionInvalid, strings.TrimSpace(why))
			}
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			if err := flush(); err != nil {
				return nil, errorf(file, sline, "%v", err)
			}
			section, sline = t[1:len(t)-1], n
		default:
			k, v, ok := strings.Cut(t, "=")
			if !ok || section == "" {
				return nil, errorf(file, n, "not an IO500 result.txt line: %q", clip(t))
			}
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := flush(); err != nil {
		return nil, errorf(file, sline, "%v", err)
	}
	if len(r.Phases) == 0 {
		return nil, errorf(file, 0, "not an IO500 result.txt: no phase with a score")
	}
	if r.Score == nil {
		return nil, errorf(file, 0, "no [SCORE] section: the IO500 run did not finish")
	}
	return r, r.finish(file)
}

func (r *IO500) resultSection(name string, kv map[string]string, invalid []string) error {
	switch name {
	case "":
		return nil
	case "run":
		r.Version, r.Mode = kv["version"], kv["mode"]
		if p, ok := kv["procs"]; ok {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 {
				return fmt.Errorf("[run] procs = %q: not a process count", p)
			}
			r.Procs = n
		}
		for _, why := range invalid {
			r.addInvalid(why)
		}
		return nil
	case "SCORE", "SCOREX":
		var s Score
		for _, f := range []struct {
			to  *float64
			key string
		}{{&s.Bandwidth, "BW"}, {&s.Metadata, "MD"}, {&s.Total, "SCORE"}} {
			v, ok := kv[f.key]
			if !ok {
				return fmt.Errorf("[%s] has no %s", name, f.key)
			}
			if txt, ok := strings.CutSuffix(v, "[INVALID]"); ok {
				v, s.Invalid = strings.TrimSpace(txt), true
			}
			var err error
			if *f.to, err = number(v); err != nil {
				return fmt.Errorf("[%s] %s: %v", name, f.key, err)
			}
		}
		return r.setScore(name == "SCOREX", s)
	}
	v, ok := kv["score"]
	if !ok {
		return nil // timestamp, or a phase that did not run
	}
	p := Phase{Name: name, Bandwidth: strings.HasPrefix(name, "ior-"), Scored: true, Valid: len(invalid) == 0}
	var err error
	if p.Value, err = number(v); err != nil {
		return fmt.Errorf("[%s] score: %v", name, err)
	}
	if p.Seconds, err = number(kv["t_delta"]); err != nil {
		return fmt.Errorf("[%s] t_delta: %v", name, err)
	}
	for _, why := range invalid {
		r.addInvalid(why)
	}
	return r.addPhase(p)
}

// Files of an IO500 results directory.
const (
	SummaryFile = "result_summary.txt"
	ResultFile  = "result.txt"
)

// ReadIO500Dir reads an IO500 results directory: result_summary.txt
// (or the 2018–19 io-500-summary.*.txt) and result.txt, whichever exist;
// with both, their phases and scores must agree, and result.txt adds the
// process count. A directory holding no result file but exactly one
// subdirectory that does (IO500's timestamped result directory) is read
// through it. It returns the run and the directory read. An mdtest
// phase whose own output there (mdtest-hard-read.txt) says mdtest's read
// check found wrong data makes the run invalid, naming the file and line.
func ReadIO500Dir(dir string) (*IO500, string, error) {
	summary, result := io500Files(dir)
	if summary == "" && result == "" {
		subs, _ := os.ReadDir(dir)
		var found []string
		for _, e := range subs {
			if e.IsDir() {
				if s, r := io500Files(filepath.Join(dir, e.Name())); s != "" || r != "" {
					found = append(found, e.Name())
				}
			}
		}
		if len(found) != 1 {
			return nil, dir, fmt.Errorf("%s: no IO500 result_summary.txt or result.txt (nor one results subdirectory holding them)", dir)
		}
		dir = filepath.Join(dir, found[0])
		summary, result = io500Files(dir)
	}
	r, err := readIO500Files(dir, summary, result)
	if err != nil {
		return nil, dir, err
	}
	phaseChecks(r, dir)
	return r, dir, nil
}

// phaseChecks marks r invalid where a phase's own output in dir says its
// data check found wrong data: io500 runs mdtest-hard-read with mdtest's
// read check (-X) and does not look at its outcome, and mdtest exits 0.
// (IOR's failed checks io500 marks itself.) A phase file that is absent
// or unreadable is no evidence either way.
func phaseChecks(r *IO500, dir string) {
	for _, p := range r.Phases {
		if !strings.HasPrefix(p.Name, "mdtest-") {
			continue
		}
		for _, name := range []string{p.Name, strings.ReplaceAll(p.Name, "-", "_")} {
			path := filepath.Join(dir, name+".txt")
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			if err := failedCheck(path, lines(b), mdtestCheckFailed); err != nil {
				r.addInvalid(err.Error())
			}
			break
		}
	}
}

// readIO500Files reads result_summary.txt and result.txt (either may be
// ""), which must agree when both are there.
func readIO500Files(dir, summary, result string) (*IO500, error) {
	var fromSummary, fromResult *IO500
	for _, f := range []struct {
		path  string
		parse func(string, []byte) (*IO500, error)
		to    **IO500
	}{{summary, ParseIO500Summary, &fromSummary}, {result, ParseIO500Result, &fromResult}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		if *f.to, err = f.parse(f.path, b); err != nil {
			return nil, err
		}
	}
	switch {
	case fromSummary == nil:
		return fromResult, nil
	case fromResult == nil:
		return fromSummary, nil
	}
	if err := sameRun(fromSummary, fromResult); err != nil {
		return nil, fmt.Errorf("%s and %s disagree: %w", summary, result, err)
	}
	fromSummary.Procs = fromResult.Procs
	for _, why := range fromResult.Invalid {
		fromSummary.addInvalid(why)
	}
	return fromSummary, nil
}

func io500Files(dir string) (summary, result string) {
	if fileExists(filepath.Join(dir, SummaryFile)) {
		summary = filepath.Join(dir, SummaryFile)
	} else if m, _ := filepath.Glob(filepath.Join(dir, "io-500-summary.*.txt")); len(m) == 1 {
		summary = m[0]
	}
	if fileExists(filepath.Join(dir, ResultFile)) {
		result = filepath.Join(dir, ResultFile)
	}
	return summary, result
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func sameRun(a, b *IO500) error {
	if a.Version != "" && b.Version != "" && a.Version != b.Version {
		return fmt.Errorf("version %s vs %s", a.Version, b.Version)
	}
	for _, p := range a.Phases {
		q, ok := b.Phase(p.Name)
		if !ok {
			if p.Name == "timestamp" {
				continue
			}
			return fmt.Errorf("phase %s only in one of them", p.Name)
		}
		if !near(p.Value, q.Value) {
			return fmt.Errorf("phase %s: %g vs %g", p.Name, p.Value, q.Value)
		}
	}
	if !near(a.Score.Total, b.Score.Total) {
		return fmt.Errorf("total score %g vs %g", a.Score.Total, b.Score.Total)
	}
	return nil
}

// Metric names of an IO500 run (Metrics), besides one per phase.
const (
	MetricScoreBandwidth  = "score_bandwidth"  // bytes/s: the standard bandwidth score
	MetricScoreMetadata   = "score_metadata"   // ops/s: the standard metadata score
	MetricScoreTotal      = "score_total"      // the IO500 score, sqrt(GiB/s × kIOPS)
	MetricScoreXBandwidth = "scorex_bandwidth" // the extended scores ([SCOREX])
	MetricScoreXMetadata  = "scorex_metadata"
	MetricScoreXTotal     = "scorex_total"
	MetricValid           = "valid" // 1 for a valid run, 0 for an invalid one
	MetricProcs           = "procs" // MPI processes, when the output says
)

const (
	gib  = 1 << 30
	kilo = 1000
)

// PhaseMetric is the metric name of phase: "ior-easy-write" →
// "ior_easy_write" (bytes/s or ops/s); its time is PhaseMetric+"_time"
// (seconds) and its validity PhaseMetric+"_valid" (1 or 0).
func PhaseMetric(phase string) string { return metricName(phase) }

// Metrics returns the run's metrics in base units: per phase (timestamp
// excluded) its rate (GiB/s → bytes/s, kIOPS → ops/s), time and validity;
// the printed scores (bandwidth in bytes/s, metadata in ops/s, total as
// printed); validity and, when known, the process count.
func (r *IO500) Metrics() []Metric {
	var out []Metric
	for _, p := range r.Phases {
		if p.Name == "timestamp" {
			continue
		}
		name := PhaseMetric(p.Name)
		m := Metric{Name: name, Value: p.Value * kilo, Unit: UnitOpsPerSec, Better: Higher}
		if p.Bandwidth {
			m.Value, m.Unit = p.Value*gib, UnitBytesPerSec
		}
		out = append(out, m,
			Metric{Name: name + "_time", Value: p.Seconds, Unit: UnitSeconds, Better: Lower},
			Metric{Name: name + "_valid", Value: boolValue(p.Valid), Unit: UnitRatio, Better: Higher})
	}
	add := func(bw, md, total string, s *Score) {
		if s != nil {
			out = append(out,
				Metric{Name: bw, Value: s.Bandwidth * gib, Unit: UnitBytesPerSec, Better: Higher},
				Metric{Name: md, Value: s.Metadata * kilo, Unit: UnitOpsPerSec, Better: Higher},
				Metric{Name: total, Value: s.Total, Unit: UnitNone, Better: Higher})
		}
	}
	add(MetricScoreBandwidth, MetricScoreMetadata, MetricScoreTotal, r.Score)
	add(MetricScoreXBandwidth, MetricScoreXMetadata, MetricScoreXTotal, r.ScoreX)
	out = append(out, Metric{Name: MetricValid, Value: boolValue(r.Valid()), Unit: UnitRatio, Better: Higher})
	if r.Procs > 0 {
		out = append(out, Metric{Name: MetricProcs, Value: float64(r.Procs), Unit: UnitNone, Better: Higher})
	}
	return out
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ParseIO500 reads IO500 output of either kind: result.txt when its first
// line that is not blank is "[run]", else stdout or result_summary.txt.
func ParseIO500(file string, data []byte) (*IO500, error) {
	for _, l := range lines(data) {
		if t := strings.TrimSpace(l); t != "" {
			if t == "[run]" {
				return ParseIO500Result(file, data)
			}
			break
		}
	}
	return ParseIO500Summary(file, data)
}

func io500Metrics(file string, data []byte, _ Options) ([]Metric, error) {
	r, err := ParseIO500(file, data)
	if err != nil {
		return nil, err
	}
	return r.Metrics(), nil
}
