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
// not a terminal, unless ProgressOptions.Interval says otherwise.
const ProgressInterval = 10 * time.Second

// ProgressOptions says how a Progress draws: TTY redraws in place (a
// go-pretty display, never wider than Width columns, 120 when 0);
// otherwise plain lines every Interval (ProgressInterval when 0).
type ProgressOptions struct {
	TTY      bool
	Width    int
	Interval time.Duration
}

func (o ProgressOptions) interval() time.Duration {
	if o.Interval > 0 {
		return o.Interval
	}
	return ProgressInterval
}

// Progress shows how a suite advances while it runs. On a terminal it is a
// go-pretty display redrawn in place four times a second: a line per
// case (elapsed/total, errors, requests, req/s, live TTFT p50/p99, and a
// bar) and the cases done of n; log records written through it (Write)
// go above the display. Otherwise it prints plain lines, no ANSI, when a
// case starts and ends and every interval in between, which suits CI job
// logs. Its methods are safe for concurrent use; counters is called from
// Progress's own goroutine.
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

	interval   time.Duration
	ticker     *time.Ticker
	stop       chan struct{}
	renderDone chan struct{}
	wg         sync.WaitGroup
	stopped    bool
}

// NewProgressLog starts a progress display for totalCases cases whose
// lines are Info records of log ("case progress", with case, n, of,
// state, elapsed_s, the count and errors) every interval
// (ProgressInterval when 0), for --log-format json. Call Stop when the
// run ends.
func NewProgressLog(log *slog.Logger, totalCases int, interval time.Duration) *Progress {
	p := &Progress{log: log, total: totalCases, now: time.Now, stop: make(chan struct{})}
	p.interval = ProgressOptions{Interval: interval}.interval()
	p.ticker = time.NewTicker(p.interval)
	p.wg.Add(1)
	go p.loop()
	return p
}

// NewProgress starts a progress display for totalCases cases on w. Call
// Stop when the run ends.
func NewProgress(w io.Writer, totalCases int, o ProgressOptions) *Progress {
	p := &Progress{w: w, tty: o.TTY, total: totalCases, now: time.Now, stop: make(chan struct{})}
	interval := o.interval()
	if o.TTY {
		interval = 250 * time.Millisecond
		width := o.Width
		if width <= 0 {
			width = 120
		}
		pw := progress.NewWriter()
		pw.SetOutputWriter(w)
		pw.SetUpdateFrequency(interval)
		// The message (the live numbers) comes first, the bar after it;
		// lines are cut at the terminal's width so that they never wrap
		// (a wrapped line breaks the redraw), which cuts the bar first.
		pw.SetTerminalWidth(width)
		pw.SetMessageLength(min(max(width-32, 40), 100))
		pw.SetTrackerLength(16)
		pw.SetTrackerPosition(progress.PositionRight)
		pw.SetAutoStop(false)
		pw.SetStyle(progress.StyleDefault)
		pw.Style().Visibility.ETA = false
		pw.Style().Visibility.Time = false  // the message says elapsed/total
		pw.Style().Visibility.Value = false // and the count
		p.pw = pw
		p.overall = &progress.Tracker{Message: p.casesMessage(), Total: int64(totalCases)}
		pw.AppendTracker(p.overall)
		p.renderDone = make(chan struct{})
		go func() { defer close(p.renderDone); pw.Render() }()
	}
	p.interval, p.ticker = interval, time.NewTicker(interval)
	p.wg.Add(1)
	go p.loop()
	return p
}

// loop ticks every p.interval; StartCase restarts the ticker, so that a
// case's plain lines come interval, 2×interval ... after it started.
func (p *Progress) loop() {
	defer p.wg.Done()
	defer p.ticker.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.ticker.C:
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
		p.setTracker(req, false)
		p.current.UpdateMessage(p.trackerMessage(req, errs, ""))
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

// casesMessage is the message of the cases tracker on a terminal.
func (p *Progress) casesMessage() string {
	done := p.started
	if p.id != "" {
		done--
	}
	return fmt.Sprintf("cases: %d/%d done", done, p.total)
}

// trackerMessage is the running case's message on a terminal: its
// elapsed time (of its Duration, when it has one: the bar is then its
// elapsed time), errors, count, rate and TTFT — errors early, so that a
// narrow terminal cuts the least important numbers.
// An ended case says its state instead ("done in 31s").
func (p *Progress) trackerMessage(req, errs int64, state string) string {
	elapsed := p.now().Sub(p.caseT0)
	at := elapsed.Round(time.Second).String()
	switch {
	case state != "":
		at = state + " in " + at
	case p.detail.Duration > 0:
		at += "/" + p.detail.Duration.String()
	}
	return fmt.Sprintf("%d/%d %s: %s, %d errors, %d %s%s", p.started, p.total, oneLine(p.id, 40),
		at, errs, req, p.what, p.live(req, elapsed))
}

// setTracker sets the bar: elapsed milliseconds of a case with a
// Duration, kept below its total until the case ends (go-pretty marks a
// tracker done, and stops redrawing it, when it reaches its total); its
// count otherwise.
func (p *Progress) setTracker(req int64, ended bool) {
	switch {
	case p.detail.Duration <= 0:
		p.current.SetValue(req)
	case ended:
		p.current.SetValue(p.current.Total)
	default:
		p.current.SetValue(min(p.now().Sub(p.caseT0).Milliseconds(), p.current.Total-1))
	}
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
	p.ticker.Reset(p.interval)
	if p.tty {
		p.current = &progress.Tracker{Message: p.trackerMessage(0, 0, "")}
		if d.Duration > 0 {
			p.current.Total = max(d.Duration.Milliseconds(), 1)
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
		p.setTracker(req, true)
		p.current.UpdateMessage(p.trackerMessage(req, errs, status))
		if status == string(results.StatusError) {
			p.current.MarkAsErrored()
		} else {
			p.current.MarkAsDone()
		}
	} else {
		p.line(status, req, errs)
	}
	p.id, p.counters, p.detail = "", nil, CaseDetail{}
	if p.tty {
		// Below its total until Stop: a tracker that reaches it is done,
		// and the cases line would go to the scrollback before the last
		// case's own line or after it, as the renderer's timing falls.
		p.overall.UpdateMessage(p.casesMessage())
		p.overall.SetValue(min(p.overall.Value()+1, max(p.overall.Total-1, 0)))
	}
}

// Write prints b, whole lines (a log record), above a terminal display,
// where its redraw does not overwrite them (go-pretty's log lines, shown
// at the next refresh and at the last); once the display has stopped, or
// without a terminal, it writes b to the display's writer as it is. Safe
// for concurrent use.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	if p.tty && !p.stopped {
		// Under p.mu: a line logged before Stop is in the last refresh.
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			p.pw.Log("%s", line)
		}
		p.mu.Unlock()
		return len(b), nil
	}
	p.mu.Unlock()
	if p.tty {
		<-p.renderDone // after the display's last refresh
	}
	return p.w.Write(b)
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
	started := p.started
	p.mu.Unlock()
	p.wg.Wait()
	if p.tty {
		// The cases line ends last, once the renderer has moved every
		// case's line to the scrollback (it does within a refresh).
		for deadline := time.Now().Add(2 * time.Second); p.pw.LengthDone() < started && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		p.overall.SetValue(p.overall.Total)
		p.overall.MarkAsDone()
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
