package results

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSampleFile: samples written concurrently to a samples file all come
// back; the file is synced in the background while samples arrive; Close
// can be called twice.
func TestSampleFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	w, err := CreateSampleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Write(&Sample{Seq: int64(i), Sent: time.Duration(i), Error: ErrTimeout}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// The background sync takes the pending writes within an interval.
	deadline := time.Now().Add(5 * SampleSyncInterval)
	for w.dirty.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if w.dirty.Load() {
		t.Error("samples written more than five sync intervals ago are still not synced")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[int64]bool{}
	if err := ReadSamples(f, func(s *Sample) error {
		if s.Error != ErrTimeout || s.Sent != time.Duration(s.Seq) {
			t.Errorf("sample %d read back as %+v", s.Seq, s)
		}
		seen[s.Seq] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 8 {
		t.Errorf("%d samples read back, want 8", len(seen))
	}
}

// TestWriteFileAtomic: the new content replaces the old whole, and a
// failing writer leaves the old file and no temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.json")
	write := func(s string) error {
		return WriteFileAtomic(path, func(w io.Writer) error {
			if s == "" {
				return errors.New("no content")
			}
			_, err := io.WriteString(w, s)
			return err
		})
	}
	if err := write("one"); err != nil {
		t.Fatal(err)
	}
	if err := write(""); err == nil {
		t.Error("a failing writer's error was lost")
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Errorf("after a failed write the file holds %q, want the old content", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only m.json", len(entries))
	}
}
