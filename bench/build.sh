#!/bin/bash
# bench/build.sh: how long burrow takes to build, next to podman (podman build, which is
# buildah), measured side by side in one run (hyperfine). Goals (issue 4), as ratios of
# the medians:
#   d1 6-step Dockerfile FROM busybox, cold            at most 0.3
#   d2 the same, fully cached                          at most 0.05
#   d3 the same after changing one COPY'd file         (no goal; reported)
#   e1 COPY of 10,000 files x 10 KiB (100 MB), cold    at most 0.5
#   e2 the same, cached                                at most 0.02
# The Dockerfiles and the 10k-file context are those of the peers bench
# (/work/shared/bench/peers/measure.sh, figures d1-d3, e1-e2).
#
# "Cold": before each run, podman's image and cache go with `rmi` + `image prune -f` (its
# cache is its intermediate images), burrow's with `rmi` + `builder prune -a -f`.
#
# Usage (root or the bench user): bash bench/build.sh
#   FIGURES="d1 d2" RUNS=10 bash bench/build.sh
# Env: those of bench/lib.sh (BURROW, PODMAN, BENCH_USER, RUNS, WARMUP, ROUNDS, BENCH_TMP,
# BUSYBOX, JSON), and FIGURES (default "d1 d2 d3 e1 e2"), RUNS_SLOW (runs of e1, e2;
# default 5).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
FIGURES=${FIGURES:-d1 d2 d3 e1 e2}
RUNS_SLOW=${RUNS_SLOW:-5}
BENCH_KNOBS+=(FIGURES RUNS_SLOW)

bench_check_burrow
bench_become_user "$@"

bench_check_tools hyperfine jq tar python3
bench_detect_podman
bench_start_work burrow-bench-build
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
burrow() { "$BURROW" "${B_STORE[@]}" "$@"; }
want() { [[ " $FIGURES " == *" $1 "* ]]; }
cleanup_stores() {
  local out
  if [ -d "$WORK/burrow" ]; then
    out=$(burrow system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
}

TAR=$WORK/busybox-rootfs.tar
make_rootfs_tar "$TAR"
IMG=busybox
mkdir -p "$WORK/burrow"
burrow import -q "$TAR" "$IMG" >/dev/null
if [ -n "$PODMAN" ]; then
  mkdir -p "$WORK/podman"; podman_used=1
  pod import -q "$TAR" "$IMG" >/dev/null || { log "podman: import failed, skipped"; PODMAN=""; }
fi
B="$BURROW ${B_STORE[*]}" P="$PODMAN ${P_STORE[*]}"

echo "# bench/build.sh burrow=$("$BURROW" version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')" \
     "podman=$([ -z "$PODMAN" ] || "$PODMAN" --version | awk '{print $NF}') host=$(hostname) cores=$(nproc)" \
     "kernel=$(uname -r) date=$(date -Is) runs=$RUNS runs_slow=$RUNS_SLOW warmup=$WARMUP rounds=$ROUNDS user=$(id -un)"

# ---------------------------------------------------------------- d: 6-step Dockerfile
C6=$WORK/ctx6 T6=localhost/bench-six:latest
if want d1 || want d2 || want d3; then
  mkdir -p "$C6/app"
  cat > "$C6/Dockerfile" <<EOF
FROM $IMG
ENV APP_HOME=/app GREETING=hello
WORKDIR /app
COPY app/ /app/
RUN echo "built \$GREETING" > /app/built.txt
CMD ["cat", "/app/built.txt"]
LABEL org.example.bench=six-step
EOF
  for i in 1 2 3 4 5; do echo "file $i" > "$C6/app/f$i.txt"; done
  if want d1; then
    J=$WORK/d1.json; cmds=("burrow d1=$B build -q -t $T6 $C6")
    [ -z "$PODMAN" ] || { cmds+=("podman d1=$P build -q -t $T6 $C6"); PREP["podman d1"]="sh -c '$P rmi -f $T6 >/dev/null 2>&1; $P image prune -f >/dev/null 2>&1; true'"; }
    PREP["burrow d1"]="sh -c '$B rmi -f $T6 >/dev/null 2>&1; $B builder prune -a -f >/dev/null 2>&1; true'"
    run_hyperfine "$J" "${cmds[@]}"; report "$J" d1 build6_cold 0.3
  fi
  $B build -q -t $T6 "$C6" >/dev/null
  [ -z "$PODMAN" ] || $P build -q -t $T6 "$C6" >/dev/null
  if want d2; then
    J=$WORK/d2.json; cmds=("burrow d2=$B build -q -t $T6 $C6")
    [ -z "$PODMAN" ] || cmds+=("podman d2=$P build -q -t $T6 $C6")
    PREP=(); run_hyperfine "$J" "${cmds[@]}"; report "$J" d2 build6_cached 0.05
  fi
  if want d3; then
    J=$WORK/d3.json; cmds=("burrow d3=$B build -q -t $T6 $C6")
    [ -z "$PODMAN" ] || cmds+=("podman d3=$P build -q -t $T6 $C6")
    PREP=(["burrow d3"]="sh -c 'date +%s%N > $C6/app/f1.txt'" ["podman d3"]="sh -c 'date +%s%N > $C6/app/f1.txt'")
    run_hyperfine "$J" "${cmds[@]}"; report "$J" d3 build6_copy_changed
    PREP=()
  fi
fi

# ---------------------------------------------------------------- e: COPY of 10k files
C10=$WORK/ctx10k T10=localhost/bench-copy10k:latest
if want e1 || want e2; then
  python3 - "$C10/files" <<'EOF'
import os, sys
base = sys.argv[1]
for d in range(100):
    p = os.path.join(base, "d%03d" % d); os.makedirs(p, exist_ok=True)
    for f in range(100):
        with open(os.path.join(p, "f%03d.bin" % f), "wb") as fh: fh.write(os.urandom(10240))
EOF
  printf 'FROM %s\nCOPY files/ /data/\n' "$IMG" > "$C10/Dockerfile"
  saved_runs=$RUNS; RUNS=$RUNS_SLOW
  if want e1; then
    J=$WORK/e1.json; cmds=("burrow e1=$B build -q -t $T10 $C10")
    [ -z "$PODMAN" ] || { cmds+=("podman e1=$P build -q -t $T10 $C10"); PREP["podman e1"]="sh -c '$P rmi -f $T10 >/dev/null 2>&1; $P image prune -f >/dev/null 2>&1; true'"; }
    PREP["burrow e1"]="sh -c '$B rmi -f $T10 >/dev/null 2>&1; $B builder prune -a -f >/dev/null 2>&1; true'"
    run_hyperfine "$J" "${cmds[@]}"; report "$J" e1 build10k_cold 0.5
    PREP=()
  fi
  $B build -q -t $T10 "$C10" >/dev/null
  [ -z "$PODMAN" ] || $P build -q -t $T10 "$C10" >/dev/null
  if want e2; then
    J=$WORK/e2.json; cmds=("burrow e2=$B build -q -t $T10 $C10")
    [ -z "$PODMAN" ] || cmds+=("podman e2=$P build -q -t $T10 $C10")
    run_hyperfine "$J" "${cmds[@]}"; report "$J" e2 build10k_cached 0.02
  fi
  RUNS=$saved_runs
fi
