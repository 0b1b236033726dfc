package report

import (
	"fmt"
	"io"
	"log/slog"
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
		p.current.SetValue(req)
		p.current.UpdateMessage(p.trackerMessage(errs))
		return
	}
	p.line("running", req, errs)
}

// line prints the running case's state ("started", "running", or its end
// status) as a plain line, or as a record of p.log.
func (p *Progress) line(state string, req, errs int64) {
	elapsed := p.now().Sub(p.caseT0).Round(time.Second)
	if p.log != nil {
		p.log.Info("case progress", "case", p.id, "n", p.started, "of", p.total, "state", state,
			"elapsed_s", elapsed.Seconds(), p.what, req, "errors", errs)
		return
	}
	switch state {
	case "started":
		fmt.Fprintf(p.w, "benchrun: case %d/%d %s: started\n", p.started, p.total, p.id)
	case "running":
		fmt.Fprintf(p.w, "benchrun: case %d/%d %s: %s, %d %s, %d errors\n",
			p.started, p.total, p.id, elapsed, req, p.what, errs)
	default:
		fmt.Fprintf(p.w, "benchrun: case %d/%d %s: %s in %s, %d %s, %d errors\n",
			p.started, p.total, p.id, state, elapsed, req, p.what, errs)
	}
}

func (p *Progress) read() (int64, int64) {
	if p.counters == nil {
		return 0, 0
	}
	return p.counters()
}

func (p *Progress) trackerMessage(errs int64) string {
	return fmt.Sprintf("%d/%d %s (%d errors)", p.started, p.total, oneLine(p.id, 40), errs)
}

// StartCase marks case id as running; counters, if not nil, reports its
// requests and errors so far.
func (p *Progress) StartCase(id string, counters func() (requests, errors int64)) {
	p.StartCaseOf(id, "requests", counters)
}

// StartCaseOf is StartCase for a case whose counters count what ("runs"
// of a batch command) rather than requests.
func (p *Progress) StartCaseOf(id, what string, counters func() (n, errors int64)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.started++
	p.id, p.counters, p.what, p.caseT0 = id, counters, what, p.now()
	if p.tty {
		p.current = &progress.Tracker{Message: p.trackerMessage(0), Units: progress.Units{Notation: " " + what, NotationPosition: progress.UnitsNotationPositionAfter, Formatter: progress.FormatNumber}}
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
		p.current.SetValue(req)
		p.current.UpdateMessage(p.trackerMessage(errs) + " " + status)
		if status == string(results.StatusError) {
			p.current.MarkAsErrored()
		} else {
			p.current.MarkAsDone()
		}
		p.overall.Increment(1)
	} else {
		p.line(status, req, errs)
	}
	p.id, p.counters = "", nil
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
