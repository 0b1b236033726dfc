// Package dataset holds benchrun's token convention: one token per
// whitespace-separated word (CountWords) and the fixed vocabulary that
// synthetic prompts and the emulators' outputs are made of.
package dataset
