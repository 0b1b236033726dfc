package ci

import (
	"fmt"

	"github.com/benchrun/benchrun/runner"
)

// driverFactory builds the driver of one case against a service URL.
type driverFactory func(s *Suite, c Case, url string) (runner.Driver, Dataset, error)

// drivers is the one registry of protocol drivers, by benchmark kind.
var drivers = map[string]driverFactory{
	"openai": newOpenAIDriver,
	"ollama": newOllamaDriver,
}

// NewDriver returns the driver for case c against the service at url and
// the sha256 of the dataset it sends (for the manifest).
func NewDriver(s *Suite, c Case, url string) (runner.Driver, string, error) {
	f, ok := drivers[c.Benchmark.Kind]
	if !ok {
		return nil, "", fmt.Errorf("benchmark %q: no driver for kind %q", c.Benchmark.Name, c.Benchmark.Kind)
	}
	d, ds, err := f(s, c, url)
	if err != nil {
		return nil, "", fmt.Errorf("case %s: %w", c.ID, err)
	}
	return d, ds.Hash(), nil
}

func llmDataset(s *Suite, c Case) (Dataset, error) {
	d := c.Dataset.(*LLMDataset)
	return NewDataset(DatasetOptions{
		Kind: d.Kind, Path: s.Path(d.Path),
		PromptTokens: d.PromptTokens, PromptDist: d.PromptDist, PromptMin: d.PromptMin, PromptMax: d.PromptMax, PromptStddev: d.PromptStddev,
		OutputTokens: d.OutputTokens, OutputDist: d.OutputDist, OutputMin: d.OutputMin, OutputMax: d.OutputMax, OutputStddev: d.OutputStddev,
		Seed: d.Seed,
	})
}

func newOpenAIDriver(s *Suite, c Case, url string) (runner.Driver, Dataset, error) {
	ds, err := llmDataset(s, c)
	if err != nil {
		return nil, nil, err
	}
	w := c.Workload.(*LLMWorkload)
	model := w.Model
	if sv := s.Service(c.Benchmark.Service); model == "" && sv != nil && sv.Kind == "vllm" {
		model = sv.Model
	}
	d, err := NewOpenAI(OpenAIOptions{
		BaseURL: url, API: w.API, Model: model, Stream: w.Stream, MaxTokens: w.MaxTokens,
		IgnoreEOS: w.IgnoreEOS, Temperature: w.Temperature, APIKeyEnv: w.APIKeyEnv,
		ContinuousUsage: w.ContinuousUsage, Timeout: w.Timeout.D(), Dataset: ds,
	})
	return d, ds, err
}

func newOllamaDriver(s *Suite, c Case, url string) (runner.Driver, Dataset, error) {
	ds, err := llmDataset(s, c)
	if err != nil {
		return nil, nil, err
	}
	w := c.Workload.(*LLMWorkload)
	d, err := NewOllama(OllamaOptions{
		BaseURL: url, API: w.API, Model: w.Model, NumPredict: w.MaxTokens, KeepAlive: w.KeepAlive,
		Temperature: w.Temperature, Timeout: w.Timeout.D(), Dataset: ds,
	})
	return d, ds, err
}
