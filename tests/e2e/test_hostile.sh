#!/usr/bin/env bash
# The hostile corpus (issue 8): firmware packages made to harm
# (tests/hostile/make-hostile.sh: traversal, absolute paths, links out of
# the package, device nodes, FIFOs, bombs, lying sizes, duplicates, flash
# scripts that try to run commands or flash what is not in images/) and
# recipes made to escape the sandbox (tests/hostile/recipes). The real
# droidfix meets each: `firmware inspect`, `firmware verify`, and `run
# recipes/system-reflash.lua` against droidfix-sim; `run HOSTILE.lua` for
# the recipes. Each must be refused (non-zero exit, a message naming the
# problem), nothing may appear in the canary folder the packages aim at or
# change in the test's sandbox, no command of a flash script may run (its
# marker files stay absent), nothing may be flashed, and the sim stays
# healthy. Recipes that call the phone beyond what their step function may
# (check() erasing boot_a, an app-data step flashing, a read-only step's
# pm clear, a check that reboots, a refusal caught by pcall) are stopped by
# the risk gate on a second, unlocked phone whose boot_a, user data and
# app data must stay as they were. The packages and recipes are listed in
# docs/reliability.md "Hostile inputs".
source "$(dirname "$0")/../lib/harness.sh"

HOSTILE="$DF_SOURCE_DIR/tests/hostile"
RECIPE="$DF_SOURCE_DIR/recipes/system-reflash.lua"
# The sandbox: droidfix runs in $SANDBOX/cwd; the packages aim at
# $SANDBOX/canary (by ../ from the package's folder and by absolute path).
SANDBOX="$WORK/box/sandbox"
CANARY="$SANDBOX/canary"
mkdir -p "$SANDBOX/cwd" "$CANARY" "$SANDBOX/pkgs"
echo "the canary's own file" >"$CANARY/keep"

"$HOSTILE/make-hostile.sh" "$SANDBOX/pkgs" "$CANARY" >"$WORK/corpus.txt" 2>"$WORK/corpus.err" ||
  { bad "make-hostile.sh builds the corpus"; cat "$WORK/corpus.err"; finish; }
pkg() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/corpus.txt"; }
# A listing with checksums of everything in the sandbox but the packages
# (which droidfix only reads), and of the folder above it ($WORK/box).
snapshot() {
  (cd "$SANDBOX" && find . -path ./pkgs -prune -o -print0 | sort -z |
     xargs -0 -I{} sh -c 'if [ -f "{}" ]; then sha256sum "{}"; else echo "dir {}"; fi')
  ls -la "$WORK/box" | awk '{ print $1, $NF }'
}
SNAPSHOT=$(snapshot)
unchanged() { [ "$(snapshot)" = "$SNAPSHOT" ]; }

# dfx ARGS...: droidfix in the sandbox's cwd; output in $WORK/df.out, .err, $RC.
dfx() {
  (cd "$SANDBOX/cwd" && "$DROIDFIX" "$@") >"$WORK/df.out" 2>"$WORK/df.err"
  RC=$?
}
said() { grep -Eqi -- "$1" "$WORK/df.out" "$WORK/df.err"; }
show() { sed 's/^/    /' "$WORK/df.err" | tail -n 6; tail -n 4 "$WORK/df.out" | cut -c1-400 | sed 's/^/    /'; }
# expect NAME EXIT REGEX: the last droidfix exited EXIT (or any non-zero
# for "nz") and said REGEX; and nothing changed in the sandbox.
expect() {
  local why=""
  if [ "$2" = nz ]; then [ "$RC" -ne 0 ] || why="exit 0"; else [ "$RC" -eq "$2" ] || why="exit $RC, not $2"; fi
  [ -z "$why" ] && ! said "$3" && why="no message matching '$3'"
  [ -z "$why" ] && ! unchanged && why="the sandbox changed"
  if [ -z "$why" ]; then ok "$1"; else bad "$1 ($why)"; show; fi
}

