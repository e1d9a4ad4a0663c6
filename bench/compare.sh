#!/bin/bash
# bench/compare.sh: two burrow binaries side by side in one run (hyperfine), so a
# change (a refactoring, say) can show that it is not slower: BURROW_OLD (before) and
# BURROW (after) are timed on the same figures in the same hyperfine invocations.
#
# Usage (root or the bench user):
#   BURROW_OLD=/path/old BURROW=/path/new bash bench/compare.sh
#   BURROW_OLD=/work/burrow-before bash bench/compare.sh     # new: bin/burrow of this checkout
#   BENCH_TMP=/j RUNS=30 ROUNDS=4 BURROW_OLD=… bash bench/compare.sh
#   GOAL=1.05 BURROW_OLD=… bash bench/compare.sh             # ratio lines say met / NOT met
#
# An old binary from a commit: `git worktree add /tmp/old COMMIT && make -C /tmp/old build`,
# then BURROW_OLD=/tmp/old/bin/burrow.
#
# Run as root, it re-runs itself as BENCH_USER (default builder) with runuser,
# copying both binaries (and this script and lib.sh) to a temporary directory first if
# that user cannot reach them. Nothing outside its temporary directory (WORK, under
# BENCH_TMP) is touched: both binaries are timed from private copies there
# (WORK/bin-old/burrow, WORK/bin/burrow), and each has its own throw-away store
# (WORK/old, WORK/new: --root and --runroot, both on BENCH_TMP's file system),
# prepared the same way by that binary itself from the same fixture (a busybox rootfs
# tarball made from the host's busybox-static). At exit, also on failure or Ctrl-C, both
# stores are emptied (`system reset -f`, each by its own binary) and WORK is removed.
# On a machine whose /tmp is an ext4 without a journal, use BENCH_TMP on a journalled
# file system (bench/RESULTS.md: "truncate -s 12G"), or the store's file removals dominate.
#
# Figures (each timed for old and new; all ten commands in one hyperfine invocation per
# round, the old and new command of a figure next to each other):
#   s1 version           `burrow version` (process start: no namespace, no store)
#   s2 images_20         `burrow images` with N_IMAGES (20) images (`import` of the
#                        fixture with `--change 'LABEL bench.n=N'`, as images.sh; the
#                        first one is named busybox, the image of the run figures)
#   s3 ps_a_20           `burrow ps -a` with N_CONTAINERS (20) exited containers
#                        (made by `run --name cN busybox true`)
#   a1 run_rm            `burrow run --rm busybox true` (default network)
#   a2 run_rm_netnone    `burrow run --rm --network none busybox true`
# The run figures run in the same store as s2 and s3 (20 images, 20 exited containers),
# and leave nothing behind.
#
# Output (stdout), one line per figure and binary, then the ratio of the new to the old
# (below 1: the new is faster); hyperfine's own report goes to stderr:
#   # bench/compare.sh old=… new=… drivers=… host=… runs=… rounds=… …
#   s1 version old median=…s mean=…s sd=…s min=…s max=…s n=…
#   s1 version new median=…s mean=…s sd=…s min=…s max=…s n=…
#   s1 version ratio new/old median=… mean=…          (with GOAL: … (goal <= GOAL: met|NOT met))
#   s2 images_20 old …
#   …
#
# Env:
#   BURROW_OLD  the old burrow binary (required)
#   BURROW      the new burrow binary (default: bin/burrow of this checkout; `make build`)
#   BENCH_USER  unprivileged user the bench runs as when started by root (default builder)
#   RUNS        timed runs per command, over all rounds (default 20)
#   WARMUP      untimed runs per command before timing, in every round (default 3)
#   ROUNDS      hyperfine invocations (default 2), RUNS/ROUNDS runs each, the command
#               order reversed every other round (old first, then new first), times
#               pooled: both binaries share any drift of a machine that has other work
#   N_IMAGES    images per store for s2 (default 20)
#   N_CONTAINERS exited containers per store for s3 (default 20)
#   GOAL        if set (e.g. 1.05), each ratio line also says whether the ratio of the
#               medians new/old is at most GOAL
#   WAIT_QUIET  1 (default): before each hyperfine invocation, wait (at most QUIET_MAX s,
#               default 60) until the machine's CPU busy % is at most QUIET_PCT (default 10);
#               0: do not wait
#   BUSYBOX     static busybox for the fixture (default /bin/busybox, package busybox-static)
#   BENCH_TMP   where the temporary directory (binary copies, both stores) goes (default
#               ${TMPDIR:-/tmp})
#   JSON        if set, the pooled times ({"old s1": [seconds, ...], "new s1": …}) are
#               copied to $JSON-compare.json (writable by the bench user)
set -euo pipefail
# Two rounds by default, so that neither binary always runs first (lib.sh's default is 1).
ROUNDS=${ROUNDS:-2}
# Common knobs, the re-run as BENCH_USER, the fixture, the temporary directory and its
# cleanup, and the timing helpers (run_hyperfine, stats, ratio): bench/lib.sh.
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
BURROW_OLD=${BURROW_OLD:-}
N_IMAGES=${N_IMAGES:-20}
N_CONTAINERS=${N_CONTAINERS:-20}
GOAL=${GOAL:-}
BENCH_KNOBS+=(BURROW_OLD N_IMAGES N_CONTAINERS GOAL)
BENCH_BINS+=(BURROW_OLD)

[ -n "$BURROW_OLD" ] || die "BURROW_OLD is not set (usage: BURROW_OLD=/path/old BURROW=/path/new bash bench/compare.sh)"
bench_check_burrow
bench_become_user "$@"

