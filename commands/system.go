package commands

import (
	"fmt"

	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newSystemCommand() *cli.Command {
	return &cli.Command{
		Name:  "system",
		Usage: "Manage burrow",
		Subcommands: []*cli.Command{
			newSystemResetCommand(),
			newInfoCommand(),
		},
	}
}

func newSystemResetCommand() *cli.Command {
	return &cli.Command{
		Name:  "reset",
		Usage: "Remove all images, containers and build cache, and the store itself",
		Flags: []cli.Flag{forceFlag("do not prompt for confirmation")},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0, 0); err != nil {
				return err
			}
			s, err := newSession(c)
			if err != nil {
				return err
			}
			if !c.Bool("force") {
				ok, err := confirmInNamespace(c, fmt.Sprintf(
					"WARNING! This will remove:\n        - all containers\n        - all images\n        - all build cache\n        - the store at %s", s.cfg.Storage.Root))
				if err != nil || !ok {
					return err
				}
			}
			// Inside the namespace, files owned by subordinate ids can be
			// removed. The store is not opened: reset must work on a store
			// too damaged to open.
			if err := s.enterUserNS(); err != nil {
				return err
			}
			return storage.Reset(s.cfg.Storage.Root, s.cfg.Storage.RunRoot)
		},
	}
}
