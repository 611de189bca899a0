# Section "transfer": droidfix push/pull against adb push/pull, 64 MiB and
# 1 GiB, into /sdcard of one simulated phone, in the same run. adb goes
# through its own server (started and connected before timing: what a
# user who already ran `adb connect` sees); droidfix connects each time, so
# its figures include its start-up and the ADB handshake.
# Sourced by run.sh in a subshell; $SW is this section's folder.

sim_up phone || exit 1
adb_server_up
adb -P "$ADB_PORT" connect "$SIM_ADB" >/dev/null 2>&1
export SIM_ADB ADB_PORT SW
if ! adb -P "$ADB_PORT" -s "$SIM_ADB" shell true >/dev/null 2>&1; then
  log "adb cannot reach the simulated phone at $SIM_ADB"
  exit 1
fi

for size in 64M 1G; do
  case $size in
    64M) bytes=$((64 * 1024 * 1024)) ;;
    1G) bytes=$((1024 * 1024 * 1024)) ;;
  esac
  randfile "$SW/src.$size" "$bytes" || { log "cannot write $SW/src.$size"; exit 1; }

  PREP=""
  bench_case transfer "push $size" "$bytes" \
    "droidfix=\"\$DF\" -q --connect \$SIM_ADB push \$SW/src.$size /sdcard/bench.$size.df" \
    "adb=adb -P \$ADB_PORT -s \$SIM_ADB push \$SW/src.$size /sdcard/bench.$size.adb >/dev/null"

  PREP="rm -f $SW/pull.$size.df $SW/pull.$size.adb"
  bench_case transfer "pull $size" "$bytes" \
    "droidfix=\"\$DF\" -q --connect \$SIM_ADB pull /sdcard/bench.$size.df \$SW/pull.$size.df" \
    "adb=adb -P \$ADB_PORT -s \$SIM_ADB pull /sdcard/bench.$size.df \$SW/pull.$size.adb >/dev/null"
  PREP=""

  # A figure for bytes that arrived wrong would be worthless: one more pull
  # by each tool, untimed (PREP removed both files before every run).
  rm -f "$SW/pull.$size".*
  "$DF" -q --connect "$SIM_ADB" pull "/sdcard/bench.$size.df" "$SW/pull.$size.df" >/dev/null 2>&1
  adb -P "$ADB_PORT" -s "$SIM_ADB" pull "/sdcard/bench.$size.adb" "$SW/pull.$size.adb" >/dev/null 2>&1
  for t in droidfix adb; do
    if cmp -s "$SW/src.$size" "$SW/pull.$size.${t/droidfix/df}"; then
      fact "check_push_pull_${size}_$t" "what $t pushed, $t pulls back byte for byte"
    else
      fact "check_push_pull_${size}_$t" "MISMATCH: what $t pushed does not come back as it was"
      log "push/pull $size with $t: the file differs"
    fi
  done
  rm -f "$SW/src.$size" "$SW/pull.$size".*
  "$DF" -q --connect "$SIM_ADB" shell rm -f "/sdcard/bench.$size.df" "/sdcard/bench.$size.adb" >/dev/null 2>&1
done
