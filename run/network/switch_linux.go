package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/burrow-oci/burrow/run/internal/spawn"
	"golang.org/x/sys/unix"
)

// switchIdle is how long a new switch waits for its first member (whose
// process may have died before joining) before it exits.
const switchIdle = 10 * time.Second

// ServeSwitch is the body of a user-defined network's switch process
// (SwitchCommand), arg its JSON SwitchConfig. It listens on the network's
// socket, gives each member an address, forwards Ethernet frames between
// the members' taps and the gateway (a netstack that forwards outbound
// TCP and UDP as the default network's does, unless Internal, and
// answers DNS for members' names at the gateway's address), and returns
// once its last member has left.
func ServeSwitch(ctx context.Context, arg string, log *slog.Logger) error {
	ready := os.NewFile(spawn.ReadyFD, "ready")
	say := func(line string) {
		if ready != nil {
			fmt.Fprintln(ready, line)
			ready.Close()
			ready = nil
		}
	}
	defer say("internal error: the switch ended before it listened")
	var cfg SwitchConfig
	if err := json.Unmarshal([]byte(arg), &cfg); err != nil {
		return fmt.Errorf("internal error: the switch's configuration: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sw, err := newSwitch(&cfg, log)
	if err != nil {
		say(err.Error())
		return err
	}
	defer sw.gw.Close()
	// The starter holds the lock: a socket left by a killed switch can go.
	_ = os.Remove(cfg.Socket)
	path, done, err := shortPath(cfg.Socket)
	if err != nil {
		say(err.Error())
		return err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	done()
	if err != nil {
		say(err.Error())
		return fmt.Errorf("listening on %s: %w", cfg.Socket, err)
	}
	l.SetUnlinkOnClose(false) // removed under the lock, in maybeExit
	say("ok")
	sw.listener = l
	go sw.exitIfIdle(switchIdle)
	go func() { <-ctx.Done(); l.Close() }()
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			if sw.exiting() || ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go sw.serveMember(c)
	}
}

// netSwitch is a running switch: the frame switch, the gateway's stack
// and the members.
type netSwitch struct {
	cfg      *SwitchConfig
	log      *slog.Logger
	fs       *frameSwitch
	gw       *Network // the gateway: a stack of its own, no namespace
	listener *net.UnixListener

	mu      sync.Mutex
	members map[netip.Addr]*hello
	joining int // connected, not yet left; 0 lets the switch exit
	closing bool
}

func newSwitch(cfg *SwitchConfig, log *slog.Logger) (*netSwitch, error) {
	sw := &netSwitch{cfg: cfg, log: log, fs: newFrameSwitch(cfg.Gateway), members: map[netip.Addr]*hello{}}
	gw := &Network{log: log, hostLoopback: cfg.HostLoopback, dns: cfg.DNS, internal: cfg.Internal, names: sw.lookup,
		addr: addressing{gateway: cfg.Gateway, dns: cfg.Gateway, subnet: cfg.Subnet, gateMAC: macOf(cfg.Gateway)}}
	gw.ctx, gw.cancel = context.WithCancel(context.Background())
	sw.gw = gw
	// The gateway's stack reads and writes frames on one end of a
	// socket pair, the switch on the other: the stack's code is the
	// default network's, unchanged.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("making the gateway's link: %w", err)
	}
	for _, fd := range fds {
		// Room for a few full frames (65520 bytes each) in flight.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	}
	if gw.stack, err = gw.newStack(fds[0]); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, err
	}
	p, err := newFilePort(fds[1], "gateway")
	if err != nil {
		return nil, err
	}
	sw.fs.add(p, true)
	go sw.readPort(p)
	return sw, nil
}

// filePort is a port whose frames are read and written on a descriptor
// (a tap, or the gateway's end of its socket pair), through Go's poller.
type filePort struct{ f *os.File }

func newFilePort(fd int, name string) (*filePort, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &filePort{f: os.NewFile(uintptr(fd), name)}, nil
}

func (p *filePort) writeFrame(b []byte) error { _, err := p.f.Write(b); return err }

// readPort switches the frames that arrive on p until it is closed.
func (sw *netSwitch) readPort(p *filePort) {
	buf := make([]byte, 1<<17) // a frame of the 65520-byte MTU, and more
	for {
		k, err := p.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || k == 0 && !errors.Is(err, unix.EINTR) {
				return
			}
			continue
		}
		sw.fs.forward(p, buf[:k])
	}
}

