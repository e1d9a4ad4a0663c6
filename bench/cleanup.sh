#!/bin/bash
# bench/cleanup.sh: how long burrow takes to report and reclaim disk space, next to
# podman, measured side by side in one run (hyperfine). Goals (issue 7), as ratios of
# the medians:
#   k1 system df     with 50 images, 50 containers, 20 volumes    at most 0.1
#   k2 volume ls     same store                                   at most 0.1
#   k3 system prune -a -f of 20 images (each run starts from 20 freshly imported images,
#      in a store of its own)                                     at most 1 (not slower)
#
# Usage (root or the bench user): bash bench/cleanup.sh
#   RUNS=10 bash bench/cleanup.sh
# Env: those of bench/lib.sh (BURROW, PODMAN, BENCH_USER, RUNS, WARMUP, ROUNDS, BENCH_TMP,
# BUSYBOX, JSON), N_IMAGES (50), N_CONTAINERS (50), N_VOLUMES (20), N_PRUNE (20).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
N_IMAGES=${N_IMAGES:-50}
N_CONTAINERS=${N_CONTAINERS:-50}
N_VOLUMES=${N_VOLUMES:-20}
N_PRUNE=${N_PRUNE:-20}
BENCH_KNOBS+=(N_IMAGES N_CONTAINERS N_VOLUMES N_PRUNE)

bench_check_burrow
bench_become_user "$@"

bench_check_tools hyperfine jq tar
bench_detect_podman
bench_start_work burrow-bench-cleanup
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
B2_STORE=(--root "$WORK/burrow2/root" --runroot "$WORK/burrow2/run")
P2_STORE=(--root "$WORK/podman2/root" --runroot "$WORK/podman2/run")
burrow() { "$BURROW" "${B_STORE[@]}" "$@"; }
cleanup_stores() {
  local out d
  for d in burrow burrow2; do
    [ ! -d "$WORK/$d" ] || out=$("$BURROW" --root "$WORK/$d/root" --runroot "$WORK/$d/run" system reset -f 2>&1) \
      || log "cleanup: burrow system reset ($d) failed: $out"
  done
  if [ -n "$PODMAN" ] && [ -d "$WORK/podman2" ]; then
    "$PODMAN" "${P2_STORE[@]}" rmi -a -f >/dev/null 2>&1 || true
    # shellcheck disable=SC2016
    "$PODMAN" "${P2_STORE[@]}" unshare sh -c 'awk -v d="$1/" "index(\$5, d) == 1 {print \$5}" /proc/self/mountinfo \
        | sort -r | while read -r m; do umount -l "$m"; done; rm -rf "$1"' sh "$WORK/podman2" >/dev/null 2>&1 || true
  fi
}

TAR=$WORK/busybox-rootfs.tar
make_rootfs_tar "$TAR"
# tiny_tar N: a one-file rootfs tarball of its own content.
tiny_tar() {
  mkdir -p "$WORK/tiny/$1"
  echo "tiny image $1" > "$WORK/tiny/$1/hello"
  tar -C "$WORK/tiny/$1" -cf "$WORK/tiny/$1.tar" hello
}
for i in $(seq 1 "$N_IMAGES"); do tiny_tar "$i"; done

# fill TOOL...: N_IMAGES images (busybox and tiny ones), N_CONTAINERS exited containers,
# N_VOLUMES volumes.
fill() {
  "$@" import -q "$TAR" busybox >/dev/null
  for i in $(seq 2 "$N_IMAGES"); do "$@" import -q "$WORK/tiny/$i.tar" "localhost/tiny$i" >/dev/null; done
  for i in $(seq 1 "$N_CONTAINERS"); do "$@" run --name "c$i" busybox true >/dev/null; done
  for i in $(seq 1 "$N_VOLUMES"); do "$@" volume create "vol$i" >/dev/null; done
}
log "burrow: $N_IMAGES images, $N_CONTAINERS containers, $N_VOLUMES volumes"
mkdir -p "$WORK/burrow" "$WORK/burrow2"
fill burrow
if [ -n "$PODMAN" ]; then
  log "podman: the same"
  mkdir -p "$WORK/podman" "$WORK/podman2"; podman_used=1
  fill pod
fi
B="$BURROW ${B_STORE[*]}" P="$PODMAN ${P_STORE[*]}"

echo "# bench/cleanup.sh burrow=$("$BURROW" version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')" \
     "podman=$([ -z "$PODMAN" ] || "$PODMAN" --version | awk '{print $NF}') images=$N_IMAGES containers=$N_CONTAINERS" \
     "volumes=$N_VOLUMES prune_images=$N_PRUNE host=$(hostname) cores=$(nproc) kernel=$(uname -r) date=$(date -Is)" \
     "runs=$RUNS warmup=$WARMUP rounds=$ROUNDS user=$(id -un)"

J=$WORK/df.json
cmds=("burrow k1=$B system df" "burrow k2=$B volume ls")
[ -z "$PODMAN" ] || cmds+=("podman k1=$P system df" "podman k2=$P volume ls")
run_hyperfine "$J" "${cmds[@]}"
report "$J" k1 system_df 0.1
report "$J" k2 volume_ls 0.1

# k3: each run prunes N_PRUNE images imported by its untimed prepare step.
imports() { local t=$1 i s=""; for i in $(seq 1 "$N_PRUNE"); do s+="$t import -q $WORK/tiny/$i.tar localhost/p$i >/dev/null; "; done; echo "$s"; }
B2="$BURROW ${B2_STORE[*]}" P2="$PODMAN ${P2_STORE[*]}"
J=$WORK/prune.json
cmds=("burrow k3=$B2 system prune -a -f")
PREP["burrow k3"]="sh -c '$(imports "$B2")'"
if [ -n "$PODMAN" ]; then
  cmds+=("podman k3=$P2 system prune -a -f")
  PREP["podman k3"]="sh -c '$(imports "$P2")'"
fi
run_hyperfine "$J" "${cmds[@]}"
report "$J" k3 system_prune_a_20 1
PREP=()
