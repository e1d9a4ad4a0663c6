package network

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/burrow-oci/burrow/storage"
)

// Network is a container's network namespace and what serves it. Its
// owner keeps it for the container's life and closes it after the
// container has exited; its methods are safe for concurrent use.
type Network struct {
	log          *slog.Logger
	hostLoopback bool
	dns          []string
	ports        []storage.PortMapping
	listeners    []io.Closer
	ns           *namespace
	addr         addressing
	stack        *stack.Stack // nil without a tap, and on a user-defined network
	member       *member      // on a user-defined network: the switch's connection
	// internal and names are a user-defined network's gateway's: no
	// outbound access; members' names answered at the gateway.
	internal bool
	names    func(from netip.Addr, name string) (netip.Addr, bool)
	// memberOf and memberSocket name the user-defined network of member
	// and its switch's socket; att are the networks Connect joined.
	memberOf, memberSocket string
	att                    attachments
	ctx                    context.Context
	cancel                 context.CancelFunc
	serving                sync.WaitGroup
	closeOnce              sync.Once

	upstreamOnce sync.Once
	upstreamList []string
	hostAddrOnce sync.Once
	hostAddrIP   string
}

// New binds every host listener first (a port in use fails at once, in
// Docker's words, before anything else is made), then makes the network
// namespace with lo up and, when /dev/net/tun is usable and opts.NoTap is
// not set, eth0 10.0.2.100/24 with a default route via 10.0.2.2, served by
// gvisor's netstack from the caller's namespace. Without a usable tun the
// namespace has lo only, Outbound reports false, and published ports
// still work by splice. On error nothing is left behind: listeners,
// descriptors and threads are released.
//
// ctx bounds New only; the Network lives until Close.
func New(ctx context.Context, opts Options) (*Network, error) {
	t0 := time.Now()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := &Network{log: log, hostLoopback: opts.HostLoopback, dns: opts.DNS, addr: defaultAddressing()}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if err := n.bind(opts.Ports); err != nil {
		n.Close()
		return nil, err
	}
	tBind := time.Now()
	if opts.Member != nil {
		// The switch gives the address first: the tap is made with it.
		m, a, err := join(ctx, opts.Member)
		if err != nil {
			n.Close()
			return nil, err
		}
		n.member, n.addr = m, a
		n.memberOf, n.memberSocket = opts.Member.Switch.Name, opts.Member.Switch.Socket
	}
	ns, err := newNamespace(opts.NoTap, len(n.ports) > 0, n.addr)
	if err != nil {
		n.Close()
		return nil, err
	}
	n.ns = ns
	tNS := time.Now()
	switch {
	case n.member != nil && ns.tap < 0:
		n.Close()
		return nil, fmt.Errorf("joining network %s: %w (hint: user-defined networks need /dev/net/tun; ask an admin to chmod 0666 /dev/net/tun, or use the default network)", opts.Member.Switch.Name, ns.tapErr)
	case n.member != nil:
		if err := n.member.sendTap(ns.tap); err != nil {
			n.Close()
			return nil, fmt.Errorf("joining network %s: %w", opts.Member.Switch.Name, err)
		}
	case ns.tap >= 0:
		n.names = n.lookupAttached // names of the networks Connect joins
		if n.stack, err = n.newStack(ns.tap); err != nil {
			n.Close()
			return nil, err
		}
	default:
		log.Debug("no tap: loopback-only network namespace", "reason", ns.tapErr)
	}
	if ns.transparentErr != nil {
		log.Debug("remote clients of published ports go through the stack", "reason", ns.transparentErr)
	}
	n.serve()
	log.Debug("network up", "bind", tBind.Sub(t0), "netns", tNS.Sub(tBind), "stack", time.Since(tNS),
		"total", time.Since(t0), "outbound", n.Outbound())
	return n, nil
}

// Path names the namespace for a child process (the OCI runtime's
// setns): /proc/<pid>/fd/<fd> of this process, valid until Close.
func (n *Network) Path() string {
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), n.ns.fd)
}

// Ports are the published ports as bound: chosen host ports filled in,
// HostPortEnd cleared.
func (n *Network) Ports() []storage.PortMapping {
	return append([]storage.PortMapping(nil), n.ports...)
}

// Outbound reports whether the container can reach beyond its namespace
// (a tap is served); false in the loopback-only namespace.
func (n *Network) Outbound() bool { return n.tapped() }

// IP is the container's address: "10.0.2.100", "" without a tap.
func (n *Network) IP() string { return n.ifTap(n.addr.container) }

// Gateway is the container's default gateway: "10.0.2.2", "" without a
// tap. It reaches the host (see Options.HostLoopback).
func (n *Network) Gateway() string { return n.ifTap(n.addr.gateway) }

// DNSServer is the resolver to write into the container's resolv.conf:
// "10.0.2.3", "" without a tap.
func (n *Network) DNSServer() string { return n.ifTap(n.addr.dns) }

func (n *Network) ifTap(a netip.Addr) string {
	if !n.tapped() {
		return ""
	}
	return a.String()
}

// tapped reports whether the namespace has eth0, served here or by a
// user-defined network's switch.
func (n *Network) tapped() bool { return n.stack != nil || n.member != nil }

// Close stops serving: it closes the host listeners (their ports can be
// bound again at once), ends every forwarded connection, stops the stack
// and releases the namespace's descriptors and thread. The namespace
// itself goes when its last process leaves. Close is idempotent.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		n.att.close() // before the namespace's descriptor goes
		for _, l := range n.listeners {
			l.Close()
		}
		n.serving.Wait()
		if n.stack != nil {
			n.stack.Destroy() // stops reading the tap before it is closed
		}
		if n.ns != nil {
			n.ns.close()
		}
		if n.member != nil {
			n.member.close() // the switch forgets the member
		}
	})
	return nil
}

// pipe copies both ways between a and b until both directions end (or
// the network closes), passing on half-closes. Between two
// *net.TCPConn, io.Copy uses splice(2).
func (n *Network) pipe(a, b net.Conn) {
	stop := n.closeWithNetwork(a, b)
	defer stop()
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		copyConn(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	wg.Add(2)
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
	a.Close()
	b.Close()
}

// copyConn copies src to dst: by splice(2) between two kernel sockets,
// through a large buffer otherwise (a connection of the stack): io.Copy's
// 32 KiB would make each write half a 64 KiB frame, twice the frames and
// wake-ups for the same bytes.
func copyConn(dst, src net.Conn) {
	_, kd := dst.(*net.TCPConn)
	_, ks := src.(*net.TCPConn)
	if kd && ks {
		_, _ = io.Copy(dst, src)
		return
	}
	buf := make([]byte, 256<<10)
	// Hidden behind plain interfaces, so that io.CopyBuffer uses buf
	// rather than a ReaderFrom or WriterTo with its own small one.
	_, _ = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
}

// closeWithNetwork closes cs when the network closes; stop undoes it.
func (n *Network) closeWithNetwork(cs ...io.Closer) (stop func() bool) {
	return context.AfterFunc(n.ctx, func() {
		for _, c := range cs {
			c.Close()
		}
	})
}
