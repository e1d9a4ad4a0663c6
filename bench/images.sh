#!/bin/bash
# bench/images.sh: how long `burrow images` takes with 20 images, next to
# `podman images` with 20 images, measured side by side in one hyperfine run.
# Goal (the issue): burrow's median is under a tenth of podman's.
#
# Usage (root or the bench user):
#   bash bench/images.sh                  # or: make bench
#   RUNS=30 WARMUP=5 bash bench/images.sh
#   BREAKDOWN=1 bash bench/images.sh      # also the figures that split burrow's time
#
# Run as root, it re-runs itself as BENCH_USER (default builder) with runuser,
# copying the binary (and this script and lib.sh) to a temporary directory first if
# that user cannot reach them. Nothing outside its temporary directory is touched:
# the fixture (a busybox rootfs tarball made from the host's busybox-static)
# and both stores (burrow's and podman's, 20 images each) are made there and
# removed at exit, also on failure or Ctrl-C. podman's per-user configuration
# is used as it is; only its store is a throw-away one (--root/--runroot).
#
# Output (stdout), one line per figure; hyperfine's own report goes to stderr:
#   g1 images_20 burrow median=…s mean=…s sd=…s min=…s max=…s n=…
#   g1 images_20 podman median=…s mean=…s sd=…s min=…s max=…s n=…
#   g1 images_20 ratio burrow/podman median=… mean=… (goal < 0.1: met|NOT met)
#   g1 images_20_q burrow …          (`burrow images -q`)
#   g1 version burrow …              (`burrow version`: process start, no namespace, no store)
#
# Env:
#   BURROW      burrow binary (default: bin/burrow of this checkout; build it with `make build`)
#   PODMAN      podman binary (default: podman from PATH; PODMAN=none skips podman)
#   BENCH_USER  unprivileged user the bench runs as when started by root (default builder)
#   RUNS        timed runs per command (default 20)
#   WARMUP      untimed runs per command before timing (default 3)
#   ROUNDS      1 (default): one hyperfine invocation with every command (hyperfine runs
#               the commands one after the other). N > 1: N invocations, RUNS/N runs each,
#               the command order reversed every other round, times pooled: podman and
#               burrow then share any drift of a machine that has other work.
#   N_IMAGES    images per store (default 20)
#   BREAKDOWN   1: also time the pieces of `burrow images` (see the end of this file)
#   WAIT_QUIET  1 (default): before each hyperfine invocation, wait (at most QUIET_MAX s,
#               default 60) until the machine's CPU busy % is at most QUIET_PCT (default 10);
#               0: do not wait
#   BUSYBOX     static busybox for the fixture (default /bin/busybox, package busybox-static)
#   BENCH_TMP   where the temporary directory goes (default ${TMPDIR:-/tmp})
#   JSON        if set, the pooled times ({"command name": [seconds, ...]}) are copied to
#               this path prefix (writable by the bench user): $JSON-main.json, $JSON-breakdown.json
set -euo pipefail
# Common knobs, the re-run as BENCH_USER, the fixture, the temporary directory and its
# cleanup, and the timing helpers (run_hyperfine, stats, ratio): bench/lib.sh.
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
N_IMAGES=${N_IMAGES:-20}
BENCH_KNOBS+=(N_IMAGES)

bench_check_burrow
bench_become_user "$@"

