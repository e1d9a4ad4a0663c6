#!/bin/bash
# bench/run-phases.sh: where the time of burrow's `run --rm busybox true` goes, phase by
# phase, from the timestamps of the system calls that mark each phase's start.
#
# The calls are recorded with `perf trace` (syscall tracepoints filtered in the kernel):
# unlike strace it does not stop the traced process at every call, so the run takes
# about 1.2-1.4x its untraced time instead of 3-6x, and it uses no ptrace, so the setuid
# newuidmap and newgidmap of full mode keep working. Only the marker calls are recorded
# (execve, clone, mount, fdatasync, ...); perf trace has no file names here (the
# vfs_getname probe needs kprobes), so the phases are told apart by the order of the calls,
# which `strace -f` in single-id mode shows with names (see RESULTS.md).
#
# Usage (as root: perf trace needs it; each run is started as BENCH_USER):
#   bash bench/run-phases.sh
#   N=30 MODES=full bash bench/run-phases.sh
#
# Output: per mode, the untimed-by-perf hyperfine time of the same command for scale,
# then the median of each phase over N traced runs (ms) and what it holds.
#
# Env:
#   BURROW      burrow binary (default: bin/burrow of this checkout)
#   BENCH_USER  unprivileged user the runs are made as (default builder)
#   N           traced runs per mode (default 15)
#   MODES       id-mapping modes to trace (default "full single")
#   BUSYBOX     static busybox for the fixture (default /bin/busybox)
#   BENCH_TMP   where the temporary directory goes (default ${TMPDIR:-/tmp})
#   KEEP        1: keep the traces (the directory is printed)
#   BURROW_INIT libcontainer: trace libcontainer's container init instead of burrow's C init
set -euo pipefail
# Common knobs (BURROW, BENCH_USER, BUSYBOX, BENCH_TMP), as_user, the fixture and the
# temporary directory with its cleanup: bench/lib.sh.
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
N=${N:-15}
MODES=${MODES:-full single}
KEEP=${KEEP:-0}

[ "$(id -u)" = 0 ] || die "run as root (perf trace needs it); the runs are made as BENCH_USER=$BENCH_USER"
bench_check_burrow
bench_check_tools perf python3 hyperfine runuser tar
id "$BENCH_USER" >/dev/null 2>&1 || die "no user $BENCH_USER"

# A directory of its own for the binary, short paths (see containers.sh: exe sealing).
bench_start_work burrow-phases
chmod 755 "$WORK"
mkdir "$WORK/trace"
chown "$BENCH_USER" "$WORK/trace"
[ "$KEEP" != 1 ] || KEEP_IN_WORK=trace
B=$BURROW
store() { echo "--root $WORK/$1/root --runroot $WORK/$1/run"; }
cleanup_stores() {
  local m
  for m in $MODES; do
    # shellcheck disable=SC2046 # store() is a flag list
    [ ! -d "$WORK/$m" ] || as_user env BURROW_USERNS="$m" "$B" $(store "$m") system reset -f >/dev/null 2>&1 \
      || log "cleanup: burrow system reset ($m) failed"
  done
}

# Fixture: the busybox rootfs tarball of containers.sh.
make_rootfs_tar "$WORK/busybox.tar"
chmod 644 "$WORK/busybox.tar"

EVENTS=execve,clone,clone3,unshare,mount,umount2,pivot_root,fsopen,fsmount,fdatasync,fsync,exit_group,setns,renameat,renameat2,mkdirat,flock,wait4,waitid
echo "# bench/run-phases.sh burrow=$("$B" version --format '{{.GitCommit}}' 2>/dev/null || echo '?') host=$(hostname) cores=$(nproc) kernel=$(uname -r) date=$(date -Is) n=$N"
for m in $MODES; do
  S=$(store "$m")
  mkdir -p "$WORK/$m"; chown "$BENCH_USER" "$WORK/$m"
  # shellcheck disable=SC2086
  as_user env BURROW_USERNS="$m" "$B" $S import -q --change 'CMD ["/bin/sh"]' "$WORK/busybox.tar" busybox >/dev/null 2>"$WORK/trace/$m-import.log"
  cmd="env BURROW_USERNS=$m ${BURROW_INIT:+BURROW_INIT=$BURROW_INIT} $B $S run --rm busybox true"
  as_user hyperfine -N --style basic --runs 20 --warmup 3 --export-json "$WORK/trace/$m-hyperfine.json" "$cmd" >/dev/null 2>&1
  untraced=$(python3 -c 'import json,statistics,sys; print("%.1f" % (1000 * statistics.median(json.load(open(sys.argv[1]))["results"][0]["times"])))' "$WORK/trace/$m-hyperfine.json")
  for i in $(seq 1 "$N"); do
    # shellcheck disable=SC2086
    perf trace -e "$EVENTS" -o "$WORK/trace/$m-$i.txt" -- runuser -u "$BENCH_USER" -- $cmd >/dev/null 2>&1 \
      || die "traced run $i ($m) failed (see $WORK/trace/$m-$i.txt)"
  done
  echo "## mode $m: untraced median ${untraced} ms (hyperfine, 20 runs); traced:"
  python3 - "$WORK"/trace/"$m"-[0-9]*.txt <<'EOF'
