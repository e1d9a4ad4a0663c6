package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newHistoryCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "Show the history of an image",
		ArgsUsage: "[OPTIONS] IMAGE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Value: true, Usage: "print sizes and dates in human readable format"},
			noTruncFlag(),
			quietFlag("only show image IDs"),
			formatFlag("format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"),
		},
		Action: runHistory,
	}
}

// historyRow is one line of `history`, with Docker's field names.
type historyRow struct {
	Comment      string
	CreatedAt    string
	CreatedBy    string
	CreatedSince string
	ID           string
	Size         string
}

var historyFormat = listFormat{
	Table: "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
	Headers: map[string]string{
		"Comment": "COMMENT", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
		"CreatedSince": "CREATED", "ID": "IMAGE", "Size": "SIZE",
	},
}

func runHistory(c *cli.Context) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		img, err := st.Lookup(c.Args().First())
		if err != nil {
			return err
		}
		hist, err := st.History(img)
		if err != nil {
			return err
		}
		human, noTrunc := c.Bool("human"), c.Bool("no-trunc")
		var rows []any
		for i, h := range hist {
			row := historyRow{ID: "<missing>", Comment: h.Comment}
			if i == 0 {
				row.ID = img.ID[:12]
				if noTrunc {
					row.ID = "sha256:" + img.ID
				}
			}
			createdBy := strings.ReplaceAll(h.CreatedBy, "\t", " ")
			if !noTrunc {
				createdBy = ellipsis(strings.ReplaceAll(createdBy, "\n", " "), 45)
			}
			row.CreatedBy = createdBy
			row.CreatedAt = h.Created.Format(time.RFC3339)
			if human {
				row.CreatedSince = humanSince(h.Created.Time)
				row.Size = humanSize(h.Size)
			} else {
				row.CreatedSince = row.CreatedAt
				row.Size = strconv.FormatInt(h.Size, 10)
			}
			rows = append(rows, row)
		}
		if c.Bool("quiet") {
			for _, r := range rows {
				fmt.Fprintln(c.App.Writer, r.(historyRow).ID)
			}
			return nil
		}
		return historyFormat.write(c.App.Writer, c.String("format"), rows)
	})
}