# ---------------------------------------------------------------- as the bench user
bench_check_tools hyperfine jq tar
bench_detect_podman
bench_start_work burrow-bench-images
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
B_EMPTY=(--root "$WORK/burrow-empty/root" --runroot "$WORK/burrow-empty/run")
burrow() { "$BURROW" "$@"; }
cleanup_stores() {
  local out
  if [ -d "$WORK/burrow" ]; then
    out=$(burrow "${B_STORE[@]}" system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
  if [ -d "$WORK/burrow-empty" ]; then
    out=$(burrow "${B_EMPTY[@]}" system reset -f 2>&1) || log "cleanup: burrow system reset (empty store) failed: $out"
  fi
}

TAR=$WORK/busybox-rootfs.tar
make_rootfs_tar "$TAR"

# ---------------------------------------------------------------- stores with N_IMAGES images
REPO=localhost/bench

log "burrow: importing $N_IMAGES images into $WORK/burrow"
mkdir -p "$WORK/burrow"
for i in $(seq 1 "$N_IMAGES"); do
  burrow "${B_STORE[@]}" import -q --change 'CMD ["/bin/sh"]' --change "LABEL bench.n=$i" "$TAR" "$REPO:img$i" >/dev/null
done
mkdir -p "$WORK/burrow-empty"
n=$(burrow "${B_STORE[@]}" images -q | wc -l)
[ "$n" = "$N_IMAGES" ] || die "burrow images -q lists $n images, expected $N_IMAGES"
n=$(burrow "${B_STORE[@]}" images -q | sort -u | wc -l)
[ "$n" = "$N_IMAGES" ] || die "burrow has only $n distinct image IDs, expected $N_IMAGES"

if [ -n "$PODMAN" ]; then
  log "podman: importing $N_IMAGES images into $WORK/podman"
  mkdir -p "$WORK/podman"; podman_used=1
  if ! err=$(pod import -q --change 'CMD ["/bin/sh"]' --change "LABEL bench.n=1" "$TAR" "$REPO:img1" 2>&1 >/dev/null); then
    log "podman: skipped (import into a throw-away store failed: $err)"
    PODMAN=""
  else
    for i in $(seq 2 "$N_IMAGES"); do
      pod import -q --change 'CMD ["/bin/sh"]' --change "LABEL bench.n=$i" "$TAR" "$REPO:img$i" >/dev/null
    done
    n=$(pod images -q --no-trunc | sort -u | wc -l)
    [ "$n" = "$N_IMAGES" ] || die "podman images lists $n distinct images, expected $N_IMAGES"
  fi
fi

# ---------------------------------------------------------------- timing
bver=$(burrow version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')
pver=n/a
[ -z "$PODMAN" ] || pver=$("$PODMAN" --version | awk '{print $NF}')
bdrv=$(burrow "${B_STORE[@]}" info --format '{{.Store.Driver}}' 2>/dev/null || echo '?')
pdrv=n/a
[ -z "$PODMAN" ] || pdrv=$(pod info --format '{{.Store.GraphDriverName}}' 2>/dev/null || echo '?')
echo "# bench/images.sh burrow=$bver podman=$pver drivers=burrow:$bdrv,podman:$pdrv images=$N_IMAGES" \
     "host=$(hostname) cores=$(nproc) kernel=$(uname -r) date=$(date -Is) runs=$RUNS warmup=$WARMUP rounds=$ROUNDS" \
     "user=$(id -un) busy_before=$(wait_quiet)% load1_before=$(cut -d' ' -f1 /proc/loadavg)"

J=$WORK/main.json
cmds=()
[ -z "$PODMAN" ] || cmds+=("podman images=$PODMAN ${P_STORE[*]} images")
cmds+=("burrow images=$BURROW ${B_STORE[*]} images"
       "burrow images -q=$BURROW ${B_STORE[*]} images -q"
       "burrow version=$BURROW version")
run_hyperfine "$J" "${cmds[@]}"
echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"

echo "g1 images_$N_IMAGES burrow $(stats "$J" 'burrow images')"
if [ -n "$PODMAN" ]; then
  echo "g1 images_$N_IMAGES podman $(stats "$J" 'podman images')"
  echo "g1 images_$N_IMAGES ratio burrow/podman $(ratio "$J" 'burrow images' 'podman images' 0.1 '<')"
else
  echo "g1 images_$N_IMAGES podman n/a (skipped)"
  echo "g1 images_$N_IMAGES ratio burrow/podman n/a"
fi
echo "g1 images_${N_IMAGES}_q burrow $(stats "$J" 'burrow images -q')"
echo "g1 version burrow $(stats "$J" 'burrow version')"
[ -z "$JSON" ] || cp "$J" "$JSON-main.json"

# ---------------------------------------------------------------- BREAKDOWN=1: where burrow's time goes
# `burrow images` = exec + Go runtime + package init + flags/config (as `burrow version`,
#                   which enters no namespace)
#                 + entering a user and mount namespace: in full mode the setuid newuidmap
#                   and newgidmap map the subordinate ranges, in single mode the process
#                   writes its one-id maps itself (`burrow unshare /bin/true` does just that,
#                   plus an exec of /bin/true)
#                 + store open (containers/storage: locks, driver probe, JSON of
#                   images/containers/layers) + listing + printing + store shutdown.
# Each piece is the difference of two medians, so it is approximate (each side has its
# own noise). Every command goes through env(1), so that all pay the same extra exec.
if [ "$BREAKDOWN" = 1 ]; then
  K=$WORK/breakdown.json
  bd=("true=env /bin/true"
      "version=env BURROW_USERNS=full $BURROW version"
      "unshare single=env BURROW_USERNS=single $BURROW unshare /bin/true"
      "unshare full=env BURROW_USERNS=full $BURROW unshare /bin/true"
      "images empty store=env BURROW_USERNS=full $BURROW ${B_EMPTY[*]} images"
      "images full store=env BURROW_USERNS=full $BURROW ${B_STORE[*]} images")
  # The same id mapping by util-linux, as a cross-check of the newuidmap/newgidmap cost.
  if unshare --help 2>/dev/null | grep -q -- --map-auto && unshare --map-auto --map-root-user true 2>/dev/null; then
    bd+=("unshare -Ur=env unshare -Ur /bin/true" "unshare map-auto=env unshare --map-auto --map-root-user /bin/true")
  fi
  run_hyperfine "$K" "${bd[@]}"
  for c in "${bd[@]}"; do
    k=${c%%=*}
    printf 'breakdown %-20s %s\n' "${k// /_}" "$(stats "$K" "$k")"
  done
  # Package initialisation of the Go binary (paid once per process, so twice by images).
  for i in $(seq 1 11); do
    GODEBUG=inittrace=1 "$BURROW" version 2>&1 >/dev/null | awk '/^init / {s += $5; n++} END {printf "%.3f %d\n", s, n}'
  done | sort -n | awk '{a[NR] = $1; n = $2} END {printf "breakdown go_package_init       median=%.2fms (sum over %d packages, GODEBUG=inittrace=1, 11 runs of version)\n", a[int((NR + 1) / 2)], n}'
  jq -r --arg n "$N_IMAGES" '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    def ms: (. * 10000 | round / 10) as $x | (if $x == 0 then 0 else $x end) | tostring + " ms";
    (map_values(med)) as $m
    | "breakdown split of `images` with \($n) images (differences of the medians above):",
      "  process start: exec + Go runtime + package init + CLI   (version - true)              \(($m.version - $m.true) | ms)",
      "  enter a user namespace, single-id map                    (unshare single - version)      \(($m["unshare single"] - $m.version) | ms)",
      "  newuidmap + newgidmap                                    (unshare full - unshare single) \(($m["unshare full"] - $m["unshare single"]) | ms)",
      (if $m["unshare map-auto"] then
      "    cross-check, util-linux                                (unshare map-auto - unshare -Ur) \(($m["unshare map-auto"] - $m["unshare -Ur"]) | ms)" else empty end),
      "  store open + shutdown, empty store                       (images empty - unshare full)   \(($m["images empty store"] - $m["unshare full"]) | ms)",
      "  listing + table of the images                            (images full - images empty)    \(($m["images full store"] - $m["images empty store"]) | ms)",
      "  total                                                    (images full - true)            \(($m["images full store"] - $m.true) | ms)"' "$K"
  [ -z "$JSON" ] || cp "$K" "$JSON-breakdown.json"
fi
