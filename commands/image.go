package commands

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

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
	f, err := parsePruneFilter(c.StringSlice("filter"), "image prune")
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

// parseUntil reads Docker's until= value: a duration before now ("24h",
// "10m"), a Unix timestamp with an optional fraction ("1700000000.5"; "0"
// is the epoch, not a duration), or an RFC 3339 date or time.
func parseUntil(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && v != "0" {
		return now.Add(-d), nil
	}
	if unixStamp().MatchString(v) {
		secs, frac, _ := strings.Cut(v, ".")
		sec, err := strconv.ParseInt(secs, 10, 64)
		if err == nil {
			var nsec int64
			if frac != "" {
				frac = (frac + "000000000")[:9]
				nsec, _ = strconv.ParseInt(frac, 10, 64)
			}
			return time.Unix(sec, nsec), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid until filter %q (hint: use a duration such as 24h, a Unix timestamp, or a date such as 2026-01-31)", v)
}

var unixStamp = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?$`) })
