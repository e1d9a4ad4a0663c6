package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/burrow-oci/burrow/storage"
)

// newBuilderCommand is the `builder` group: the build cache.
func newBuilderCommand() *cli.Command {
	return &cli.Command{
		Name:        "builder",
		Usage:       "Manage builds",
		Subcommands: []*cli.Command{newBuilderPruneCommand()},
	}
}

func newBuilderPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove build cache",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused build cache, not just dangling ones"},
			forceFlag("do not prompt for confirmation"),
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. 'until=24h')"},
			&cli.StringFlag{Name: "keep-storage", Usage: "amount of disk space to keep for cache (e.g. 10GB)"},
		},
		Action: runBuilderPrune,
	}
}

func runBuilderPrune(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	opts := storage.CachePruneOptions{All: c.Bool("all")}
	for _, kv := range c.StringSlice("filter") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return toolError(fmt.Errorf("bad format of filter (expected name=value): %q", kv))
		}
		switch k {
		case "until":
			t, err := storage.ParseUntil(v, time.Now())
			if err != nil {
				return toolError(err)
			}
			opts.Until = t
		default:
			return toolError(fmt.Errorf("invalid filter '%s' (hint: builder prune filters on until)", k))
		}
	}
	if v := c.String("keep-storage"); v != "" {
		n, err := units.RAMInBytes(v)
		if err != nil || n < 0 {
			return toolError(fmt.Errorf("invalid --keep-storage %q (hint: a size such as 512MB or 10GB)", v))
		}
		opts.KeepStorage = n
	}
	if !c.Bool("force") {
		warning := "WARNING! This will remove all dangling build cache."
		if opts.All {
			warning = "WARNING! This will remove all build cache."
		}
		if ok, err := confirmInNamespace(c, warning); err != nil || !ok {
			return err
		}
	}
	// Not withStoreWrite: the prune waits for running builds first, and
	// builds take the store's write lock after theirs.
	return withStore(c, func(s *session, st *storage.Store) error {
		r, err := st.PruneBuildCache(opts)
		if r != nil && len(r.Deleted) > 0 {
			fmt.Fprintln(c.App.Writer, "Deleted build cache objects:")
			for _, id := range r.Deleted {
				fmt.Fprintln(c.App.Writer, id[:25])
			}
			fmt.Fprintln(c.App.Writer)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, "Total:\t"+humanSize(r.Reclaimed))
		return nil
	})
}
