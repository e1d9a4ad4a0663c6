package commands

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newLogsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "Fetch the logs of a container",
		ArgsUsage: "[OPTIONS] CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines to show from the end of the logs"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
			&cli.StringFlag{Name: "since", Usage: "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)"},
			&cli.StringFlag{Name: "until", Usage: "show logs before a timestamp or relative time"},
		},
		Action: runLogs,
	}
}

func runLogs(c *cli.Context) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	tail := -1
	if t := c.String("tail"); t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return toolError(fmt.Errorf("invalid value %q for --tail (hint: a number of lines, or all)", t))
		}
		tail = n
	}
	var since, until time.Time
	for _, p := range []struct {
		v string
		t *time.Time
	}{{c.String("since"), &since}, {c.String("until"), &until}} {
		if p.v == "" {
			continue
		}
		t, err := storage.ParseUntil(p.v, time.Now())
		if err != nil {
			return toolError(err)
		}
		*p.t = t
	}
	opts := run.LogsOptions{Tail: tail, Since: since, Until: until, Follow: c.Bool("follow")}
	return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
		return run.Logs(c.Context, st, ctr, opts, func(e run.LogEntry) error {
			w := c.App.Writer
			if e.Stream == "stderr" {
				w = c.App.ErrWriter
			}
			if c.Bool("timestamps") {
				fmt.Fprint(w, e.Time.Format(time.RFC3339Nano)+" ")
			}
			_, err := io.WriteString(w, e.Log)
			return err
		})
	})
}
