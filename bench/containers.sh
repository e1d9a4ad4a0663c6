#!/bin/bash
# bench/containers.sh: how long burrow takes to run a container and to list
# containers, next to podman, measured side by side in one run (hyperfine).
# Goals (the issue): `run --rm busybox true` and `ps -a` with 20 containers at
# most a tenth of podman's median.
#
# Usage (root or the bench user):
#   bash bench/containers.sh                  # (make bench runs images.sh only)
#   RUNS=30 WARMUP=5 bash bench/containers.sh
#   BREAKDOWN=1 bash bench/containers.sh      # also the figures that split burrow's run
#
# Run as root, it re-runs itself as BENCH_USER (default builder) with runuser,
# copying the binary (and this script and lib.sh) to a temporary directory first if
# that user cannot reach them. Nothing outside its temporary directory is touched:
# the fixture (a busybox rootfs tarball made from the host's busybox-static)
# and both stores (burrow's and podman's, one image each) are made there and
# removed at exit, also on failure or Ctrl-C. Both stores (graph root and run
# root) are on the same file system, under BENCH_TMP. podman's per-user
# configuration is used as it is (runtime runc, overlay, rootless network
# slirp4netns); only its store is a throw-away one (--root/--runroot).
#
# Figures (the ids of the peers bench, /work/shared/bench/peers/README.md):
#   a1 run_true          `run --rm busybox true`, default network: podman's slirp4netns,
#                        burrow's host network (burrow has no user-mode network yet)
#   a2 run_true_netnone  `run --rm --network none busybox true`
#   a3 run_true_nethost  `run --rm --network host busybox true`
#   a4 exec_true         `exec N true` into a running container (`run -d --name N busybox sleep
#                        1000000`, podman's with --network none); burrow's only if it has exec
#   g2 ps_a_20           `ps -a` with 20 exited containers (made by `run --name cN busybox true`)
#   x1 run_d_rm_f        burrow only: `run -d --name N busybox sleep 1000000` then `rm -f N`,
#                        both in one `sh -c` (so it includes one sh start, ≈1 ms)
#
# Output (stdout), one line per figure and tool; hyperfine's own report goes to stderr:
#   a1 run_true burrow median=…s mean=…s sd=…s min=…s max=…s n=…
#   a1 run_true podman median=…s …
#   a1 run_true ratio burrow/podman median=… mean=… (goal <= 0.1: met|NOT met)
#   …
#
# Env:
#   BURROW      burrow binary (default: bin/burrow of this checkout; build it with `make build`)
#   PODMAN      podman binary (default: podman from PATH; PODMAN=none skips podman)
#   BENCH_USER  unprivileged user the bench runs as when started by root (default builder)
#   RUNS        timed runs per command (default 20)
#   WARMUP      untimed runs per command before timing (default 3)
#   ROUNDS      1 (default): one hyperfine invocation per group of figures. N > 1: N
#               invocations, RUNS/N runs each, the command order reversed every other
#               round, times pooled: podman and burrow then share any drift of the machine.
#   N_CONTAINERS exited containers per store for g2 (default 20)
#   BREAKDOWN   1: also time the pieces of burrow's `run --rm` and `ps -a` by difference
#               (see the BREAKDOWN section below; bench/run-phases.sh splits `run --rm`
#               phase by phase with perf trace)
#   WAIT_QUIET  1 (default): before each hyperfine invocation, wait (at most QUIET_MAX s,
#               default 60) until the machine's CPU busy % is at most QUIET_PCT (default 10)
#   BUSYBOX     static busybox for the fixture (default /bin/busybox, package busybox-static)
#   BENCH_TMP   where the temporary directory (binary copy, both stores) goes (default
#               ${TMPDIR:-/tmp})
#   JSON        if set, the pooled times ({"command name": [seconds, ...]}) are copied to
#               this path prefix (writable by the bench user): $JSON-run.json, $JSON-exec.json,
#               $JSON-ps.json, $JSON-breakdown.json
set -euo pipefail
# Common knobs, the re-run as BENCH_USER, the fixture, the temporary directory and its
# cleanup, and the timing helpers (run_hyperfine, stats, ratio): bench/lib.sh.
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
N_CONTAINERS=${N_CONTAINERS:-20}
BENCH_KNOBS+=(N_CONTAINERS)

