package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/runner/dataset"
)

func TestSyntheticDataset(t *testing.T) {
	o := DatasetOptions{PromptTokens: 50, PromptDist: DistNormal, PromptStddev: 10, PromptMin: 30, PromptMax: 70,
		OutputTokens: 20, OutputDist: DistUniform, OutputMin: 10, OutputMax: 30, Seed: 3}
	a, err := NewDataset(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewDataset(o)
	if a.Hash() != b.Hash() || a.Len() != 0 {
		t.Errorf("hash %s vs %s, len %d", a.Hash(), b.Hash(), a.Len())
	}
	lengths := map[int]bool{}
	for seq := range int64(200) {
		p := a.Prompt(seq)
		if q := b.Prompt(seq); q.Text != p.Text || q.MaxTokens != p.MaxTokens {
			t.Fatalf("seq %d differs between equal datasets", seq)
		}
		if dataset.CountWords(p.Text) != p.InputTokens || p.InputTokens < 30 || p.InputTokens > 70 {
			t.Errorf("seq %d: %d words, InputTokens %d", seq, dataset.CountWords(p.Text), p.InputTokens)
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
	c, _ := NewDataset(o)
	if c.Hash() == a.Hash() || c.Prompt(1).Text == a.Prompt(1).Text {
		t.Error("seed does not change the dataset")
	}
	fixed, err := NewDataset(DatasetOptions{PromptTokens: 7})
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
		o    DatasetOptions
		want string
	}{
		"fixed zero":      {DatasetOptions{}, "prompt_tokens"},
		"uniform order":   {DatasetOptions{PromptDist: DistUniform, PromptMin: 5, PromptMax: 2}, "prompt_min"},
		"dist":            {DatasetOptions{PromptTokens: 1, PromptDist: "zipf"}, "zipf"},
		"kind":            {DatasetOptions{Kind: "csv"}, "csv"},
		"missing file":    {DatasetOptions{Kind: DatasetJSONL, Path: filepath.Join(dir, "nope.jsonl")}, "nope.jsonl"},
		"jsonl syntax":    {DatasetOptions{Kind: DatasetJSONL, Path: write("a.jsonl", "{\"prompt\":\"a\"}\n\n{bad\n")}, "a.jsonl: line 3"},
		"jsonl empty":     {DatasetOptions{Kind: DatasetJSONL, Path: write("b.jsonl", "{\"output_tokens\":3}\n")}, "b.jsonl: line 1: no prompt"},
		"sharegpt":        {DatasetOptions{Kind: DatasetShareGPT, Path: write("c.json", "[\n{\"conversations\":[]},\n{\"conversations\": 5}\n]")}, "c.json: line 3"},
		"sharegpt syntax": {DatasetOptions{Kind: DatasetShareGPT, Path: write("e.json", "[\n{\"conversations\":[]},\n{\"conversations\": [}\n]")}, "e.json: line 3"},
		"sharegpt none":   {DatasetOptions{Kind: DatasetShareGPT, Path: write("d.json", "[]")}, "no prompts"},
	} {
		_, err := NewDataset(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestFileDatasets(t *testing.T) {
	jsonl, err := NewDataset(DatasetOptions{Kind: DatasetJSONL, Path: "testdata/prompts.jsonl"})
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
	sg, err := NewDataset(DatasetOptions{Kind: DatasetShareGPT, Path: "testdata/sharegpt.json"})
	if err != nil {
		t.Fatal(err)
	}
	if sg.Len() != 2 {
		t.Fatalf("sharegpt len %d (conversations without a human/gpt pair must be skipped)", sg.Len())
	}
	if p := sg.Prompt(0); p.Text != "what is the capital of france" || p.MaxTokens != 6 || p.InputTokens != 6 {
		t.Errorf("sharegpt 0 %+v", p)
	}
	over, _ := NewDataset(DatasetOptions{Kind: DatasetShareGPT, Path: "testdata/sharegpt.json", OutputTokens: 9})
	if over.Prompt(0).MaxTokens != 9 || over.Hash() == sg.Hash() {
		t.Error("output_tokens does not override file lengths")
	}
}
