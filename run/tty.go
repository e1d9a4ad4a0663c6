package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// consoleSocket is the socket pair over which libcontainer sends the
// master end of the pseudo-terminal it creates inside the container.
type consoleSocket struct {
	parent, child *os.File
}

func newConsoleSocket() (*consoleSocket, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("creating the console socket: %w", err)
	}
	return &consoleSocket{parent: os.NewFile(uintptr(fds[0]), "console-parent"), child: os.NewFile(uintptr(fds[1]), "console-child")}, nil
}

func (c *consoleSocket) Close() {
	c.parent.Close()
	c.child.Close()
}

// receiveMaster waits for the pseudo-terminal's master on a console socket.
func receiveMaster(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
	if err != nil {
		return nil, fmt.Errorf("receiving the container's terminal: %w", err)
	}
	fds, err := receivedFDs(oob[:oobn])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("receiving the container's terminal: no descriptor came")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// isTerminal reports whether f is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// TerminalSize is the size of the caller's terminal on f, or 0x0.
func TerminalSize(f *os.File) (width, height uint16) {
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		return 0, 0
	}
	ws, err := c.Size()
	if err != nil {
		return 0, 0
	}
	return ws.Width, ws.Height
}

// ProxyTerminal connects the caller's terminal to a container's: output
// of master goes to out; with stdin, the caller's input goes to master,
// its terminal in raw mode (restored on return) so that keys such as
// Ctrl-C reach the container; the container's window follows the
// caller's (SIGWINCH). It returns when the container's side closes.
func ProxyTerminal(ctx context.Context, master *os.File, stdin *os.File, out io.Writer) error {
	if stdin != nil {
		if cur, err := console.ConsoleFromFile(stdin); err == nil {
			if err := cur.SetRaw(); err == nil {
				defer cur.Reset()
			}
			resize := func() {
				if ws, err := cur.Size(); err == nil {
					if m, err := console.ConsoleFromFile(master); err == nil {
						_ = m.Resize(ws)
					}
				}
			}
			resize()
			winch := make(chan os.Signal, 1)
			signal.Notify(winch, syscall.SIGWINCH)
			defer signal.Stop(winch)
			go func() {
				for {
					select {
					case <-winch:
						resize()
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		go func() { _, _ = io.Copy(master, stdin) }()
	}
	_, err := io.Copy(out, master)
	if errors.Is(err, syscall.EIO) {
		err = nil // the container's side closed
	}
	return err
}
