package run

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/storage"
)

// Kill sends sig to a running container, as a user's kill: a container
// with a restart policy is not started again. It returns ErrNotRunning
// for a container that does not run.
func Kill(st *storage.Store, ctr *storage.Container, sig syscall.Signal) error {
	// The state first: a monitor that recorded the end of its container
	// may still hold the control FIFO open for a moment.
	if s, err := State(st, ctr); err != nil {
		return err
	} else if !Active(s) {
		return ErrNotRunning
	}
	return signalContainer(st, ctr, sig, true)
}

// forward sends sig to a running container on behalf of an attached
// client (attach --sig-proxy): the restart policy still applies.
func forward(st *storage.Store, ctr *storage.Container, sig syscall.Signal) error {
	return signalContainer(st, ctr, sig, false)
}

// Stop sends sig, waits up to timeout for the container to exit, then
// kills it. Stopping a stopped container is not an error.
func Stop(st *storage.Store, ctr *storage.Container, sig syscall.Signal, timeout time.Duration) error {
	if err := Kill(st, ctr, sig); err != nil {
		if errors.Is(err, ErrNotRunning) {
			return nil
		}
		return err
	}
	if waitExited(context.Background(), st, ctr, timeout) {
		return nil
	}
	if err := Kill(st, ctr, syscall.SIGKILL); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	waitExited(context.Background(), st, ctr, 10*time.Second)
	return nil
}

// Wait blocks until the container has exited (and its restart policy
// will not start it again), and returns its final state.
func Wait(ctx context.Context, st *storage.Store, ctr *storage.Container) (storage.ContainerState, error) {
	waitExited(ctx, st, ctr, -1)
	if err := ctx.Err(); err != nil {
		return storage.ContainerState{}, err
	}
	return State(st, ctr)
}

// waitExited polls the container's state until it has exited, the
// timeout passes (a negative timeout waits for ever) or ctx ends. It
// reports whether the container exited.
func waitExited(ctx context.Context, st *storage.Store, ctr *storage.Container, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		s, err := State(st, ctr)
		if err != nil || !Active(s) {
			return true
		}
		if timeout >= 0 && time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RemoveOptions say how Remove treats a running container and volumes.
type RemoveOptions struct {
	// Force kills a running container first.
	Force bool
	// Volumes removes the container's anonymous volumes too.
	Volumes bool
}

// Remove removes a stopped container, or a running one when forced (after
// killing it), with Docker's refusal otherwise.
func Remove(st *storage.Store, ctr *storage.Container, opts RemoveOptions) error {
	state, err := State(st, ctr)
	if err != nil {
		return err
	}
	if Active(state) {
		if !opts.Force {
			return fmt.Errorf("cannot remove container \"/%s\": container is running: stop the container before removing or force remove", ctr.Name)
		}
		if err := Stop(st, ctr, syscall.SIGKILL, 10*time.Second); err != nil {
			return err
		}
	}
	if err := st.DeleteContainer(ctr); err != nil {
		return err
	}
	if opts.Volumes {
		return st.RemoveAnonymousVolumes(ctr)
	}
	return nil
}

// KillAll kills the monitors and processes of the containers recorded as
// running in the store at root and runRoot, without opening it, so that
// a reset (storage.Reset) leaves nothing running.
func KillAll(root, runRoot string) {
	for _, s := range storage.RecordedStates(root, runRoot) {
		if s.Status != storage.StatusRunning || s.BootID != storage.BootID() {
			continue
		}
		for _, pid := range []int{s.MonitorPid, s.Pid} {
			if pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// Prune removes the containers that do not run and that keep does not
// spare, and returns their IDs and the bytes their writable layers held.
func Prune(st *storage.Store, keep func(*storage.Container) bool) ([]string, int64, error) {
	ctrs, err := st.Containers()
	if err != nil {
		return nil, 0, err
	}
	var deleted []string
	var freed int64
	for i := range ctrs {
		c := &ctrs[i]
		state, err := State(st, c)
		if err != nil {
			return deleted, freed, err
		}
		if state.Status == storage.StatusRunning || keep(c) {
			continue
		}
		rw, _ := st.ContainerRWSize(c)
		if err := st.DeleteContainer(c); err != nil {
			return deleted, freed, err
		}
		deleted = append(deleted, c.ID)
		freed += rw
	}
	return deleted, freed, nil
}
