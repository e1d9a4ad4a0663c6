package commands

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/burrow-oci/burrow/storage/transport/registry"
	"github.com/urfave/cli/v2"
)

func newSearchCommand() *cli.Command {
	return &cli.Command{
		Name:      "search",
		Usage:     "Search registries for images",
		ArgsUsage: "TERM",
		Description: "Docker Hub's search for docker.io; elsewhere (a term such as 127.0.0.1:5000/app,\n" +
			"or docker.io relocated in config.toml) the registry's catalog, filtered by the term.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "limit", Value: 25, Usage: "max number of search results"},
			filterFlag(),
			formatFlag("pretty-print search using a Go template"),
			noTruncFlag(),
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates"},
		},
		Action: runSearch,
	}
}

func runSearch(c *cli.Context) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	filter, err := registry.ParseSearchFilters(c.StringSlice("filter"))
	if err != nil {
		return toolError(err)
	}
	var tmpl *template.Template
	if f := c.String("format"); f != "" {
		t, err := template.New("search").Parse(strings.TrimPrefix(f, "table "))
		if err != nil {
			return toolError(fmt.Errorf("template parsing error: %w", err))
		}
		tmpl = t
	}
	s, err := newSession(c)
	if err != nil {
		return err
	}
	res, err := registry.Search(c.Context, c.Args().First(), registry.SearchOptions{Options: registryOptions(s.cfg, c), Limit: c.Int("limit"), Filter: filter})
	if err != nil {
		return err
	}
	w := c.App.Writer
	if tmpl != nil {
		for _, r := range res {
			row := map[string]any{"Name": r.Name, "Description": r.Description, "StarCount": r.Stars, "Stars": r.Stars, "IsOfficial": r.Official, "Official": okMark(r.Official)}
			if err := tmpl.Execute(w, row); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION\tSTARS\tOFFICIAL")
	for _, r := range res {
		d := strings.ReplaceAll(r.Description, "\n", " ")
		if !c.Bool("no-trunc") && len(d) > 45 {
			d = d[:42] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Name, d, r.Stars, okMark(r.Official))
	}
	return tw.Flush()
}

func okMark(b bool) string {
	if b {
		return "[OK]"
	}
	return ""
}