# ---------------------------------------------------------------- as the bench user
bench_check_tools hyperfine jq tar
# Both binaries are copied into WORK, each into a directory of its own (bin-old, bin),
# and the paths are short: libcontainer's exe sealing (see containers.sh) wants the
# binary's directory and the container's state directory not inside one another, and
# at most 255 bytes for both in overlayfs's lowerdir option; else it copies the binary
# into a memfd for every container (≈10 ms more per run).
bench_start_work burrow-bench-cmp
TOOLS=(old new)
declare -A BIN=([old]=$BURROW_OLD [new]=$BURROW)
# The longer (pre-a032f61) layout, so an upper bound:
# "$WORK/bin-old/:$WORK/old/run/overlay-containers/ID/userdata/runtime/ID"
seal_len=$(( ${#WORK} + 9 + 1 + ${#WORK} + 8 + 20 + 64 + 18 + 64 ))
if [ "$seal_len" -le 255 ]; then exe_seal=overlay
else
  exe_seal="memfd-copy(lowerdir=${seal_len}B>255)"
  log "warning: the exe-sealing lowerdir would be $seal_len bytes (> 255): burrow may copy its binary into a memfd for every container (hint: a shorter BENCH_TMP)"
fi
# store T: the --root and --runroot options of tool T's store (words without spaces)
store() { echo "--root $WORK/$1/root --runroot $WORK/$1/run"; }
# bw T ARGS: tool T's binary on its own store
bw() { local t=$1; shift; "${BIN[$t]}" --root "$WORK/$t/root" --runroot "$WORK/$t/run" "$@"; }
IMG=busybox
cleanup_stores() {
  local t out
  for t in "${TOOLS[@]}"; do
    if [ -d "$WORK/$t" ]; then
      out=$(bw "$t" system reset -f 2>&1) || log "cleanup: burrow ($t) system reset failed: $out"
    fi
  done
}

TAR=$WORK/busybox-rootfs.tar
make_rootfs_tar "$TAR"

# ---------------------------------------------------------------- both stores, the same way
REPO=localhost/bench
for t in "${TOOLS[@]}"; do
  log "$t: importing $N_IMAGES images, making $N_CONTAINERS exited containers in $WORK/$t"
  mkdir -p "$WORK/$t"
  for i in $(seq 1 "$N_IMAGES"); do
    if [ "$i" = 1 ]; then name=$IMG; else name=$REPO:img$i; fi
    bw "$t" import -q --change 'CMD ["/bin/sh"]' --change "LABEL bench.n=$i" "$TAR" "$name" >/dev/null
  done
  n=$(bw "$t" images -q | sort -u | wc -l)
  [ "$n" = "$N_IMAGES" ] || die "$t: images -q lists $n distinct images, expected $N_IMAGES"
  out=$(bw "$t" run --rm "$IMG" echo ok 2>&1) || die "$t: run --rm $IMG echo ok failed: $out"
  [ "$out" = ok ] || die "$t: run --rm $IMG echo ok printed: $out"
  [ -z "$(bw "$t" ps -a -q)" ] || die "$t: ps -a lists containers after run --rm"
  for i in $(seq 1 "$N_CONTAINERS"); do bw "$t" run --name "c$i" "$IMG" true; done
  n=$(bw "$t" ps -a -q | wc -l)
  [ "$n" = "$N_CONTAINERS" ] || die "$t: ps -a -q lists $n containers, expected $N_CONTAINERS"
done

# ---------------------------------------------------------------- timing
ver() { "${BIN[$1]}" version --format '{{.Version}}({{.GitCommit}})' 2>/dev/null || echo '?'; }
drv() { bw "$1" info --format '{{.Store.Driver}}' 2>/dev/null || echo '?'; }
echo "# bench/compare.sh old=$(ver old) new=$(ver new) drivers=old:$(drv old),new:$(drv new)" \
     "images=$N_IMAGES containers=$N_CONTAINERS host=$(hostname) cores=$(nproc) kernel=$(uname -r) date=$(date -Is)" \
     "runs=$RUNS warmup=$WARMUP rounds=$ROUNDS user=$(id -un) tmp=$BENCH_TMP($(stat -f -c %T "$BENCH_TMP"))" \
     "exe_seal=$exe_seal load1_before=$(cut -d' ' -f1 /proc/loadavg)"

# id, figure name, arguments (after the binary and its store options)
FIGS=("s1|version|version"
      "s2|images_$N_IMAGES|images"
      "s3|ps_a_$N_CONTAINERS|ps -a"
      "a1|run_rm|run --rm $IMG true"
      "a2|run_rm_netnone|run --rm --network none $IMG true")
J=$WORK/compare.json
cmds=()
for f in "${FIGS[@]}"; do
  IFS='|' read -r id fig args <<<"$f"
  for t in "${TOOLS[@]}"; do
    if [ "$id" = s1 ]; then cmds+=("$t $id=${BIN[$t]} $args")
    else cmds+=("$t $id=${BIN[$t]} $(store "$t") $args"); fi
  done
done
run_hyperfine "$J" "${cmds[@]}"
echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"
for f in "${FIGS[@]}"; do
  IFS='|' read -r id fig args <<<"$f"
  for t in "${TOOLS[@]}"; do echo "$id $fig $t $(stats "$J" "$t $id")"; done
  echo "$id $fig ratio new/old $(ratio "$J" "new $id" "old $id" "$GOAL")"
done
[ -z "$JSON" ] || cp "$J" "$JSON-compare.json"

# The run figures must have left the stores as they were.
for t in "${TOOLS[@]}"; do
  n=$(bw "$t" ps -a -q | wc -l)
  [ "$n" = "$N_CONTAINERS" ] || die "$t: ps -a -q lists $n containers after the run figures, expected $N_CONTAINERS"
done
