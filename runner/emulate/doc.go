// Package emulate serves protocol-faithful imitations of vLLM's
// OpenAI-compatible API and Ollama's native API with a continuous-batching
// timing model (docs/emulators.md), and an NVIDIA DCGM exporter's GPU
// series (NewDCGM), so suites can be dry-run and benchrun tested without a
// GPU.
//
// Data flow: it sits beside the load path, not on it. `benchrun emulate`
// (package ci) serves an Emulator as a service of kind "emulator", and the
// drivers' tests (runner/openai, runner/ollama) serve one in-process. It
// counts prompts and writes outputs in benchrun's token convention
// (runner/dataset), and starts a request's clock at the kernel's receive
// stamp (runner.RequestArrival). It knows nothing of suites, drivers or
// results files.
package emulate
