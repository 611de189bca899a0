#!/usr/bin/env bash
# droidfix-sim serve --link-rate MBPS: the phone accepts bytes from the host
# no faster than MBPS megabytes per second, over ADB and fastboot. Functional
# check only: 8 MiB at 4 MB/s cannot arrive before 8388608 / 4e6 = 2.1 s,
# so an 8 MiB `droidfix push` and an 8 MiB fastboot download must each take
# at least 1.8 s (a lower bound: load only makes them longer; no upper bound
# is asserted). Without the limit both take well under a second here. The same into a phone with no limit is shown for the
# reader, not asserted. A bad value is refused.
# Ends with "N passed, N failed".
source "$(dirname "$0")/../lib/harness.sh"

if ! command -v fastboot >/dev/null; then
  bad "Google's fastboot is installed (Debian package fastboot)"
  finish
fi

mode_is() { "$SIM" status --state-dir "$WORK/$1" | grep -q "\"mode\": \"$2\""; }
fastboot_answers() { timeout 5 fastboot -s "tcp:$1" getvar product >/dev/null 2>&1; }

head -c 8388608 /dev/zero >"$WORK/img8"

# push_seconds ADB: seconds an 8 MiB `droidfix push` takes; empty on failure.
push_seconds() {
  local t0 t1
  t0=$(date +%s%N)
  timeout 60 "$DROIDFIX" -q --connect "$1" push "$WORK/img8" /sdcard/img8 >"$WORK/push.out" 2>&1 || return 1
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

at_least() { awk -v s="$1" 'BEGIN { exit !(s >= 1.8) }'; }

# stage_seconds FB: seconds an 8 MiB `fastboot stage` (a download, nothing
# written) takes; empty when it fails.
stage_seconds() {
  local t0 t1
  t0=$(date +%s%N)
  timeout 60 fastboot -s "tcp:$1" stage "$WORK/img8" >"$WORK/stage.out" 2>&1 || return 1
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

check "a bad --link-rate is refused with a usage error" \
  bash -c '"$0" serve --state-dir "$1/bad" --link-rate fast 2>"$1/bad.err"; [ $? -eq 2 ] && grep -q -- "--link-rate" "$1/bad.err"' \
  "$SIM" "$WORK"
check "--help documents --link-rate" bash -c '"$0" --help | grep -q -- "--link-rate MBPS"' "$SIM"

for phone in limited unlimited; do
  args=(--boot-ms 50)
  [ $phone = limited ] && args+=(--link-rate 4)
  sim_start $phone "${args[@]}" || { bad "droidfix-sim starts ($phone)"; finish; }
  secs=$(push_seconds "$SIM_ADB")
  if [ -z "$secs" ]; then
    bad "$phone: an 8 MiB push completes ($(tail -n 2 "$WORK/push.out" | tr '\n' ' '))"
  else
    ok "$phone: an 8 MiB push completes ($secs s)"
    if [ $phone = limited ]; then
      if at_least "$secs"; then
        ok "limited: the 8 MiB push at 4 MB/s took at least 1.8 s ($secs s)"
      else
        bad "limited: the 8 MiB push at 4 MB/s took at least 1.8 s (took $secs s: the rate is not applied to ADB)"
      fi
    fi
  fi
  check "$phone: the phone reboots to the bootloader" "$SIM" press --state-dir "$WORK/$phone" fastboot
  check "$phone: status shows the bootloader" wait_until 20 mode_is $phone bootloader
  check "$phone: fastboot answers" wait_until 20 fastboot_answers "$SIM_FB"
  secs=$(stage_seconds "$SIM_FB")
  if [ -z "$secs" ]; then
    bad "$phone: an 8 MiB download completes ($(tail -n 2 "$WORK/stage.out" | tr '\n' ' '))"
    continue
  fi
  ok "$phone: an 8 MiB download completes ($secs s)"
  if [ $phone = limited ]; then
    if at_least "$secs"; then
      ok "limited: the 8 MiB download at 4 MB/s took at least 1.8 s ($secs s)"
    else
      bad "limited: the 8 MiB download at 4 MB/s took at least 1.8 s (took $secs s: the rate is not applied)"
    fi
  fi
  sim_stop "$SIM_PID"
done

finish
