package run

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The emulated identity calls follow the kernel's rules for a process
// with and without privilege (euid 0).
func TestIdentityRules(t *testing.T) {
	root := newCred(0, 0, nil)
	if _, e := setOne(root, true, 1000, true); e != 0 || root.ruid != 1000 || root.euid != 1000 || root.suid != 1000 || root.fsuid != 1000 {
		t.Fatalf("setuid(1000) as root: %+v errno %d", root, e)
	}
	if _, e := setOne(root, true, 0, false); e == 0 {
		t.Fatal("setuid(0) after dropping to 1000 succeeded")
	}
	// A temporary drop keeps the saved id, which allows going back.
	c := newCred(0, 0, nil)
	if _, e := setRES(c, true, [3]uint32{noID, 1000, noID}, true); e != 0 || c.euid != 1000 || c.suid != 0 {
		t.Fatalf("setresuid(-1, 1000, -1): %+v", c)
	}
	if _, e := setRES(c, true, [3]uint32{noID, 0, noID}, c.euid == 0); e != 0 || c.euid != 0 {
		t.Fatalf("back to euid 0: %+v errno %d", c, e)
	}
	if _, e := setRES(c, true, [3]uint32{noID, 5, noID}, false); e == 0 {
		t.Fatal("an unprivileged setresuid to an id it does not hold succeeded")
	}
	// setreuid with a real id sets the saved id to the new effective one.
	c = newCred(0, 0, nil)
	if _, e := setRE(c, true, 1000, 1001, true); e != 0 || c.ruid != 1000 || c.euid != 1001 || c.suid != 1001 {
		t.Fatalf("setreuid(1000, 1001): %+v", c)
	}
	if _, e := setRE(c, false, 50, noID, true); e != 0 || c.rgid != 50 || c.sgid != 0 {
		t.Fatalf("setregid(50, -1): %+v", c)
	}
	// setfsuid returns the previous id, and changes it only when allowed.
	c = newCred(1000, 1000, nil)
	if old := setFS(c, true, 0, false); old != 1000 || c.fsuid != 1000 {
		t.Fatalf("setfsuid(0) unprivileged: old %d now %d", old, c.fsuid)
	}
	if _, e := setOne(c, true, noID, true); e == 0 {
		t.Fatal("setuid(-1) succeeded")
	}
}

func TestIdentityAnnotation(t *testing.T) {
	s := &specs.Spec{Annotations: map[string]string{identityAnnotation: identityText(1000, 100, []uint32{5, 6})}}
	c := identityOf(s)
	if c.ruid != 1000 || c.egid != 100 || len(c.groups) != 2 || c.groups[1] != 6 {
		t.Fatalf("identityOf: %+v", c)
	}
	if c := identityOf(&specs.Spec{}); c.euid != 0 || len(c.groups) != 0 {
		t.Fatalf("identityOf without the annotation: %+v", c)
	}
}
