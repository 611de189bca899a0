#!/usr/bin/env bash
# While droidfix waits for one phone to come back from a reboot, it does
# not sign in to the other phones it was given every 250 ms: an endpoint
# where another phone answered is left out of the wait's rounds, except in
# a sweep every 8th round (plugins/device_find.h, struct
# df_endpoint_owners). Two simulated phones, A with a 4 s boot, B behind a
# relay that counts connections (conn-counter.py); `droidfix reboot --wait`
# of A with both phones' endpoints. Before this, every round opened B.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

sim_start a --boot-ms 4000 --serial PHONEA0001 || { bad "sim A did not start"; finish; }
A_ADB=$SIM_ADB A_FB=$SIM_FB A_PID=$SIM_PID
sim_start b --serial PHONEB0002 || { bad "sim B did not start"; finish; }
B_FB=$SIM_FB
RELAY_PORT=$(free_port)
python3 "$DF_SOURCE_DIR/tests/e2e/conn-counter.py" "$RELAY_PORT" "${SIM_ADB##*:}" "$WORK/count" \
  >"$WORK/relay.out" 2>"$WORK/relay.err" &
SIM_PIDS+=($!)
wait_until 10 grep -q ready "$WORK/relay.out" || { bad "the relay did not start"; finish; }
CONNECT=(--connect "$A_ADB" --connect "$A_FB" --connect "127.0.0.1:$RELAY_PORT" --connect "$B_FB")

check "both phones are found, B through the relay" \
  sh -c "'$DROIDFIX' devices ${CONNECT[*]} | grep -q PHONEA0001 && '$DROIDFIX' devices ${CONNECT[*]} | grep -q PHONEB0002"

before=$(cat "$WORK/count")
start=$SECONDS
"$DROIDFIX" reboot system --wait --timeout 60 --device PHONEA0001 "${CONNECT[@]}" >"$WORK/reboot.out" 2>"$WORK/reboot.err"
rc=$?
took=$((SECONDS - start))
after=$(cat "$WORK/count")
opened=$((after - before))
if [ "$rc" -eq 0 ]; then ok "A came back (in ${took} s)"; else bad "reboot --wait of A: exit $rc"; sed 's/^/    /' "$WORK/reboot.err" | head; fi
check "A is in system again" test "$(sim_status_field "$WORK/a" mode)" = system
echo "# B's adb endpoint opened $opened times while A took ${took} s to come back"
# The wait lasts the 4 s boot at least: 16 rounds of 250 ms, every one of
# which opened B before. Now: the session's own look (1), the wait's first
# round (1), a sweep every 8th round (2 in 4 s), and slack for a slow machine.
if [ "$took" -ge 3 ] && [ "$opened" -ge 1 ] && [ "$opened" -le 6 ]; then
  ok "B opened $opened times, not every round"
else
  bad "B opened $opened times in ${took} s (want 1 to 6, over at least 3 s)"
fi
check "B is untouched (system, never rebooted)" test "$(sim_status_field "$WORK/b" boot_count)" = 1
finish
