package run

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/burrow-oci/burrow/storage"
)

// descendants lists the processes below pid (children, theirs, and so
// on), read from /proc: a container's processes are the descendants of
// the process that runs it (its init, and what exec started).
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command may hold spaces and parentheses: the fields after
		// the last ')' are state, ppid, ...
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

// Top runs ps with args (default -ef) and returns its header and the lines
// of the container's processes, as docker top shows them. ErrNotRunning:
// the container does not run.
func Top(st *storage.Store, ctr *storage.Container, args []string) ([]string, error) {
	state, err := State(st, ctr)
	if err != nil {
		return nil, err
	}
	if state.Status != storage.StatusRunning {
		return nil, ErrNotRunning
	}
	pids := map[string]bool{}
	for _, p := range descendants(state.MonitorPid) {
		pids[strconv.Itoa(p)] = true
	}
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("running ps %s: %v", strings.Join(args, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, errors.New("couldn't find PID field in ps output (hint: keep the pid column in the ps options)")
	}
	shown := []string{lines[0]}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > col && pids[f[col]] && !strings.Contains(l, "burrow") {
			shown = append(shown, l)
		}
	}
	return shown, nil
}
