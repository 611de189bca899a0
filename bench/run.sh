#!/usr/bin/env bash
# `make bench`: droidfix against Google's adb and fastboot on the same
# simulated phones in the same run, plus hashing, archive reading, start-up,
# many phones at once and the simulated phone's own intake. Writes
# docs/benchmarks.md and the plots in docs/bench/. Nothing here is a test:
# no figure is asserted.
#
#   bash bench/run.sh BIN_DIR
#
# Environment:
#   BENCH_RUNS=5          runs per measurement (medians of these)
#   BENCH_BIG_RUNS=3      runs of the 4 GiB flash (memory figure)
#   BENCH_PHONES="1 4 16 32" phone counts for the many-phones rounds
#   BENCH_SECTIONS="intake transfer flash memory hashing firmware startup phones phones_usb"
#   BENCH_LINK_RATE=40    MB/s each phone accepts in the phones_usb section
#                         (droidfix-sim --link-rate; an assumed USB 2.0 link)
#   BENCH_ROM=FILE        the firmware section's 2 GiB ROM, built before
#                         (default: built by the section, a few minutes)
#   BENCH_DIR=DIR         where the big files go (default: a new folder in
#                         /dev/shm when memory allows, else in /var/tmp)
#   BENCH_OUT=FILE        the report (default docs/benchmarks.md)
#   BENCH_KEEP=1          keep the work folder afterwards (every section's
#                         files too: tens of GiB); BENCH_KEEP=results keeps
#                         only results.tsv, commands.tsv and facts.tsv
#   BENCH_PRIORITY=none   or "rt": run everything (tools, simulated phones,
#                         adb server) as SCHED_FIFO 10 (root), or "nice":
#                         nice -n -10. On a machine shared with other work
#                         this keeps the figures from measuring that work;
#                         the report says which was used.
set -u

case ${BENCH_PRIORITY:-none} in
  rt)
    if [ -z "${BENCH_PRIORITY_SET:-}" ]; then
      export BENCH_PRIORITY_SET=1
      exec chrt -f 10 bash "$0" "$@"
    fi ;;
  nice)
    if [ -z "${BENCH_PRIORITY_SET:-}" ]; then
      export BENCH_PRIORITY_SET=1
      exec nice -n -10 bash "$0" "$@"
    fi ;;
  none) ;;
  *) echo "bench: BENCH_PRIORITY is none, rt or nice" >&2; exit 2 ;;
esac

SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$SRC/build/bin}" && pwd) || { echo "usage: bench/run.sh BIN_DIR" >&2; exit 2; }
export DF=$BIN/droidfix SIM=$BIN/droidfix-sim
BENCH_SECTIONS=${BENCH_SECTIONS:-intake transfer flash memory hashing firmware startup phones phones_usb}
export BENCH_OUT=${BENCH_OUT:-$SRC/docs/benchmarks.md}

source "$SRC/bench/lib.sh"

for b in "$DF" "$SIM"; do
  [ -x "$b" ] || { echo "bench: $b is missing: build first (make)" >&2; exit 1; }
done

# ---- extras only the bench needs (not in .ci/install-deps.sh) ----------------
need=()
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
  else
    echo "bench: missing ${need[*]}: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi
for t in adb fastboot img2simg openssl python3 gnuplot hyperfine; do
  command -v "$t" >/dev/null || { echo "bench: $t is missing" >&2; exit 1; }
done

# ---- where the big files go -------------------------------------------------
# The sections need at most about 10 GiB at once (a 4 GiB image and the 4 GiB
# partition it becomes, or 16 phones with 256 MiB each and their downloads).
need_kib=$((11 * 1024 * 1024))
avail_kib() { df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }
mem_avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if [ -n "${BENCH_DIR:-}" ]; then
  mkdir -p "$BENCH_DIR"
  W=$(mktemp -d "$BENCH_DIR/droidfix-bench.XXXXXX")
elif [ -d /dev/shm ] && [ "$(avail_kib /dev/shm)" -gt "$need_kib" ] &&
     [ "$mem_avail_kib" -gt $((need_kib + 4 * 1024 * 1024)) ]; then
  # Memory-backed: what is measured is the tools, not this machine's disk.
  W=$(mktemp -d /dev/shm/droidfix-bench.XXXXXX)
else
  W=$(mktemp -d /var/tmp/droidfix-bench.XXXXXX)
fi
export W
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
if [ "$(avail_kib "$W")" -lt "$need_kib" ]; then
  echo "bench: $W has $(( $(avail_kib "$W") / 1024 )) MiB free; about $((need_kib / 1024)) MiB are needed (set BENCH_DIR)" >&2
  exit 1
fi
: >"$W/results.tsv"
: >"$W/commands.tsv"
: >"$W/facts.tsv"
export HOME=$W/home # adb keys of the bench's own
mkdir -p "$HOME"

# ---- the machine ------------------------------------------------------------
fact cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
fact nproc "$(nproc)"
fact kernel "$(uname -sr)"
fact memory_gib "$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)"
fact os "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")"
fact workdir_fs "$(df -PT "$W" | awk 'NR == 2 { print $2 }') ($(dirname "$W"))"
fact load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
fact date "$(date -u '+%Y-%m-%d %H:%M UTC')"
fact droidfix_version "$("$DF" --version 2>&1 | head -n 1)"
fact adb_version "$(adb version 2>&1 | head -n 2 | tr '\n' ' ')"
fact fastboot_version "$(fastboot --version 2>&1 | head -n 1)"
fact commit "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)"
fact dirty "$(git -C "$SRC" status --porcelain 2>/dev/null | grep -qv '^??' && echo yes || echo no)"
fact runs "$BENCH_RUNS"
fact priority "${BENCH_PRIORITY:-none} ($(chrt -p $$ 2>/dev/null | sed -n 's/.*scheduling policy: //p' | head -n 1), nice $(nice))"
fact bin "$BIN"
log "work folder $W; runs $BENCH_RUNS; sections: $BENCH_SECTIONS"

started=$SECONDS
for s in $BENCH_SECTIONS; do
  if [ ! -f "$SRC/bench/$s.sh" ]; then
    echo "bench: no section $s" >&2
    continue
  fi
  t0=$SECONDS
  log "section $s"
  ( SW=$W/$s; mkdir -p "$SW"; trap bench_cleanup_section EXIT; source "$SRC/bench/$s.sh" )
  fact "section_seconds_$s" $((SECONDS - t0))
done
fact load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
fact total_seconds $((SECONDS - started))

mkdir -p "$(dirname "$BENCH_OUT")/bench"
python3 "$SRC/bench/report.py" "$W" "$BENCH_OUT" "$(dirname "$BENCH_OUT")/bench" || exit 1
log "wrote $BENCH_OUT in $((SECONDS - started)) s"
