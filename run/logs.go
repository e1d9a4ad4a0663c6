package run

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/burrow-oci/burrow/storage"
)

// LogEntry is one record of Docker's json-file log driver.
type LogEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// LogFile writes a container's output in Docker's json-file format: one
// JSON object per line of output, each stamped with the time it arrived.
// It is safe for the stdout and stderr writers to share one.
type LogFile struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	size    int64
	maxSize int64 // 0: no limit
	maxFile int   // files kept, the current one included
	streams []*logStream
}

// openLogFile opens (appending to) a json-file log. With maxSize > 0 the
// log rotates, as Docker's max-size and max-file do: path.1 is the newest
// full file, and maxFile files are kept in all.
func openLogFile(path string, maxSize int64, maxFile int) (*LogFile, error) {
	l := &LogFile{path: path, maxSize: maxSize, maxFile: max(maxFile, 1)}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// write appends one entry, rotating first when it would pass maxSize.
func (l *LogFile) write(e LogEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if l.maxSize > 0 && l.size > 0 && l.size+int64(len(data)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(data)
	l.size += int64(n)
	return err
}

func (l *LogFile) rotate() error {
	l.f.Close()
	if l.maxFile == 1 {
		if err := os.Truncate(l.path, 0); err != nil {
			return err
		}
		return l.open()
	}
	for i := l.maxFile - 1; i > 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", l.path, i-1), fmt.Sprintf("%s.%d", l.path, i))
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return err
	}
	return l.open()
}

// logFiles lists a log's files oldest first: rotated ones, then path.
func logFiles(path string) []string {
	var out []string
	for i := 1; ; i++ {
		p := fmt.Sprintf("%s.%d", path, i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		out = append([]string{p}, out...)
	}
	return append(out, path)
}

// Stream returns a writer for one stream ("stdout" or "stderr").
func (l *LogFile) Stream(name string) io.Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &logStream{l: l, name: name}
	l.streams = append(l.streams, s)
	return s
}

// Close records what is left of unfinished lines, then closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.streams {
		if len(s.partial) > 0 {
			_ = l.write(LogEntry{Log: string(s.partial), Stream: s.name, Time: time.Now().UTC()})
			s.partial = nil
		}
	}
	return l.f.Close()
}

type logStream struct {
	l       *LogFile
	name    string
	partial []byte
}

// Write records each complete line as one entry; a partial line waits for
// its end (or is flushed when it grows past 16 KiB, as Docker splits).
func (s *logStream) Write(p []byte) (int, error) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	now := time.Now().UTC()
	data := append(s.partial, p...)
	for {
		i := indexByte(data, '\n')
		if i < 0 {
			break
		}
		if err := s.l.write(LogEntry{Log: string(data[:i+1]), Stream: s.name, Time: now}); err != nil {
			return 0, err
		}
		data = data[i+1:]
	}
	if len(data) > 16*1024 {
		if err := s.l.write(LogEntry{Log: string(data), Stream: s.name, Time: now}); err != nil {
			return 0, err
		}
		data = nil
	}
	s.partial = append(s.partial[:0], data...)
	return len(p), nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// readLog calls fn for every entry of a json-file log from offset on and
// returns the offset after the last complete line it read.
func readLog(path string, offset int64, fn func(LogEntry) error) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return offset, nil
		}
		return offset, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset, err
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return offset, nil // an incomplete last line is read next time
		}
		offset += int64(len(line))
		var e LogEntry
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		if err := fn(e); err != nil {
			return offset, err
		}
	}
}

// LogsOptions choose the entries Logs shows.
type LogsOptions struct {
	// Tail, when not negative, shows only the last Tail entries logged so
	// far.
	Tail int
	// Since and Until, when set, bound the entries' times.
	Since, Until time.Time
	// Follow goes on with new entries until the container stops or ctx
	// ends.
	Follow bool
}

// Logs passes a container's logged entries to fn, as docker logs shows
// them.
func Logs(ctx context.Context, st *storage.Store, ctr *storage.Container, opts LogsOptions, fn func(LogEntry) error) error {
	path, err := LogPath(st, ctr)
	if err != nil {
		return err
	}
	show := func(e LogEntry) error {
		if !opts.Since.IsZero() && e.Time.Before(opts.Since) || !opts.Until.IsZero() && e.Time.After(opts.Until) {
			return nil
		}
		return fn(e)
	}
	var entries []LogEntry
	var offset int64
	for _, f := range logFiles(path) {
		o, err := readLog(f, 0, func(e LogEntry) error {
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return err
		}
		offset = o // of the current file, the last one
	}
	if opts.Tail >= 0 && len(entries) > opts.Tail {
		entries = entries[len(entries)-opts.Tail:]
	}
	for _, e := range entries {
		if err := show(e); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	for {
		state, err := State(st, ctr)
		if err != nil {
			return err
		}
		if offset, err = readLog(path, offset, show); err != nil {
			return err
		}
		if state.Status != storage.StatusRunning {
			_, err = readLog(path, offset, show)
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}
