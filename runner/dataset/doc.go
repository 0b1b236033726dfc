// Package dataset hands out the prompts the LLM drivers (runner/openai,
// runner/ollama) send: synthetic prompts with fixed, uniform or normal
// lengths, or prompts read from JSONL and ShareGPT files. A Dataset gives
// the same prompt for the same operation number, and its Hash goes into
// the manifest, so two runs can tell whether they sent the same prompts.
//
// It also holds benchrun's token convention, one token per
// whitespace-separated word (CountWords), and the fixed vocabulary that
// synthetic prompts and the emulators' outputs (runner/emulate) are made
// of.
//
// Data flow: package ci builds a Dataset from a case's [benchmark.dataset]
// table (validated by package suites) and hands it to the case's driver.
package dataset
