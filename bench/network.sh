#!/bin/bash
# bench/network.sh: burrow's container network next to podman's, measured side by side
# in one run (hyperfine): HTTP into a container through `-p`, HTTP out of a container to
# a server on the host, what the default network adds to `run --rm`, and HTTP from one
# container to another by name on a user-defined network.
# Goals (issue 14, "Speed"): 100 MB through `-p` from the host at least as fast as
# podman's `-p` (rootlessport); outbound to a host server at least as fast as
# podman+slirp4netns; `run --rm busybox true` with the default network at most 0.10x
# podman's with its default network, and at most 3 ms over `--network none`; container to
# container by name on a user-defined network at least 500 MB/s (net of exec).
#
# Usage (root or the bench user):
#   bash bench/network.sh
#   BENCH_TMP=/j RUNS=10 bash bench/network.sh
#   SIZE_MB=20 RUNS=3 WARMUP=1 WAIT_QUIET=0 bash bench/network.sh   # a quick check
#   FIGURES=n4 RUNS=10 bash bench/network.sh                         # container to container only
#
# Run as root, it re-runs itself as BENCH_USER (default builder) with runuser,
# copying the binary (and this script and lib.sh) to a temporary directory first if
# that user cannot reach them. Nothing outside its temporary directory (WORK, under
# BENCH_TMP) is touched: the fixture (a busybox rootfs tarball made from the host's
# busybox-static), both stores (burrow's and podman's, --root/--runroot, one image
# each) and the host server's file are made there. At exit, also on failure or
# Ctrl-C, the containers are removed, both stores emptied, the host server stopped
# (by its pid) and WORK removed. podman's per-user configuration is used as it is
# (runtime runc, overlay, rootless network slirp4netns with rootlessport for -p), but
# for n4 its network configuration directory is WORK/podman/net.d (--network-config-dir),
# so that benchnet is not made among the user's own networks.
#
# Figures (each timed for burrow and podman, in one hyperfine invocation per group and
# round; MB = 10^6 bytes, the file is SIZE_MB MiB):
#   n1  http_in_p        `curl -o /dev/null http://127.0.0.1:HOSTPORT/big` from the host:
#                        a detached container (`run -d -p HOSTPORT:8080 busybox sh -c 'dd
#                        ...; exec httpd -f -p 8080 -h /tmp'`) serves a SIZE_MB MiB file it
#                        made from /dev/zero at start. burrow: a loopback client is spliced
#                        by the kernel into the container's namespace; podman: rootlessport.
#   n1b http_in_p_addr   the same from the host's non-loopback address (HOST_ADDR), when it
#                        has one: burrow's path through its user-mode stack (gvisor
#                        netstack); podman's the same rootlessport as n1.
#   n2  http_out         `exec C wget -q -O /dev/null http://HOST_ADDR:PORT/big` (busybox
#                        wget) in a running container (`run -d --name C busybox sleep`)
#                        of the default network, from a busybox httpd on the host bound to
#                        HOST_ADDR (podman's slirp4netns reaches that address directly).
#   n2x exec_true        `exec C true` into the same containers: the exec's own cost,
#                        taken off n2 for its MB/s (net of exec)
#   n3  run_true_net     `run --rm busybox true`, default network
#   n3n run_true_netnone `run --rm --network none busybox true`
#   h2  host_direct      (reference, no container) `curl -o /dev/null` from the host
#                        server at HOST_ADDR:PORT (n2's server): the kernel's own loopback
#                        speed on this machine
#   n4  c2c_by_name      `exec C wget -q -O /dev/null http://srv:8080/big` between two
#                        containers of a user-defined network (`network create benchnet`):
#                        a server `run -d --network benchnet --name srv busybox sh -c 'dd
#                        ...; exec httpd ...'` and a client `run -d --network benchnet
#                        busybox sleep`. burrow: its switch (`__netswitch`) forwards the
#                        frames between the members' taps, srv resolved by the switch's DNS;
#                        podman: its network backend (CNI here: a bridge in the rootless
#                        netns); without a name server for CNI (the dnsname plugin) the
#                        client is made with `--add-host srv:IP` instead, which the output's
#                        header says (the transfer is the same, only the lookup differs).
#                        If podman cannot make or use the network rootless, burrow alone.
#   n4x exec_true        `exec C true` into n4's clients, taken off n4 as n2x off n2
#
# Output (stdout), one line per figure and tool, then the ratio burrow/podman of the
# medians (times: below 1 burrow is faster); hyperfine's own report goes to stderr:
#   # bench/network.sh burrow=… podman=… size=…MiB host_addr=… host=… cores=… kernel=… date=… …
#   n1 http_in_p burrow median=…s mean=…s sd=…s min=…s max=…s n=…
#   n1 http_in_p podman median=…s …
#   n1 http_in_p ratio burrow/podman median=… mean=… (goal <= 1: met|NOT met)
#   n1 http_in_p MB/s burrow=… podman=…                       (bytes / median)
#   n1b …, n2 …, n2x …
#   n2 http_out MB/s net of exec burrow=… podman=…            (bytes / (n2 - n2x medians))
#   n3 run_true_net …  (goal <= 0.1), n3n run_true_netnone …
#   n3 net_cost burrow=…ms podman=…ms (burrow: goal <= 3 ms: met|NOT met)   (n3 - n3n medians)
#   n4 …, n4x …, n4 c2c_by_name MB/s net of exec burrow=… podman=… (burrow: goal >= 500: …)
#   cpu n1 burrow=…s podman=…s …   CPU seconds (user+sys, whole machine, from /proc/stat)
#                                  per transfer, one untimed transfer each after the figures
#   cpu n4 burrow=…s podman=…s burrow_switch=…s   the same for n4, and the CPU seconds of
#                                  burrow's switch process alone (/proc/PID/stat utime+stime)
#
# Env:
#   FIGURES     the groups to run, of n1 (n1, n1b, h2), n2 (n2, n2x), n3 (n3, n3n) and n4
#               (n4, n4x), separated by spaces or commas (default all); the cpu lines
#               follow the groups
#   BURROW      burrow binary (default: bin/burrow of this checkout; build it with `make build`)
#   PODMAN      podman binary (default: podman from PATH; PODMAN=none skips podman)
#   BENCH_USER  unprivileged user the bench runs as when started by root (default builder)
#   RUNS        timed runs per command, over all rounds (default 20)
#   WARMUP      untimed runs per command before timing, in every round (default 2)
#   ROUNDS      hyperfine invocations per group (default 2), RUNS/ROUNDS runs each, the
#               command order reversed every other round, times pooled
#   SIZE_MB     size of the served file in MiB (default 100)
#   HOST_ADDR   the host's non-loopback IPv4 address (default: the first global one of
#               `ip -4 addr`); none: n1b and n2 are n/a
#   PORT_BASE   first host port tried for the listeners (default 18080; the next free
#               ones are taken: burrow's -p, podman's -p, the host server)
#   WAIT_QUIET  1 (default): before each hyperfine invocation, wait (at most QUIET_MAX s,
#               default 60) until the machine's CPU busy % is at most QUIET_PCT (default 10)
#   BUSYBOX     static busybox for the fixture and the host server (default /bin/busybox,
#               package busybox-static)
#   BENCH_TMP   where the temporary directory goes (default ${TMPDIR:-/tmp})
#   JSON        if set, the pooled times ({"burrow n1": [seconds, ...], …}) are copied to
#               $JSON-network-in.json, $JSON-network-out.json, $JSON-network-run.json,
#               $JSON-network-c2c.json
set -euo pipefail
# Two rounds by default, so that neither tool always runs first (lib.sh's default is 1).
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-2}
# Common knobs, the re-run as BENCH_USER, the fixture, the temporary directory and its
# cleanup, and the timing helpers (run_hyperfine, stats, ratio, report): bench/lib.sh.
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
SIZE_MB=${SIZE_MB:-100}
HOST_ADDR=${HOST_ADDR:-}
PORT_BASE=${PORT_BASE:-18080}
FIGURES=${FIGURES:-n1 n2 n3 n4}
FIGURES=" ${FIGURES//,/ } "
BENCH_KNOBS+=(SIZE_MB HOST_ADDR PORT_BASE FIGURES)
for f in $FIGURES; do
  case $f in n1|n2|n3|n4) ;; *) die "FIGURES: unknown group $f (n1, n2, n3, n4)" ;; esac
