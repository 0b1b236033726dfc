package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Prompt is one request's input. Text is the prompt of a completion
// request; Messages, when set, is the conversation of a chat request (a
// driver sends Text as one user message when Messages is empty).
// InputTokens is the prompt length under benchrun's token convention (one
// token per whitespace-separated word, see docs/metrics.md); MaxTokens is
// the wanted output length, 0 when the dataset does not say.
type Prompt struct {
	Text        string
	Messages    []Message
	InputTokens int
	MaxTokens   int
}

// ChatMessages returns the conversation a chat request sends: Messages, or
// Text as one user message when Messages is empty.
func (p Prompt) ChatMessages() []Message {
	if len(p.Messages) == 0 {
		return []Message{{Role: "user", Content: p.Text}}
	}
	return p.Messages
}

// CompletionText returns the prompt a completion request sends: Text, or
// the contents of Messages joined by newlines when Text is empty.
func (p Prompt) CompletionText() string {
	if p.Text != "" {
		return p.Text
	}
	parts := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n")
}

// Dataset hands out prompts. Implementations are safe for concurrent use.
type Dataset interface {
	// Prompt returns the prompt for operation seq; the same seq always gives
	// the same prompt. File datasets cycle through their prompts.
	Prompt(seq int64) Prompt
	// Hash is the hex sha256 of the dataset's effective content (the
	// prompts a file yields, or a synthetic dataset's parameters), so two
	// runs with equal hashes sent the same prompts.
	Hash() string
	// Len is the number of distinct prompts; 0 for a synthetic dataset,
	// which makes a new prompt for every seq.
	Len() int
}

// Dataset kinds and length distributions.
const (
	Synthetic = "synthetic"
	JSONL     = "jsonl"
	ShareGPT  = "sharegpt"

	DistFixed   = "fixed"
	DistUniform = "uniform"
	DistNormal  = "normal"
)

// Options selects and configures a dataset. Prompt* and Output*
// describe length distributions in tokens: fixed (PromptTokens), uniform
// over [Min, Max], or normal with mean PromptTokens and Stddev, rounded and
// clamped to [Min, Max] (Min defaults to 1, Max 0 means no upper bound).
// Output lengths apply to every kind: for files they override the lengths
// the file gives only when OutputTokens is set.
type Options struct {
	Kind string // Synthetic (default), JSONL, ShareGPT or Trace
	Path string // the file, for jsonl and sharegpt

	PromptTokens int
	PromptDist   string // DistFixed (default), DistUniform or DistNormal
	PromptMin    int
	PromptMax    int
	PromptStddev float64

	OutputTokens int
	OutputDist   string
	OutputMin    int
	OutputMax    int
	OutputStddev float64

	Seed int64
}

// New builds the dataset o describes, reading its file if any.
// Errors name the file and, for bad content, the line.
func New(o Options) (Dataset, error) {
	var out *lengthDist
	if o.OutputTokens > 0 || o.OutputDist != "" && o.OutputDist != DistFixed {
		d, err := newLengthDist("output", o.OutputDist, o.OutputTokens, o.OutputMin, o.OutputMax, o.OutputStddev)
		if err != nil {
			return nil, err
		}
		out = &d
	}
	switch o.Kind {
	case "", Synthetic:
		in, err := newLengthDist("prompt", o.PromptDist, o.PromptTokens, o.PromptMin, o.PromptMax, o.PromptStddev)
		if err != nil {
			return nil, err
		}
		s := &synthetic{prompt: in, output: out, seed: o.Seed}
		h := sha256.New()
		fmt.Fprintf(h, "synthetic v1\nvocabulary %s\nprompt %s\nseed %d\n",
			strings.Join(vocabularyWords(), " "), in, o.Seed)
		if out != nil {
			fmt.Fprintf(h, "output %s\n", *out)
		}
		s.hash = hex.EncodeToString(h.Sum(nil))
		return s, nil
	case Trace:
		if o.Path == "" {
			return nil, fmt.Errorf("dataset %s: path is required", o.Kind)
		}
		tr, err := ReadTraceFile(o.Path)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", o.Kind, err)
		}
		return newTraceDataset(tr, o.Seed), nil
	case JSONL, ShareGPT:
		if o.Path == "" {
			return nil, fmt.Errorf("dataset %s: path is required", o.Kind)
		}
		f, err := os.Open(o.Path)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		defer f.Close()
		var prompts []Prompt
		if o.Kind == JSONL {
			prompts, err = readJSONLPrompts(f)
		} else {
			prompts, err = readShareGPT(f)
		}
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", o.Path, err)
		}
		if len(prompts) == 0 {
			return nil, fmt.Errorf("dataset %s: no prompts", o.Path)
		}
		return newFileDataset(o.Kind, prompts, out, o.Seed), nil
	default:
		return nil, fmt.Errorf("dataset kind %q: want %s, %s, %s or %s", o.Kind, Synthetic, JSONL, ShareGPT, Trace)
	}
}

