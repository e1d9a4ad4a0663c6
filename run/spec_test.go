package run

import (
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestArgs(t *testing.T) {
	img := &v1.Config{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}}
	cases := []struct {
		name string
		img  *v1.Config
		opts Options
		want []string
	}{
		{"image", img, Options{}, []string{"/entry", "default"}},
		{"cmd replaces CMD", img, Options{Cmd: []string{"x", "y"}}, []string{"/entry", "x", "y"}},
		{"entrypoint drops CMD", img, Options{Entrypoint: []string{"/other"}}, []string{"/other"}},
		{"entrypoint and cmd", img, Options{Entrypoint: []string{"/other"}, Cmd: []string{"a"}}, []string{"/other", "a"}},
		{"empty entrypoint clears it", img, Options{Entrypoint: []string{}, Cmd: []string{"sh"}}, []string{"sh"}},
		{"cmd only image", &v1.Config{Cmd: []string{"/bin/sh"}}, Options{}, []string{"/bin/sh"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Args(c.img, c.opts); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Args = %q, want %q", got, c.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	img := &v1.Config{Env: []string{"PATH=/img/bin", "A=image", "B=image"}}
	got := Env(img, Options{Env: []string{"B=cli", "C=cli"}, Tty: true}, "box", "/home/u")
	want := []string{"PATH=/img/bin", "HOSTNAME=box", "A=image", "B=cli", "C=cli", "HOME=/home/u", "TERM=xterm"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env = %q\nwant  %q", got, want)
	}
	got = Env(&v1.Config{}, Options{}, "h", "")
	want = []string{"PATH=" + DefaultPath, "HOSTNAME=h", "HOME=/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env defaults = %q, want %q", got, want)
	}
}

func TestCapabilities(t *testing.T) {
	has := func(caps []string, c string) bool {
		for _, x := range caps {
			if x == c {
				return true
			}
		}
		return false
	}
	def := capabilities(Options{})
	if len(def) != len(defaultCaps) || !has(def, "CAP_CHOWN") || has(def, "CAP_SYS_ADMIN") {
		t.Errorf("default set %q", def)
	}
	got := capabilities(Options{CapAdd: []string{"net_admin", "CAP_SYS_PTRACE"}, CapDrop: []string{"chown"}})
	if !has(got, "CAP_NET_ADMIN") || !has(got, "CAP_SYS_PTRACE") || has(got, "CAP_CHOWN") {
		t.Errorf("add/drop %q", got)
	}
	if got := capabilities(Options{CapDrop: []string{"ALL"}, CapAdd: []string{"KILL"}}); !reflect.DeepEqual(got, []string{"CAP_KILL"}) {
		t.Errorf("drop ALL, add KILL: %q", got)
	}
	if got := capabilities(Options{Privileged: true}); len(got) != len(boundedCaps()) {
		t.Errorf("privileged has %d caps, want %d", len(got), len(boundedCaps()))
	}
	for _, c := range []struct {
		name string
		ok   bool
	}{{"NET_ADMIN", true}, {"cap_chown", true}, {"ALL", true}, {"CAP_FLY", false}, {"", false}} {
		if validCapability(c.name) != c.ok {
			t.Errorf("ValidCapability(%q) != %v", c.name, c.ok)
		}
	}
}

func TestSpec(t *testing.T) {
	img := &v1.Config{Cmd: []string{"/bin/sh"}, WorkingDir: "/srv", User: "ignored-here"}
	u := User{UID: 1000, GID: 50, AdditionalGIDs: []uint32{7}, Home: "/home/u"}
	files := Files{Hosts: "/h/hosts", Hostname: "/h/hostname", ResolvConf: "/h/resolv.conf"}

	s, err := Spec("/rootfs", img, Options{Hostname: "box", Network: NetworkNone}, u, files)
	if err != nil {
		t.Fatal(err)
	}
	if s.Root.Path != "/rootfs" || s.Hostname != "box" || s.Process.Cwd != "/srv" || s.Process.User.UID != 1000 || s.Process.User.GID != 50 {
		t.Errorf("spec basics: root %q host %q cwd %q user %+v", s.Root.Path, s.Hostname, s.Process.Cwd, s.Process.User)
	}
	nsTypes := func(s *specs.Spec) string {
		var out []string
		for _, n := range s.Linux.Namespaces {
			out = append(out, string(n.Type))
		}
		return strings.Join(out, ",")
	}
	if got := nsTypes(s); got != "mount,pid,ipc,uts,network" {
		t.Errorf("namespaces for --network none: %s", got)
	}
	mountOf := func(s *specs.Spec, dst string) *specs.Mount {
		for i := range s.Mounts {
			if s.Mounts[i].Destination == dst {
				return &s.Mounts[i]
			}
		}
		return nil
	}
	if m := mountOf(s, "/sys"); m == nil || m.Type != "sysfs" {
		t.Errorf("/sys with a network namespace: %+v", m)
	}
	if m := mountOf(s, "/etc/resolv.conf"); m == nil || m.Source != "/h/resolv.conf" {
		t.Errorf("/etc/resolv.conf: %+v", m)
	}
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActAllow || len(s.Linux.MaskedPaths) == 0 {
		t.Errorf("default seccomp %v masked %d", s.Linux.Seccomp, len(s.Linux.MaskedPaths))
	}

	host, _ := Spec("/rootfs", img, Options{Network: NetworkHost, Privileged: true}, u, files)
	if got := nsTypes(host); got != "mount,pid,ipc,uts" {
		t.Errorf("namespaces for --network host: %s", got)
	}
	if m := mountOf(host, "/sys"); m == nil || m.Type != "bind" {
		t.Errorf("/sys without a network namespace must be bound: %+v", m)
	}
	if len(host.Linux.MaskedPaths) != 0 {
		t.Errorf("privileged masks %v", host.Linux.MaskedPaths)
	}

	single, _ := Spec("/rootfs", img, Options{SingleID: true}, u, files)
	if single.Process.User.UID != 0 || single.Process.User.GID != 0 || single.Process.User.AdditionalGids != nil {
		t.Errorf("single-id mode must start as 0:0, got %+v", single.Process.User)
	}
	if sc := single.Linux.Seccomp; sc == nil || sc.DefaultAction != specs.ActAllow || len(sc.Syscalls) < 2 ||
		sc.Syscalls[0].Action != specs.ActErrno || sc.Syscalls[0].ErrnoRet == nil || *sc.Syscalls[0].ErrnoRet != 0 {
		t.Errorf("single-id seccomp (faking rules first, then the default ones): %+v", single.Linux.Seccomp)
	}
	if got := single.Annotations[identityAnnotation]; got != "1000:50:7" {
		t.Errorf("single-id mode records the user to emulate as %q, want 1000:50:7", got)
	}
	if notifySupported() && !notifies(single.Linux.Seccomp) {
		t.Errorf("single-id seccomp sends no identity call to the supervisor")
	}
	if host.Linux.Seccomp != nil {
		t.Errorf("--privileged has a seccomp filter")
	}
	unconfined, _ := Spec("/rootfs", img, Options{Seccomp: "unconfined"}, u, files)
	if unconfined.Linux.Seccomp != nil {
		t.Errorf("seccomp=unconfined has a filter")
	}
	admin, _ := Spec("/rootfs", img, Options{CapAdd: []string{"SYS_ADMIN"}}, u, files)
	for _, sc := range admin.Linux.Seccomp.Syscalls {
		for _, n := range sc.Names {
			if n == "mount" || n == "unshare" || n == "clone" {
				t.Errorf("--cap-add SYS_ADMIN still refuses %s", n)
			}
		}
	}

	if _, err := Spec("/rootfs", &v1.Config{}, Options{}, u, files); err == nil || !strings.Contains(err.Error(), "no command specified") {
		t.Errorf("no command: %v", err)
	}
}
