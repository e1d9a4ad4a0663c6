package commands

import (
	"errors"
	"strings"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newCpCommand() *cli.Command {
	return &cli.Command{
		Name:  "cp",
		Usage: "Copy files/folders between a container and the local filesystem",
		ArgsUsage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n" +
			"   burrow cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode (copy all uid/gid information)"},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow symbol link in SRC_PATH"},
			quietFlag("suppress progress output"),
		},
		Action: runCp,
	}
}

// splitCopyArg tells "CONTAINER:PATH" from a local path, as Docker does: a
// local path may hold ':' only after a '/' or when it starts with '.'.
func splitCopyArg(arg string) (ctr, path string) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	i := strings.Index(arg, ":")
	if i < 0 || strings.Contains(arg[:i], "/") {
		return "", arg
	}
	return arg[:i], arg[i+1:]
}

func runCp(c *cli.Context) error {
	if err := checkArgs(c, 2, 2); err != nil {
		return err
	}
	srcCtr, srcPath := splitCopyArg(c.Args().Get(0))
	dstCtr, dstPath := splitCopyArg(c.Args().Get(1))
	switch {
	case srcCtr != "" && dstCtr != "":
		return toolError(errors.New("copying between containers is not supported"))
	case srcCtr == "" && dstCtr == "":
		return toolError(errors.New("must specify at least one container source"))
	}
	opts := run.CopyOptions{Archive: c.Bool("archive"), FollowLink: c.Bool("follow-link")}
	return withStore(c, func(_ *session, st *storage.Store) error {
		if srcCtr != "" {
			return run.CopyOut(st, srcCtr, srcPath, dstPath, c.App.Writer, opts)
		}
		return run.CopyIn(st, srcPath, c.App.Reader, dstCtr, dstPath, opts)
	})
}
