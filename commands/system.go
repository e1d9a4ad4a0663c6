package commands

import (
	"fmt"
	"strings"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newSystemCommand() *cli.Command {
	return &cli.Command{
		Name:  "system",
		Usage: "Manage burrow",
		Subcommands: []*cli.Command{
			newSystemResetCommand(),
			newSystemPruneCommand(),
			newSystemDfCommand(),
			newInfoCommand(),
		},
	}
}

func newSystemResetCommand() *cli.Command {
	return &cli.Command{
		Name:  "reset",
		Usage: "Remove all images, containers and build cache, and the store itself",
		Flags: []cli.Flag{forceFlag("do not prompt for confirmation")},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0, 0); err != nil {
				return err
			}
			s, err := newSession(c)
			if err != nil {
				return err
			}
			if !c.Bool("force") {
				ok, err := confirmInNamespace(c, fmt.Sprintf(
					"WARNING! This will remove:\n        - all containers\n        - all images\n        - all build cache\n        - the store at %s", s.cfg.Storage.Root))
				if err != nil || !ok {
					return err
				}
			}
			// Inside the namespace, files owned by subordinate ids can be
			// removed. The store is not opened: reset must work on a store
			// too damaged to open.
			if err := s.enterUserNS(); err != nil {
				return err
			}
			run.KillAll(s.cfg.Storage.Root, s.cfg.Storage.RunRoot)
			return storage.Reset(s.cfg.Storage.Root, s.cfg.Storage.RunRoot)
		},
	}
}

func newSystemPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove unused data",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images not just dangling ones, and all build cache"},
			forceFlag("do not prompt for confirmation"),
			&cli.BoolFlag{Name: "volumes", Usage: "prune anonymous volumes"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. 'label=<key>=<value>', 'until=24h')"},
		},
		Action: runSystemPrune,
	}
}

func runSystemPrune(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	f, err := storage.ParsePruneFilter(c.StringSlice("filter"), "system prune")
	if err != nil {
		return err
	}
	all, volumes := c.Bool("all"), c.Bool("volumes")
	if !c.Bool("force") {
		items := []string{"all stopped containers"}
		if volumes {
			items = append(items, "all anonymous volumes not used by at least one container")
		}
		if all {
			items = append(items, "all images without at least one container associated to them", "all build cache")
		} else {
			items = append(items, "all dangling images", "unused build cache")
		}
		warning := "WARNING! This will remove:\n  - " + strings.Join(items, "\n  - ") + "\n"
		if ok, err := confirmInNamespace(c, warning); err != nil || !ok {
			return err
		}
	}
	// The store's write lock is taken step by step: the build cache's
	// prune waits for running builds, which take the write lock after
	// their own.
	return withStore(c, func(_ *session, st *storage.Store) error {
		w := c.App.Writer
		var total int64
		ctrs, freed, err := pruneContainers(st, f)
		printDeleted(w, "Deleted Containers:", ctrs)
		total += freed
		if err != nil {
			return err
		}
		if volumes {
			r, err := st.PruneVolumes(storage.VolumePruneOptions{Keep: func(v *storage.Volume) bool { return f.Keeps(v.CreatedAt, v.Labels) }})
			if r != nil {
				printDeleted(w, "Deleted Volumes:", r.Deleted)
				total += r.Reclaimed
			}
			if err != nil {
				return err
			}
		}
		r, err := st.PruneImages(imagePruneOptions(st, f, all))
		if r != nil && len(r.Untagged)+len(r.Deleted) > 0 {
			fmt.Fprintln(w, "Deleted Images:")
			printRemoval(c, r, "untagged: ", "deleted: ")
			fmt.Fprintln(w)
		}
		if r != nil {
			total += r.Reclaimed
		}
		if err != nil {
			return err
		}
		cr, err := st.PruneBuildCache(storage.CachePruneOptions{All: all, Until: f.Until})
		if cr != nil {
			var ids []string
			for _, id := range cr.Deleted {
				ids = append(ids, id[:25])
			}
			printDeleted(w, "Deleted build cache objects:", ids)
			total += cr.Reclaimed
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "Total reclaimed space: "+humanSize(total))
		return nil
	})
}
