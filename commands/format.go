package commands

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"
)

// templateFuncs are the functions Docker's --format templates offer.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSpace(b.String()), nil
	},
	"split":    strings.Split,
	"join":     strings.Join,
	"title":    func(s string) string { return strings.ToUpper(s[:min(1, len(s))]) + s[min(1, len(s)):] },
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      func(s string, l, r int) string { return strings.Repeat(" ", l) + s + strings.Repeat(" ", r) },
	"truncate": func(s string, n int) string { return string([]rune(s)[:min(n, len([]rune(s)))]) },
	"println":  func(a ...any) string { return fmt.Sprintln(a...) },
}

// parseTemplate parses a --format template, with Docker's error wording.
func parseTemplate(format string) (*template.Template, error) {
	t, err := template.New("").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, toolError(fmt.Errorf("template parsing error: %v", err))
	}
	return t, nil
}

// listFormat describes how a listing command prints rows.
type listFormat struct {
	// Table is the default format, without the "table " prefix.
	Table string
	// Headers maps field names to column headers.
	Headers map[string]string
}

// write prints rows in the user's format: "" or "table" for the default
// table, "table TEMPLATE" for a table with headers, "json" for one JSON
// object per line, anything else as a template per row.
func (lf listFormat) write(w io.Writer, format string, rows []any) error {
	format = strings.TrimSpace(format)
	switch {
	case format == "json":
		for _, r := range rows {
			s, err := templateFuncs["json"].(func(any) (string, error))(r)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, s)
		}
		return nil
	case format == "" || format == "table":
		format = "table " + lf.Table
	}
	table := strings.HasPrefix(format, "table")
	body := format
	if table {
		body = strings.TrimSpace(strings.TrimPrefix(format, "table"))
	}
	body = unescapeFormat(body)
	t, err := parseTemplate(body)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	var out io.Writer = bw
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(bw, 10, 1, 3, ' ', 0)
		out = tw
		var hb bytes.Buffer
		if err := t.Execute(&hb, lf.Headers); err != nil {
			return toolError(fmt.Errorf("template: %v", err))
		}
		fmt.Fprintln(out, strings.TrimRight(hb.String(), "\n"))
	}
	for _, r := range rows {
		var b bytes.Buffer
		if err := t.Execute(&b, r); err != nil {
			return toolError(fmt.Errorf("template: %v", err))
		}
		fmt.Fprintln(out, strings.TrimRight(b.String(), "\n"))
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// unescapeFormat turns the two-character sequences \t and \n that users type
// in a shell into tabs and newlines, as Docker does.
func unescapeFormat(s string) string {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(s)
}

// humanSize is Docker's size format: three significant digits, decimal
// units ("4.26MB", "0B").
func humanSize(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

// humanSince is Docker's CREATED column: "2 minutes ago".
func humanSince(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return units.HumanDuration(time.Since(t)) + " ago"
}

// createdAt is Docker's CreatedAt field: local time, to the second.
func createdAt(t time.Time) string { return time.Unix(t.Unix(), 0).String() }

// ellipsis shortens s to n runes, ending with "…", as Docker's tables do.
func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeDoc prints one document with a --format value: "json" for indented
// JSON, anything else as a Go template.
func writeDoc(w io.Writer, format string, doc any) error {
	if format == "json" {
		return writeJSON(w, doc)
	}
	t, err := parseTemplate(unescapeFormat(format))
	if err != nil {
		return err
	}
	if err := t.Execute(w, doc); err != nil {
		return fmt.Errorf("template: %v", err)
	}
	fmt.Fprintln(w)
	return nil
}

// writeJSON prints v as Docker's inspect does: indented by four spaces.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}

// confirm asks a yes/no question as Docker does. Without a terminal it reads
// an answer from stdin if one is piped in; with none it refuses.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprintf(out, "%s\nAre you sure you want to continue? [y/N] ", question)
	var line []byte
	buf := make([]byte, 1)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if buf[0] == '\n' {
				break
			}
			line = append(line, buf[0])
		}
		if err != nil {
			if len(line) == 0 && !isTerminal(in) {
				fmt.Fprintln(out)
				return false, fmt.Errorf("no answer to the confirmation prompt: standard input is not a terminal (hint: pass -f to skip the prompt)")
			}
			break
		}
	}
	ans := strings.ToLower(strings.TrimSpace(string(line)))
	return ans == "y" || ans == "yes", nil
}

// writeDocs writes inspect documents as --format asks (a JSON array by
// default), then returns failed, the error of any that were not found.
func writeDocs(c *cli.Context, docs []any, failed error) error {
	if f := c.String("format"); f != "" && f != "json" {
		for _, d := range docs {
			if err := writeDoc(c.App.Writer, f, d); err != nil {
				return err
			}
		}
		return failed
	}
	if docs == nil {
		docs = []any{}
	}
	if err := writeJSON(c.App.Writer, docs); err != nil {
		return err
	}
	return failed
}
