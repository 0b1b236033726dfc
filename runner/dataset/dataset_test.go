package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSyntheticDataset(t *testing.T) {
	o := Options{PromptTokens: 50, PromptDist: DistNormal, PromptStddev: 10, PromptMin: 30, PromptMax: 70,
		OutputTokens: 20, OutputDist: DistUniform, OutputMin: 10, OutputMax: 30, Seed: 3}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(o)
	if a.Hash() != b.Hash() || a.Len() != 0 {
		t.Errorf("hash %s vs %s, len %d", a.Hash(), b.Hash(), a.Len())
	}
	lengths := map[int]bool{}
	for seq := range int64(200) {
		p := a.Prompt(seq)
		if q := b.Prompt(seq); q.Text != p.Text || q.MaxTokens != p.MaxTokens {
			t.Fatalf("seq %d differs between equal datasets", seq)
		}
		if CountWords(p.Text) != p.InputTokens || p.InputTokens < 30 || p.InputTokens > 70 {
			t.Errorf("seq %d: %d words, InputTokens %d", seq, CountWords(p.Text), p.InputTokens)
		}
		if p.MaxTokens < 10 || p.MaxTokens > 30 {
			t.Errorf("seq %d: output %d", seq, p.MaxTokens)
		}
		lengths[p.InputTokens] = true
	}
	if len(lengths) < 10 {
		t.Errorf("only %d distinct prompt lengths", len(lengths))
	}
	if a.Prompt(1).Text == a.Prompt(2).Text {
		t.Error("prompts repeat across seqs")
	}
	o.Seed = 4
	c, _ := New(o)
	if c.Hash() == a.Hash() || c.Prompt(1).Text == a.Prompt(1).Text {
		t.Error("seed does not change the dataset")
	}
	fixed, err := New(Options{PromptTokens: 7})
	if err != nil {
		t.Fatal(err)
	}
	if p := fixed.Prompt(0); p.InputTokens != 7 || p.MaxTokens != 0 {
		t.Errorf("fixed: %+v", p)
	}
}

func TestDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	for name, tc := range map[string]struct {
		o    Options
		want string
	}{
		"fixed zero":      {Options{}, "prompt_tokens"},
		"uniform order":   {Options{PromptDist: DistUniform, PromptMin: 5, PromptMax: 2}, "prompt_min"},
		"dist":            {Options{PromptTokens: 1, PromptDist: "zipf"}, "zipf"},
		"kind":            {Options{Kind: "csv"}, "csv"},
		"missing file":    {Options{Kind: JSONL, Path: filepath.Join(dir, "nope.jsonl")}, "nope.jsonl"},
		"jsonl syntax":    {Options{Kind: JSONL, Path: write("a.jsonl", "{\"prompt\":\"a\"}\n\n{bad\n")}, "a.jsonl: line 3"},
		"jsonl empty":     {Options{Kind: JSONL, Path: write("b.jsonl", "{\"output_tokens\":3}\n")}, "b.jsonl: line 1: no prompt"},
		"sharegpt":        {Options{Kind: ShareGPT, Path: write("c.json", "[\n{\"conversations\":[]},\n{\"conversations\": 5}\n]")}, "c.json: line 3"},
		"sharegpt syntax": {Options{Kind: ShareGPT, Path: write("e.json", "[\n{\"conversations\":[]},\n{\"conversations\": [}\n]")}, "e.json: line 3"},
		"sharegpt none":   {Options{Kind: ShareGPT, Path: write("d.json", "[]")}, "no prompts"},
	} {
		_, err := New(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestFileDatasets(t *testing.T) {
	jsonl, err := New(Options{Kind: JSONL, Path: "testdata/prompts.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if jsonl.Len() != 3 {
		t.Fatalf("len %d", jsonl.Len())
	}
	p0, p1 := jsonl.Prompt(0), jsonl.Prompt(1)
	if p0.Text != "tell me a story about a river" || p0.InputTokens != 7 || p0.MaxTokens != 64 {
		t.Errorf("prompt 0 %+v", p0)
	}
	if len(p1.Messages) != 2 || p1.InputTokens != 6 || p1.MaxTokens != 0 {
		t.Errorf("prompt 1 %+v", p1)
	}
	if jsonl.Prompt(3).Text != p0.Text || jsonl.Prompt(-1).Text != jsonl.Prompt(2).Text {
		t.Error("file dataset does not cycle")
	}
	sg, err := New(Options{Kind: ShareGPT, Path: "testdata/sharegpt.json"})
	if err != nil {
		t.Fatal(err)
	}
	if sg.Len() != 2 {
		t.Fatalf("sharegpt len %d (conversations without a human/gpt pair must be skipped)", sg.Len())
	}
	if p := sg.Prompt(0); p.Text != "what is the capital of france" || p.MaxTokens != 6 || p.InputTokens != 6 {
		t.Errorf("sharegpt 0 %+v", p)
	}
	over, _ := New(Options{Kind: ShareGPT, Path: "testdata/sharegpt.json", OutputTokens: 9})
	if over.Prompt(0).MaxTokens != 9 || over.Hash() == sg.Hash() {
		t.Error("output_tokens does not override file lengths")
	}
}

// TestPromptForRequests: a chat request gets the prompt's messages, or its
// text as one user message; a completion request gets its text, or its
// messages joined by newlines.
func TestPromptForRequests(t *testing.T) {
	msgs := []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi there"}}
	for _, tc := range []struct {
		name     string
		p        Prompt
		wantChat []Message
		wantText string
	}{
		{"text", Prompt{Text: "one two"}, []Message{{Role: "user", Content: "one two"}}, "one two"},
		{"messages", Prompt{Messages: msgs}, msgs, "be brief\nhi there"},
		{"empty", Prompt{}, []Message{{Role: "user", Content: ""}}, ""},
	} {
		chat := tc.p.ChatMessages()
		if len(chat) != len(tc.wantChat) {
			t.Errorf("%s: chat %v, want %v", tc.name, chat, tc.wantChat)
		}
		for i := range min(len(chat), len(tc.wantChat)) {
			if chat[i] != tc.wantChat[i] {
				t.Errorf("%s: chat %v, want %v", tc.name, chat, tc.wantChat)
			}
		}
		if got := tc.p.CompletionText(); got != tc.wantText {
			t.Errorf("%s: text %q, want %q", tc.name, got, tc.wantText)
		}
	}
}
