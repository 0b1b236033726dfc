package dataset

// benchrun's token convention: one token per whitespace-separated word
// (docs/metrics.md). Datasets measure prompts with it, the OpenAI driver
// counts output it has no usage for with it, and the emulators (package
// runner/emulate) count prompts and write outputs in it, so that counts
// against an emulator are exact.

// vocabulary is benchrun's fixed word list: synthetic prompts are built
// from it, and the emulators' outputs are words from it, one token per word.
var vocabulary = [...]string{
	"the", "of", "and", "to", "in", "is", "was", "that", "for", "on",
	"with", "as", "by", "at", "from", "his", "her", "an", "which", "are",
	"this", "be", "had", "it", "not", "but", "they", "one", "have", "all",
	"were", "also", "first", "two", "time", "new", "when", "after", "other", "who",
	"city", "year", "more", "most", "into", "over", "school", "only", "world", "three",
	"state", "would", "during", "some", "about", "while", "water", "music", "game", "early",
	"light", "river", "house", "field",
}

// VocabularySize is the number of words in the vocabulary.
const VocabularySize = len(vocabulary)

// VocabularyWord returns word i (modulo VocabularySize) of the
// vocabulary. Every word is lower-case ASCII letters, so it needs no JSON
// escaping.
func VocabularyWord(i int) string {
	i %= VocabularySize
	if i < 0 {
		i += VocabularySize
	}
	return vocabulary[i]
}

// CountWords returns the number of whitespace-separated words in s: the
// token count of benchrun's convention, one token per word.
func CountWords(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			in = false
		default:
			if !in {
				n++
			}
			in = true
		}
	}
	return n
}
