package transport

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-units"
)

// Printer shows layer progress as Docker does: on a terminal (tty), a
// line per layer redrawn in place with a bar; elsewhere, plain lines for
// each change of status (no byte counts). Commands print through it.
type Printer struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	order []string
	lines map[string]string
	drawn int
	last  time.Time
}

// NewPrinter prints progress to w, a terminal when tty.
func NewPrinter(w io.Writer, tty bool) *Printer {
	return &Printer{w: w, tty: tty, lines: map[string]string{}}
}

// Update shows one progress event.
func (p *Printer) Update(ev Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	busy := ev.Status == "Downloading" || ev.Status == "Pushing" || ev.Status == "Loading layer"
	if !p.tty {
		if !busy || ev.Current == 0 {
			fmt.Fprintf(p.w, "%s: %s\n", ev.ID, ev.Status)
		}
		return
	}
	if _, ok := p.lines[ev.ID]; !ok {
		p.order = append(p.order, ev.ID)
	}
	line := ev.Status
	if busy && ev.Total > 0 {
		n := int(50 * ev.Current / ev.Total)
		n = min(max(n, 0), 50)
		bar := strings.Repeat("=", n)
		if n < 50 {
			bar += ">" + strings.Repeat(" ", 49-n)
		}
		line = fmt.Sprintf("%-18s [%s] %s/%s", ev.Status, bar, units.HumanSize(float64(ev.Current)), units.HumanSize(float64(ev.Total)))
	}
	p.lines[ev.ID] = line
	if busy && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.redraw()
}

func (p *Printer) redraw() {
	p.last = time.Now()
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA", p.drawn)
	}
	for _, id := range p.order {
		fmt.Fprintf(p.w, "\x1b[2K%s: %s\n", id, p.lines[id])
	}
	p.drawn = len(p.order)
}

// Done draws the lines a last time.
func (p *Printer) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && len(p.order) > 0 {
		p.redraw()
	}
}

// Finish draws the lines a last time and forgets them: what is printed
// next goes below them, and later lines start a block of their own.
func (p *Printer) Finish() {
	p.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.order, p.lines, p.drawn = nil, map[string]string{}, 0
}