done
has() { [[ $FIGURES == *" $1 "* ]]; }

bench_check_burrow
bench_become_user "$@"

# ---------------------------------------------------------------- as the bench user
bench_check_tools hyperfine jq tar curl
bench_detect_podman
[[ $'\n'$("$BUSYBOX" --list)$'\n' == *$'\nhttpd\n'* ]] || die "$BUSYBOX has no httpd applet (hint: apt-get install busybox-static)"
if [ -z "$HOST_ADDR" ]; then
  HOST_ADDR=$(ip -4 -o addr show scope global | awk '{sub(/\/.*/, "", $4); print $4; exit}')
  [ -n "$HOST_ADDR" ] || HOST_ADDR=none
fi
BYTES=$((SIZE_MB * 1024 * 1024))
# The binary's copy is in a directory of its own (WORK/bin) and the paths are short (see
# containers.sh: libcontainer's exe sealing).
bench_start_work burrow-bench-net
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
# podman's networks (n4) in WORK too, not in the user's ~/.config/cni/net.d.
P_STORE+=(--network-config-dir "$WORK/podman/net.d")
burrow() { "$BURROW" "${B_STORE[@]}" "$@"; }
IMG=busybox
WEB=bench-web   # n1's server container (both tools)
CLI=bench-cli   # n2's client container (both tools)
SRV_PID=""      # the host server (n2, h2)
NET=benchnet    # n4's network (both tools)
SRV4=srv        # n4's server container (both tools)
CLI4=bench-c2c  # n4's client container (both tools)
cleanup_stores() {
  local out
  if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
  if [ -d "$WORK/burrow" ]; then
    # The detached containers' monitors (and their network stacks) go with rm -f.
    burrow rm -f "$WEB" "$CLI" "$SRV4" "$CLI4" >/dev/null 2>&1
    burrow network rm "$NET" >/dev/null 2>&1
    out=$(burrow system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
  if [ "$podman_used" = 1 ]; then
    pod rm -f -t 0 "$WEB" "$CLI" "$SRV4" "$CLI4" >/dev/null 2>&1
    pod network rm -f "$NET" >/dev/null 2>&1
  fi
}

# free_port P: the first port from P on that nothing listens on (TCP)
free_port() {
  local p=$1
  while [ -n "$(ss -Htln "sport = :$p")" ]; do p=$((p + 1)); done
  echo "$p"
}
PORT_B=$(free_port "$PORT_BASE")
PORT_P=$(free_port $((PORT_B + 1)))
PORT_S=$(free_port $((PORT_P + 1)))

# wait_http URL: until URL serves BYTES bytes (at most 30 s)
wait_http() {
  local i n
  for i in $(seq 1 300); do
    n=$(curl -sf -o /dev/null -w '%{size_download}' "$1" 2>/dev/null) || n=0
    [ "$n" != "$BYTES" ] || return 0
    sleep 0.1
  done
  die "$1 did not serve $BYTES bytes within 30 s (last: $n)"
}

TAR=$WORK/busybox-rootfs.tar
make_rootfs_tar "$TAR"

# ---------------------------------------------------------------- stores with the image
log "burrow: importing $IMG into $WORK/burrow"
mkdir -p "$WORK/burrow"
burrow import -q --change 'CMD ["/bin/sh"]' "$TAR" "$IMG" >/dev/null
out=$(burrow run --rm "$IMG" echo ok 2>&1) || die "burrow run --rm $IMG echo ok failed: $out"
[ "$out" = ok ] || die "burrow run --rm $IMG echo ok printed: $out"
if [ -n "$PODMAN" ]; then
  log "podman: importing $IMG into $WORK/podman"
  mkdir -p "$WORK/podman"; podman_used=1
  if ! err=$(pod import -q --change 'CMD ["/bin/sh"]' "$TAR" "$IMG" 2>&1 >/dev/null); then
    log "podman: skipped (import into a throw-away store failed: $err)"
    PODMAN=""
  elif ! out=$(pod run --rm "$IMG" cat /proc/net/dev 2>&1); then
    log "podman: skipped (run --rm in a throw-away store failed: $out)"
    PODMAN=""
  else
    if grep -q tap0 <<<"$out"; then pnet=slirp4netns; else pnet="not-slirp4netns($(awk -F: 'NR > 2 {printf "%s", $1}' <<<"$out" | tr -d ' '))"; fi
    log "podman: default network $pnet"
  fi
fi
# burrow's default network: a private namespace with eth0 (not the loopback-only fallback).
out=$(burrow run --rm "$IMG" cat /proc/net/dev 2>&1) || die "burrow run --rm $IMG cat /proc/net/dev failed: $out"
if grep -q eth0 <<<"$out"; then bnet=usernet; else bnet="no-eth0($(awk -F: 'NR > 2 {printf "%s", $1}' <<<"$out" | tr -d ' '))"; fi
log "burrow: default network $bnet"
TOOLS=(burrow); [ -z "$PODMAN" ] || TOOLS+=(podman)
declare -A PORT=([burrow]=$PORT_B [podman]=$PORT_P)
tool() { local t=$1; shift; if [ "$t" = burrow ]; then burrow "$@"; else pod "$@"; fi; }

# ---------------------------------------------------------------- the servers and the client
# n1: a container serving a SIZE_MB MiB file on 8080, published on the host.
SERVE="dd if=/dev/zero of=/tmp/big bs=1M count=$SIZE_MB 2>/dev/null && exec httpd -f -p 8080 -h /tmp"
if has n1; then
  for t in "${TOOLS[@]}"; do
    log "$t: run -d -p ${PORT[$t]}:8080 $IMG httpd (making a $SIZE_MB MiB file in the container)"
    tool "$t" run -d --name "$WEB" -p "${PORT[$t]}:8080" "$IMG" sh -c "$SERVE" >/dev/null
  done
  for t in "${TOOLS[@]}"; do
    wait_http "http://127.0.0.1:${PORT[$t]}/big"
    [ "$HOST_ADDR" = none ] || wait_http "http://$HOST_ADDR:${PORT[$t]}/big"
  done
fi
# n2 (and h2): a host server bound to HOST_ADDR, and a running container of the default network.
if [ "$HOST_ADDR" != none ] && { has n1 || has n2; }; then
  mkdir -p "$WORK/srv"
  dd if=/dev/zero of="$WORK/srv/big" bs=1M count="$SIZE_MB" 2>/dev/null
  "$BUSYBOX" httpd -f -p "$HOST_ADDR:$PORT_S" -h "$WORK/srv" &
  SRV_PID=$!
  wait_http "http://$HOST_ADDR:$PORT_S/big"
fi
if [ "$HOST_ADDR" != none ] && has n2; then
  for t in "${TOOLS[@]}"; do
    tool "$t" run -d --name "$CLI" "$IMG" sleep 1000000 >/dev/null
    out=$(tool "$t" exec "$CLI" sh -c "wget -q -O - http://$HOST_ADDR:$PORT_S/big | wc -c" 2>&1) \
      || die "$t: exec $CLI wget http://$HOST_ADDR:$PORT_S/big failed: $out"
    [ "$out" = "$BYTES" ] || die "$t: exec $CLI wget http://$HOST_ADDR:$PORT_S/big got $out bytes, expected $BYTES"
  done
fi

# n4: a user-defined network, a server and a client on it. podman's name lookup needs a
# name server for its network (netavark's aardvark-dns or CNI's dnsname plugin); without
# one the client gets srv's address by --add-host. A tool that cannot make or use the
# network is dropped from n4 (P4N says why).
# c2c_check T: the client of T fetches http://srv:8080/big whole (up to 30 s for the
# server; at once false if the name is not found)
c2c_check() {
  local i out=""
  for i in $(seq 1 300); do
    out=$(tool "$1" exec "$CLI4" sh -c "wget -q -O - http://$SRV4:8080/big | wc -c" 2>&1) || true
    [ "$out" != "$BYTES" ] || return 0
    [[ $out != *"bad address"* ]] || break
    sleep 0.1
  done
  log "$1: exec $CLI4 wget http://$SRV4:8080/big: $out"
  return 1
}
T4=() P4N="" pnet4=n/a
if has n4; then
  log "burrow: network create $NET, $SRV4 (httpd, $SIZE_MB MiB file) and $CLI4 on it"
  burrow network create "$NET" >/dev/null
  burrow run -d --network "$NET" --name "$SRV4" "$IMG" sh -c "$SERVE" >/dev/null
  burrow run -d --network "$NET" --name "$CLI4" "$IMG" sleep 1000000 >/dev/null
  c2c_check burrow || die "burrow: $CLI4 could not fetch http://$SRV4:8080/big on $NET"
  T4=(burrow)
  if [ -n "$PODMAN" ]; then
    pnet4=$(pod info --format '{{.Host.NetworkBackend}}' 2>/dev/null || echo '?')
    log "podman: network create $NET (backend $pnet4), $SRV4 and $CLI4 on it"
    if ! out=$(pod network create "$NET" 2>&1); then
      P4N="podman network create failed rootless: $(tr '\n' ' ' <<<"$out")"
    elif ! out=$(pod run -d --network "$NET" --name "$SRV4" "$IMG" sh -c "$SERVE" 2>&1); then
      P4N="podman run --network $NET failed rootless: $(tr '\n' ' ' <<<"$out")"
    else
      pod run -d --network "$NET" --name "$CLI4" "$IMG" sleep 1000000 >/dev/null
      if c2c_check podman; then
        pnet4+=",by-name"
      else
        ip4=$(pod inspect "$SRV4" --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}")
        log "podman: $SRV4 is not found by name on $NET; the client again with --add-host $SRV4:$ip4"
        pod rm -f -t 0 "$CLI4" >/dev/null
        pod run -d --network "$NET" --name "$CLI4" --add-host "$SRV4:$ip4" "$IMG" sleep 1000000 >/dev/null
        if c2c_check podman; then pnet4+=",add-host(no-dns)"
        else P4N="podman: the client could not fetch from $SRV4 ($ip4) on $NET"; fi
      fi
    fi
    if [ -n "$P4N" ]; then
      log "podman: n4 skipped ($P4N)"
      pod rm -f -t 0 "$SRV4" "$CLI4" >/dev/null 2>&1 || true
      pod network rm -f "$NET" >/dev/null 2>&1 || true
      pnet4=none
    else
      T4+=(podman)
    fi
  fi
fi

# ---------------------------------------------------------------- timing
bver=$("$BURROW" version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')
pver=n/a prt=n/a
if [ -n "$PODMAN" ]; then
  pver=$("$PODMAN" --version | awk '{print $NF}')
  prt=$(pod info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || echo '?')
fi
echo "# bench/network.sh burrow=$bver podman=$pver podman_runtime=$prt networks=burrow:$bnet,podman:${pnet:-n/a}" \
     "size=${SIZE_MB}MiB host_addr=$HOST_ADDR ports=$PORT_B,$PORT_P,$PORT_S host=$(hostname) cores=$(nproc) kernel=$(uname -r)" \
     "date=$(date -Is) runs=$RUNS warmup=$WARMUP rounds=$ROUNDS user=$(id -un) figures=$(echo $FIGURES | tr ' ' ,)" \
     "load1_before=$(cut -d' ' -f1 /proc/loadavg)"
if has n4; then
  echo "# n4 networks: burrow:switch podman:$pnet4${P4N:+ (podman skipped: $P4N)}"
fi

B="$BURROW ${B_STORE[*]}" P="$PODMAN ${P_STORE[*]}"
declare -A CMD=([burrow]=$B [podman]=$P)
# mbs OUT.json NAME [MINUS_NAME]: BYTES / median (minus MINUS_NAME's median) in MB/s
mbs() {
  jq -r --arg k "$2" --arg m "${3:-}" --argjson bytes "$BYTES" '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    ((.[$k] | med) - (if $m == "" then 0 else (.[$m] | med) end)) as $s
    | if $s > 0 then ($bytes / $s / 1e6 | round | tostring) else "n/a" end' "$1"
}
mbs_line() {  # OUT.json ID FIG LABEL [MINUS_ID]
  local l="$2 $3 $4" t
  for t in "${TOOLS[@]}"; do l+=" $t=$(mbs "$1" "$t $2" "${5:+$t $5}")"; done
  echo "$l"
}

# n1, n1b (and h2): into the container through -p
if has n1; then
I=$WORK/in.json
cmds=()
for t in "${TOOLS[@]}"; do
  cmds+=("$t n1=curl -sf -o /dev/null http://127.0.0.1:${PORT[$t]}/big")
  [ "$HOST_ADDR" = none ] || cmds+=("$t n1b=curl -sf -o /dev/null http://$HOST_ADDR:${PORT[$t]}/big")
done
[ "$HOST_ADDR" = none ] || cmds+=("host h2=curl -sf -o /dev/null http://$HOST_ADDR:$PORT_S/big")
run_hyperfine "$I" "${cmds[@]}"
echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"
report "$I" n1 http_in_p 1
mbs_line "$I" n1 http_in_p MB/s
if [ "$HOST_ADDR" != none ]; then
  report "$I" n1b http_in_p_addr 1
  mbs_line "$I" n1b http_in_p_addr MB/s
  echo "h2 host_direct host $(stats "$I" "host h2") MB/s=$(mbs "$I" "host h2")"
else
  echo "n1b http_in_p_addr n/a (no non-loopback address)"
fi
[ -z "$JSON" ] || cp "$I" "$JSON-network-in.json"
fi

# n2, n2x: out of the container to the host server
if ! has n2; then
  :
elif [ "$HOST_ADDR" != none ]; then
  O=$WORK/out.json
  cmds=()
  for t in "${TOOLS[@]}"; do
    cmds+=("$t n2=${CMD[$t]} exec $CLI wget -q -O /dev/null http://$HOST_ADDR:$PORT_S/big"
           "$t n2x=${CMD[$t]} exec $CLI true")
  done
  run_hyperfine "$O" "${cmds[@]}"
  echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"
  report "$O" n2 http_out 1
  mbs_line "$O" n2 http_out MB/s
  report "$O" n2x exec_true
  mbs_line "$O" n2 http_out "MB/s net of exec" n2x
  [ -z "$JSON" ] || cp "$O" "$JSON-network-out.json"
else
  echo "n2 http_out n/a (no non-loopback address for the host server)"
fi

# cpu: CPU seconds of the whole machine per transfer (one untimed transfer each), from
# /proc/stat (user+nice+system+irq+softirq, in USER_HZ ticks).
cpu_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
cpu_of() {  # CMD...: the CPU seconds of the machine while CMD runs
  local a b hz; hz=$(getconf CLK_TCK)
  a=$(cpu_ticks); "$@" >/dev/null; b=$(cpu_ticks)
  awk -v d=$((b - a)) -v hz="$hz" 'BEGIN {printf "%.2f", d / hz}'
}
l1="cpu n1" l1b="cpu n1b" l2="cpu n2"
for t in "${TOOLS[@]}"; do
  has n1 && l1+=" $t=$(cpu_of curl -sf -o /dev/null "http://127.0.0.1:${PORT[$t]}/big")s"
  if [ "$HOST_ADDR" != none ]; then
    has n1 && l1b+=" $t=$(cpu_of curl -sf -o /dev/null "http://$HOST_ADDR:${PORT[$t]}/big")s"
    # shellcheck disable=SC2086 # CMD is words
    has n2 && l2+=" $t=$(cpu_of ${CMD[$t]} exec "$CLI" wget -q -O /dev/null "http://$HOST_ADDR:$PORT_S/big")s"
  fi
done
unit="(CPU seconds, user+sys, whole machine, per transfer)"
if has n1; then echo "$l1 $unit"; unit=""; fi
if [ "$HOST_ADDR" != none ]; then
  if has n1; then echo "$l1b"; fi
  if has n2; then echo "$l2 host_direct=$(cpu_of curl -sf -o /dev/null "http://$HOST_ADDR:$PORT_S/big")s${unit:+ $unit}"; unit=""; fi
fi

# n4, n4x: container to container by name on a user-defined network
# switch_pid: burrow's switch for NET in this store (its argv: __netswitch and its
# configuration, with the store's run root)
switch_pid() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' < "$f" 2>/dev/null | grep -q "__netswitch .*\"Name\":\"$NET\".*$WORK/burrow/run"; then
      f=${f#/proc/}; echo "${f%/cmdline}"; return 0
    fi
  done
  return 1
}
proc_cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
if has n4; then
  C=$WORK/c2c.json
  cmds=()
  for t in "${T4[@]}"; do
    cmds+=("$t n4=${CMD[$t]} exec $CLI4 wget -q -O /dev/null http://$SRV4:8080/big"
           "$t n4x=${CMD[$t]} exec $CLI4 true")
  done
  run_hyperfine "$C" "${cmds[@]}"
  echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"
  # report and mbs_line over n4's tools (podman may have been dropped from n4 only)
  saved_podman=$PODMAN saved_tools=("${TOOLS[@]}")
  [ -z "$P4N" ] || PODMAN=""
  TOOLS=("${T4[@]}")
  report "$C" n4 c2c_by_name
  mbs_line "$C" n4 c2c_by_name MB/s
  report "$C" n4x exec_true
  ok=$(mbs "$C" "burrow n4" "burrow n4x")
  ok=$(if [ "$ok" != n/a ] && [ "$ok" -ge 500 ]; then echo met; else echo "NOT met"; fi)
  echo "$(mbs_line "$C" n4 c2c_by_name "MB/s net of exec" n4x) (burrow: goal >= 500: $ok)"
  PODMAN=$saved_podman TOOLS=("${saved_tools[@]}")
  [ -z "$JSON" ] || cp "$C" "$JSON-network-c2c.json"
  l4="cpu n4"
  for t in "${T4[@]}"; do
    # shellcheck disable=SC2086 # CMD is words
    l4+=" $t=$(cpu_of ${CMD[$t]} exec "$CLI4" wget -q -O /dev/null "http://$SRV4:8080/big")s"
  done
  if sp=$(switch_pid); then
    a=$(proc_cpu_ticks "$sp")
    # shellcheck disable=SC2086 # CMD is words
    ${CMD[burrow]} exec "$CLI4" wget -q -O /dev/null "http://$SRV4:8080/big"
    b=$(proc_cpu_ticks "$sp")
    l4+=" burrow_switch=$(awk -v d=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", d / hz}')s"
  else
    l4+=" burrow_switch=n/a"
  fi
  echo "$l4${unit:+ $unit}"
  for t in "${T4[@]}"; do
    tool "$t" rm -f "$SRV4" "$CLI4" >/dev/null 2>&1 || true
    tool "$t" network rm "$NET" >/dev/null 2>&1 || true
  done
fi

# n3, n3n: run --rm true with the default network and with none
if has n3; then
for t in "${TOOLS[@]}"; do tool "$t" rm -f "$WEB" "$CLI" >/dev/null 2>&1 || true; done
R=$WORK/run.json
cmds=()
for t in "${TOOLS[@]}"; do
  cmds+=("$t n3=${CMD[$t]} run --rm $IMG true"
         "$t n3n=${CMD[$t]} run --rm --network none $IMG true")
done
run_hyperfine "$R" "${cmds[@]}"
echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"
report "$R" n3 run_true_net 0.1
report "$R" n3n run_true_netnone
l="n3 net_cost"
for t in "${TOOLS[@]}"; do
  l+=" $t=$(jq -r --arg a "$t n3" --arg b "$t n3n" '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    ((.[$a] | med) - (.[$b] | med)) * 10000 | round / 10 | tostring + "ms"' "$R")"
done
ok=$(jq -r '
  def med: sort as $t | length as $n
    | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
  if ((.["burrow n3"] | med) - (.["burrow n3n"] | med)) <= 0.003 then "met" else "NOT met" end' "$R")
echo "$l (default - none, medians; burrow: goal <= 3 ms: $ok)"
[ -z "$JSON" ] || cp "$R" "$JSON-network-run.json"
[ -z "$(burrow ps -a -q)" ] || die "burrow ps -a lists containers after the run figures"
fi
