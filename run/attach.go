package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/console"

	"github.com/burrow-oci/burrow/storage"
)

// defaultDetachKeys is Docker's escape sequence: Ctrl-P Ctrl-Q.
var defaultDetachKeys = []byte{0x10, 0x11}

// ParseDetachKeys reads Docker's --detach-keys: comma-separated keys,
// each a character or "ctrl-<char>".
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return defaultDetachKeys, nil
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

// AttachOptions are the caller's side of an attachment.
type AttachOptions struct {
	// Stdin, Stdout and Stderr are the caller's streams; Stdin is nil
	// with --no-stdin.
	Stdin, Stdout, Stderr *os.File
	// DetachKeys ends the attachment when typed ("" for ctrl-p,ctrl-q).
	DetachKeys string
	// SigProxy passes on the signals this process receives.
	SigProxy bool
}

// Attach joins a running container's streams until it exits, and returns
// its exit code. A container with a terminal or open input is joined
// through its monitor (ErrDetached when the detach keys end it); any
// other shows its new output from the log. ErrNotRunning: it does not run.
func Attach(ctx context.Context, st *storage.Store, ctr *storage.Container, opts AttachOptions) (int, error) {
	state, err := State(st, ctr)
	if err != nil {
		return 0, err
	}
	if state.Status != storage.StatusRunning {
		return 0, ErrNotRunning
	}
	if opts.SigProxy && !ctr.Config.Tty {
		sigs := make(chan os.Signal, 4)
		defer notifyForwarded(sigs)()
		go func() {
			for s := range sigs {
				_ = forward(st, ctr, s.(syscall.Signal))
			}
		}()
	}
	if ctr.Config.Tty || ctr.Config.OpenStdin {
		return attachStreams(st, ctr, opts)
	}
	return followOutput(ctx, st, ctr, opts.Stdout, opts.Stderr)
}

// attachStreams joins a detached container's input and output through
// its monitor, which reads and writes this process's own streams.
func attachStreams(st *storage.Store, ctr *storage.Container, opts AttachOptions) (int, error) {
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return 0, err
	}
	stdin := opts.Stdin
	if stdin == nil {
		if stdin, err = os.Open(os.DevNull); err != nil {
			return 0, err
		}
		defer stdin.Close()
	}
	req := attachRequest{DetachKeys: opts.DetachKeys}
	if ctr.Config.Tty {
		req.Width, req.Height = TerminalSize(opts.Stdout)
		if opts.Stdin != nil {
			if cur, err := console.ConsoleFromFile(stdin); err == nil {
				if err := cur.SetRaw(); err == nil {
					defer cur.Reset()
				}
			}
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				w, h := TerminalSize(opts.Stdout)
				_, _ = send(dir, request{Resize: &resizeRequest{Width: w, Height: h}}, Stdio{stdin, opts.Stdout, opts.Stderr}, nil, nil)
			}
		}()
	}
	code, err := send(dir, request{Attach: &req}, Stdio{stdin, opts.Stdout, opts.Stderr}, nil, nil)
	if errors.Is(err, ErrNotRunning) {
		// It ran a moment ago: its monitor is gone.
		return 0, fmt.Errorf("container %s is not running", ctr.ID)
	}
	return code, err
}

// followOutput shows a container's new output until it exits, for a
// container without input or terminal.
func followOutput(ctx context.Context, st *storage.Store, ctr *storage.Container, stdout, stderr io.Writer) (int, error) {
	path, err := LogPath(st, ctr)
	if err != nil {
		return 0, err
	}
	// From the end of what is logged now: attach shows only new output.
	var offset int64
	if fi, err := os.Stat(path); err == nil {
		offset = fi.Size()
	}
	print := func(e LogEntry) error {
		w := stdout
		if e.Stream == "stderr" {
			w = stderr
		}
		_, err := fmt.Fprint(w, e.Log)
		return err
	}
	for {
		if offset, err = readLog(path, offset, print); err != nil {
			return 0, err
		}
		s, err := State(st, ctr)
		if err != nil {
			return 0, err
		}
		if s.Status != storage.StatusRunning && !s.Restarting {
			_, _ = readLog(path, offset, print)
			return s.ExitCode, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}
