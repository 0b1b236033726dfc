package report

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jedib0t/go-pretty/v6/progress"

	"github.com/benchrun/benchrun/runner/results"
)

// ProgressInterval is how often a Progress prints a line when its output is
// not a terminal.
const ProgressInterval = 10 * time.Second

// Progress shows how a suite advances while it runs. On a terminal it is a
// go-pretty progress display (cases done of n, and for the running case its
// elapsed time, requests and errors, refreshed a few times a second);
// otherwise it prints plain lines when a case starts and ends and every
// ProgressInterval in between, which suits CI job logs. Its methods are
// safe for concurrent use; counters is called from Progress's own
// goroutine.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	log      *slog.Logger // not nil: lines are records of log (--log-format json)
	total    int
	started  int
	id       string
	counters func() (requests, errors int64)
	what     string // what counters count: "requests", "runs"
	caseT0   time.Time
	detail   CaseDetail
	now      func() time.Time

	pw      progress.Writer
	overall *progress.Tracker
	current *progress.Tracker

	stop       chan struct{}
	renderDone chan struct{}
	wg         sync.WaitGroup
	stopped    bool
}

// NewProgressLog starts a progress display for totalCases cases whose
// lines are Info records of log ("case progress", with case, n, of,
// state, elapsed_s, the count and errors), for --log-format json. Call
// Stop when the run ends.
func NewProgressLog(log *slog.Logger, totalCases int) *Progress {
	p := &Progress{log: log, total: totalCases, now: time.Now, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.loop(ProgressInterval)
	return p
}

// NewProgress starts a progress display for totalCases cases on w. Call
// Stop when the run ends.
func NewProgress(w io.Writer, tty bool, totalCases int) *Progress {
	p := &Progress{w: w, tty: tty, total: totalCases, now: time.Now, stop: make(chan struct{})}
	interval := ProgressInterval
	if tty {
		interval = 250 * time.Millisecond
		pw := progress.NewWriter()
		pw.SetOutputWriter(w)
		pw.SetUpdateFrequency(interval)
		pw.SetMessageLength(60)
		pw.SetTrackerLength(24)
		pw.SetAutoStop(false)
		pw.SetStyle(progress.StyleDefault)
		pw.Style().Visibility.ETA = false
		pw.Style().Visibility.Time = true
		pw.Style().Visibility.Value = true
		p.pw = pw
		p.overall = &progress.Tracker{Message: "cases", Total: int64(totalCases), Units: progress.UnitsDefault}
		pw.AppendTracker(p.overall)
		p.renderDone = make(chan struct{})
		go func() { defer close(p.renderDone); pw.Render() }()
	}
	p.wg.Add(1)
	go p.loop(interval)
	return p
}

func (p *Progress) loop(interval time.Duration) {
	defer p.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.tick()
		}
	}
}

// tick refreshes the running case's numbers: the tracker on a terminal, a
// plain line otherwise.
func (p *Progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.id == "" || p.stopped {
		return
	}
	req, errs := p.read()
	if p.tty {
		p.setTracker(req, errs)
		p.current.UpdateMessage(p.trackerMessage(req, errs))
		return
	}
	p.line("running", req, errs)
}

// line prints the running case's state ("started", "running", or its end
// status) as a plain line, or as a record of p.log.
func (p *Progress) line(state string, req, errs int64) {
	raw := p.now().Sub(p.caseT0)
	elapsed := raw.Round(time.Second)
	if p.log != nil {
		args := []any{"case", p.id, "n", p.started, "of", p.total, "state", state,
			"elapsed_s", elapsed.Seconds(), p.what, req, "errors", errs}
		if p.detail.Duration > 0 {
			args = append(args, "total_s", p.detail.Duration.Seconds())
		}
		if p.detail.TTFT != nil {
			if p50, p99 := p.detail.TTFT(); p50 > 0 {
				args = append(args, "ttft_p50_s", p50.Seconds(), "ttft_p99_s", p99.Seconds())
			}
		}
		p.log.Info("case progress", args...)
		return
	}
	switch state {
	case "started":
		fmt.Fprintf(p.w, "benchrun: case %d/%d %s: started\n", p.started, p.total, p.id)
	case "running":
		at := elapsed.String()
		if p.detail.Duration > 0 {
			at += "/" + p.detail.Duration.String()
		}
		fmt.Fprintf(p.w, "benchrun: case %d/%d %s: %s, %d %s%s, %d errors\n",
			p.started, p.total, p.id, at, req, p.what, p.live(req, raw), errs)
	default:
		fmt.Fprintf(p.w, "benchrun: case %d/%d %s: %s in %s, %d %s%s, %d errors\n",
			p.started, p.total, p.id, state, elapsed, req, p.what, p.live(req, raw), errs)
	}
}