import re, statistics, sys
# "    12.345 ( 0.012 ms): comm/tid syscall(args) = ret"; an unfinished call ends in "..."
# and returns on a later "comm/tid  ... [continued]: syscall()) = ret" line (time "?" at times).
LINE = re.compile(r'^\s*([\d.]+|\?) \(\s*[\d.]*\s*(?:ms)?\): (.*?)/(\d+) (.*)$')

def events(path):
    """Calls by start time, each tagged with its process: "main" (the burrow command
    and its threads), "child" (processes it forks: the id mappers' helper, the
    container's init and what that forks) or "other" (runuser, env)."""
    out, parent = [], {}
    for line in open(path):
        m = LINE.match(line)
        if not m:
            continue
        tid, rest = int(m.group(3)), m.group(4).lstrip()
        call = rest.split('(', 1)[0] if not rest.startswith('...') else rest.split(': ', 1)[1].split('(', 1)[0]
        ret = re.search(r'\) += (\d+)', rest)
        if call in ('clone', 'clone3') and ret and int(ret.group(1)) > 0:
            parent[int(ret.group(1))] = (tid, call)   # child tid -> (parent tid, thread or process)
        if m.group(1) != '?' and not rest.startswith('...'):
            out.append((float(m.group(1)), m.group(2), call, rest, tid))
    out.sort(key=lambda e: e[0])
    b0 = next((e for e in out if e[1] == 'burrow' and e[2] != 'execve'), None)
    if b0 is None:
        sys.exit(f'{path}: no burrow process')
    root = b0[4]
    def group(tid, depth=0):
        if tid == root:
            return 'main'
        if tid not in parent or depth > 50:
            return 'other'
        p, how = parent[tid]
        g = group(p, depth + 1)
        if g == 'main' and how == 'clone':
            return 'child'
        return g
    return [(t, comm, call, rest, group(tid)) for t, comm, call, rest, tid in out], b0[0]

def markers(evb, path):
    ev, b0 = evb
    M = {}
    def first(key, after, pred):
        for e in ev:
            if e[0] >= after and pred(e):
                M[key] = e[0]
                return e[0]
        sys.exit(f'{path}: no marker {key}')
    main = lambda e, call: e[4] == 'main' and e[2] == call
    init = lambda e, call: e[4] == 'child' and e[2] == call
    # The execve that became burrow: the last one started before burrow's first other call
    # (its line may carry the old name when perf splits it into start and "[continued]").
    t = M['exec'] = max(e[0] for e in ev if e[2] == 'execve' and e[0] <= b0)
    t = first('go', t, lambda e: main(e, 'clone3'))                  # first Go thread
    t = first('store', t, lambda e: main(e, 'mkdirat'))              # c/storage: XDG runtime dir probe
    t = first('create', t, lambda e: main(e, 'flock'))               # burrow's write lock
    t = first('ovl', t, lambda e: main(e, 'mount') and 'data:' in e[3] and 'flags' not in e[3])
    # containers/storage's mountpoints.json put in place; an ephemeral (`run --rm`)
    # container has none, and its prepare starts right after the overlay mount.
    sync = next((e[0] for e in ev if e[0] >= t and main(e, 'fdatasync')), None)
    # The container's init: burrow's C init is a fork into new namespaces
    # (clone with NEWPID); libcontainer's, a vfork + execve of the binary.
    cinit = lambda e: main(e, 'clone') and 'NEWPID' in e[3]
    lcinit = lambda e: main(e, 'clone') and 'VFORK' in e[3]
    M['cinit'] = any(e[0] >= t and cinit(e) for e in ev)
    spawned = cinit if M['cinit'] else lcinit
    spawn = next((e[0] for e in ev if e[0] >= t and spawned(e)), None)
    if sync is not None and spawn is not None and sync < spawn:
        t = first('prepare', sync, lambda e: main(e, 'renameat'))
    else:
        M['prepare'] = t
    if M['cinit']:
        t = M['seal'] = M['spawn'] = spawn                           # no exe sealing
    else:
        t = first('seal', t, lambda e: main(e, 'fsopen'))            # exeseal overlay
        t = first('spawn', t, spawned)
    t = first('mounts', t, lambda e: init(e, 'mount'))
    t = first('pivot', t, lambda e: init(e, 'pivot_root'))
    t = first('exectrue', t, lambda e: init(e, 'execve'))
    M['masked'] = max(e[0] for e in ev if init(e, 'mount') and e[0] < t)
    t = first('trueexit', t, lambda e: init(e, 'exit_group'))
    # DeleteContainer: its write lock, or for an ephemeral container the unmount
    t = first('delete', t, lambda e: main(e, 'flock') or main(e, 'umount2'))
    M['exit'] = max(e[0] for e in ev if main(e, 'exit_group'))
    return M

