package commands

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/build/dockerfile"
	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
	"go.podman.io/storage/pkg/archive"
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
		cfg := commitConfig(img, ctr, c.String("author"), c.String("message"))
		hc := cfg.Config.Healthcheck
		if err := dockerfile.ApplyChanges(&cfg.Config, c.StringSlice("change")); err != nil {
			return err
		}
		// The image's start interval stays unless a change replaced its
		// healthcheck (--change does not carry --start-interval).
		extra := imageExtra(st, ctr.ImageID)
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

// commitConfig is the new image's config: the image's, with what the
// container was run with (command, environment, working directory, user,
// labels) and a history entry for the new layer, as Docker records it.
func commitConfig(img *v1.ConfigFile, ctr *storage.Container, author, message string) *v1.ConfigFile {
	cfg := *img
	cfg.Config = img.Config
	cc := ctr.Config
	if cc.Cmd != nil {
		cfg.Config.Cmd = cc.Cmd
	}
	if cc.Entrypoint != nil {
		cfg.Config.Entrypoint = cc.Entrypoint
	}
	if len(cc.Env) > 0 {
		cfg.Config.Env = run.Env(&img.Config, run.Options{Env: cc.Env}, "", "")
		// HOSTNAME and HOME are the container's, not the image's.
		var env []string
		for _, kv := range cfg.Config.Env {
			if !strings.HasPrefix(kv, "HOSTNAME=") && !(strings.HasPrefix(kv, "HOME=") && !hasEnv(img.Config.Env, "HOME") && !hasEnv(cc.Env, "HOME")) {
				env = append(env, kv)
			}
		}
		cfg.Config.Env = env
	}
	if cc.WorkingDir != "" {
		cfg.Config.WorkingDir = cc.WorkingDir
	}
	if cc.User != "" {
		cfg.Config.User = cc.User
	}
	for k, v := range cc.Labels {
		if cfg.Config.Labels == nil {
			cfg.Config.Labels = map[string]string{}
		}
		cfg.Config.Labels[k] = v
	}
	now := time.Now().UTC()
	cfg.Created = v1.Time{Time: now}
	cfg.Container = ctr.ID
	if author != "" {
		cfg.Author = author
	}
	args := run.Args(&img.Config, run.Options{Cmd: cc.Cmd, Entrypoint: cc.Entrypoint})
	cfg.History = append(append([]v1.History(nil), img.History...), v1.History{
		Created: v1.Time{Time: now}, CreatedBy: strings.Join(args, " "), Author: author, Comment: message,
	})
	cfg.RootFS.DiffIDs = append([]v1.Hash(nil), img.RootFS.DiffIDs...)
	return &cfg
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
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
				root, err := st.MountContainer(ctr)
				if err != nil {
					return err
				}
				defer st.UnmountContainer(ctr)
				tar, err := archive.Tar(root, archive.Uncompressed)
				if err != nil {
					return fmt.Errorf("exporting container %s: %w", ctr.Name, err)
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
