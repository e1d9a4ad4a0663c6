package commands

import (
	"fmt"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "Remove one or more containers",
		ArgsUsage: "[OPTIONS] CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			forceFlag("force the removal of a running container (uses SIGKILL)"),
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove anonymous volumes associated with the container"},
			&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Usage: "seconds to wait for stop before killing (with -f)"},
		},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, -1); err != nil {
				return err
			}
			opts := run.RemoveOptions{Force: c.Bool("force"), Volumes: c.Bool("volumes")}
			return eachContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				return run.Remove(st, ctr, opts)
			})
		},
	}
}

func newContainerPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove all stopped containers",
		Flags: []cli.Flag{
			forceFlag("do not prompt for confirmation"),
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. 'until=24h', 'label=k=v')"},
		},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0, 0); err != nil {
				return err
			}
			f, err := storage.ParsePruneFilter(c.StringSlice("filter"), "container prune")
			if err != nil {
				return err
			}
			if !c.Bool("force") {
				if ok, err := confirmInNamespace(c, "WARNING! This will remove all stopped containers."); err != nil || !ok {
					return err
				}
			}
			return withStore(c, func(_ *session, st *storage.Store) error {
				deleted, freed, err := pruneContainers(st, f)
				printDeleted(c.App.Writer, "Deleted Containers:", deleted)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, "Total reclaimed space: "+humanSize(freed))
				return nil
			})
		},
	}
}
