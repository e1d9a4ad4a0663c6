package run

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// healthLoop runs a container's health check every interval, as Docker
// does: failures during the start period do not count, Retries failures in
// a row make it unhealthy, a success makes it healthy. report is called
// with the new health after every check.
func healthLoop(ctx context.Context, ctr func() (*libcontainer.Container, error), spec *specs.Spec, hc *storage.HealthCheck, report func(storage.Health)) {
	h := storage.Health{Status: "starting"}
	report(h)
	started := time.Now()
	interval := hc.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	// During the start period, while still starting, checks run every
	// StartInterval when one is set (Docker 25's --start-interval).
	next := func() time.Duration {
		if hc.StartInterval > 0 && h.Status == "starting" && time.Since(started) < hc.StartPeriod {
			return hc.StartInterval
		}
		return interval
	}
	t := time.NewTimer(next())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res := runCheck(ctr, spec, hc)
		if len(h.Log) == 5 {
			h.Log = h.Log[1:]
		}
		h.Log = append(h.Log, res)
		if res.ExitCode == 0 {
			h.Status, h.FailingStreak = "healthy", 0
		} else if time.Since(started) >= hc.StartPeriod {
			h.FailingStreak++
			if h.FailingStreak >= max(hc.Retries, 1) {
				h.Status = "unhealthy"
			}
		}
		report(h)
		t.Reset(next())
	}
}

// runCheck runs the check command once in the container, stopping it after
// the timeout.
func runCheck(getCtr func() (*libcontainer.Container, error), spec *specs.Spec, hc *storage.HealthCheck) storage.HealthResult {
	res := storage.HealthResult{Start: time.Now().UTC()}
	var args []string
	switch {
	case len(hc.Test) > 1 && hc.Test[0] == "CMD-SHELL":
		args = []string{"/bin/sh", "-c", hc.Test[1]}
	case len(hc.Test) > 1 && hc.Test[0] == "CMD":
		args = hc.Test[1:]
	default:
		args = hc.Test
	}
	sp := *spec.Process
	sp.Args, sp.Terminal = args, false
	proc := newProcess(&sp)
	var out limitedBuffer
	proc.Stdout, proc.Stderr = &out, &out
	ctr, err := getCtr()
	if err == nil {
		err = ctr.Run(proc)
	}
	if err != nil {
		res.ExitCode, res.Output, res.End = 1, err.Error(), time.Now().UTC()
		return res
	}
	timeout := hc.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	timer := time.AfterFunc(timeout, func() { _ = proc.Signal(sigKill) })
	code, err := exitCode(proc.Wait())
	timedOut := !timer.Stop()
	res.End, res.ExitCode, res.Output = time.Now().UTC(), code, out.String()
	if err != nil {
		res.ExitCode = 1
	}
	if timedOut {
		res.ExitCode = -1
		res.Output = "Health check exceeded timeout (" + timeout.String() + ")"
	}
	return res
}

// limitedBuffer keeps the first 4 KiB written to it, as Docker keeps the
// start of a check's output.
type limitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4096 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
