package ci

import (
	"fmt"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/ollama"
	"github.com/benchrun/benchrun/runner/openai"
	"github.com/benchrun/benchrun/suites"
)

// driverFactory builds the driver of one case against a service URL, from
// the case's validated tables, and gives the dataset it sends.
type driverFactory func(s *suites.Suite, c suites.Case, url string) (runner.Driver, hashed, error)

// hashed is a dataset as the manifest records it: by the sha256 of its
// content (dataset.Dataset, vectors.Set).
type hashed interface{ Hash() string }

// drivers is the one registry of protocol drivers, by benchmark kind: the
// wiring between the suite format (package suites) and the drivers under
// runner/. A new kind adds its tables to suites and its factory here.
var drivers = map[string]driverFactory{
	"openai": newOpenAIDriver,
	"ollama": newOllamaDriver,
	"chroma": newChromaDriver,
}

// newDriver returns the driver for case c against the service at url and
// the sha256 of the dataset it sends (for the manifest).
func newDriver(s *suites.Suite, c suites.Case, url string) (runner.Driver, string, error) {
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

func llmDataset(s *suites.Suite, c suites.Case) (dataset.Dataset, error) {
	d := c.Dataset.(*suites.LLMDataset)
	return dataset.New(dataset.Options{
		Kind: d.Kind, Path: s.Path(d.Path),
		PromptTokens: d.PromptTokens, PromptDist: d.PromptDist, PromptMin: d.PromptMin, PromptMax: d.PromptMax, PromptStddev: d.PromptStddev,
		OutputTokens: d.OutputTokens, OutputDist: d.OutputDist, OutputMin: d.OutputMin, OutputMax: d.OutputMax, OutputStddev: d.OutputStddev,
		Seed: d.Seed,
	})
}

func newOpenAIDriver(s *suites.Suite, c suites.Case, url string) (runner.Driver, hashed, error) {
	ds, err := llmDataset(s, c)
	if err != nil {
		return nil, nil, err
	}
	w := c.Workload.(*suites.LLMWorkload)
	model := w.Model
	if sv := s.Service(c.Benchmark.Service); model == "" && sv != nil && sv.Kind == "vllm" {
		model = sv.Model
	}
	d, err := openai.New(openai.Options{
		BaseURL: url, API: w.API, Model: model, Stream: w.Stream, MaxTokens: w.MaxTokens,
		IgnoreEOS: w.IgnoreEOS, Temperature: w.Temperature, APIKeyEnv: w.APIKeyEnv,
		ContinuousUsage: w.ContinuousUsage, Timeout: w.Timeout.D(), Dataset: ds,
	})
	return d, ds, err
}

func newOllamaDriver(s *suites.Suite, c suites.Case, url string) (runner.Driver, hashed, error) {
	ds, err := llmDataset(s, c)
	if err != nil {
		return nil, nil, err
	}
	w := c.Workload.(*suites.LLMWorkload)
	keepAlive, err := suites.KeepAliveJSON(w.KeepAlive)
	if err != nil {
		return nil, nil, fmt.Errorf("ollama: %w", err)
	}
	d, err := ollama.New(ollama.Options{
		BaseURL: url, API: w.API, Model: w.Model, NumPredict: w.MaxTokens, KeepAlive: keepAlive,
		Temperature: w.Temperature, Timeout: w.Timeout.D(), Dataset: ds,
	})
	return d, ds, err
}