bench_check_burrow
bench_become_user "$@"

# ---------------------------------------------------------------- as the bench user
bench_check_tools hyperfine jq tar
bench_detect_podman
# The binary's copy is in a directory of its own (WORK/bin), and the paths are short:
# libcontainer seals the binary for the container's init with an overlayfs whose lower
# layers are the binary's directory and the container's state directory
# (RUNROOT/overlay-containers/ID/userdata/runtime/ID before a032f61, RUNROOT/rt/ID
# since). overlayfs refuses lower layers inside one another (ELOOP), and fsconfig takes
# at most 255 bytes for the lowerdir option (EINVAL); either way libcontainer falls back
# to copying the 19 MB binary into a memfd for every container, ≈10 ms more per run.
bench_start_work burrow-bench-ctr
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
# The longer (pre-a032f61) layout, so an upper bound:
# "$WORK/bin/:$WORK/burrow/run/overlay-containers/ID/userdata/runtime/ID"
seal_len=$(( ${#WORK} + 5 + 1 + ${#WORK} + 11 + 20 + 64 + 18 + 64 ))
if [ "$seal_len" -le 255 ]; then exe_seal=overlay
else
  exe_seal="memfd-copy(lowerdir=${seal_len}B>255)"
  log "warning: the exe-sealing lowerdir would be $seal_len bytes (> 255): burrow may copy its binary into a memfd for every container (hint: a shorter BENCH_TMP)"
fi
burrow() { "$BURROW" "${B_STORE[@]}" "$@"; }
IMG=busybox
RT_NAME=bench-rt   # x1's container
BD_NAME=bench-bd   # the breakdown's create/rm container
EX_NAME=bench-exec # a4's running container
cleanup_stores() {
  local out
  if [ -d "$WORK/burrow" ]; then
    # A detached container interrupted mid-figure would keep its monitor and sleep.
    burrow rm -f "$RT_NAME" "$EX_NAME" >/dev/null 2>&1
    out=$(burrow system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
}

TAR=$WORK/busybox-rootfs.tar
make_rootfs_tar "$TAR"

# ---------------------------------------------------------------- stores with the image
log "burrow: importing $IMG into $WORK/burrow"
mkdir -p "$WORK/burrow"
burrow import -q --change 'CMD ["/bin/sh"]' "$TAR" "$IMG" >/dev/null
out=$(burrow run --rm "$IMG" echo ok 2>&1) || die "burrow run --rm $IMG echo ok failed: $out"
[ "$out" = ok ] || die "burrow run --rm $IMG echo ok printed: $out"
[ -z "$(burrow ps -a -q)" ] || die "burrow ps -a lists containers after run --rm"

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
    # podman's default rootless network (4.x): slirp4netns, whose device is tap0.
    if grep -q tap0 <<<"$out"; then pnet=slirp4netns; else pnet="not slirp4netns: $(awk -F: 'NR > 2 {printf "%s", $1}' <<<"$out")"; fi
    log "podman: default network $pnet"
    [ -z "$(pod ps -a -q)" ] || die "podman ps -a lists containers after run --rm"
  fi
fi

# ---------------------------------------------------------------- timing
bver=$("$BURROW" version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')
pver=n/a pdrv=n/a prt=n/a
if [ -n "$PODMAN" ]; then
  pver=$("$PODMAN" --version | awk '{print $NF}')
  pdrv=$(pod info --format '{{.Store.GraphDriverName}}' 2>/dev/null || echo '?')
  prt=$(pod info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || echo '?')
  prt_path=$(pod info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null || true)
  [ ! -x "$prt_path" ] || prt="$prt-$("$prt_path" --version | awk 'NR == 1 {print $3}')"
fi
bdrv=$(burrow info --format '{{.Store.Driver}}' 2>/dev/null || echo '?')
echo "# bench/containers.sh burrow=$bver podman=$pver drivers=burrow:$bdrv,podman:$pdrv podman_runtime=$prt" \
     "containers=$N_CONTAINERS host=$(hostname) cores=$(nproc) kernel=$(uname -r) date=$(date -Is)" \
     "runs=$RUNS warmup=$WARMUP rounds=$ROUNDS user=$(id -un) exe_seal=$exe_seal load1_before=$(cut -d' ' -f1 /proc/loadavg)"

# -------------------------------------------------- a1-a3, x1: run --rm true, run -d + rm -f
J=$WORK/run.json
B="$BURROW ${B_STORE[*]}" P="$PODMAN ${P_STORE[*]}"
cmds=()
if [ -n "$PODMAN" ]; then
  cmds+=("podman a1=$P run --rm $IMG true"
         "podman a2=$P run --rm --network none $IMG true"
         "podman a3=$P run --rm --network host $IMG true")
fi
cmds+=("burrow a1=$B run --rm $IMG true"
       "burrow a2=$B run --rm --network none $IMG true"
       "burrow a3=$B run --rm --network host $IMG true"
       "burrow x1=sh -c '$B run -d --name $RT_NAME $IMG sleep 1000000 >/dev/null && $B rm -f $RT_NAME >/dev/null'")
run_hyperfine "$J" "${cmds[@]}"
echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"
report "$J" a1 run_true 0.1
report "$J" a2 run_true_netnone 0.1
report "$J" a3 run_true_nethost 0.1
echo "x1 run_d_rm_f burrow $(stats "$J" "burrow x1")"
[ -z "$JSON" ] || cp "$J" "$JSON-run.json"
[ -z "$(burrow ps -a -q)" ] || die "burrow ps -a lists containers after the run figures"

# ---------------------------------------------------------------- BREAKDOWN=1: where burrow's run time goes
# `run --rm busybox true` = process start (exec + Go runtime + package init + CLI, as
#                   `burrow version`, which enters no namespace)
#                 + entering the user and mount namespace (setuid newuidmap/newgidmap:
#                   `burrow unshare /bin/true`, which also execs /bin/true)
#                 + store open (`ps -a` of a store without containers also lists nothing)
#                 + container record and its layer (`create` - `ps -a`)
#                 + start to exit: mount the layer, /etc files, spec, libcontainer (init
#                   re-exec, exe sealing, mounts, pivot_root, exec of true), wait, unmount,
#                   state records (run - create - rm + ps -a: the rest)
#                 + removal of the record and the layer (`rm` - `ps -a`)
# Each piece is the difference of medians, so it is approximate. Every command goes
# through env(1) (`true` is the floor), so that all pay the same extra exec.
# Names: true, version, unshare, ps_empty (`ps -a`, no containers), create, rm, run_rm.
if [ "$BREAKDOWN" = 1 ]; then
  K=$WORK/breakdown.json
  PREP["create"]="sh -c '$B rm -f $BD_NAME >/dev/null 2>&1; true'"
  PREP["rm"]="sh -c '$B rm -f $BD_NAME >/dev/null 2>&1; $B create --name $BD_NAME $IMG true >/dev/null'"
  bd=("true=env /bin/true"
      "version=env $BURROW version"
      "unshare=env $BURROW unshare /bin/true"
      "ps_empty=env $B ps -a"
      "create=env $B create --name $BD_NAME $IMG true"
      "rm=env $B rm $BD_NAME"
      "run_rm=env $B run --rm $IMG true")
  run_hyperfine "$K" "${bd[@]}"
  PREP=()
  burrow rm -f "$BD_NAME" >/dev/null 2>&1 || true
  for c in "${bd[@]}"; do
    k=${c%%=*}
    printf 'breakdown %-9s %s\n' "$k" "$(stats "$K" "$k")"
  done
  jq -r '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    def ms: (. * 10000 | round / 10) as $x | (if $x == 0 then 0 else $x end) | tostring + " ms";
    (map_values(med)) as $m | $m.ps_empty as $ps
    | "breakdown split of `run --rm busybox true` (differences of the medians above):",
      "  process start: exec + Go runtime + package init + CLI (version - true)                \(($m.version - $m.true) | ms)",
      "  user + mount namespace, newuidmap/newgidmap           (unshare - version)             \(($m.unshare - $m.version) | ms)",
      "  store open, empty container list                      (ps -a - unshare)               \(($ps - $m.unshare) | ms)",
      "  container record + layer                              (create - ps -a)                \(($m.create - $ps) | ms)",
      "  start to exit: mount, libcontainer, true, unmount     (run - create - rm + ps -a)     \(($m.run_rm - $m.create - $m.rm + $ps) | ms)",
      "  removal of record + layer                             (rm - ps -a)                    \(($m.rm - $ps) | ms)",
      "  total                                                 (run --rm - true)               \(($m.run_rm - $m.true) | ms)"' "$K"
  [ -z "$JSON" ] || cp "$K" "$JSON-breakdown.json"
fi

# ---------------------------------------------------------------- a4: exec true into a running container
# podman's figure is always taken (for reference); burrow's when the binary has exec.
X=$WORK/exec.json
cmds=()
if "$BURROW" exec --help >/dev/null 2>&1; then
  burrow run -d --name "$EX_NAME" "$IMG" sleep 1000000 >/dev/null
  cmds+=("burrow a4=$B exec $EX_NAME true")
fi
if [ -n "$PODMAN" ]; then
  pod run -d --network none --name "$EX_NAME" "$IMG" sleep 1000000 >/dev/null
  cmds+=("podman a4=$P exec $EX_NAME true")
fi
if [ "${#cmds[@]}" -gt 0 ]; then
  run_hyperfine "$X" "${cmds[@]}"
  [ -z "$JSON" ] || cp "$X" "$JSON-exec.json"
fi
if [[ " ${cmds[*]} " == *"burrow a4="* ]]; then
  if [ -n "$PODMAN" ]; then report "$X" a4 exec_true; else echo "a4 exec_true burrow $(stats "$X" "burrow a4")"; fi
  burrow rm -f "$EX_NAME" >/dev/null
else
  echo "a4 exec_true burrow n/a (this burrow has no exec command)"
  [ -z "$PODMAN" ] || echo "a4 exec_true podman $(stats "$X" "podman a4")"
fi
[ -z "$PODMAN" ] || pod rm -f -t 0 "$EX_NAME" >/dev/null

# ---------------------------------------------------------------- g2: ps -a with N exited containers
log "burrow: making $N_CONTAINERS exited containers"
for i in $(seq 1 "$N_CONTAINERS"); do burrow run --name "c$i" "$IMG" true; done
n=$(burrow ps -a -q | wc -l)
[ "$n" = "$N_CONTAINERS" ] || die "burrow ps -a -q lists $n containers, expected $N_CONTAINERS"
if [ -n "$PODMAN" ]; then
  log "podman: making $N_CONTAINERS exited containers"
  for i in $(seq 1 "$N_CONTAINERS"); do pod run --name "c$i" "$IMG" true; done
  n=$(pod ps -a -q | wc -l)
  [ "$n" = "$N_CONTAINERS" ] || die "podman ps -a -q lists $n containers, expected $N_CONTAINERS"
fi
G=$WORK/ps.json
cmds=()
[ -z "$PODMAN" ] || cmds+=("podman g2=$P ps -a")
cmds+=("burrow g2=$B ps -a")
run_hyperfine "$G" "${cmds[@]}"
echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"
report "$G" g2 "ps_a_$N_CONTAINERS" 0.1
[ -z "$JSON" ] || cp "$G" "$JSON-ps.json"
if [ "$BREAKDOWN" = 1 ]; then
  # `ps -a` = process start + namespace + store open with an empty list (the breakdown
  # above, timed before the containers existed) + reading and printing N containers.
  jq -r -s --arg n "$N_CONTAINERS" '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    def ms: (. * 10000 | round / 10) as $x | (if $x == 0 then 0 else $x end) | tostring + " ms";
    (.[0] | map_values(med)) as $m | (.[1]["burrow g2"] | med) as $ps
    | "breakdown split of `ps -a` with \($n) containers (differences of medians; ps -a from the g2 run):",
      "  process start: exec + Go runtime + package init + CLI (version - true)                \(($m.version - $m.true) | ms)",
      "  user + mount namespace, newuidmap/newgidmap           (unshare - version)             \(($m.unshare - $m.version) | ms)",
      "  store open, empty container list                      (ps -a empty - unshare)         \(($m.ps_empty - $m.unshare) | ms)",
      "  \($n) containers: records, state files, table           (ps -a - ps -a empty)           \(($ps - $m.ps_empty) | ms)",
      "  total                                                 (ps -a - true)                  \(($ps - $m.true) | ms)"' "$K" "$G"
fi
