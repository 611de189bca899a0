# Shared by the bench/ scripts (sourced by run.sh): timing of interleaved
# runs, result records, simulated phones and a private adb server.
#
#   bench_case SECTION CASE BYTES TOOL=COMMAND...
#       runs every COMMAND BENCH_RUNS times, tools interleaved (the order
#       turns each round so no tool always goes first), and records each
#       run's wall time and peak resident memory. COMMAND is a string run
#       by bash; the variables it names are the ones listed in the report.
#       PREP (a string, may be empty) runs untimed before each command.
#   sim_up NAME [ARGS]   start droidfix-sim in $W/NAME; sets SIM_ADB,
#                        SIM_FB, SIM_PID, SIM_DIR
#   randfile PATH BYTES  write BYTES of pseudo-random data, fast
#
# Results: $W/results.tsv, one line per run:
#   section case tool run wall_seconds max_rss_kib bytes status
# and $W/commands.tsv: section case tool command.

BENCH_RUNS=${BENCH_RUNS:-5}
SIM_PIDS=()
ADB_PORT=""
PREP=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

now_ns() { date +%s%N; }

# A free TCP port outside Google's emulator range (5555-5585).
free_port() {
  local p
  while :; do
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if [ "$p" -lt 5555 ] || [ "$p" -gt 5585 ]; then echo "$p"; return; fi
  done
}

# One timed run: wall from ns clock, peak RSS from GNU time. Sets
# RUN_WALL, RUN_RSS, RUN_STATUS.
timed() {
  local t0 t1
  t0=$(now_ns)
  # A hung tool (fastboot retries a connect forever) must not hang the bench.
  /usr/bin/time -f '%M' -o "$W/.rss" timeout "${BENCH_TIMEOUT:-300}" bash -c "$1" >"$W/.out" 2>"$W/.err"
  RUN_STATUS=$?
  t1=$(now_ns)
  RUN_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
  RUN_RSS=$(tail -n 1 "$W/.rss")
  case $RUN_RSS in ''|*[!0-9]*) RUN_RSS=0 ;; esac
}

bench_case() {
  local section=$1 case_name=$2 bytes=$3
  shift 3
  local specs=("$@") n=${#specs[@]} r i k spec tool cmd
  for spec in "${specs[@]}"; do
    printf '%s\t%s\t%s\t%s\n' "$section" "$case_name" "${spec%%=*}" "${spec#*=}" >>"$W/commands.tsv"
  done
  for ((r = 1; r <= BENCH_RUNS; r++)); do
    for ((k = 0; k < n; k++)); do
      i=$(( (k + r) % n ))
      spec=${specs[$i]}
      tool=${spec%%=*}
      cmd=${spec#*=}
      [ -n "$PREP" ] && bash -c "$PREP" >/dev/null 2>&1
      timed "$cmd"
      if [ "$RUN_STATUS" -ne 0 ]; then
        log "$section/$case_name/$tool run $r FAILED (exit $RUN_STATUS): $(tail -n 3 "$W/.err" | tr '\n' ' ')"
      fi
      printf '%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n' "$section" "$case_name" "$tool" "$r" \
        "$RUN_WALL" "$RUN_RSS" "$bytes" "$RUN_STATUS" >>"$W/results.tsv"
    done
  done
  log "$section/$case_name: done"
}

# record SECTION CASE TOOL RUN WALL RSS BYTES STATUS: a result measured by
# the caller (the many-phones rounds, the sim's intake).
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$W/results.tsv"
}

# Facts for the report: key=value lines.
fact() { printf '%s\t%s\n' "$1" "$2" >>"$W/facts.tsv"; }

# AES-CTR keystream: incompressible, the same every run, and far faster
# than /dev/urandom.
randfile() {
  local path=$1 bytes=$2 seed=${3:-droidfix-bench}
  openssl enc -aes-128-ctr -pass "pass:$seed" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null |
    head -c "$bytes" >"$path"
  [ "$(stat -c %s "$path")" = "$bytes" ]
}

# Two ports for a phone, below the kernel's ephemeral range: a sim keeps
# its ports for its whole life but listens on only one at a time (ADB in
# system, fastboot in the bootloader), and a port it is not listening on
# is, to the kernel, free to give to the next "any port" request, such as
# another sim's. Ports picked here are never given out that way.
NEXT_PORT=${NEXT_PORT:-$((20000 + RANDOM % 5000 * 2))}
port_busy() { ss -Htan "( sport = :$1 or dport = :$1 )" 2>/dev/null | grep -q .; }
sim_ports() {
  while port_busy "$NEXT_PORT" || port_busy $((NEXT_PORT + 1)); do
    NEXT_PORT=$((NEXT_PORT + 2))
  done
  SIM_PORTS=("$NEXT_PORT" $((NEXT_PORT + 1)))
  NEXT_PORT=$((NEXT_PORT + 2))
}

sim_up() {
  local name=$1
  shift
  SIM_DIR=${SW:-$W}/$name
  mkdir -p "$SIM_DIR"
  sim_ports
  "$SIM" serve --state-dir "$SIM_DIR" --boot-ms 100 --adb-port "${SIM_PORTS[0]}" \
    --fastboot-port "${SIM_PORTS[1]}" "$@" >"$SIM_DIR.out" 2>"$SIM_DIR.err" &
  SIM_PID=$!
  SIM_PIDS+=("$SIM_PID")
  local deadline=$((SECONDS + 15))
  until grep -q '^fastboot ' "$SIM_DIR.out" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$SIM_PID" 2>/dev/null; then
      log "droidfix-sim did not start: $(cat "$SIM_DIR.err")"
      return 1
    fi
    sleep 0.05
  done
  SIM_ADB=$(awk '/^adb /{print $2}' "$SIM_DIR.out")
  SIM_FB=$(awk '/^fastboot /{print $2}' "$SIM_DIR.out")
}

sim_down() {
  local pid=$1
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  return 0
}

sim_mode() {
  "$SIM" status --state-dir "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mode"])'
}

