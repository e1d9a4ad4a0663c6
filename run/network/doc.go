// Package network gives a container a private network namespace served
// from its parent: the monitor of a detached container or the foreground
// `burrow run` process (DESIGN.md, "Networking"; issue 14).
//
// New makes the namespace on a locked OS thread and, where /dev/net/tun
// is usable, a tap device eth0 in it whose other end is gvisor's netstack
// running in the caller's (the host's) namespace: the container's
// outbound TCP and UDP become host sockets, 10.0.2.3 forwards DNS to the
// host's resolvers, and published ports reach the container through the
// stack, keeping a remote client's address. Loopback clients of a
// published port, and every client where tun is not usable, go by a
// kernel socket opened inside the namespace and spliced to the host
// connection. No helper process, no daemon.
//
// Nothing here runs at package init: linking netstack costs about 0.4 ms
// of start-up (../shared/prototypes/usernet), and the stack is built only
// by New.
package network
