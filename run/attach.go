package run

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/console"
)

// DefaultDetachKeys is Docker's escape sequence: Ctrl-P Ctrl-Q.
var DefaultDetachKeys = []byte{0x10, 0x11}

// ParseDetachKeys reads Docker's --detach-keys: comma-separated keys,
// each a character or "ctrl-<char>".
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return DefaultDetachKeys, nil
	}
	var out []byte
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case strings.HasPrefix(k, "ctrl-") && len(k) == 6:
			c := k[5]
			switch {
			case c >= 'a' && c <= 'z':
				out = append(out, c-'a'+1)
			case c == '@':
				out = append(out, 0)
			case c >= '[' && c <= '_':
				out = append(out, c-'['+27)
			default:
				return nil, fmt.Errorf("invalid detach key %q", k)
			}
		default:
			return nil, fmt.Errorf("invalid detach keys %q (hint: keys such as ctrl-p,ctrl-q or a,b)", s)
		}
	}
	return out, nil
}

// attachHub is what attach joins in a detached container's monitor: the
// container's output goes to the log and to every attached client; the
// clients' input goes to the container (its terminal, or a stdin pipe).
type attachHub struct {
	mu      sync.Mutex
	clients map[*attachClient]bool
	input   io.Writer // nil when the container has no input
	master  *os.File  // the terminal, for resizing
	done    chan struct{}
	code    int
	// replying counts attachments whose answer is not sent yet, so that
	// the monitor does not exit before it tells them the exit code.
	replying sync.WaitGroup
}

type attachClient struct {
	stdout, stderr io.Writer
}

func newAttachHub() *attachHub {
	return &attachHub{clients: map[*attachClient]bool{}, done: make(chan struct{})}
}

// writer returns the writer for one output stream: the log, then each
// client (one that fails is dropped).
func (h *attachHub) writer(log io.Writer, stderr bool) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		n, err := log.Write(p)
		h.mu.Lock()
		for c := range h.clients {
			w := c.stdout
			if stderr {
				w = c.stderr
			}
			if _, err := w.Write(p); err != nil {
				delete(h.clients, c)
			}
		}
		h.mu.Unlock()
		return n, err
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// finish records the container's exit, which ends every attachment, and
// waits (a little) until they have been told.
func (h *attachHub) finish(code int) {
	h.mu.Lock()
	select {
	case <-h.done:
	default:
		h.code = code
		close(h.done)
	}
	h.mu.Unlock()
	told := make(chan struct{})
	go func() { h.replying.Wait(); close(told) }()
	select {
	case <-told:
	case <-time.After(2 * time.Second):
	}
}

// attach serves one client until the container exits (returning its
// code) or the client types the detach keys (detached is true).
func (h *attachHub) attach(stdin io.Reader, stdout, stderr io.Writer, keys []byte, width, height uint16) (code int, detached bool) {
	c := &attachClient{stdout: stdout, stderr: stderr}
	h.mu.Lock()
	h.clients[c] = true
	input := h.input
	h.mu.Unlock()
	defer func() { h.mu.Lock(); delete(h.clients, c); h.mu.Unlock() }()
	h.resize(width, height)
	detach := make(chan struct{})
	if input != nil && stdin != nil {
		go func() {
			if copyUntilKeys(input, stdin, keys) {
				close(detach)
			}
		}()
	}
	select {
	case <-h.done:
		return h.code, false
	case <-detach:
		return 0, true
	}
}

// resize gives the container's terminal a new size (when it has one).
func (h *attachHub) resize(width, height uint16) {
	h.mu.Lock()
	master := h.master
	h.mu.Unlock()
	if master == nil || width == 0 {
		return
	}
	if m, err := console.ConsoleFromFile(master); err == nil {
		_ = m.Resize(console.WinSize{Width: width, Height: height})
	}
}

// copyUntilKeys copies src to dst until src ends or the key sequence is
// read (then it reports true; the keys themselves are not passed on).
func copyUntilKeys(dst io.Writer, src io.Reader, keys []byte) bool {
	buf := make([]byte, 4096)
	matched := 0
	for {
		n, err := src.Read(buf)
		var out bytes.Buffer
		for _, b := range buf[:n] {
			if len(keys) > 0 && b == keys[matched] {
				matched++
				if matched == len(keys) {
					dst.Write(out.Bytes())
					return true
				}
				continue
			}
			if matched > 0 {
				out.Write(keys[:matched])
				matched = 0
			}
			out.WriteByte(b)
		}
		if out.Len() > 0 {
			if _, werr := dst.Write(out.Bytes()); werr != nil {
				return false
			}
		}
		if err != nil {
			return false
		}
	}
}