# ---- firmware inspect: every package is refused or its bad lines shown
UNSAFE='refused: entry .*'
while read -r name regex; do
  dfx firmware inspect -q "$(pkg "$name")"
  expect "inspect $name: refused" 1 "$regex"
done <<EOF
traversal ${UNSAFE}canary/traversal-pwned: '\.\.' component in path
traversal-image ${UNSAFE}\.\./vermeer.*: '\.\.' component
absolute ${UNSAFE}canary/absolute-pwned: absolute path
symlink-escape ${UNSAFE}images/escape: a symbolic link leading out of the package
symlink-absolute ${UNSAFE}images/passwd.img: a symbolic link leading out
hardlink-escape ${UNSAFE}images/shadow.img: a hard link to a file outside the package
device-node ${UNSAFE}images/sda.img: a device node, FIFO or socket
fifo ${UNSAFE}images/fifo.img: a device node, FIFO or socket
duplicate ${UNSAFE}images/boot.img: the same image is stored twice
bomb ${UNSAFE}images/zeros.img: .*decompression bomb
bomb-zip ${UNSAFE}images/zeros.img: .*decompression bomb
traversal-zip ${UNSAFE}canary/zip-pwned: '\.\.' component
absolute-zip ${UNSAFE}canary/zip-absolute-pwned: absolute path
symlink-zip ${UNSAFE}images/escape: a symbolic link leading out
lying-size-more truncated or corrupt: .*images/boot.img .*Damaged tar archive
lying-size-less truncated or corrupt: .*images/boot.img .*Damaged tar archive
lying-size-zip truncated or corrupt: .*Inconsistent uncompressed size
truncated truncated or corrupt: .*truncated gzip input
EOF
# A script is only read by inspect: the listing succeeds and shows every
# line it will never run.
dfx firmware inspect "$(pkg script-commands)"
n_lines=$(wc -l <"$SANDBOX/pkgs/script-commands.lines")
n_shown=$(grep -c 'not understood (.*), never run' "$WORK/df.out")
if [ "$RC" -eq 0 ] && [ "$n_shown" -eq "$n_lines" ] && unchanged; then
  ok "inspect script-commands: all $n_lines command lines shown as never run"
else
  bad "inspect script-commands (exit $RC, $n_shown of $n_lines lines shown)"; show
fi
dfx firmware inspect "$(pkg script-outside-images)"
expect "inspect script-outside-images: the line is shown as outside the package" 0 \
  'line [0-9]+ not understood \(an image path outside the package\), never run: .*etc/passwd'
dfx firmware inspect "$(pkg script-absolute-image)"
expect "inspect script-absolute-image: the line is shown as outside the package" 0 \
  'not understood \(an image path outside the package\), never run: fastboot \$\* flash boot_ab /etc/passwd'
dfx firmware inspect "$(pkg script-not-in-images)"
expect "inspect script-not-in-images: the missing image is named" 0 \
  'flashes images/nothere.img, which the package does not hold'

# ---- firmware verify only compares the file's checksum: a wrong one is
# refused, and nothing in the package is read as anything but bytes.
ZERO=0000000000000000000000000000000000000000000000000000000000000000
for name in traversal symlink-escape bomb script-commands; do
  dfx firmware verify "$(pkg "$name")" --sha256 "$ZERO"
  expect "verify $name: a wrong checksum is refused" 1 "expected $ZERO"
done

