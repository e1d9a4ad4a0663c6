// Package network gives a container a private network namespace served
// from its parent: the monitor of a detached container or the foreground
// `burrow run` process (DESIGN.md, "Networking"; issue 14).
//
// New makes the namespace on a locked OS thread and, where /dev/net/tun
// is usable, a tap device eth0 in it whose other end is gvisor's netstack
// running in the caller's (the host's) namespace: the container's
// outbound TCP and UDP become host sockets, 10.0.2.3 forwards DNS to the
// host's resolvers. A published port's client reaches the container by a
// kernel socket opened inside the namespace and spliced to the host
// connection; a remote client's socket is bound to the client's own
// address (IP_TRANSPARENT, with a mark and a rule that bring the
// container's replies back to it over lo), so the container sees who
// connects. Where that rule cannot be made, remote clients go through the
// stack, which keeps their address too. No helper process, no daemon.
//
// Nothing here runs at package init: linking netstack costs about 0.4 ms
// of start-up (../shared/prototypes/usernet), and the stack is built only
// by New.
package network