func vocabularyWords() []string {
	w := make([]string, VocabularySize)
	for i := range w {
		w[i] = VocabularyWord(i)
	}
	return w
}

// lengthDist is a distribution of lengths in tokens.
type lengthDist struct {
	dist     string
	mean     int
	min, max int // max 0 = unbounded
	stddev   float64
}

func newLengthDist(what, dist string, mean, lo, hi int, stddev float64) (lengthDist, error) {
	d := lengthDist{dist: dist, mean: mean, min: lo, max: hi, stddev: stddev}
	if d.dist == "" {
		d.dist = DistFixed
	}
	switch d.dist {
	case DistFixed:
		if mean < 1 {
			return d, fmt.Errorf("dataset: %s_tokens must be at least 1", what)
		}
	case DistUniform:
		if lo < 1 || hi < lo {
			return d, fmt.Errorf("dataset: uniform %s length needs 1 <= %s_min <= %s_max (got %d, %d)", what, what, what, lo, hi)
		}
	case DistNormal:
		if mean < 1 || stddev < 0 {
			return d, fmt.Errorf("dataset: normal %s length needs %s_tokens >= 1 and %s_stddev >= 0", what, what, what)
		}
		if d.min < 1 {
			d.min = 1
		}
		if d.max != 0 && d.max < d.min {
			return d, fmt.Errorf("dataset: %s_max %d is below %s_min %d", what, d.max, what, d.min)
		}
	default:
		return d, fmt.Errorf("dataset: %s_dist %q: want fixed, uniform or normal", what, dist)
	}
	return d, nil
}

// String is the canonical form hashed into Dataset.Hash.
func (d lengthDist) String() string {
	switch d.dist {
	case DistUniform:
		return fmt.Sprintf("uniform min=%d max=%d", d.min, d.max)
	case DistNormal:
		return fmt.Sprintf("normal mean=%d stddev=%g min=%d max=%d", d.mean, d.stddev, d.min, d.max)
	}
	return fmt.Sprintf("fixed %d", d.mean)
}

// draw returns one length.
func (d lengthDist) draw(r *rand.Rand) int {
	switch d.dist {
	case DistUniform:
		return d.min + r.IntN(d.max-d.min+1)
	case DistNormal:
		n := int(math.Round(float64(d.mean) + d.stddev*r.NormFloat64()))
		n = max(n, d.min)
		if d.max > 0 {
			n = min(n, d.max)
		}
		return n
	}
	return d.mean
}

// seqRand is the random source for one seq: a pure function of seed, seq
// and purpose, so prompts do not depend on the order they are asked for.
func seqRand(seed, seq int64, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^purpose*0x9e3779b97f4a7c15, uint64(seq)))
}

const (
	purposeText   = 1
	purposeOutput = 2
)

// synthetic makes prompts of random vocabulary words.
type synthetic struct {
	prompt lengthDist
	output *lengthDist
	seed   int64
	hash   string
}

func (s *synthetic) Prompt(seq int64) Prompt {
	r := seqRand(s.seed, seq, purposeText)
	n := s.prompt.draw(r)
	var b strings.Builder
	b.Grow(n * 6)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(VocabularyWord(r.IntN(VocabularySize)))
	}
	p := Prompt{Text: b.String(), InputTokens: n}
	if s.output != nil {
		p.MaxTokens = s.output.draw(seqRand(s.seed, seq, purposeOutput))
	}
	return p
}

func (s *synthetic) Hash() string { return s.hash }
func (s *synthetic) Len() int     { return 0 }

// fileDataset cycles through prompts read from a file.
type fileDataset struct {
	prompts []Prompt
	output  *lengthDist
	seed    int64
	hash    string
}

