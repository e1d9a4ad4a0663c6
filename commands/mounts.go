package commands

import (
	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

// mountsFromFlags reads -v, --mount and --tmpfs as Docker does. Bind
// sources must exist; volumes are named, or anonymous (a new volume for
// this container alone).
func mountsFromFlags(c *cli.Context) ([]storage.Mount, error) {
	var out []storage.Mount
	for _, v := range c.StringSlice("volume") {
		m, err := run.ParseVolume(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range c.StringSlice("mount") {
		m, err := run.ParseMount(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range c.StringSlice("tmpfs") {
		out = append(out, run.ParseTmpfs(v))
	}
	return out, run.CheckMounts(out)
}
