package run

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
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
	f       *os.File
	enc     *json.Encoder
	streams []*logStream
}

// OpenLogFile opens (appending to) a json-file log.
func OpenLogFile(path string) (*LogFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &LogFile{f: f, enc: json.NewEncoder(f)}, nil
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
			_ = l.enc.Encode(LogEntry{Log: string(s.partial), Stream: s.name, Time: time.Now().UTC()})
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
		if err := s.l.enc.Encode(LogEntry{Log: string(data[:i+1]), Stream: s.name, Time: now}); err != nil {
			return 0, err
		}
		data = data[i+1:]
	}
	if len(data) > 16*1024 {
		if err := s.l.enc.Encode(LogEntry{Log: string(data), Stream: s.name, Time: now}); err != nil {
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

// ReadLog calls fn for every entry of a json-file log from offset on and
// returns the offset after the last complete line it read.
func ReadLog(path string, offset int64, fn func(LogEntry) error) (int64, error) {
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
