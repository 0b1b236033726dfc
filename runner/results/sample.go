package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Error classes recorded in Sample.Error. An operation that fails against
// the server is data, not a Go error: it becomes a sample with one of these.
const (
	// ErrConnect: no connection to the server: refused, unreachable, DNS,
	// TLS handshake, or any failure before a connection existed that is not
	// the client's own (ErrClient). An infrastructure class.
	ErrConnect = "connect"
	// ErrTimeout: the per-request timeout, the parent context's deadline
	// or a network timeout.
	ErrTimeout = "timeout"
	// ErrHTTP4xx: the server answered a 4xx status other than 429.
	ErrHTTP4xx = "http_4xx"
	// ErrHTTP5xx: the server answered a 5xx status.
	ErrHTTP5xx = "http_5xx"
	// ErrStreamTruncated: the response ended before its end marker.
	ErrStreamTruncated = "stream_truncated"
	// ErrParse: a response or chunk that is not what the protocol says.
	ErrParse = "parse"
	// ErrCanceled: benchrun itself stopped the run (the parent context was
	// canceled: Ctrl-C, SIGTERM, a write failure). Excluded from metrics:
	// it says nothing about the server.
	ErrCanceled = "canceled"
	// ErrOther: anything else, e.g. an error object inside a stream.
	ErrOther = "other"
	// ErrClient: the client ran out of a resource of its own before the
	// request reached the network: file descriptors (EMFILE, ENFILE),
	// local ports (EADDRNOTAVAIL), buffers or memory (ENOBUFS, ENOMEM). Data
	// about the load generator, not the server. An infrastructure class.
	ErrClient = "client"
	// ErrRateLimited: the server answered 429 Too Many Requests;
	// Sample.RetryAfter holds its Retry-After when it sent one. The request
	// is not retried.
	ErrRateLimited = "rate_limited"
	// ErrUnfinished: the request was scheduled but did not finish before
	// the case's drain (Load.Drain) ended: it was in flight and then
	// canceled (Sent set), or, in open loop, still waiting for a
	// max_concurrency slot and never sent (Sent 0). Counted in the error
	// rate: an overloaded server must not look healthy because its slowest
	// requests were dropped.
	ErrUnfinished = "unfinished"
)

// Infrastructure reports whether an error class says the request never
// reached a working server (ErrConnect) or the client could not make it
// (ErrClient): above a small share, such a case measures the
// infrastructure, not the server.
func Infrastructure(class string) bool {
	return class == ErrConnect || class == ErrClient
}

// Token count sources recorded in Sample.TokenSource.
const (
	TokensFromUsage   = "usage"   // the server reported usage (OpenAI usage, Ollama eval_count)
	TokensFromCounted = "counted" // benchrun counted token-bearing chunks
)

// Sample is one operation (one request, one query, one IO500 phase).
//
// All times are offsets in nanoseconds from the case start (Case.Start), so
// a sample file is independent of wall clocks on other nodes. A zero offset
// other than Scheduled means "did not happen" (no first token, for example).
type Sample struct {
	Seq    int64  `json:"seq"`              // operation number within the case and worker
	Rep    int    `json:"rep"`              // repetition index, from 0
	Worker string `json:"worker,omitempty"` // worker/node that sent it, e.g. "node2/0"
	Warmup bool   `json:"warmup,omitempty"` // excluded from metrics, kept for inspection
	// Op names a side operation: one that is not the operation the case
	// measures but runs beside it (the writer's upserts during a Chroma
	// mixed run, the check after a load). "" for the case's own
	// operations. A side operation's Values count among the case's
	// metrics and its failure among its errors; its latency, and its
	// count, do not enter the case's latencies, throughput or timeline.
	Op string `json:"op,omitempty"`

	Scheduled  time.Duration `json:"scheduled_ns"`             // when it should have been sent
	Sent       time.Duration `json:"sent_ns"`                  // when it was actually sent; 0: never sent (ErrUnfinished)
	FirstByte  time.Duration `json:"first_byte_ns,omitempty"`  // first response byte (httptrace)
	FirstToken time.Duration `json:"first_token_ns,omitempty"` // first token-bearing chunk
	LastToken  time.Duration `json:"last_token_ns,omitempty"`  // last token-bearing chunk
	Done       time.Duration `json:"done_ns"`                  // response fully read or failed

	// SlotWait is, in open loop with max_concurrency, how long the
	// operation waited for a free slot: from the dispatcher queueing it to
	// a slot taking it. It is part of Sent − Scheduled; the rest of that
	// delay is the client's own lag (the dispatcher or a goroutine late).
	// The load generator records at least 1ns for every operation that went
	// through the slot queue, so zero means none was waited for (no
	// max_concurrency, closed loop, or a file written before the field
	// existed). Analysis tells server backpressure from client lag with it.
	SlotWait time.Duration `json:"slot_wait_ns,omitempty"`

	// ITL holds every gap between consecutive token-bearing chunks in
	// nanoseconds; with continuous usage stats a chunk's gap is divided by the
	// tokens it carried and repeated once per token.
	ITL []time.Duration `json:"itl_ns,omitempty"`

	InputTokens  int    `json:"input_tokens,omitempty"`
	OutputTokens int    `json:"output_tokens,omitempty"`
	TokenSource  string `json:"token_source,omitempty"` // TokensFromUsage or TokensFromCounted

	Status      int    `json:"status,omitempty"`       // HTTP status, 0 when none
	Error       string `json:"error,omitempty"`        // error class, empty on success
	ErrorDetail string `json:"error_detail,omitempty"` // human-readable cause, truncated, secrets redacted
	// RetryAfter is the server's Retry-After on a rate-limited (429)
	// answer, as a duration (an HTTP date is taken relative to the
	// response); 0 when none was given.
	RetryAfter time.Duration `json:"retry_after_ns,omitempty"`

	// Server holds timings and counters the server reported about this
	// operation, in base units (Ollama's load_duration in seconds, ...).
	Server map[string]float64 `json:"server,omitempty"`
	// Values holds per-operation measurements that are not latencies, in base
	// units (recall_at_10, bytes, ...). Analysis summarises each key.
	Values map[string]float64 `json:"values,omitempty"`
}

