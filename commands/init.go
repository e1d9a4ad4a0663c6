package commands

import (
	"github.com/burrow-oci/burrow/run"
	"github.com/urfave/cli/v2"
)

// newInitCommand is the hidden entry point of --init inside a container.
func newInitCommand() *cli.Command {
	return &cli.Command{
		Name:            "__init",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
			return &exitCode{code: run.InitMain(args)}
		},
	}
}
