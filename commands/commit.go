package commands

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/burrow-oci/burrow/build/dockerfile"
	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/urfave/cli/v2"
)

func newCommitCommand() *cli.Command {
	return &cli.Command{
		Name:      "commit",
		Usage:     "Create a new image from a container's changes",
		ArgsUsage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: `author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message"},
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "apply Dockerfile instruction to the created image"},
			&cli.BoolFlag{Name: "pause", Aliases: []string{"p"}, Value: true, Usage: "pause container during commit (not possible without cgroup delegation: ignored)"},
		},
		Action: runCommit,
	}
}

func runCommit(c *cli.Context) error {
	if err := checkArgs(c, 1, 2); err != nil {
		return err
	}
	var names []string
	if n := c.Args().Get(1); n != "" {
		if _, err := reference.Normalize(n); err != nil {
			return err
		}
		names = append(names, n)
	}
	return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
		img, err := st.Config(ctr.ImageID)
		if err != nil {
			return err
		}
		cfg := run.CommitConfig(img, ctr, c.String("author"), c.String("message"))
		hc := cfg.Config.Healthcheck
		if err := dockerfile.ApplyChanges(&cfg.Config, c.StringSlice("change")); err != nil {
			return err
		}
		// The image's start interval stays unless a change replaced its
		// healthcheck (--change does not carry --start-interval).
		extra := st.ConfigExtra(ctr.ImageID)
		if cfg.Config.Healthcheck != hc {
			extra = storage.ConfigExtra{}
		}
		out, err := st.CommitContainer(c.Context, ctr, cfg, extra, names)
		if err != nil {
			return fmt.Errorf("committing container %s: %w", ctr.Name, err)
		}
		fmt.Fprintln(c.App.Writer, "sha256:"+out.ID)
		return nil
	})
}

func newDiffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "Inspect changes to files or directories on a container's filesystem",
		ArgsUsage: "CONTAINER",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, 1); err != nil {
				return err
			}
			return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				changes, err := st.Changes(ctr)
				if err != nil {
					return err
				}
				for _, ch := range changes {
					fmt.Fprintf(c.App.Writer, "%c %s\n", ch.Kind, ch.Path)
				}
				return nil
			})
		},
	}
}

func newExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "Export a container's filesystem as a tar archive",
		ArgsUsage: "[OPTIONS] CONTAINER",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file, instead of STDOUT"}},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, 1); err != nil {
				return err
			}
			var out io.Writer = c.App.Writer
			if o := c.String("output"); o == "" && isTerminal(c.App.Writer) {
				return toolError(errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect"))
			}
			return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				tar, err := run.Export(st, ctr)
				if err != nil {
					return err
				}
				defer tar.Close()
				if o := c.String("output"); o != "" {
					f, err := os.Create(o)
					if err != nil {
						return err
					}
					if _, err := io.Copy(f, tar); err != nil {
						f.Close()
						os.Remove(o)
						return fmt.Errorf("exporting container %s: %w", ctr.Name, err)
					}
					return f.Close()
				}
				_, err = io.Copy(out, tar)
				return err
			})
		},
	}
}
