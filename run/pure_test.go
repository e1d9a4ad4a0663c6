package run

import (
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestSpecIsPure fails when the spec translation's files import a package
// that does I/O or starts processes: they must stay testable without
// starting anything.
func TestSpecIsPure(t *testing.T) {
	banned := map[string]bool{
		"os": true, "os/exec": true, "io": true, "io/ioutil": true, "net": true, "syscall": true,
		"github.com/opencontainers/runc/libcontainer": true,
		"github.com/burrow-oci/burrow/storage":        true,
	}
	for _, file := range []string{"spec.go", "seccomp.go", "ulimit.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if banned[path] {
				t.Errorf("%s imports %s: the spec translation does no I/O (move that code to another file)", file, path)
			}
		}
	}
}
