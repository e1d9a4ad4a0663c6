package run

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLogFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	lf, err := openLogFile(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, errw := lf.Stream("stdout"), lf.Stream("stderr")
	out.Write([]byte("one\ntw"))
	errw.Write([]byte("oops\n"))
	out.Write([]byte("o\nthree"))
	lf.Close()

	var got []string
	offset, err := readLog(path, 0, func(e LogEntry) error {
		if e.Time.IsZero() {
			t.Errorf("entry without time: %+v", e)
		}
		got = append(got, e.Stream+":"+e.Log)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "stdout:one\n|stderr:oops\n|stdout:two\n|stdout:three"
	if strings.Join(got, "|") != want {
		t.Errorf("entries %q, want %q (Close records the unfinished last line)", strings.Join(got, "|"), want)
	}
	// Reading again from the returned offset finds nothing new.
	n := 0
	if _, err := readLog(path, offset, func(LogEntry) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("re-read from offset: %d entries, %v", n, err)
	}
	// A missing log is empty, not an error.
	if _, err := readLog(filepath.Join(t.TempDir(), "none"), 0, func(LogEntry) error { return nil }); err != nil {
		t.Errorf("missing log: %v", err)
	}
}

func TestLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	lf, err := openLogFile(path, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	w := lf.Stream("stdout")
	for i := 0; i < 20; i++ {
		w.Write([]byte(strings.Repeat("x", 20) + "\n"))
	}
	lf.Close()
	files := logFiles(path)
	if len(files) != 3 || files[0] != path+".2" || files[2] != path {
		t.Fatalf("files %v, want path.2, path.1, path", files)
	}
	n := 0
	for _, f := range files {
		readLog(f, 0, func(LogEntry) error { n++; return nil })
	}
	if n == 0 || n >= 20 {
		t.Errorf("%d entries kept over 3 files of 200 bytes: rotation kept everything or nothing", n)
	}
}
