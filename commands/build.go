package commands

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/urfave/cli/v2"

	"github.com/burrow-oci/burrow/build"
	"github.com/burrow-oci/burrow/storage"
)

func newBuildCommand(name string, aliases ...string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Aliases:   aliases,
		Usage:     "Build an image from a Dockerfile",
		ArgsUsage: "[OPTIONS] PATH | -",
		Description: "PATH is the build context: a directory, or a tar archive (plain or compressed).\n" +
			"With -, standard input holds the Dockerfile (no context) or a context archive.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "name and optionally a tag in the \"name:tag\" format"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "name of the Dockerfile (default: \"PATH/Dockerfile\"; - for stdin)"},
			&cli.StringSliceFlag{Name: "build-arg", Usage: "set build-time variables (KEY=VALUE, or KEY to take it from the environment)"},
			&cli.StringFlag{Name: "target", Usage: "set the target build stage to build"},
			&cli.BoolFlag{Name: "no-cache", Usage: "do not use cache when building the image"},
			&cli.BoolFlag{Name: "pull", Usage: "always attempt to pull a newer version of the image"},
			quietFlag("suppress the build output and print image ID on success"),
			&cli.StringFlag{Name: "iidfile", Usage: "write the image ID to the file"},
			&cli.StringSliceFlag{Name: "label", Usage: "set metadata for an image"},
			&cli.StringFlag{Name: "network", Usage: "set the networking mode for the RUN instructions during build (host, none)", Value: "default"},
			&cli.StringSliceFlag{Name: "secret", Usage: "secret to expose to the build (id=mysecret,src=/local/secret)"},
			&cli.StringFlag{Name: "platform", Usage: "set target platform for build (the host's only)"},
			&cli.StringFlag{Name: "progress", Usage: "set type of progress output (auto, plain, quiet)", Value: "auto"},
			&cli.StringSliceFlag{Name: "cache-from", Usage: "images to consider as cache sources (the local cache is always used)"},
			&cli.StringSliceFlag{Name: "cache-to", Usage: "cache export destinations (accepted; the cache stays local)"},
			&cli.BoolFlag{Name: "rm", Value: true, Usage: "remove intermediate containers after a successful build (always)"},
			&cli.BoolFlag{Name: "force-rm", Usage: "always remove intermediate containers (always)"},
		},
		Action: runBuild,
	}
}

func runBuild(c *cli.Context) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	opts, cleanup, err := buildOptions(c)
	defer cleanup()
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet") || c.String("progress") == "quiet"
	if !quiet {
		opts.Out = c.App.Writer
	}
	return withStore(c, func(s *session, st *storage.Store) error {
		opts.Log = s.log
		pullOut := c.App.ErrWriter
		if !quiet {
			pullOut = c.App.Writer
		}
		opts.Pull, opts.PullAlways = pullForBuild(s, st, pullOut, c.Bool("pull")), c.Bool("pull")
		img, err := build.Build(c.Context, st, opts)
		if err != nil {
			return &exitCode{code: 1, err: err}
		}
		if f := c.String("iidfile"); f != "" {
			if err := os.WriteFile(f, []byte("sha256:"+img.ID), 0o644); err != nil {
				return fmt.Errorf("writing the image ID file: %w", err)
			}
		}
		if quiet {
			fmt.Fprintln(c.App.Writer, "sha256:"+img.ID)
			return nil
		}
		fmt.Fprintf(c.App.Writer, "Successfully built %s\n", img.ID[:12])
		for _, t := range c.StringSlice("tag") {
			full, _ := reference.Normalize(t)
			fmt.Fprintf(c.App.Writer, "Successfully tagged %s\n", full)
		}
		return nil
	})
}

// buildOptions reads the flags, the context and the Dockerfile.
func buildOptions(c *cli.Context) (build.Options, func(), error) {
	cleanup := func() {}
	opts := build.Options{
		Tags: c.StringSlice("tag"), Target: c.String("target"), NoCache: c.Bool("no-cache"),
		Platform: c.String("platform"), BuildArgs: map[string]string{}, Labels: map[string]string{},
		Secrets: map[string]string{},
	}
	for _, t := range opts.Tags {
		if _, err := reference.Normalize(t); err != nil {
			return opts, cleanup, toolError(fmt.Errorf("invalid argument %q for \"-t, --tag\" flag: %w", t, err))
		}
	}
	switch n := c.String("network"); n {
	case "default", "", "host":
		opts.Network = "host"
	case "none":
		opts.Network = "none"
	default:
		return opts, cleanup, toolError(fmt.Errorf("network mode %q is not supported for builds (hint: use host or none)", n))
	}
	switch p := c.String("progress"); p {
	case "auto", "plain", "tty", "quiet", "rawjson":
	default:
		return opts, cleanup, toolError(fmt.Errorf("invalid --progress %q (hint: use auto, plain or quiet)", p))
	}
	for _, a := range c.StringSlice("build-arg") {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			// KEY alone takes the value from the environment, if set.
			env, set := os.LookupEnv(k)
			if !set {
				continue
			}
			v = env
		}
		opts.BuildArgs[k] = v
	}
	for _, l := range c.StringSlice("label") {
		k, v, _ := strings.Cut(l, "=")
		opts.Labels[k] = v
	}
	for _, sec := range c.StringSlice("secret") {
		id, src, err := build.ParseSecret(sec)
		if err != nil {
			return opts, cleanup, toolError(err)
		}
		opts.Secrets[id] = src
	}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if v, ok := opts.BuildArgs["SOURCE_DATE_EPOCH"]; ok {
		epoch = v
	}
	if epoch != "" {
		sec, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return opts, cleanup, toolError(fmt.Errorf("invalid SOURCE_DATE_EPOCH %q (hint: give seconds since 1970)", epoch))
		}
		t := time.Unix(sec, 0).UTC()
		opts.Epoch = &t
	}
	bc, err := build.OpenContext(c.Args().First(), c.String("file"), c.App.Reader)
	cleanup = bc.Close
	if err != nil {
		// A context or Dockerfile that cannot be read fails the build (1),
		// as in Docker, not burrow (125).
		return opts, cleanup, &exitCode{code: 1, err: err}
	}
	opts.ContextDir = bc.Dir
	opts.Dockerfile, opts.DockerfileName, opts.DockerfilePath = bc.Dockerfile, bc.DockerfileName, bc.DockerfilePath
	return opts, cleanup, nil
}

// newBuildxCommand accepts `buildx build` (and `buildx b`), as scripts
// written for Docker's buildx type it.
func newBuildxCommand() *cli.Command {
	return &cli.Command{
		Name:        "buildx",
		Usage:       "Build with buildx's command names (an alias of build)",
		Subcommands: []*cli.Command{newBuildCommand("build", "b"), newBuilderPruneCommand()},
	}
}
