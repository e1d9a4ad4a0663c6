package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/burrow-oci/burrow"

// allowed says which project packages each layer may import (DESIGN.md,
// "Pieces and the way data flows"): commands -> build -> run -> storage,
// commands and build -> storage/transport -> storage, commands -> config.
// A package may always import its own subpackages and internal packages.
// storage's subpackages (reference: the image-name grammar; atomicfile)
// belong to its layer; storage/transport's (registry, archive) to
// transport's. internal/userns is process bootstrap (the user-namespace
// constructor): main and commands use it, and it imports no project
// package; nor does internal/cliflags (cheap flag lookups for commands'
// command line).
var allowed = map[string][]string{
	"commands":          {"build", "run", "storage", "storage/transport", "config", "internal/userns", "internal/cliflags"},
	"build":             {"run", "storage", "storage/transport"},
	"run":               {"storage"},
	"storage/transport": {"storage"},
	"storage":           {},
	"config":            {},
	"internal/userns":   {},
	"internal/cliflags": {},
}

// TestDependencyDirection fails when a package imports against the
// direction DESIGN.md sets, or when anything but main imports commands.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if pkg == "" || pkg == "tests" {
			continue
		}
		layer := layerOf(pkg)
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if layerOf(dep) == layer {
				continue
			}
			if !contains(allowed[layer], layerOf(dep)) {
				t.Errorf("%s imports %s: %s may import only %v", pkg, dep, layer, allowed[layer])
			}
		}
	}
}

// layerOf maps a package to the layer it belongs to: storage/transport and
// its subpackages (registry, archive, and what they share) are one layer,
// each package under the module's internal/ is a layer of its own, other
// subpackages (storage/reference among them) belong to their top
// directory.
func layerOf(pkg string) string {
	if rest, ok := strings.CutPrefix(pkg, "internal/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return "internal/" + name
	}
	if pkg == "storage/transport" || strings.HasPrefix(pkg, "storage/transport/") {
		return "storage/transport"
	}
	top, _, _ := strings.Cut(pkg, "/")
	return top
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cliOnly are packages that commands must not import: the container
// runtime, the OCI runtime spec and archive handling belong to run, build
// and storage; commands turns flags into options, makes one library call
// and prints what Docker prints.
var cliOnly = []string{
	"github.com/opencontainers/runtime-spec/specs-go",
	"github.com/opencontainers/runc/libcontainer",
	"go.podman.io/storage/pkg/archive",
}

// TestCommandsIsCLIOnly fails when commands imports what its libraries
// should do for it.
func TestCommandsIsCLIOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", "./commands").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, imp := range strings.Split(string(out), "\n") {
		for _, banned := range cliOnly {
			if imp == banned || strings.HasPrefix(imp, banned+"/") {
				t.Errorf("commands imports %s: that work belongs to run, build or storage", imp)
			}
		}
	}
}
