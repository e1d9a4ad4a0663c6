package userns

import (
	"os"
	"strings"
	"testing"
)

func TestHostUID(t *testing.T) {
	t.Setenv(envInside, "")
	if got, want := HostUID(), os.Getuid(); got != want {
		t.Errorf("HostUID outside a namespace = %d, want the process's uid %d", got, want)
	}
	t.Setenv(envInside, "full 1234 1235 alice|0 1234 1 1 100000 65536|0 1235 1 1 100000 65536")
	want := os.Getuid()
	if want == 0 {
		want = 1234 // root inside the namespace: the recorded caller
	}
	if got := HostUID(); got != want {
		t.Errorf("HostUID with %s set = %d, want %d", envInside, got, want)
	}
}

func TestGlobalArgs(t *testing.T) {
	for _, c := range []struct{ args, want []string }{
		{[]string{"run", "--network", "container:web", "busybox"}, nil},
		{[]string{"--root", "/s", "--debug", "container", "run", "x"}, []string{"--root", "/s", "--debug"}},
		{[]string{"--runroot=/r", "-l", "debug", "run"}, []string{"--runroot=/r", "-l", "debug"}},
		{[]string{"--root"}, []string{"--root"}},
	} {
		got := globalArgs(c.args)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("globalArgs(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}