// OK reports whether the operation succeeded.
func (s *Sample) OK() bool { return s.Error == "" }

// SampleWriter appends samples to a JSONL stream, one line per sample. It
// is safe for concurrent use.
//
// A samples file (CreateSampleFile) batches its writes: lines collect in a
// 64 KiB buffer that goes to the operating system when it fills and at
// least every SampleFlushInterval, when the file is also synced to disk, and
// on Close. A killed process (SIGKILL) or a lost node therefore loses at most
// the samples of the last interval; writing a line costs no system call. Any
// other writer (NewSampleWriter) is flushed after every line, for readers
// that follow it as it is written.
type SampleWriter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	line    []byte // the line being written, reused
	c       io.Closer
	n       int64
	err     error
	closed  bool
	batched bool // flushed by flushLoop, not after each line

	f     *os.File // a samples file: flushed and synced in the background
	dirty atomic.Bool
	stop  chan struct{}
	done  chan struct{}
}

// SampleFlushInterval is the longest a sample written to a samples file
// waits in the writer's buffer before it reaches the operating system, and
// how often a samples file with new samples is synced to disk.
const SampleFlushInterval = time.Second

// SampleSyncInterval is how often a samples file with new samples is
// synced to disk (the flush interval: a flush is followed by a sync).
const SampleSyncInterval = SampleFlushInterval

// NewSampleWriter writes to w, flushing every line. If w is an io.Closer,
// Close closes it.
func NewSampleWriter(w io.Writer) *SampleWriter {
	sw := &SampleWriter{w: bufio.NewWriterSize(w, 64<<10)}
	if c, ok := w.(io.Closer); ok {
		sw.c = c
	}
	return sw
}

// CreateSampleFile opens path for appending samples, creating it if needed.
func CreateSampleFile(path string) (*SampleWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	sw := NewSampleWriter(f)
	sw.batched = true
	sw.f, sw.stop, sw.done = f, make(chan struct{}), make(chan struct{})
	go sw.flushLoop()
	return sw, nil
}

// flushLoop flushes the buffer and syncs the file when samples were
// written since the last time. fsync runs outside the writer's lock, so
// writers never wait for the disk; the flush (a write(2) of at most the
// buffer) runs under it.
func (sw *SampleWriter) flushLoop() {
	defer close(sw.done)
	t := time.NewTicker(SampleFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-sw.stop:
			return
		case <-t.C:
			if !sw.dirty.Swap(false) {
				continue
			}
			sw.mu.Lock()
			err := sw.w.Flush()
			sw.mu.Unlock()
			if err == nil {
				err = sw.f.Sync()
			}
			if err != nil {
				sw.mu.Lock()
				if sw.err == nil {
					sw.err = err
				}
				sw.mu.Unlock()
			}
		}
	}
}

// Write appends one sample: to the buffer of a samples file, flushed
// within SampleFlushInterval; to any other writer, flushed at once. An
// earlier write or flush failure is returned, and the sample is dropped.
func (sw *SampleWriter) Write(s *Sample) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.err != nil {
		return sw.err
	}
	if sw.closed {
		// A batched line would sit in a buffer nobody flushes, counted.
		return errSampleWriterClosed
	}
	// The line is encoding/json's encoding of s (appendSample), and its
	// newline; nothing when s cannot be encoded (a NaN value), where
	// encoding/json says why: that error is the sample's, not the writer's.
	line, ok := appendSample(sw.line[:0], s)
	if !ok {
		_, err := json.Marshal(s)
		if err == nil {
			err = errors.New("sample cannot be encoded")
		}
		return err
	}
	sw.line = append(line, '\n')
	if _, err := sw.w.Write(sw.line); err != nil {
		sw.err = err
		return err
	}
	if !sw.batched {
		sw.err = sw.w.Flush()
	}
	sw.n++
	sw.dirty.Store(true)
	return sw.err
}