# ---- system-reflash against the sim: refused before anything is written
sim_start phone --boot-ms 200 || { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
status() { "$SIM" status --state-dir "$WORK/phone"; }
phone_state() {
  status | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["mode"], d["faults"], d.get("user_data_sha256"), json.dumps(d["partitions"], sort_keys=True))'
}
PHONE=$(phone_state)
# reflash NAME REGEX: refused (exit 2) with REGEX in the finished event.
reflash() {
  (cd "$SANDBOX/cwd" && "$DROIDFIX" run "$RECIPE" --json --yes --no-backup "${C[@]}" \
     --param "firmware=$(pkg "$1")") >"$WORK/df.out" 2>"$WORK/df.err"
  RC=$?
  grep '"event":"finished"' "$WORK/df.out" >"$WORK/df.finished"
  local why=""
  [ "$RC" -eq 2 ] || why="exit $RC, not 2"
  [ -z "$why" ] && ! grep -Eqi -- "$2" "$WORK/df.finished" && why="no message matching '$2'"
  [ -z "$why" ] && ! unchanged && why="the sandbox changed"
  [ -z "$why" ] && [ "$(phone_state)" != "$PHONE" ] && why="the phone changed"
  if [ -z "$why" ]; then ok "reflash $1: refused, nothing flashed"; else bad "reflash $1 ($why)"; show; fi
}
while read -r name regex; do
  reflash "$name" "$regex"
done <<'EOF'
traversal unsafe entry .*canary/traversal-pwned: '\.\.' component in path
traversal-image unsafe entry \.\./vermeer.*'\.\.' component
absolute unsafe entry .*canary/absolute-pwned: absolute path
symlink-escape unsafe entry .*images/escape: a symbolic link leading out
symlink-absolute unsafe entry .*images/passwd.img: a symbolic link leading out
hardlink-escape unsafe entry .*images/shadow.img: a hard link to a file outside
device-node unsafe entry .*images/sda.img: a device node, FIFO or socket
fifo unsafe entry .*images/fifo.img: a device node, FIFO or socket
duplicate more than one entry is images/boot.img
bomb images/zeros.img its data expands to more than 100 times .*decompression bomb
bomb-zip images/zeros.img its data expands to more than 100 times .*decompression bomb
traversal-zip unsafe entry .*canary/zip-pwned: '\.\.' component
absolute-zip unsafe entry .*canary/zip-absolute-pwned: absolute path
symlink-zip unsafe entry .*images/escape: a symbolic link leading out
lying-size-more damaged or incomplete
lying-size-less damaged or incomplete
lying-size-zip damaged or incomplete
truncated damaged or incomplete
script-commands flash_all_except_storage.sh has 14 line\(s\) droidfix does not understand
script-outside-images line [0-9]+: fastboot .*etc/passwd  \(an image path outside the package\)
script-absolute-image line [0-9]+: fastboot .* /etc/passwd  \(an image path outside the package\)
script-not-in-images names images it does not hold:.*images/nothere.img \(missing\)
EOF
# Every command line of script-commands is named in its refusal.
(cd "$SANDBOX/cwd" && "$DROIDFIX" run "$RECIPE" --json --yes --no-backup "${C[@]}" \
   --param "firmware=$(pkg script-commands)") >"$WORK/cmds.json" 2>/dev/null
missing=0
while IFS= read -r line; do
  text=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read())[1:-1])')
  grep '"event":"finished"' "$WORK/cmds.json" | grep -qF -- "$text" || missing=$((missing + 1))
done <"$SANDBOX/pkgs/script-commands.lines"
if [ "$missing" -eq 0 ]; then ok "reflash script-commands: the refusal shows each of the $n_lines lines"
else bad "reflash script-commands: $missing of $n_lines lines not shown in the refusal"; fi
# A script flashing a partition the phone lacks can only be told in the
# bootloader (getvar partition-size): the phone goes there, nothing is written.
partitions() { status | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["partitions"], sort_keys=True))'; }
PARTS=$(partitions)
(cd "$SANDBOX/cwd" && "$DROIDFIX" run "$RECIPE" --json --yes --no-backup "${C[@]}" \
   --param "firmware=$(pkg script-unknown-partition)") >"$WORK/df.out" 2>"$WORK/df.err"
RC=$?
why=""
[ "$RC" -eq 2 ] || why="exit $RC, not 2"
[ -z "$why" ] && ! grep '"event":"finished"' "$WORK/df.out" | grep -q "the phone has no partition.*evilpart_a" &&
  why="no message naming evilpart_a"