ROWS = [
    ('exec', 'go', 'exec of the 25 MB binary, C constructor: unshare user + mount ns, id maps (started)'),
    ('go', 'store', 'Go runtime, package init, CLI, config, session'),
    ('store', 'create', 'store open: c/storage driver probes, bind mount of overlay home, locks, JSON'),
    ('create', 'ovl', 'container record + layer: lookup, layer dirs, JSON (c/storage: 2x mountpoints.json+fdatasync)'),
    ('ovl', 'prepare', 'overlay mount of the layer (c/storage: + mountpoints.json+fdatasync)'),
    ('prepare', 'seal', 'prepare: user lookup, hosts/hostname/resolv.conf, dirs, spec, libcontainer.Create'),
    ('seal', 'spawn', 'exe sealing (fsopen/fsmount overlay of the binary\'s dir), pidfd probe'),
    ('spawn', 'mounts', 'init re-exec: vfork + execve of the binary as init, nsexec (C), Go start of init'),
    ('mounts', 'pivot', 'rootfs mounts: /proc, /dev tmpfs, devpts, shm, mqueue, /sys, /etc files, 6 devices'),
    ('pivot', 'masked', 'pivot_root, hostname, masked and read-only /proc, /sys paths'),
    ('masked', 'exectrue', 'caps, seccomp, exec.fifo handshake, state records'),
    ('exectrue', 'trueexit', 'execve of /bin/true (busybox) and its run'),
    ('trueexit', 'delete', 'teardown: wait, libcontainer destroy, unmount + mountpoints.json+fdatasync, state'),
    ('delete', 'exit', 'removal: unmount, layer dirs removed, records (c/storage: + mountpoints.json, tempdirs, 2x fdatasync)'),
]
# With burrow's C init (run/internal/cinit), the rows from the spawn differ:
CINIT_ROWS = {
    'prepare': 'prepare: user lookup, hosts/hostname/resolv.conf, mount points, spec, seccomp filter (cached)',
    'seal': '(no exe sealing: the C init runs no second binary)',
    'spawn': 'fork of burrow into the new namespaces (clone), signals and stdio reset, setns of the network',
    'masked': 'seccomp, capabilities, ids, wait for the state record, close-on-exec',
    'trueexit': 'teardown: wait, namespaces torn down, state',
}
runs = [markers(events(p), p) for p in sys.argv[1:]]
if all(r['cinit'] for r in runs):
    ROWS = [(a, b, CINIT_ROWS.get(a, what)) for a, b, what in ROWS]
    print('# container init: burrow\'s C init (BURROW_INIT=libcontainer traces libcontainer\'s)')
total = statistics.median(r['exit'] - r['exec'] for r in runs)
for a, b, what in ROWS:
    v = statistics.median(r[b] - r[a] for r in runs)
    print(f'phase {a:>8}-{b:<8} {v:5.1f} ms {100 * v / total:3.0f}%  {what}')
print(f'phase total             {total:5.1f} ms       execve -> exit_group, median of {len(runs)} traced runs')
EOF
done
