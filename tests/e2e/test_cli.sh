#!/usr/bin/env bash
# The droidfix command line: --version, --help, help VERB, VERB --help,
# global flags on either side of the verb, and usage errors (exit 2, one
# line naming the problem, then the usage line).
set -u

DF_SOURCE_DIR=${DF_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DF_BIN_DIR=${DF_BIN_DIR:-$DF_SOURCE_DIR/build/bin}
DF=$DF_BIN_DIR/droidfix

passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() {
  local name=$1; shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}
run() {
  "$DF" "$@" >"$work/out" 2>"$work/err"
  rc=$?
}

if [ ! -x "$DF" ]; then
  echo "droidfix binary not found at $DF (set DF_BIN_DIR)"
  echo "0 passed, 1 failed"
  exit 1
fi

run --version
check "--version exits 0" [ "$rc" -eq 0 ]
check "--version prints 'droidfix 0.1.0'" [ "$(cat "$work/out")" = "droidfix 0.1.0" ]
check "--version writes nothing on stderr" [ ! -s "$work/err" ]
run -v --version
check "--version after another flag" [ "$(cat "$work/out")" = "droidfix 0.1.0" ]

run --help
check "--help exits 0" [ "$rc" -eq 0 ]
check "--help shows the usage" grep -q "^usage: droidfix \[OPTIONS\] VERB" "$work/out"
check "--help lists firmware with its summary" grep -q "^  firmware  *Inspect and verify firmware packages" "$work/out"
check "--help lists help" grep -q "^  help  *Show the verbs" "$work/out"
for flag in "-h, --help" "--version" "-v, --verbose" "-q, --quiet" "--json" "--connect HOST:PORT" "--device SERIAL"; do
  check "--help lists the global flag $flag" grep -q -- "$flag" "$work/out"
done
run -h
check "-h is --help" grep -q "^Verbs:" "$work/out"
run help
check "help alone is --help" grep -q "^Verbs:" "$work/out"

run help firmware
check "help firmware exits 0" [ "$rc" -eq 0 ]
check "help firmware lists inspect and verify" bash -c "grep -q '^  inspect ' '$work/out' && grep -q '^  verify ' '$work/out'"
cp "$work/out" "$work/help-firmware"
run firmware --help
check "firmware --help is help firmware" cmp -s "$work/out" "$work/help-firmware"

run help firmware verify
check "help firmware verify exits 0" [ "$rc" -eq 0 ]
check "help firmware verify shows the usage" grep -q "^usage: droidfix firmware verify FILE (--md5 HEX | --sha1 HEX | --sha256 HEX)" "$work/out"
check "help firmware verify lists --sha256" grep -q -- "--sha256 HEX" "$work/out"
cp "$work/out" "$work/help-verify"
run firmware verify --help
check "firmware verify --help is help firmware verify" cmp -s "$work/out" "$work/help-verify"
run --help firmware verify
check "--help before the verb shows the verb's help" cmp -s "$work/out" "$work/help-verify"
run firmware inspect -h
check "firmware inspect -h shows its usage" grep -q "^usage: droidfix firmware inspect FILE" "$work/out"

run frobnicate
check "unknown verb exits 2" [ "$rc" -eq 2 ]
check "unknown verb: one line naming it, then the usage" bash -c "[ \"\$(head -1 '$work/err')\" = \"droidfix: unknown verb 'frobnicate'\" ] && sed -n 2p '$work/err' | grep -q '^usage: droidfix' && [ \$(wc -l <'$work/err') -eq 2 ]"
check "unknown verb: nothing on stdout" [ ! -s "$work/out" ]
run firmware frobnicate x
check "unknown subverb exits 2" [ "$rc" -eq 2 ]
check "unknown subverb names it" grep -q "^droidfix: unknown verb 'firmware frobnicate'" "$work/err"
run help frobnicate
check "help of an unknown verb exits 2" [ "$rc" -eq 2 ]

run --frobnicate
check "bad flag exits 2" [ "$rc" -eq 2 ]
check "bad flag: one line naming it, then the usage" bash -c "[ \"\$(head -1 '$work/err')\" = \"droidfix: unknown flag '--frobnicate'\" ] && sed -n 2p '$work/err' | grep -q '^usage: droidfix' && [ \$(wc -l <'$work/err') -eq 2 ]"
run firmware inspect x.tgz -z
check "bad short flag after the verb exits 2" [ "$rc" -eq 2 ]
check "bad short flag is named" grep -q "^droidfix: unknown flag '-z'" "$work/err"
run firmware inspect --md5 00 x.tgz
check "a flag of another verb is refused (2)" [ "$rc" -eq 2 ]
run --connect
check "--connect without a value exits 2" [ "$rc" -eq 2 ]
check "--connect without a value says what it needs" grep -q -- "--connect needs a value (HOST:PORT)" "$work/err"
run --connect nohostport firmware inspect x
check "--connect without a port exits 2" [ "$rc" -eq 2 ]
run --json=yes --version
check "a plain flag given a value exits 2" [ "$rc" -eq 2 ]
run
check "no verb exits 2" [ "$rc" -eq 2 ]
run firmware
check "a group without its verb exits 2" [ "$rc" -eq 2 ]
check "a group without its verb lists its verbs" grep -q "'firmware' needs a verb: inspect, verify" "$work/err"

# Global flags are accepted on either side of the verb (and --connect,
# --device now, for the verbs that will use them).
run -q firmware inspect "$work/none.tgz"
check "-q before the verb is accepted (missing file: exit 1)" [ "$rc" -eq 1 ]
run firmware inspect "$work/none.tgz" -vv --json --connect 127.0.0.1:7000 --connect=[::1]:7001 --device ABC
check "global flags after the verb are accepted (missing file: exit 1)" [ "$rc" -eq 1 ]
check "--json after the verb gives an error object" python3 -c "import json; d=json.load(open('$work/out')); assert d['ok'] is False and d['error']['name']=='ENOENT'"
DROIDFIX_CONNECT=127.0.0.1:7000,127.0.0.1:7001 ANDROID_SERIAL=X DROIDFIX_LOG=debug run firmware inspect "$work/none.tgz"
check "DROIDFIX_CONNECT, ANDROID_SERIAL, DROIDFIX_LOG are accepted" [ "$rc" -eq 1 ]
DROIDFIX_LOG=loud run firmware inspect "$work/none.tgz"
check "a bad DROIDFIX_LOG is named in a warning" grep -q "DROIDFIX_LOG='loud' is not one of" "$work/err"
run firmware inspect -- "$work/none.tgz"
check "-- ends the flags" grep -q "none.tgz" "$work/err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
