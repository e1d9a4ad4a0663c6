package commands

import (
	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/urfave/cli/v2"
)

func newTagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 2, 2); err != nil {
				return err
			}
			if _, err := reference.Normalize(c.Args().Get(1)); err != nil {
				return err
			}
			return withStoreWrite(c, func(_ *session, st *storage.Store) error {
				img, err := st.Lookup(c.Args().Get(0))
				if err != nil {
					return err
				}
				return st.Tag(img, c.Args().Get(1))
			})
		},
	}
}