[ -z "$why" ] && [ "$(partitions)" != "$PARTS" ] && why="a partition changed"
if [ -z "$why" ]; then ok "reflash script-unknown-partition: refused in the bootloader, nothing written"
else bad "reflash script-unknown-partition ($why)"; show; fi
"$DROIDFIX" reboot system --wait --timeout 30 "${C[@]}" >/dev/null 2>&1
check "the phone is back in system" test "$(status | python3 -c 'import json,sys; print(json.load(sys.stdin)["mode"])')" = system

# ---- hostile recipes: stopped by the sandbox, nothing changed
# hrun NAME REGEX: droidfix run tests/hostile/recipes/NAME.lua stops the
# recipe (exit 2) with REGEX.
hrun() {
  dfx run "$HOSTILE/recipes/$1.lua" --yes "${C[@]}" --param "canary=$CANARY"
  local why=""
  [ "$RC" -eq 2 ] || why="exit $RC, not 2"
  [ -z "$why" ] && ! said "$2" && why="no message matching '$2'"
  [ -z "$why" ] && ! unchanged && why="the sandbox changed"
  [ -z "$why" ] && [ "$(phone_state)" != "$PHONE" ] && why="the phone changed"
  if [ -z "$why" ]; then ok "recipe $1: stopped"; else bad "recipe $1 ($why)"; show; fi
}
while read -r name regex; do
  hrun "$name" "$regex"
done <<'EOF'
io-write unknown global 'io' \(recipes have no file access
popen unknown global 'io'
os-execute os.execute is not available in recipes
dofile unknown global 'dofile'
debug-library unknown global 'debug'
bytecode string.dump is not available in recipes
bytecode-literal attempt to load a binary chunk \(mode is 't'\)
infinite-loop recipe stopped: (instruction budget|it ran [0-9]+ ms without waiting)
memory-bomb recipe stopped: memory limit of [0-9]+ KiB exceeded
deep-recursion (stack overflow|recipe stopped: (memory limit|instruction budget|it ran))
require-outside require: .* is not a helper module name
require-absolute require: '/etc/passwd' is not a helper module name
string-metatable the string metatable is protected
EOF
# Huge output: the run ends, its output stays bounded.
dfx run "$HOSTILE/recipes/huge-output.lua" --yes "${C[@]}"
out_bytes=$(($(stat -c %s "$WORK/df.out") + $(stat -c %s "$WORK/df.err")))
if [ "$RC" -ne 23 ] && [ "$out_bytes" -lt $((8 * 1024 * 1024)) ] && unchanged; then
  ok "recipe huge-output: ends (exit $RC), output kept to $out_bytes bytes of 64 MiB asked"
else
  bad "recipe huge-output (exit $RC, $out_bytes bytes out)"
fi

# ---- hostile recipes: a call above what the step function may do is
# refused by the risk gate (lua-api/risk_gate.c): check() only reads, fix()
# stays within its step's declared risk, verify() reads and reboots. Each
# runs on a phone of its own whose bootloader is unlocked, so an erase or a
# flash the gate let through would really change boot_a.
PHONE_PID=$SIM_PID
sim_start gated --boot-ms 200 || { bad "droidfix-sim (gated) starts"; finish; }
G=(--connect "$SIM_ADB" --connect "$SIM_FB")
GATED_PID=$SIM_PID
SIM_PID=$PHONE_PID
gstate() {
  "$SIM" status --state-dir "$WORK/gated" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["mode"], d["faults"], d.get("user_data_sha256"), json.dumps(d["partitions"], sort_keys=True))'
}
boot_a() {
  "$SIM" status --state-dir "$WORK/gated" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitions"]; print(json.dumps(p.get("boot_a"), sort_keys=True))'
}
# The Play Store's data as the sim keeps it (pm clear empties it).
vending() {
  grep -o 'name = "com.android.vending".*' "$WORK/gated/state.lua" | grep -o 'data_bytes = [0-9]*, cache_bytes = [0-9]*'
  (cd "$WORK/gated/fs" && find data/data/com.android.vending | sort)
}
# grun NAME REGEX [ARGS]: droidfix run NAME.lua on the gated phone stops
# the step (exit 2) with REGEX, and nothing changed on the phone.
grun() {
  local name=$1 regex=$2 before vbefore
  shift 2
  before=$(gstate)
  vbefore=$(vending)
  dfx run "$HOSTILE/recipes/$name.lua" --yes --no-backup "${G[@]}" --param "canary=$CANARY" "$@"
  local why=""
  [ "$RC" -eq 2 ] || why="exit $RC, not 2"
  [ -z "$why" ] && ! said "$regex" && why="no message matching '$regex'"
  [ -z "$why" ] && ! unchanged && why="the sandbox changed"
  [ -z "$why" ] && [ "$(gstate)" != "$before" ] && why="the phone changed (mode, user data or a partition)"
  [ -z "$why" ] && [ "$(vending)" != "$vbefore" ] && why="the Play Store's data changed"
  if [ -z "$why" ]; then ok "recipe $name: refused by the risk gate, the phone unchanged"
  else bad "recipe $name ($why)"; show; fi
}
# In Android: a read-only step's pm clear; a check that reboots (also
# with --dry-run).
check "setup: the gated phone holds the Play Store's data" test -n "$(vending | sed -n 2p)"
grun readonly-pm-clear "step 'look' fix\(\): dev:shell\(\"pm list packages >/dev/null; pm clear com.android.vending\"\) \(app-data; pm clear com.android.vending: .*\) is not allowed: it is above the step's declared risk read-only"
grun check-reboots "step 'look' check\(\): dev:reboot\(\"bootloader\"\) \(reboot\) is not allowed: check\(\) may only read the phone"
grun check-reboots "check\(\): dev:reboot\(\"bootloader\"\) \(reboot\) is not allowed: check\(\) may only read the phone \(--dry-run promises" --dry-run
# In the bootloader, unlocked (Google's fastboot over the sim's TCP port:
# no adb server is involved).
"$DROIDFIX" reboot bootloader --wait --timeout 30 "${G[@]}" >/dev/null 2>&1
fastboot -s "tcp:$SIM_FB" flashing unlock >/dev/null 2>&1
check "setup: the gated phone's bootloader is unlocked" \
  sh -c "'$DROIDFIX' getvar unlocked ${G[*]} 2>/dev/null | grep -q 'unlocked: yes'"