func (p *Progress) read() (int64, int64) {
	if p.counters == nil {
		return 0, 0
	}
	return p.counters()
}

// trackerMessage is the running case's message on a terminal: without a
// Duration its errors (the bar counts its requests); with one, its count,
// rate, TTFT and errors (the bar is its elapsed time).
func (p *Progress) trackerMessage(req, errs int64) string {
	if p.detail.Duration <= 0 {
		return fmt.Sprintf("%d/%d %s (%d errors)", p.started, p.total, oneLine(p.id, 40), errs)
	}
	return fmt.Sprintf("%d/%d %s: %d %s%s, %d errors", p.started, p.total, oneLine(p.id, 40),
		req, p.what, p.live(req, p.now().Sub(p.caseT0)), errs)
}

// setTracker sets the bar: elapsed seconds of a case with a Duration, its
// count otherwise.
func (p *Progress) setTracker(req, errs int64) {
	if p.detail.Duration > 0 {
		p.current.SetValue(min(int64(p.now().Sub(p.caseT0)/time.Second), p.current.Total))
		return
	}
	p.current.SetValue(req)
}

// CaseDetail is what a progress display may know of the running case
// beyond its counts: Duration, when not zero, is how long the case is
// planned to run (warmup included), for elapsed/total and a determinate
// bar; TTFT, when not nil, returns the live approximations of its TTFT
// p50 and p99 (0 when none yet).
type CaseDetail struct {
	Duration time.Duration
	TTFT     func() (p50, p99 time.Duration)
}

// live formats the running case's rate and TTFT for a line: ", 12.3
// req/s, ttft p50 31ms p99 45ms" (the parts it knows).
func (p *Progress) live(req int64, elapsed time.Duration) string {
	var b strings.Builder
	if elapsed > 0 && req > 0 && p.what == "requests" {
		fmt.Fprintf(&b, ", %.1f req/s", float64(req)/elapsed.Seconds())
	}
	if p.detail.TTFT != nil {
		if p50, p99 := p.detail.TTFT(); p50 > 0 {
			fmt.Fprintf(&b, ", ttft p50 %s p99 %s", roundDur(p50), roundDur(p99))
		}
	}
	return b.String()
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// StartCase marks case id as running; counters, if not nil, reports its
// requests and errors so far.
func (p *Progress) StartCase(id string, counters func() (requests, errors int64)) {
	p.StartCaseOf(id, "requests", counters)
}

// StartCaseOf is StartCase for a case whose counters count what ("runs"
// of a batch command) rather than requests.
func (p *Progress) StartCaseOf(id, what string, counters func() (n, errors int64)) {
	p.StartCaseDetail(id, what, counters, CaseDetail{})
}

// StartCaseDetail is StartCaseOf with what else is known of the case: on a
// terminal a case with a Duration gets a determinate bar of its elapsed
// time, its count, rate, TTFT and errors in the message.
func (p *Progress) StartCaseDetail(id, what string, counters func() (n, errors int64), d CaseDetail) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.started++
	p.id, p.counters, p.what, p.caseT0, p.detail = id, counters, what, p.now(), d
	if p.tty {
		p.current = &progress.Tracker{Message: p.trackerMessage(0, 0), Units: progress.Units{Notation: " " + what, NotationPosition: progress.UnitsNotationPositionAfter, Formatter: progress.FormatNumber}}
		if d.Duration > 0 {
			p.current.Total = int64(d.Duration / time.Second)
			p.current.Units = progress.Units{Notation: "s", NotationPosition: progress.UnitsNotationPositionAfter, Formatter: progress.FormatNumber}
		}
		p.pw.AppendTracker(p.current)
		return
	}
	p.line("started", 0, 0)
}

// EndCase marks the running case finished with status ("done", "error",
// "skipped", ...).
func (p *Progress) EndCase(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.id == "" || p.stopped {
		return
	}
	req, errs := p.read()
	if p.tty {
		p.setTracker(req, errs)
		p.current.UpdateMessage(p.trackerMessage(req, errs) + " " + status)
		if status == string(results.StatusError) {
			p.current.MarkAsErrored()
		} else {
			p.current.MarkAsDone()
		}
		p.overall.Increment(1)
	} else {
		p.line(status, req, errs)
	}
	p.id, p.counters, p.detail = "", nil, CaseDetail{}
}

// Stop ends the display and waits for its goroutines. It is safe to call
// more than once.
func (p *Progress) Stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	close(p.stop)
	if p.tty {
		p.overall.MarkAsDone()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if p.tty {
		// Render may not have set up its cancel function yet: ask again
		// until it has returned.
		for {
			p.pw.Stop()
			select {
			case <-p.renderDone:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}
