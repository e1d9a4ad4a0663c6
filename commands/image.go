package commands

import (
	"errors"
	"fmt"

	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

// newImageCommand is the `image` group, with Docker's subcommand names.
func newImageCommand() *cli.Command {
	ls := newImagesCommand()
	ls.Name, ls.Aliases = "ls", []string{"list"}
	rm := newRmiCommand()
	rm.Name, rm.Aliases = "rm", []string{"remove"}
	inspect := newTypedInspectCommand("image")
	return &cli.Command{
		Name:  "image",
		Usage: "Manage images",
		Subcommands: []*cli.Command{
			ls, rm, newImportCommand(), newTagCommand(), newHistoryCommand(), inspect,
			newImagePruneCommand(), newImageExistsCommand(), newBuildCommand("build"), newSaveCommand(), newLoadCommand(),
			newPullCommand(), newPushCommand(),
		},
	}
}

func newImageExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "Exit 0 if an image is in the store, 1 if it is not",
		ArgsUsage: "IMAGE",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, 1); err != nil {
				return err
			}
			return withStore(c, func(_ *session, st *storage.Store) error {
				_, err := st.Lookup(c.Args().First())
				if errors.Is(err, storage.ErrImageUnknown) {
					return &exitCode{code: ExitError}
				}
				return err
			})
		},
	}
}

func newImagePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove unused images",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images, not just dangling ones"},
			forceFlag("do not prompt for confirmation"),
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. 'until=24h', 'label=k=v')"},
		},
		Action: runImagePrune,
	}
}

func runImagePrune(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	f, err := storage.ParsePruneFilter(c.StringSlice("filter"), "image prune")
	if err != nil {
		return err
	}
	all := c.Bool("all")
	if !c.Bool("force") {
		warning := "WARNING! This will remove all dangling images."
		if all {
			warning = "WARNING! This will remove all images without at least one container associated to them."
		}
		if ok, err := confirmInNamespace(c, warning); err != nil || !ok {
			return err
		}
	}
	return withStoreWrite(c, func(s *session, st *storage.Store) error {
		r, err := st.PruneImages(imagePruneOptions(st, f, all))
		if r != nil && (len(r.Untagged)+len(r.Deleted) > 0) {
			fmt.Fprintln(c.App.Writer, "Deleted Images:")
			printRemoval(c, r, "untagged: ", "deleted: ")
			fmt.Fprintln(c.App.Writer)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, "Total reclaimed space: "+humanSize(r.Reclaimed))
		return nil
	})
}
