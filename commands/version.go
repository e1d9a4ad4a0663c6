package commands

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

func newVersionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "Show the burrow version information",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format the output using a Go template ('json' for JSON)"},
		},
		Action: runVersion,
	}
}

// versionDoc is what `version` reports.
type versionDoc struct {
	Version   string
	GitCommit string
	GoVersion string
	Os        string
	Arch      string
	Libraries map[string]string
}

// libraries are the modules whose versions `version` reports.
var libraries = []string{
	"go.podman.io/storage", "github.com/opencontainers/runc", "github.com/moby/buildkit",
	"github.com/google/go-containerregistry", "github.com/urfave/cli/v2", "github.com/BurntSushi/toml",
}

func runVersion(c *cli.Context) error {
	v, _ := c.App.Metadata["version"].(Version)
	d := versionDoc{Version: v.Version, GitCommit: v.Commit, GoVersion: runtime.Version(), Os: runtime.GOOS, Arch: runtime.GOARCH, Libraries: map[string]string{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			for _, l := range libraries {
				if dep.Path == l {
					d.Libraries[l] = dep.Version
				}
			}
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && d.GitCommit == "" {
				d.GitCommit = s.Value[:min(len(s.Value), 12)]
			}
		}
	}
	if d.GitCommit == "" {
		d.GitCommit = "unknown"
	}
	w := c.App.Writer
	if f := c.String("format"); f != "" {
		return writeDoc(w, f, d)
	}
	fmt.Fprintf(w, "Version:     %s\nGit commit:  %s\nGo version:  %s\nOS/Arch:     %s/%s\nLibraries:\n", d.Version, d.GitCommit, d.GoVersion, d.Os, d.Arch)
	for _, l := range libraries {
		if ver, ok := d.Libraries[l]; ok {
			fmt.Fprintf(w, " %-40s %s\n", l, ver)
		}
	}
	return nil
}
