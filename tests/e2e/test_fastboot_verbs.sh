#!/usr/bin/env bash
# droidfix's fastboot verbs against droidfix-sim (issue 4): oem, flashing
# (asking first, refusing without a terminal), erase, set-active, and in
# fastbootd the logical partitions and update-super; results checked through
# the sim's own account (droidfix-sim status) and its answers (getvar), and
# a few outputs compared with Google's fastboot against the same sim.
source "$(dirname "$0")/../lib/harness.sh"

sim_start phone --boot-ms 100 || { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
F=(--connect "fastboot:$SIM_FB")
status() { "$SIM" status --state-dir "$WORK/phone"; }
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
getvar() { "$DROIDFIX" getvar "$1" "${F[@]}" | sed 's/^[^ ]*: //'; }
have_fastboot() { command -v fastboot >/dev/null; }

check "help erase names the verb" bash -c "'$DROIDFIX' help erase | grep -q 'usage: droidfix erase PARTITION'"
check "help lists the logical partition verbs" bash -c \
  "'$DROIDFIX' --help | grep -q create-logical-partition && '$DROIDFIX' --help | grep -q update-super"
check "set-active c is a usage error (exit 2)" bash -c "'$DROIDFIX' set-active c ${F[*]}; test \$? -eq 2"
check "a size that is not a number is a usage error" bash -c \
  "'$DROIDFIX' create-logical-partition x 12k ${F[*]}; test \$? -eq 2"

# --- in system: the fastboot verbs say where to go
"$DROIDFIX" oem device-info "${C[@]}" >"$WORK/o" 2>"$WORK/e"
check "oem in system mode fails and says how to get to fastboot" \
  bash -c "test $? -eq 1 && grep -q \"droidfix reboot bootloader\" '$WORK/e'"
check "reboot bootloader --wait" "$DROIDFIX" reboot bootloader --wait --timeout 30 -q "${C[@]}"

# --- oem: INFO lines as the phone sent them
"$DROIDFIX" oem device-info "${F[@]}" >"$WORK/oem.out" 2>"$WORK/oem.err"
check "oem device-info exits 0" test $? -eq 0
check "oem device-info prints the phone's INFO lines" \
  grep -qx '(bootloader) Device unlocked: false' "$WORK/oem.out"
if have_fastboot; then
  # fastboot pads the first INFO line behind its (empty) status column
  fastboot -s "tcp:$SIM_FB" oem device-info 2>&1 | sed 's/^ *//' | grep '^(bootloader)' >"$WORK/oem.google"
  check "oem device-info: the same lines as Google's fastboot" \
    diff <(grep '^(bootloader)' "$WORK/oem.out") "$WORK/oem.google"
fi
"$DROIDFIX" oem no-such-thing "${F[@]}" >/dev/null 2>"$WORK/e"
check "an unknown oem command fails (exit 1) with the phone's FAIL" \
  bash -c "test $? -eq 1 && grep -q '^FAIL ' '$WORK/e'"

# --- flashing: asks first; the phone's refusal in its words
"$DROIDFIX" flashing unlock "${F[@]}" </dev/null >/dev/null 2>"$WORK/e"
check "flashing unlock without a terminal and without --yes is refused" \
  bash -c "test $? -eq 1 && grep -q -- '--yes' '$WORK/e'"
check "... and the phone stayed locked" test "$(getvar unlocked)" = "no"
"$DROIDFIX" flashing lock --yes "${F[@]}" >/dev/null 2>"$WORK/e"
check "flashing lock of a locked phone fails (exit 1)" test $? -eq 1
check "... with the phone's own text, tab and all" grep -q "$(printf '^FAIL \tDevice already : locked!$')" "$WORK/e"
"$DROIDFIX" flashing lock --yes --json "${F[@]}" >"$WORK/j" 2>/dev/null
check "--json: the FAIL text exactly as the phone wrote it" \
  test "$(json_get 'repr(d["error"]["message"])' <"$WORK/j")" = "'\\tDevice already : locked!'"
"$DROIDFIX" flashing get_unlock_ability --json "${F[@]}" >"$WORK/j" 2>/dev/null
check "get_unlock_ability --json carries the INFO line" \
  test "$(json_get 'd["info"]' <"$WORK/j")" = "['get_unlock_ability: 1']"
"$DROIDFIX" erase cache --yes "${F[@]}" >/dev/null 2>"$WORK/e"
check "erase on a locked phone fails with the phone's words" \
  bash -c "test $? -eq 1 && grep -qx 'FAIL Erase is not allowed in Lock State' '$WORK/e'"
if have_fastboot; then
  fastboot -s "tcp:$SIM_FB" erase cache >/dev/null 2>"$WORK/g"
  check "... as Google's fastboot reports it" grep -q "remote: 'Erase is not allowed in Lock State'" "$WORK/g"
fi
check "flashing unlock --yes" "$DROIDFIX" flashing unlock --yes -q "${F[@]}"
check "the phone is unlocked (getvar)" test "$(getvar unlocked)" = "yes"

# --- erase, set-active
SLOT=$(getvar current-slot)
head -c 8192 /dev/urandom >"$WORK/dtbo.img"
"$DROIDFIX" flash -q dtbo "$WORK/dtbo.img" "${F[@]}" >/dev/null 2>&1
part_size() { status | json_get "d['partitions'].get('$1', {}).get('size', -1)"; }
check "dtbo_$SLOT holds the flashed image" test "$(part_size "dtbo_$SLOT")" = 8192
"$DROIDFIX" erase "dtbo_$SLOT" "${F[@]}" </dev/null >/dev/null 2>&1
check "erase without --yes and without a terminal is refused" test "$(part_size "dtbo_$SLOT")" = 8192
check "erase dtbo_$SLOT --yes" "$DROIDFIX" erase "dtbo_$SLOT" --yes -q "${F[@]}"
check "the sim's dtbo_$SLOT is empty" test "$(part_size "dtbo_$SLOT")" = 0
OTHER=$([ "$SLOT" = a ] && echo b || echo a)
check "set-active $OTHER" "$DROIDFIX" set-active "$OTHER" -q "${F[@]}"
check "current-slot is $OTHER" test "$(getvar current-slot)" = "$OTHER"
"$DROIDFIX" set-active "$SLOT" --json "${F[@]}" >"$WORK/j"
check "set-active --json says ok" test "$(json_get 'd["ok"], d["command"]' <"$WORK/j")" = "True set_active:$SLOT"

# --- logical partitions (fastbootd)
"$DROIDFIX" create-logical-partition df_test 4096 "${F[@]}" >/dev/null 2>"$WORK/e"
check "create-logical-partition in the bootloader: sent to fastbootd" \
  bash -c "test $? -eq 1 && grep -q 'droidfix reboot fastboot' '$WORK/e'"
check "reboot fastboot --wait" "$DROIDFIX" reboot fastboot --wait --timeout 30 -q "${F[@]}"
check "create-logical-partition df_test 4096" "$DROIDFIX" create-logical-partition df_test 4096 -q "${F[@]}"
check "partition-size:df_test is 4096" test "$(( $(getvar partition-size:df_test) ))" = 4096
"$DROIDFIX" create-logical-partition df_test 4096 "${F[@]}" >/dev/null 2>"$WORK/e"
check "creating it again fails with the phone's words" \
  bash -c "test $? -eq 1 && grep -qx 'FAIL Partition already exists' '$WORK/e'"
"$DROIDFIX" resize-logical-partition df_test 0x3000 "${F[@]}" </dev/null >/dev/null 2>&1
check "resize without --yes is refused" test "$(( $(getvar partition-size:df_test) ))" = 4096
"$DROIDFIX" resize-logical-partition df_test 0x3000 --yes "${F[@]}" >"$WORK/o" 2>/dev/null
check "resize-logical-partition prints the phone's OKAY" grep -qx 'OKAY Partition resized' "$WORK/o"
check "partition-size:df_test is 0x3000" test "$(( $(getvar partition-size:df_test) ))" = $((0x3000))
check "delete-logical-partition --yes" "$DROIDFIX" delete-logical-partition df_test --yes -q "${F[@]}"
check "df_test is gone" bash -c "! '$DROIDFIX' getvar partition-size:df_test ${F[*]} 2>/dev/null"
if have_fastboot; then
  fastboot -s "tcp:$SIM_FB" create-logical-partition df_g 8192 >/dev/null 2>&1
  check "a partition Google's fastboot created reads the same size here" \
    test "$(( $(getvar partition-size:df_g) ))" = 8192
  check "... and droidfix deletes it" "$DROIDFIX" delete-logical-partition df_g --yes -q "${F[@]}"
fi
head -c 4096 /dev/urandom >"$WORK/not_super.img"
"$DROIDFIX" update-super "$WORK/not_super.img" --yes "${F[@]}" >/dev/null 2>"$WORK/e"
check "update-super with a non-metadata image: downloaded, then the phone's refusal" \
  bash -c "test $? -eq 1 && grep -qx 'FAIL Data is not a valid logical partition metadata image' '$WORK/e'"
check "flashing in fastbootd: sent to the bootloader" \
  bash -c "! '$DROIDFIX' flashing get_unlock_ability ${F[*]} 2>&1 | grep -q 'droidfix reboot bootloader'; test \${PIPESTATUS[0]} -eq 1"

finish
