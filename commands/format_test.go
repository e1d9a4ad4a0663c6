package commands

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

type testRow struct {
	A string
	B string
}

func TestListFormatWrite(t *testing.T) {
	lf := listFormat{
		Table:   "{{.A}}\t{{.B}}",
		Headers: map[string]string{"A": "NAME", "B": "SIZE"},
	}
	rows := []any{
		testRow{A: "busybox", B: "4.26MB"},
		testRow{A: "docker.io/alice/app", B: "<none>"},
	}
	short := []any{testRow{A: "a", B: "1"}, testRow{A: "bb", B: "22"}}
	tests := []struct {
		name   string
		format string
		rows   []any
		want   string
	}{{
		name:   "empty format is the default table",
		format: "",
		rows:   rows,
		// The first column is as wide as its widest cell plus 3 spaces.
		want: "NAME                  SIZE\n" +
			"busybox               4.26MB\n" +
			"docker.io/alice/app   <none>\n",
	}, {
		name:   "table is the default table",
		format: "table",
		rows:   rows,
		want: "NAME                  SIZE\n" +
			"busybox               4.26MB\n" +
			"docker.io/alice/app   <none>\n",
	}, {
		name:   "columns are at least 10 wide",
		format: "table",
		rows:   short,
		want: "NAME      SIZE\n" +
			"a         1\n" +
			"bb        22\n",
	}, {
		name:   "table with no rows prints the header",
		format: "",
		rows:   nil,
		want:   "NAME      SIZE\n",
	}, {
		name:   "table template with a real tab",
		format: "table {{.B}}\t{{.A}}",
		rows:   rows,
		// "4.26MB" and 3 spaces are 9 columns: the minimum width, 10, wins.
		want: "SIZE      NAME\n" +
			"4.26MB    busybox\n" +
			"<none>    docker.io/alice/app\n",
	}, {
		name:   `table template with \t as typed in a shell`,
		format: `table {{.B}}\t{{.A}}`,
		rows:   short,
		want: "SIZE      NAME\n" +
			"1         a\n" +
			"22        bb\n",
	}, {
		name:   "table with one column",
		format: "table {{.A}}",
		rows:   short,
		want:   "NAME\na\nbb\n",
	}, {
		name:   "json prints one object per line without HTML escaping",
		format: "json",
		rows:   rows,
		want: `{"A":"busybox","B":"4.26MB"}` + "\n" +
			`{"A":"docker.io/alice/app","B":"<none>"}` + "\n",
	}, {
		name:   "json with surrounding space",
		format: "  json ",
		rows:   short[:1],
		want:   `{"A":"a","B":"1"}` + "\n",
	}, {
		name:   "json with no rows prints nothing",
		format: "json",
		rows:   nil,
		want:   "",
	}, {
		name:   "template without table has no header",
		format: "{{.A}}",
		rows:   rows,
		want:   "busybox\ndocker.io/alice/app\n",
	}, {
		name:   "template is not aligned",
		format: `{{.A}}\t{{.B}}`,
		rows:   rows,
		want:   "busybox\t4.26MB\ndocker.io/alice/app\t<none>\n",
	}, {
		name:   "template functions",
		format: "{{upper .A}} {{json .B}} {{truncate .A 3}}",
		rows:   rows[:1],
		want:   `BUSYBOX "4.26MB" bus` + "\n",
	}, {
		name:   "template json function",
		format: "{{json .}}",
		rows:   rows[1:],
		want:   `{"A":"docker.io/alice/app","B":"<none>"}` + "\n",
	}, {
		name:   "a trailing newline in the template is not doubled",
		format: `{{.A}}\n`,
		rows:   short,
		want:   "a\nbb\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := lf.write(&b, tt.format, tt.rows); err != nil {
				t.Fatalf("write(%q): %v", tt.format, err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("write(%q) =\n%q\nwant\n%q", tt.format, got, tt.want)
			}
		})
	}
}

