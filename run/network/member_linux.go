package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/run/internal/spawn"
	"golang.org/x/sys/unix"
)

// The switch protocol, both ends of which are in this package (the
// member's here, the switch's in switch_linux.go). A member connects to
// the switch's unix socket and sends a hello, one JSON line; the switch
// answers with one JSON line (the address, or an error); the member then
// makes its tap with that address and sends its descriptor (one byte with
// SCM_RIGHTS). The connection stays open for the container's life: its
// end, however the member's process ends (kill -9 too), is the member
// leaving the network. On it the member may then send updates, one JSON
// line each (see update).
//
// A hello with Lookup set is not a member's: it asks the switch for the
// address of a member by name (as its DNS server would answer it), and
// the switch answers with a welcome (no IP: not known) and closes.
type hello struct {
	ID, Name string
	Aliases  []string `json:",omitempty"`
	Lookup   string   `json:",omitempty"`
	// peers are the member's update, kept by the switch.
	peers []string
}

// update is what a member says after its tap: Peers are the sockets of
// the switches of its other networks (network connect), which the switch
// asks the names it does not know when the member queries it, so that a
// container on several networks resolves the members of all of them.
type update struct {
	Peers []string
}

// lookupTimeout bounds one lookup at another network's switch.
const lookupTimeout = 2 * time.Second

// lookupSwitches asks each switch's socket in turn for name, and returns
// the first address one knows.
func lookupSwitches(sockets []string, name string) (netip.Addr, bool) {
	for _, s := range sockets {
		if a, ok := lookupSwitch(s, name); ok {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// lookupSwitch asks one switch for name; false when it does not know it
// or does not answer (a switch that is not running is never started for
// a lookup).
func lookupSwitch(socket, name string) (netip.Addr, bool) {
	conn, err := dialSwitch(socket)
	if err != nil {
		return netip.Addr{}, false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(lookupTimeout))
	var w welcome
	if json.NewEncoder(conn).Encode(hello{Lookup: name}) != nil || json.NewDecoder(conn).Decode(&w) != nil {
		return netip.Addr{}, false
	}
	return w.IP, w.IP.IsValid()
}

type welcome struct {
	IP    netip.Addr `json:",omitempty"`
	Error string     `json:",omitempty"`
}

// member is a container's side of its connection to the switch.
type member struct{ conn *net.UnixConn }

// switchStartTimeout bounds the wait for a new switch process to listen.
const switchStartTimeout = 10 * time.Second

// join connects to the network's switch, starting it when none listens,
// and returns the member and the addressing the switch gave it. It holds
// the network's lock from the connect to the answer, so that the switch,
// which takes the lock before it exits with its last member gone, never
// exits under a member that is joining.
func join(ctx context.Context, m *Member) (*member, addressing, error) {
	cfg := &m.Switch
	wrap := func(err error) error { return fmt.Errorf("joining network %s: %w", cfg.Name, err) }
	lock, err := lockFile(cfg.Lock)
	if err != nil {
		return nil, addressing{}, wrap(err)
	}
	defer lock.Close()
	conn, err := dialSwitch(cfg.Socket)
	if err != nil {
		// No switch (never started, exited, or killed: its socket
		// refuses): start one.
		if err := startSwitch(ctx, cfg); err != nil {
			return nil, addressing{}, wrap(err)
		}
		if conn, err = dialSwitch(cfg.Socket); err != nil {
			return nil, addressing{}, wrap(err)
		}
	}
	conn.SetDeadline(time.Now().Add(switchStartTimeout))
	var w welcome
	err = json.NewEncoder(conn).Encode(hello{ID: m.ID, Name: m.Name, Aliases: m.Aliases})
	if err == nil {
		err = json.NewDecoder(conn).Decode(&w)
	}
	if err == nil && w.Error != "" {
		err = errors.New(w.Error)
	}
	if err == nil && !cfg.Subnet.Contains(w.IP) {
		err = fmt.Errorf("internal error: the switch gave %s, outside %s", w.IP, cfg.Subnet)
	}
	if err != nil {
		conn.Close()
		return nil, addressing{}, wrap(err)
	}
	conn.SetDeadline(time.Time{})
	return &member{conn: conn}, cfg.addressing(w.IP), nil
}

// addressing is a member's view of the network at ip.
func (cfg *SwitchConfig) addressing(ip netip.Addr) addressing {
	return addressing{container: ip, gateway: cfg.Gateway, dns: cfg.Gateway, subnet: cfg.Subnet,
		containerMAC: macOf(ip), gateMAC: macOf(cfg.Gateway)}
}

// sendTap hands the tap's descriptor to the switch.
func (m *member) sendTap(tap int) error {
	_, _, err := m.conn.WriteMsgUnix([]byte{'t'}, unix.UnixRights(tap), nil)
	return err
}

func (m *member) close() { m.conn.Close() }

// dialSwitch connects to a switch's socket.
func dialSwitch(socket string) (*net.UnixConn, error) {
	path, done, err := shortPath(socket)
	if err != nil {
		return nil, err
	}
	defer done()
	return net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
}

// shortPath names path in under 108 bytes (a unix socket's limit) through
// a descriptor of its directory when it is longer; done releases it.
func shortPath(path string) (string, func(), error) {
	if len(path) < 100 {
		return path, func() {}, nil
	}
	fd, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("opening %s: %w", filepath.Dir(path), err)
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", fd, filepath.Base(path)), func() { unix.Close(fd) }, nil
}

// lockFile takes an exclusive flock on path; closing the file releases it.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, nil
}

// SwitchCommand is the hidden subcommand that runs a network's switch
// (the same binary, in a session of its own, as a detached container's
// monitor is): its action calls ServeSwitch with its one argument.
const SwitchCommand = "__netswitch"

// startSwitch starts the network's switch process and waits until it
// listens. The caller holds the network's lock.
func startSwitch(ctx context.Context, cfg *SwitchConfig) error {
	arg, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	line, err := spawn.Detached(ctx, "the network's switch", []string{SwitchCommand, string(arg)}, switchStartTimeout)
	if err != nil {
		return err
	}
	switch line {
	case "ok":
		return nil
	case "":
		return errors.New("the network's switch exited before it listened")
	}
	return errors.New(line)
}