// errSampleWriterClosed is Write's error after Close.
var errSampleWriterClosed = errors.New("samples writer closed")

// Count returns the number of samples written.
func (sw *SampleWriter) Count() int64 {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.n
}

// Close flushes, syncs a samples file to disk and closes it. Calling it
// again does nothing.
func (sw *SampleWriter) Close() error {
	if sw.stop != nil {
		sw.mu.Lock()
		closed := sw.closed
		sw.closed = true
		sw.mu.Unlock()
		if closed {
			return nil
		}
		close(sw.stop)
		<-sw.done
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.closed = true
	err := sw.w.Flush()
	if sw.f != nil {
		if serr := sw.f.Sync(); err == nil {
			err = serr
		}
	}
	if sw.c != nil {
		if cerr := sw.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// ReadSamples calls fn for each sample in a JSONL stream. A truncated last
// line (a process killed mid-write) is ignored; any other bad line is an
// error naming its line number. Readers that judge a run use ScanSamples,
// which reports damage instead of stopping at it.
func ReadSamples(r io.Reader, fn func(*Sample) error) error {
	in, err := ScanSamples(r, fn)
	if err != nil {
		return err
	}
	if len(in.BadLines) > 0 {
		b := in.BadLines[0]
		return fmt.Errorf("line %d: %s", b.Line, b.Err)
	}
	return nil
}

// ReadSampleFile reads every sample in a JSONL file, as ReadSamples.
func ReadSampleFile(path string, fn func(*Sample) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := ReadSamples(f, fn); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// MaxBadLines is how many undecodable lines an Integrity lists; the rest
// are only counted.
const MaxBadLines = 10

// Integrity is what ScanSamples found in a samples stream besides its
// samples.
type Integrity struct {
	// Samples is the number of lines decoded and passed to fn.
	Samples int64
	// Lines is the number of lines seen, a torn last line included.
	Lines int
	// TornLine is the number of a last line that has no newline and does
	// not decode — a write cut short (a killed process, a full disk, a
	// file truncated later) — which was dropped; 0 when there is none.
	TornLine int
	// BadLines lists the first MaxBadLines complete lines that did not
	// decode, which were skipped; BadCount counts them all.
	BadLines []BadLine
	BadCount int
}

// BadLine is a line of a samples stream that did not decode.
type BadLine struct {
	Line int    // 1-based
	Err  string // the decoder's message
}

// ScanSamples calls fn for each sample in a JSONL stream and reports what
// else it found: a torn last line and undecodable lines are skipped and
// described in the Integrity, never silently. The error is for a failing
// reader or fn only. Compare Integrity.Samples with the count the manifest
// recorded (CaseInfo.SampleCounts) to find a file cut at a line boundary.
func ScanSamples(r io.Reader, fn func(*Sample) error) (Integrity, error) {
	var in Integrity
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			in.Lines++
			complete := b[len(b)-1] == '\n'
			var s Sample
			switch jerr := json.Unmarshal(b, &s); {
			case jerr != nil && !complete:
				in.TornLine = in.Lines
			case jerr != nil:
				in.BadCount++
				if len(in.BadLines) < MaxBadLines {
					in.BadLines = append(in.BadLines, BadLine{Line: in.Lines, Err: jerr.Error()})
				}
			default:
				in.Samples++
				if ferr := fn(&s); ferr != nil {
					return in, ferr
				}
			}
		}
		if err == io.EOF {
			return in, nil
		}
		if err != nil {
			return in, err
		}
	}
}

// ScanSampleFile scans a samples file, as ScanSamples.
func ScanSampleFile(path string, fn func(*Sample) error) (Integrity, error) {
	f, err := os.Open(path)
	if err != nil {
		return Integrity{}, err
	}
	defer f.Close()
	in, err := ScanSamples(f, fn)
	if err != nil {
		return in, fmt.Errorf("%s: %w", path, err)
	}
	return in, nil
}

// CountSuffix names the file beside a samples file in which a process that
// is not the run's own (a SLURM worker) leaves the number of samples it
// wrote, for the run to record in the manifest (CaseInfo.SampleCounts).
const CountSuffix = ".count"

// WriteSampleCount writes n to samplesPath+CountSuffix, atomically.
func WriteSampleCount(samplesPath string, n int64) error {
	return WriteFileAtomic(samplesPath+CountSuffix, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%d\n", n)
		return err
	})
}

// ReadSampleCount reads the count WriteSampleCount left beside samplesPath.
func ReadSampleCount(samplesPath string) (int64, error) {
	b, err := os.ReadFile(samplesPath + CountSuffix)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s%s: not a sample count: %q", samplesPath, CountSuffix, b)
	}
	return n, nil
}