func newFileDataset(kind string, prompts []Prompt, out *lengthDist, seed int64) *fileDataset {
	h := sha256.New()
	fmt.Fprintf(h, "%s v1\n", kind)
	if out != nil {
		fmt.Fprintf(h, "output %s seed %d\n", *out, seed)
	}
	for _, p := range prompts {
		b, _ := json.Marshal(struct {
			T string    `json:"t,omitempty"`
			M []Message `json:"m,omitempty"`
			N int       `json:"n,omitempty"`
		}{p.Text, p.Messages, p.MaxTokens})
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	return &fileDataset{prompts: prompts, output: out, seed: seed, hash: hex.EncodeToString(h.Sum(nil))}
}

func (d *fileDataset) Prompt(seq int64) Prompt {
	i := seq % int64(len(d.prompts))
	if i < 0 {
		i += int64(len(d.prompts))
	}
	p := d.prompts[i]
	if d.output != nil {
		p.MaxTokens = d.output.draw(seqRand(d.seed, seq, purposeOutput))
	}
	return p
}

func (d *fileDataset) Hash() string { return d.hash }
func (d *fileDataset) Len() int     { return len(d.prompts) }

// readJSONLPrompts reads one prompt per line:
// {"prompt": "...", "output_tokens": N} or {"messages": [...]}.
func readJSONLPrompts(r io.Reader) ([]Prompt, error) {
	var prompts []Prompt
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			var rec struct {
				Prompt       *string   `json:"prompt"`
				Messages     []Message `json:"messages"`
				OutputTokens int       `json:"output_tokens"`
			}
			if jerr := json.Unmarshal(b, &rec); jerr != nil {
				return nil, fmt.Errorf("line %d: %w", line, jerr)
			}
			var p Prompt
			switch {
			case rec.Prompt != nil && rec.Messages != nil:
				return nil, fmt.Errorf("line %d: give prompt or messages, not both", line)
			case rec.Prompt != nil:
				p.Text = *rec.Prompt
				p.InputTokens = CountWords(p.Text)
			case len(rec.Messages) > 0:
				p.Messages = rec.Messages
				for _, m := range rec.Messages {
					p.InputTokens += CountWords(m.Content)
				}
			default:
				return nil, fmt.Errorf("line %d: no prompt or messages", line)
			}
			if rec.OutputTokens < 0 {
				return nil, fmt.Errorf("line %d: output_tokens must not be negative", line)
			}
			p.MaxTokens = rec.OutputTokens
			prompts = append(prompts, p)
		}
		if err == io.EOF {
			return prompts, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readShareGPT reads a ShareGPT JSON array. Each conversation's first human
// turn is the prompt and the gpt turn after it gives the output length in
// words; conversations without such a pair are skipped, as vLLM's
// benchmark does.
func readShareGPT(r io.Reader) ([]Prompt, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(src[:min(off, int64(len(src)))], []byte{'\n'}) }
	dec := json.NewDecoder(bytes.NewReader(src))
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("line %d: %w", lineAt(se.Offset), err)
		}
		return fmt.Errorf("line %d: %w", lineAt(dec.InputOffset()), err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("line %d: want a JSON array of conversations", lineAt(dec.InputOffset()))
	}
	var prompts []Prompt
	for n := 1; dec.More(); n++ {
		start := dec.InputOffset()
		for start < int64(len(src)) && strings.IndexByte(" \t\r\n,", src[start]) >= 0 {
			start++
		}
		var conv struct {
			Conversations []struct {
				From  string `json:"from"`
				Value string `json:"value"`
			} `json:"conversations"`
		}
		if err := dec.Decode(&conv); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, syntax(err)
			}
			return nil, fmt.Errorf("line %d: conversation %d: %w", lineAt(start), n, err)
		}
		turns := conv.Conversations
		for i := 0; i+1 < len(turns); i++ {
			if isHuman(turns[i].From) && isGPT(turns[i+1].From) {
				prompts = append(prompts, Prompt{
					Text:        turns[i].Value,
					InputTokens: CountWords(turns[i].Value),
					MaxTokens:   max(CountWords(turns[i+1].Value), 1),
				})
				break
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	return prompts, nil
}

func isHuman(from string) bool { return from == "human" || from == "user" }
func isGPT(from string) bool {
	return from == "gpt" || from == "chatgpt" || from == "assistant" || from == "bard"
}
