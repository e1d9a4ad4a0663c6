package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// File is a parsed Dockerfile: its stages with their typed instructions,
// and the ARGs declared before the first FROM.
type File struct {
	// Name is how errors name the file ("Dockerfile", "build/app.Dockerfile").
	Name     string
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand
	// Escape is the escape character (the `# escape=` directive).
	Escape rune
	lines  []string
}

// SyntaxError is a Dockerfile that cannot be parsed, or an instruction
// that is wrong where it stands. It names the file and line and quotes the
// offending text, in one line.
type SyntaxError struct {
	File string
	Line int    // 1-based; 0 when unknown
	Text string // the line as written
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	if e.Text == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s (in %q)", e.File, e.Line, e.Msg, e.Text)
}

// Parse parses a Dockerfile with buildkit's parser and typed instructions.
// Parser directives (`# syntax`, `# escape`, `# check`) are honoured or
// accepted: the built-in frontend serves every syntax version.
func Parse(data []byte, name string) (*File, error) {
	f := &File{Name: name, lines: strings.Split(string(data), "\n")}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, f.Error(err, 0)
	}
	f.Escape = res.EscapeToken
	stages, meta, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, f.Error(err, 0)
	}
	if len(stages) == 0 {
		return nil, &SyntaxError{File: name, Msg: "no FROM instruction (hint: a Dockerfile starts with FROM IMAGE, or FROM scratch)"}
	}
	f.Stages, f.MetaArgs = stages, meta
	return f, nil
}

// Error turns an error about the Dockerfile into a *SyntaxError naming the
// line: the location buildkit attached to it, else line (1-based; 0 for
// none).
func (f *File) Error(err error, line int) error {
	var se *SyntaxError
	if errors.As(err, &se) {
		return err
	}
	var loc *parser.LocationError
	if errors.As(err, &loc) && len(loc.Locations) > 0 && len(loc.Locations[0]) > 0 {
		line = loc.Locations[0][0].Start.Line
	}
	msg := err.Error()
	// buildkit prefixes some messages with the instruction's text.
	msg = strings.TrimPrefix(msg, "dockerfile parse error on line "+fmt.Sprint(line)+": ")
	return &SyntaxError{File: f.Name, Line: line, Text: f.line(line), Msg: msg}
}

// ErrorAt is Error for an error found while building, at an instruction.
func (f *File) ErrorAt(err error, loc []parser.Range) error {
	line := 0
	if len(loc) > 0 {
		line = loc[0].Start.Line
	}
	return f.Error(err, line)
}

func (f *File) line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	return strings.TrimSpace(f.lines[n-1])
}

// StageIndex finds a stage by name (case-insensitive, as Docker matches
// them) or by index among the stages before `before`; -1 if none.
func (f *File) StageIndex(ref string, before int) int {
	for i := 0; i < before && i < len(f.Stages); i++ {
		if strings.EqualFold(f.Stages[i].Name, ref) {
			return i
		}
	}
	var n int
	if _, err := fmt.Sscanf(ref, "%d", &n); err == nil && fmt.Sprint(n) == ref && n >= 0 && n < before {
		return n
	}
	return -1
}
