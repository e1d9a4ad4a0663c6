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
// internal/userns is process bootstrap (the user-namespace constructor):
// main and commands use it, and it imports no project package.
var allowed = map[string][]string{
	"commands":          {"build", "run", "storage", "storage/transport", "config", "internal/userns"},
	"build":             {"run", "storage", "storage/transport"},
	"run":               {"storage"},
	"storage/transport": {"storage"},
	"storage":           {},
	"config":            {},
	"internal/userns":   {},
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