func TestListFormatWriteErrors(t *testing.T) {
	lf := listFormat{Table: "{{.A}}", Headers: map[string]string{"A": "NAME"}}
	rows := []any{testRow{A: "x"}}
	tests := []struct {
		name   string
		format string
		wantIn string
	}{
		{"unclosed action", "{{.A", "template parsing error"},
		{"unknown function", "{{nosuch .A}}", "template parsing error"},
		{"broken table template", "table {{.A", "template parsing error"},
		{"unknown field", "{{.Nope}}", "template"},
		{"unknown field in a table", "table {{.Nope}}", "template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := lf.write(io.Discard, tt.format, rows)
			if err == nil {
				t.Fatalf("write(%q) succeeded, want an error", tt.format)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q does not contain %q", err, tt.wantIn)
			}
			if code := ExitCodeOf(err); code != ExitTool {
				t.Errorf("ExitCodeOf(%v) = %d, want %d", err, code, ExitTool)
			}
		})
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{999, "999B"},
		{1000, "1kB"},
		{1024, "1.02kB"},
		{2129920, "2.13MB"},
		{4260000, "4.26MB"},
		{1000000000, "1GB"},
		{123456789012, "123GB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestEllipsis(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abcdef", 4, "abc…"},
		{"abcdef", 6, "abcdef"},
		{"abcdef", 5, "abcd…"},
		{"abc", 10, "abc"},
		{"", 3, ""},
		{"héllo wörld", 5, "héll…"},
		{"日本語のテキスト", 3, "日本…"},
		{"abcdef", 1, "…"},
	}
	for _, tt := range tests {
		got := ellipsis(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("ellipsis(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if n := len([]rune(got)); n > tt.n {
			t.Errorf("ellipsis(%q, %d) has %d runes", tt.s, tt.n, n)
		}
	}
}

func TestUnescapeFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{{.A}}\t{{.B}}`, "{{.A}}\t{{.B}}"},
		{`a\nb`, "a\nb"},
		{`\t\t\n`, "\t\t\n"},
		{"already\ttab", "already\ttab"},
		{`no escapes`, `no escapes`},
		{`\x and \r stay`, `\x and \r stay`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := unescapeFormat(tt.in); got != tt.want {
			t.Errorf("unescapeFormat(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    bool
		wantErr bool
	}{
		{name: "y", in: "y\n", want: true},
		{name: "yes", in: "yes\n", want: true},
		{name: "upper Y with spaces", in: "  Y \n", want: true},
		{name: "YES", in: "YES\n", want: true},
		{name: "n", in: "n\n", want: false},
		{name: "empty line", in: "\n", want: false},
		{name: "other word", in: "sure\n", want: false},
		{name: "only the first line counts", in: "n\ny\n", want: false},
		{name: "y without a newline", in: "y", want: true},
		{name: "no input", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := confirm(strings.NewReader(tt.in), &out, "WARNING! This will remove things.")
			if !strings.HasPrefix(out.String(), "WARNING! This will remove things.\nAre you sure you want to continue? [y/N] ") {
				t.Errorf("prompt = %q", out.String())
			}
			if tt.wantErr {
				if err == nil {
					t.Fatalf("confirm(%q) = %v, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), "-f") {
					t.Errorf("error %q does not mention -f", err)
				}
				if got {
					t.Error("confirm returned true with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("confirm(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("confirm(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// oneByteReader returns the answer one byte per call and then EOF, as a
// pipe may.
type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestConfirmDoesNotReadPastTheAnswer(t *testing.T) {
	r := &oneByteReader{s: "y\nrest"}
	ok, err := confirm(r, io.Discard, "?")
	if err != nil || !ok {
		t.Fatalf("confirm = %v, %v, want true, nil", ok, err)
	}
	if r.s != "rest" {
		t.Errorf("confirm left %q unread, want %q", r.s, "rest")
	}
}