// serveMember runs one member's connection: hello, address, tap, and
// then the wait for its end.
func (sw *netSwitch) serveMember(c *net.UnixConn) {
	defer c.Close()
	sw.mu.Lock()
	if sw.closing {
		sw.mu.Unlock()
		return
	}
	sw.joining++
	sw.mu.Unlock()
	defer sw.left()
	var h hello
	if err := json.NewDecoder(c).Decode(&h); err != nil {
		return
	}
	if h.Lookup != "" {
		// Another network's DNS server asks: members of this one only.
		ip, _ := sw.lookupLocal(h.Lookup)
		_ = json.NewEncoder(c).Encode(welcome{IP: ip})
		return
	}
	ip, err := sw.allocate(&h)
	if err != nil {
		_ = json.NewEncoder(c).Encode(welcome{Error: err.Error()})
		return
	}
	defer sw.release(ip)
	if err := json.NewEncoder(c).Encode(welcome{IP: ip}); err != nil {
		return
	}
	tap, err := receiveFD(c)
	if err != nil {
		sw.log.Debug("member sent no tap", "member", h.Name, "err", err)
		return
	}
	p, err := newFilePort(tap, h.Name)
	if err != nil {
		return
	}
	sw.fs.add(p, false)
	go sw.readPort(p)
	// The connection carries the member's updates; its end is the
	// member's.
	dec := json.NewDecoder(c)
	for {
		var u update
		if err := dec.Decode(&u); err != nil {
			break
		}
		sw.mu.Lock()
		h.peers = u.Peers
		sw.mu.Unlock()
	}
	sw.fs.remove(p)
	p.f.Close()
}

// receiveFD reads the one byte that carries a descriptor.
func receiveFD(c *net.UnixConn) (int, error) {
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := c.ReadMsgUnix(make([]byte, 1), oob)
	if err != nil {
		return -1, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("no descriptor: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("no descriptor: %v", err)
	}
	return fds[0], nil
}

// allocate gives a member the lowest free address after the gateway.
func (sw *netSwitch) allocate(h *hello) (netip.Addr, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	for a := sw.cfg.Subnet.Addr().Next(); sw.cfg.Subnet.Contains(a); a = a.Next() {
		last := !sw.cfg.Subnet.Contains(a.Next()) // the broadcast address
		if a == sw.cfg.Gateway || last {
			continue
		}
		if _, taken := sw.members[a]; !taken {
			sw.members[a] = h
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address in network %s's subnet %s", sw.cfg.Name, sw.cfg.Subnet)
}

func (sw *netSwitch) release(ip netip.Addr) {
	sw.mu.Lock()
	delete(sw.members, ip)
	sw.mu.Unlock()
}

// lookup answers the gateway's DNS server for the member at from: a
// member of this network by lookupLocal, else one of the member's other
// networks (network connect) asked at their switches.
func (sw *netSwitch) lookup(from netip.Addr, name string) (netip.Addr, bool) {
	if a, ok := sw.lookupLocal(name); ok {
		return a, true
	}
	sw.mu.Lock()
	var peers []string
	if h := sw.members[from]; h != nil {
		peers = h.peers
	}
	sw.mu.Unlock()
	return lookupSwitches(peers, name)
}

// lookupLocal finds a member by name, alias, short ID or NAME.NETWORK.
func (sw *netSwitch) lookupLocal(name string) (netip.Addr, bool) {
	name = strings.TrimSuffix(name, "."+strings.ToLower(sw.cfg.Name))
	sw.mu.Lock()
	defer sw.mu.Unlock()
	for ip, h := range sw.members {
		if strings.EqualFold(h.Name, name) || len(h.ID) >= 12 && h.ID[:12] == name {
			return ip, true
		}
	}
	for ip, h := range sw.members {
		for _, a := range h.Aliases {
			if strings.EqualFold(a, name) {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

// left counts a member's connection gone; the last one may end the
// switch.
func (sw *netSwitch) left() {
	sw.mu.Lock()
	sw.joining--
	last := sw.joining == 0
	sw.mu.Unlock()
	if last {
		sw.maybeExit()
	}
}

func (sw *netSwitch) exitIfIdle(d time.Duration) {
	time.Sleep(d)
	sw.maybeExit()
}

// maybeExit stops the switch when it has no member, under the network's
// lock: a member joins under it too, so none is between its connect and
// its hello meanwhile, and the next one finds no socket and starts a new
// switch.
func (sw *netSwitch) maybeExit() {
	lock, err := lockFile(sw.cfg.Lock)
	if err != nil {
		sw.log.Debug("switch: taking the lock", "err", err)
		return
	}
	defer lock.Close()
	sw.mu.Lock()
	if sw.joining > 0 || sw.closing {
		sw.mu.Unlock()
		return
	}
	sw.closing = true
	sw.mu.Unlock()
	_ = os.Remove(sw.cfg.Socket)
	sw.listener.Close()
}

func (sw *netSwitch) exiting() bool {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.closing
}
