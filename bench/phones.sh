# Section "phones": 1, 4, 16, 32 (BENCH_PHONES) simulated phones at once.
#
# Flash: each phone (in its unlocked bootloader) gets a 256 MiB raw image
# written to userdata, all at the same moment; wall time until the last is
# done, against one phone. Three ways: one droidfix process for all phones
# (`droidfix run bench/recipes/bench-flash.lua --all`), one droidfix
# process per phone (`droidfix flash`), and one fastboot per phone.
# Repair: N phones started with the play-store-stuck fault, repaired by one
# `droidfix run play-store-stuck --all` (fresh phones every run).
# Recorded per round: wall time, the peak resident memory of each process
# and their sum, and how busy the CPUs were (every process, simulated
# phones included), to tell a slow tool from a saturated machine.
#
# bench/phones_usb.sh runs the same flash rounds with every phone's link
# limited (droidfix-sim --link-rate) through these settings:
#   PH_SECTION   the section the rounds are recorded under (phones)
#   PH_SIM_ARGS  more droidfix-sim serve options for every phone (none)
#   PH_REPAIR    1: also the play-store-stuck repair rounds (1)

export SW
PH_SECTION=${PH_SECTION:-phones}
read -r -a PH_SIM_ARGS <<<"${PH_SIM_ARGS:-}"
PH_REPAIR=${PH_REPAIR:-1}
fact "${PH_SECTION}_load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
phones=${BENCH_PHONES:-1 4 16 32}
max=0
for n in $phones; do [ "$n" -gt "$max" ] && max=$n; done
fact "${PH_SECTION}_max" "$max"
RUN_ALL=0
if "$DF" help run 2>/dev/null | grep -q -- '--all'; then
  RUN_ALL=1
else
  fact phones_run_all "droidfix has no run --all yet: only one process per phone was measured"
fi
RECIPE=$SRC/bench/recipes/bench-flash.lua

SIMS_FB=()
SIMS_PID=()
for ((i = 0; i < max; i++)); do
  sim_up "phone$i" "${PH_SIM_ARGS[@]}" || exit 1
  SIMS_FB+=("$SIM_FB")
  SIMS_PID+=("$SIM_PID")
done
for ((i = 0; i < max; i++)); do
  sim_to_bootloader "$SW/phone$i" "${SIMS_FB[$i]}" || exit 1
done
bytes=$((256 * 1024 * 1024))
randfile "$SW/img256" "$bytes" || exit 1

phones_label() { if [ "$1" -eq 1 ]; then echo "1 phone"; else echo "$1 phones"; fi; }

