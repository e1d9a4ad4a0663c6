#!/bin/bash
# bench/archive.sh: how long burrow takes to save and load an image, next to podman,
# measured side by side in one run (hyperfine). Goals (issue 6), as ratios of the medians:
#   f1 save -o FILE of the Debian minbase image (121 MB, one layer)      at most 0.7
#   f2 load -i FILE of that archive into an empty store                 at most 0.5
# The image is ../shared/bench/images/debian-bookworm-minbase.tar.xz (IMAGE_TAR),
# imported into both tools. Both load the archive burrow saved, each run into a new
# empty store of its own (see f2).
#
# Usage (root or the bench user): bash bench/archive.sh
#   FIGURES=f2 RUNS=5 bash bench/archive.sh
# Env: those of bench/lib.sh (BURROW, PODMAN, BENCH_USER, RUNS, WARMUP, ROUNDS,
# BENCH_TMP, JSON), and FIGURES (default "f1 f2"), IMAGE_TAR (default
# ../shared/bench/images/debian-bookworm-minbase.tar.xz next to the checkout).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
FIGURES=${FIGURES:-f1 f2}
IMAGE_TAR=${IMAGE_TAR:-$SCRIPT_DIR/../../shared/bench/images/debian-bookworm-minbase.tar.xz}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
BENCH_KNOBS+=(FIGURES IMAGE_TAR)

bench_check_burrow
[ -r "$IMAGE_TAR" ] || die "no image tarball at $IMAGE_TAR (hint: set IMAGE_TAR)"
IMAGE_TAR=$(readlink -f "$IMAGE_TAR")
bench_become_user "$@"

bench_check_tools hyperfine jq
bench_detect_podman
bench_start_work burrow-bench-archive
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
B_LOAD=(--root "$WORK/burrow/loads/cur/root" --runroot "$WORK/burrow/loads/cur/run")
# podman refuses a run root longer than 50 characters: its load stores are in $WORK/pl.
P_LOAD=(--root "$WORK/pl/cur/root" --runroot "$WORK/pl/cur/run")
burrow() { "$BURROW" "${B_STORE[@]}" "$@"; }
want() { [[ " $FIGURES " == *" $1 "* ]]; }
cleanup_stores() {
  local out d
  if [ -d "$WORK/burrow/root" ]; then
    out=$(burrow system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
  for d in "$WORK"/burrow/loads/[0-9]*; do
    [ -d "$d/root" ] || continue
    out=$("$BURROW" --root "$d/root" --runroot "$d/run" system reset -f 2>&1) || log "cleanup: burrow system reset ($d) failed: $out"
  done
  for d in "$WORK"/pl/[0-9]*; do
    [ -n "$PODMAN" ] && [ -d "$d/root" ] || continue
    ln -sfn "$d" "$WORK/pl/cur"
    out=$("$PODMAN" "${P_LOAD[@]}" rmi -a -f 2>&1) || log "cleanup: podman rmi -a ($d) failed: $out"
  done
  if [ -n "$PODMAN" ] && [ -d "$WORK/pl" ]; then
    out=$("$PODMAN" unshare rm -rf "$WORK/pl" 2>&1) || log "cleanup: removing podman's load stores failed: $out"
  fi
}

IMG=localhost/bench-debian:bookworm
mkdir -p "$WORK/burrow" "$WORK/out"
burrow import -q "$IMAGE_TAR" "$IMG" >/dev/null
if [ -n "$PODMAN" ]; then
  mkdir -p "$WORK/podman"; podman_used=1
  pod import -q "$IMAGE_TAR" "$IMG" >/dev/null || { log "podman: import failed, skipped"; PODMAN=""; }
fi
B="$BURROW ${B_STORE[*]}" P="$PODMAN ${P_STORE[*]}"
BL="$BURROW ${B_LOAD[*]}" PL="$PODMAN ${P_LOAD[*]}"
BT=$WORK/out/burrow.tar PT=$WORK/out/podman.tar

echo "# bench/archive.sh burrow=$("$BURROW" version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')" \
     "podman=$([ -z "$PODMAN" ] || "$PODMAN" --version | awk '{print $NF}') host=$(hostname) cores=$(nproc)" \
     "kernel=$(uname -r) date=$(date -Is) runs=$RUNS warmup=$WARMUP rounds=$ROUNDS user=$(id -un)" \
     "driver=$(burrow info | awk '/Driver:/ {print $2}') image=$(basename "$IMAGE_TAR")" \
     "size=$(burrow images --format '{{.Size}}' "$IMG")"

# ---------------------------------------------------------------- f1: save -o FILE
if want f1; then
  J=$WORK/f1.json; cmds=("burrow f1=$B save -o $BT $IMG")
  PREP=(["burrow f1"]="rm -f $BT")
  [ -z "$PODMAN" ] || { cmds+=("podman f1=$P save -q -o $PT $IMG"); PREP["podman f1"]="rm -f $PT"; }
  run_hyperfine "$J" "${cmds[@]}"; report "$J" f1 save 0.7
  PREP=()
fi

# ---------------------------------------------------------------- f2: load -i FILE, empty store
# Both tools load burrow's archive: podman 4.3's own save of this image (imported from
# the .tar.xz) does not load (its layer's content does not match the digest it records:
# "Digest did not match"), and both archives are docker-archives with the same
# uncompressed layer. Each run loads into a new empty store (the prepare step points the
# store's path, a symbolic link, at a new directory): emptying the previous store
# instead would time the file system's reuse of just-deleted inodes (on ext4 without a
# journal, recently_deleted() makes every file creation scan them), not the load.
if want f2; then
  [ -s "$BT" ] || $B save -o "$BT" "$IMG"
  log "archive: $(du -m "$BT" | cut -f1) MiB"
  mkdir -p "$WORK/burrow/loads" "$WORK/pl"
  next_store() { # next_store DIR: DIR/cur -> a new DIR/N
    echo "sh -c 'd=$1/\$(date +%s%N); mkdir \$d && ln -sfn \$d $1/cur'"
  }
  J=$WORK/f2.json; cmds=("burrow f2=$BL load -q -i $BT")
  PREP=(["burrow f2"]="$(next_store "$WORK/burrow/loads")")
  [ -z "$PODMAN" ] || { cmds+=("podman f2=$PL load -q -i $BT"); PREP["podman f2"]="$(next_store "$WORK/pl")"; podman_used=1; }
  run_hyperfine "$J" "${cmds[@]}"; report "$J" f2 load_empty 0.5
  PREP=()
fi