BOOT_A=$(boot_a)
check "setup: boot_a has data to lose" test "$BOOT_A" != null
echo "the image a hostile recipe would flash" >"$WORK/evil.img"
grun readonly-flashes "recipe hostile-readonly-flashes, step 'escape' check\(\): dev:erase \(firmware\) is not allowed: check\(\) may only read the phone"
grun pcall-swallows "step 'quiet' check\(\): dev:erase \(firmware\) is not allowed"
grun appdata-flashes "step 'clear-cache' fix\(\): dev:flash \(firmware\) is not allowed: it is above the step's declared risk app-data; declare risk = \"firmware\"" --param "image=$WORK/evil.img"
check "boot_a of the gated phone is unchanged after the hostile recipes" test "$(boot_a)" = "$BOOT_A"
sim_stop "$GATED_PID"

# ---- afterwards
check "the canary folder holds only its own file" test "$(ls -A "$CANARY")" = keep
check "no command of a flash script ran (no ran-* marker in the sandbox)" \
  test -z "$(find "$SANDBOX" "$WORK" -name 'ran-*' 2>/dev/null | head -1)"
check "nothing in the sandbox or beside it changed" unchanged
check "the phone is as it was: mode, faults, user data, every partition" test "$(phone_state)" = "$PHONE"
check "droidfix-sim is still healthy (answers getvar over fastboot's port after a reboot)" \
  "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}"
check "... and the sim process is alive" kill -0 "$SIM_PID"

finish
