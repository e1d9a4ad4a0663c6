package commands

import (
	"errors"
	"fmt"

	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newRmiCommand() *cli.Command {
	return &cli.Command{
		Name:      "rmi",
		Usage:     "Remove one or more images",
		ArgsUsage: "[OPTIONS] IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			forceFlag("force removal of the image"),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all images"},
		},
		Action: runRmi,
	}
}

// runRmi removes each image in turn, reporting each as Docker does; a
// failure for one image does not stop the others, and makes the exit
// status 1.
func runRmi(c *cli.Context) error {
	all := c.Bool("all")
	if !all {
		if err := checkArgs(c, 1, -1); err != nil {
			return err
		}
	}
	return withStoreWrite(c, func(s *session, st *storage.Store) error {
		refs := c.Args().Slice()
		if all {
			imgs, err := st.Images()
			if err != nil {
				return err
			}
			refs = refs[:0]
			for _, img := range imgs {
				refs = append(refs, img.ID)
			}
		}
		var failed error
		for _, ref := range refs {
			r, err := st.RemoveImage(ref, c.Bool("force"))
			if err != nil {
				if all && errors.Is(err, storage.ErrImageUnknown) {
					continue // gone with an image removed before it
				}
				fmt.Fprintln(c.App.ErrWriter, "Error: "+err.Error())
				failed = &exitCode{code: ExitError}
				continue
			}
			printRemoval(c, r, "Untagged: ", "Deleted: ")
		}
		return failed
	})
}

func printRemoval(c *cli.Context, r *storage.Removal, untagged, deleted string) {
	for _, n := range r.Untagged {
		fmt.Fprintln(c.App.Writer, untagged+n)
	}
	for _, id := range r.Deleted {
		fmt.Fprintln(c.App.Writer, deleted+id)
	}
}
