package run

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"golang.org/x/sys/unix"
)

// ParseSignal reads a signal by name ("TERM", "SIGTERM") or number.
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "SIG"))
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal: %s (hint: a name such as TERM or SIGKILL, or a number)", s)
}

// StopSettings is the signal and timeout with which to stop a container:
// sigName and timeout when given ("" and a negative timeout are not),
// else the container's and then the image's settings, else SIGTERM and 10
// seconds.
func StopSettings(st *storage.Store, ctr *storage.Container, sigName string, timeout time.Duration) (syscall.Signal, time.Duration, error) {
	if sigName == "" {
		sigName = ctr.Config.StopSignal
	}
	if sigName == "" {
		if cfg, err := st.Config(ctr.ImageID); err == nil {
			sigName = cfg.Config.StopSignal
		}
	}
	sig := syscall.SIGTERM
	if sigName != "" {
		var err error
		if sig, err = ParseSignal(sigName); err != nil {
			return 0, 0, err
		}
	}
	if timeout >= 0 {
		return sig, timeout, nil
	}
	if ctr.Config.StopTimeout != nil {
		return sig, time.Duration(*ctr.Config.StopTimeout) * time.Second, nil
	}
	return sig, 10 * time.Second, nil
}