# CPU time (ns) the first N simulated phones have used so far.
sims_cpu_ns() {
  local n=$1 s=0 i f a
  for ((i = 0; i < n; i++)); do
    for f in /proc/"${SIMS_PID[$i]}"/task/*/schedstat; do
      read -r a _ <"$f" 2>/dev/null && s=$((s + a))
    done
  done
  echo "$s"
}

# round TOOL N RUN: N flashes at once; records wall, the largest and the
# summed peak memory, and the CPU share.
round() {
  local tool=$1 n=$2 run=$3 i t0 t1 c0 c1 wall pid pids=() fails=0 rss_max=0 rss_sum=0 cpu_tools=0 r u s
  c0=$(sims_cpu_ns "$n")
  t0=$(now_ns)
  if [ "$tool" = "droidfix run --all" ]; then
    local conns=()
    for ((i = 0; i < n; i++)); do conns+=(--connect "${SIMS_FB[$i]}"); done
    /usr/bin/time -f '%M %U %S' -o "$SW/t0" timeout 300 "$DF" -q run "$RECIPE" --yes --no-backup --all \
      --param image="$SW/img256" "${conns[@]}" >"$SW/o0" 2>"$SW/e0" &
    pids+=($!)
  fi
  for ((i = 0; i < n; i++)); do
    [ "$tool" = "droidfix run --all" ] && break
    if [ "$tool" = droidfix ]; then
      /usr/bin/time -f '%M %U %S' -o "$SW/t$i" timeout 300 "$DF" -q --connect "${SIMS_FB[$i]}" flash userdata "$SW/img256" >/dev/null 2>"$SW/e$i" &
    else
      /usr/bin/time -f '%M %U %S' -o "$SW/t$i" timeout 300 fastboot -s "tcp:${SIMS_FB[$i]}" flash userdata "$SW/img256" >/dev/null 2>"$SW/e$i" &
    fi
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || fails=$((fails + 1))
  done
  t1=$(now_ns)
  c1=$(sims_cpu_ns "$n")
  for ((i = 0; i < ${#pids[@]}; i++)); do
    read -r r u s < <(tail -n 1 "$SW/t$i")
    case $r in ''|*[!0-9]*) r=0 u=0 s=0 ;; esac
    [ "$r" -gt "$rss_max" ] && rss_max=$r
    rss_sum=$((rss_sum + r))
    cpu_tools=$(awk -v a="$cpu_tools" -v b="$u" -v c="$s" 'BEGIN { print a + b + c }')
  done
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
  record "$PH_SECTION" "$(phones_label "$n")" "$tool" "$run" "$wall" "$rss_max" $((bytes * n)) "$fails"
  record "${PH_SECTION}_mem" "$(phones_label "$n")" "$tool" "$run" "$wall" "$rss_sum" $((bytes * n)) "$fails"
  # CPU busy share of the whole machine during the round.
  awk -v ct="$cpu_tools" -v cs="$((c1 - c0))" -v w="$wall" -v np="$(nproc)" \
    -v n="$n" -v t="$tool" -v r="$run" -v pl="$([ "$n" -eq 1 ] || echo s)" \
    -v sec="${PH_SECTION}_cpu" \
    'BEGIN { printf "%s\t%d phone%s\t%s\t%d\t%.6f\t%.1f\t0\t0\n", sec, n, pl, t, r, w, 100 * (ct + cs / 1e9) / (w * np) }' \
    >>"$W/results.tsv"
  [ $fails -gt 0 ] && log "$n phones, $tool, run $run: $fails flashes failed: $(cat "$SW"/e* | head -c 300)"
  return 0
}

# fastboot holds each download piece whole in memory (about 260 MiB per
# process): 32 of them and 32 phones' flash do not fit this machine's
# memory, so fastboot runs up to BENCH_FASTBOOT_PHONES phones (default 16).
fb_max=${BENCH_FASTBOOT_PHONES:-16}
for n in $phones; do
  tools=(droidfix)
  [ "$n" -le "$fb_max" ] && tools+=(fastboot)
  [ $RUN_ALL = 1 ] && tools=("droidfix run --all" "${tools[@]}")
  label=$(phones_label "$n")
  if [ $RUN_ALL = 1 ]; then
    printf '%s\t%s\tdroidfix run --all\t%s\n' "$PH_SECTION" "$label" \
      '"$DF" -q run bench/recipes/bench-flash.lua --yes --no-backup --all --param image=$SW/img256 --connect 127.0.0.1:PORT_1 ... --connect 127.0.0.1:PORT_N (one process)' >>"$W/commands.tsv"
  fi
  printf '%s\t%s\tdroidfix\tone `"$DF" -q --connect 127.0.0.1:PORT_i flash userdata $SW/img256` per phone, all started at once\n' "$PH_SECTION" "$label" >>"$W/commands.tsv"
  [ "$n" -le "$fb_max" ] && printf '%s\t%s\tfastboot\tone `fastboot -s tcp:127.0.0.1:PORT_i flash userdata $SW/img256` per phone, all started at once\n' "$PH_SECTION" "$label" >>"$W/commands.tsv"
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    k=${#tools[@]}
    for ((j = 0; j < k; j++)); do
      round "${tools[$(( (j + run) % k ))]}" "$n" "$run"
    done
  done
  log "$PH_SECTION/$n: done"
done

# Every phone holds the image.
want=$(sha256sum <"$SW/img256" | cut -d' ' -f1)
bad=0
for ((i = 0; i < max; i++)); do
  got=$("$SIM" status --state-dir "$SW/phone$i" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["partitions"].get("userdata", {}).get("sha256", ""))')
  [ "$got" = "$want" ] || bad=$((bad + 1))
done
if [ $bad -eq 0 ]; then
  fact "check_$PH_SECTION" "all $max phones hold the image"
else
  fact "check_$PH_SECTION" "MISMATCH: $bad of $max phones do not hold the image"
fi

# ---- repair: play-store-stuck on N phones by one droidfix run --all ----------
fact "${PH_SECTION}_load_end" "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ $RUN_ALL = 1 ] && [ "$PH_REPAIR" = 1 ]; then
  # The flash phones go first: the repair rounds start their own.
  for pid in "${SIMS_PID[@]}"; do sim_down "$pid"; done
  SIM_PIDS=()
  rm -rf "$SW"/phone*
  for n in $phones; do
    label=$(phones_label "$n")
    printf 'repair\t%s\tdroidfix run --all\t%s\n' "$label" \
      '"$DF" -q run play-store-stuck --yes --all --connect ADB_1 --connect FB_1 ... (N fresh phones started with --fault play-store-stuck)' >>"$W/commands.tsv"
    healthy_all=0
    phones_all=0
    for ((run = 1; run <= BENCH_RUNS; run++)); do
      conns=()
      pids=()
      for ((i = 0; i < n; i++)); do
        sim_up "ps$run-$i" --fault play-store-stuck || exit 1
        conns+=(--connect "$SIM_ADB" --connect "$SIM_FB")
        pids+=("$SIM_PID")
      done
      timed "\"\$DF\" -q run play-store-stuck --yes --all ${conns[*]}"
      record repair "$label" "droidfix run --all" "$run" "$RUN_WALL" "$RUN_RSS" 0 "$RUN_STATUS"
      if [ "$RUN_STATUS" -ne 0 ]; then
        fact "repair_failed_${n}_run$run" "exit $RUN_STATUS: $(grep -E '^(status|\[)' "$W/.out" "$W/.err" 2>/dev/null | grep -iE 'status|fail|error|not ' | head -n 4 | cut -c1-300 | tr '\n' ' ')"
      fi
      healthy=0
      for ((i = 0; i < n; i++)); do
        "$SIM" status --state-dir "$SW/ps$run-$i" |
          python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if not d["faults"] and d["mode"] == "system" else 1)' &&
          healthy=$((healthy + 1))
      done
      healthy_all=$((healthy_all + healthy))
      phones_all=$((phones_all + n))
      for pid in "${pids[@]}"; do sim_down "$pid"; done
      SIM_PIDS=()
      rm -rf "$SW"/ps"$run"-*
    done
    fact "check_repair_$n" "$healthy_all of $phones_all phones repaired over $BENCH_RUNS runs (no fault left, back in system)"
    log "repair/$n: done"
  done
fi