# sim_to_bootloader DIR FB: holds the fastboot combo and unlocks the
# bootloader (flashing a locked phone is refused).
sim_to_bootloader() {
  local dir=$1 fb=$2 deadline=$((SECONDS + 15))
  "$SIM" press --state-dir "$dir" fastboot >/dev/null
  until [ "$(sim_mode "$dir")" = bootloader ]; do
    [ $SECONDS -ge $deadline ] && { log "the sim in $dir never reached the bootloader"; return 1; }
    sleep 0.05
  done
  deadline=$((SECONDS + 15))
  # fastboot 29 retries a TCP connect forever: each try gets a timeout.
  until timeout 5 fastboot -s "tcp:$fb" getvar product >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && { log "fastboot never answered on $fb"; return 1; }
    sleep 0.05
  done
  timeout 10 fastboot -s "tcp:$fb" flashing unlock >/dev/null 2>&1
}

adb_server_up() {
  ADB_PORT=$(free_port)
  adb -P "$ADB_PORT" start-server >/dev/null 2>&1
}

# Each section runs in a subshell with its own folder $SW: its phones,
# adb server and big files go when it ends.
bench_cleanup_section() {
  local pid
  for pid in "${SIM_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${SIM_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  SIM_PIDS=()
  if [ -n "$ADB_PORT" ]; then adb -P "$ADB_PORT" kill-server >/dev/null 2>&1; fi
  ADB_PORT=""
  if [ "${BENCH_KEEP:-0}" != 1 ]; then rm -rf "$SW"; fi
}

bench_cleanup() {
  local pid
  for pid in "${SIM_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${SIM_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if [ -n "$ADB_PORT" ]; then adb -P "$ADB_PORT" kill-server >/dev/null 2>&1; fi
  if [ -n "${W:-}" ] && [ -d "$W" ]; then
    case ${BENCH_KEEP:-0} in
      1) ;;
      # The records only (results, commands, facts): to merge runs.
      results) find "$W" -mindepth 1 -maxdepth 1 ! -name '*.tsv' -exec rm -rf {} + ;;
      *) rm -rf "$W" ;;
    esac
  fi
}
