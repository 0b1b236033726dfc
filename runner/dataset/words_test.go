package dataset

import "testing"

func TestCountWords(t *testing.T) {
	for s, want := range map[string]int{"": 0, "  ": 0, "a": 1, " the  of\tand\n": 3, "x y z": 3} {
		if got := CountWords(s); got != want {
			t.Errorf("CountWords(%q) = %d, want %d", s, got, want)
		}
	}
	if VocabularyWord(-1) != VocabularyWord(VocabularySize-1) {
		t.Error("VocabularyWord does not wrap negative indices")
	}
}
