#!/usr/bin/env bash
# droidfix firmware inspect / verify against a synthetic Xiaomi fastboot ROM
# built here: listing and SHA-256s against sha256sum, --json content, verify
# match and mismatch, damaged and missing packages, a .zip variant, and a
# hostile flash script that must never run.
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
check() { # check NAME COMMAND...: passes when the command succeeds
  local name=$1; shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# run ARGS...: runs droidfix, leaving stdout in $out, stderr in $err, exit in $rc.
run() {
  "$DF" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  out=$(cat "$work/out")
  err=$(cat "$work/err")
}

if [ ! -x "$DF" ]; then
  echo "droidfix binary not found at $DF (set DF_BIN_DIR)"
  echo "0 passed, 1 failed"
  exit 1
fi

# ---- A ROM shaped like Xiaomi's -------------------------------------------
codename=vermeer
folder=${codename}_images_OS1.0.TEST_20240101.0000.00_14.0_cn
rom=$work/rom
mkdir -p "$rom/$folder/images"
img=$rom/$folder/images

# partition_ab:file pairs, in the order real scripts flash them.
parts="abl_ab:abl.elf xbl_ab:xbl_s.melf modem_ab:NON-HLOS.bin dsp_ab:dspso.bin
super:super.img vendor_boot_ab:vendor_boot.img dtbo_ab:dtbo.img vbmeta_ab:vbmeta.img
vbmeta_system_ab:vbmeta_system.img cust:cust.img recovery_ab:recovery.img
boot_ab:boot.img misc:misc.img"
size=700
for pf in $parts; do
  head -c $size /dev/urandom >"$img/${pf#*:}"
  size=$((size * 2 + 17))
done
head -c 3000000 /dev/urandom >"$img/super.img"
head -c 4096 /dev/urandom >"$img/metadata.img"
head -c 8192 /dev/urandom >"$img/userdata.img"
printf 'boot.img 1234\n' >"$img/crclist.txt"
printf 'super.img 5678\n' >"$img/sparsecrclist.txt"
printf '1\n' >"$img/anti_version.txt"

# write_sh FILE VARIANT: a flash script the way Xiaomi writes them
# (all | except_storage | lock).
write_sh() {
  local f=$1 variant=$2
  {
    echo "fastboot \$* getvar product 2>&1 | grep \"^product: *$codename\""
    echo 'if [ $? -ne 0  ] ; then echo "Missmatching image and device"; exit 1; fi'
    echo ''
    echo '#check anti_version'
    echo 'if [ -e $(dirname $0)/images/anti_version.txt ]; then'
    echo 'CURRENT_ANTI_VER=`cat $(dirname $0)/images/anti_version.txt`'
    echo 'fi'
    echo 'if [ -z "$CURRENT_ANTI_VER" ]; then CURRENT_ANTI_VER=0; fi'
    echo 'ver=`fastboot $* getvar anti 2>&1 | grep -oP "anti: \K[0-9]+"`'
    echo 'if [ -z "$ver" ]; then ver=0; fi'
    echo 'if [ $ver -gt $CURRENT_ANTI_VER ]; then echo "Current device antirollback version is greater than this pakcage"; exit 1; fi'
    echo ''
    echo 'fastboot $* getvar crc 2>&1 | grep "^crc: 1"'
    echo 'if [ $? -eq 0 ]; then'
    echo 'fastboot $* flash crclist       `dirname $0`/images/crclist.txt'
    echo 'if [ $? -ne 0 ] ; then echo "Flash crclist error"; exit 1; fi'
    echo 'fastboot $* flash sparsecrclist `dirname $0`/images/sparsecrclist.txt'
    echo 'if [ $? -ne 0 ] ; then echo "Flash sparsecrclist error"; exit 1; fi'
    echo 'fi'
    echo ''
    echo 'fastboot $* erase boot_ab'
    echo 'if [ $? -ne 0 ] ; then echo "Erase boot error"; exit 1; fi'
    for pf in $parts; do
      echo "fastboot \$* flash ${pf%%:*} \`dirname \$0\`/images/${pf#*:}"
      echo "if [ \$? -ne 0 ] ; then echo \"Flash ${pf%%:*} error\"; exit 1; fi"
      if [ "${pf%%:*}" = vbmeta_system_ab ]; then
        echo 'fastboot $* erase metadata'
        echo 'if [ $? -ne 0 ] ; then echo "Erase metadata error"; exit 1; fi'
        echo 'fastboot $* flash metadata `dirname $0`/images/metadata.img'
        echo 'if [ $? -ne 0 ] ; then echo "Flash metadata error"; exit 1; fi'
        if [ "$variant" != except_storage ]; then
          echo 'fastboot $* flash userdata `dirname $0`/images/userdata.img'
          echo 'if [ $? -ne 0 ] ; then echo "Flash userdata error"; exit 1; fi'
        fi
      fi
    done
    echo 'fastboot $* set_active a'
    echo 'if [ $? -ne 0 ] ; then echo "set_active a error"; exit 1; fi'
    if [ "$variant" = lock ]; then
      echo 'fastboot $* oem lock'
      echo 'if [ $? -ne 0 ] ; then echo "Oem lock error"; exit 1; fi'
    else
      echo 'fastboot $* reboot'
      echo 'if [ $? -ne 0 ] ; then echo "Reboot error"; exit 1; fi'
    fi
  } >"$f"
}
write_sh "$rom/$folder/flash_all.sh" all
write_sh "$rom/$folder/flash_all_except_storage.sh" except_storage
write_sh "$rom/$folder/flash_all_lock.sh" lock
# The Windows twin, with CRLF line ends as shipped.
{
  printf 'fastboot %%* getvar product 2>&1 | findstr /r /c:"^product: *%s" || echo Missmatching image and device\r\n' "$codename"
  printf 'fastboot %%* getvar product 2>&1 | findstr /r /c:"^product: *%s" || exit /B 1\r\n' "$codename"
  printf '::check anti_version\r\n'
  printf 'fastboot %%* erase boot_ab || @echo "Erase boot error" && exit /B 1\r\n'
  for pf in $parts; do
    printf 'fastboot %%* flash %s %%~dp0images\\%s || @echo "Flash %s error" && exit /B 1\r\n' \
      "${pf%%:*}" "${pf#*:}" "${pf%%:*}"
  done
  printf 'fastboot %%* set_active a || @echo "Set active a error" && exit /B 1\r\n'
  printf 'fastboot %%* reboot || @echo "Reboot error" && exit /B 1\r\n'
} >"$rom/$folder/flash_all.bat"
echo "ro.build.version.incremental=OS1.0.TEST" >"$rom/$folder/misc.txt"

tgz=$work/$folder.tgz
tar -C "$rom" -czf "$tgz" "$folder"
(cd "$rom" && sha256sum "$folder"/images/*) | sort -k2 >"$work/expected.sha256"
image_count=$(ls "$img" | wc -l)

# ---- inspect --------------------------------------------------------------
run firmware inspect "$tgz"
check "inspect exits 0" [ "$rc" -eq 0 ]
printf '%s\n' "$out" | awk 'length($1) == 64 && $1 ~ /^[0-9a-f]+$/ && NF == 3 { print $1 "  " $3 }' | sort -k2 >"$work/listed.sha256"
check "inspect lists every image with sha256sum's digest" cmp -s "$work/expected.sha256" "$work/listed.sha256"
sizes_ok=true
sizes_seen=0
while read -r sha size path; do
  [ "$(stat -c %s "$rom/$path")" = "$size" ] || sizes_ok=false
  sizes_seen=$((sizes_seen + 1))
done < <(printf '%s\n' "$out" | awk 'length($1) == 64 && $1 ~ /^[0-9a-f]+$/ && NF == 3')
check "inspect gives each image's size" [ $sizes_ok = true -a $sizes_seen -eq "$(ls "$img" | wc -l)" ]
check "inspect counts the images" grep -q "^Images: $image_count files" "$work/out"
check "inspect names the codename from the product check" grep -q "^Codename:  $codename (from the product check)" "$work/out"
check "inspect gives the anti-rollback version" grep -q "^Anti-rollback version: 1 " "$work/out"
for s in flash_all.sh flash_all_except_storage.sh flash_all_lock.sh flash_all.bat; do
  check "inspect names $s" grep -q "^  $s  *$codename, " "$work/out"
done
check "flash_all.sh wipes user data" grep -q "^  flash_all.sh .*wipes user data" "$work/out"
check "flash_all_except_storage.sh keeps user data" grep -q "^  flash_all_except_storage.sh .*keeps user data" "$work/out"
check "flash_all_lock.sh locks the bootloader" grep -q "^  flash_all_lock.sh .*locks the bootloader" "$work/out"
check "no line of the real-shaped scripts is left not understood" bash -c "! grep -q 'not understood' '$work/out'"
check "inspect reports the folder" grep -q "^Folder:    $folder" "$work/out"

run --json firmware inspect "$tgz"
check "inspect --json exits 0" [ "$rc" -eq 0 ]
check "inspect --json is valid JSON" python3 -m json.tool "$work/out" /dev/null
check "inspect --json content matches the package" python3 - "$work/out" "$work/expected.sha256" "$codename" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
expected = dict(reversed(l.split()) for l in open(sys.argv[2]))
got = {i["path"]: i["sha256"] for i in doc["images"]}
assert got == expected, (got, expected)
assert doc["ok"] is True
assert doc["codename"] == sys.argv[3] and doc["codenames"] == [sys.argv[3]]
assert doc["anti_version"] == 1
scripts = {s["name"]: s for s in doc["scripts"]}
assert set(scripts) == {"flash_all.sh", "flash_all_except_storage.sh", "flash_all_lock.sh", "flash_all.bat"}, scripts.keys()
assert scripts["flash_all.sh"]["wipes_userdata"] and not scripts["flash_all_except_storage.sh"]["wipes_userdata"]
assert scripts["flash_all_lock.sh"]["locks_bootloader"] and not scripts["flash_all.sh"]["locks_bootloader"]
assert scripts["flash_all.bat"]["dialect"] == "bat"
for s in scripts.values():
    assert s["unknown_count"] == 0 and s["missing_images"] == [], s
boot = [st for st in scripts["flash_all.sh"]["steps"] if st.get("partition") == "boot_ab" and st["type"] == "flash"]
assert boot and boot[0]["both_slots"] and boot[0]["base_partition"] == "boot" and boot[0]["file"] == "images/boot.img"
assert doc["image_count"] == len(expected)
PY

# ---- verify ---------------------------------------------------------------
md5=$(md5sum "$tgz" | cut -d' ' -f1)
sha=$(sha256sum "$tgz" | cut -d' ' -f1)
sha1=$(sha1sum "$tgz" | cut -d' ' -f1)
wrong_md5=$(printf '%s' "$md5" | tr '0-9a-f' '1-9a-f0')
wrong_sha=$(printf '%s' "$sha" | tr '0-9a-f' '1-9a-f0')

run firmware verify "$tgz" --md5 "$md5"
check "verify --md5 match exits 0" [ "$rc" -eq 0 ]
check "verify --md5 match says so" grep -q "md5 matches" "$work/out"
run firmware verify "$tgz" --sha256 "$(printf '%s' "$sha" | tr a-f A-F)"
check "verify --sha256 match (uppercase hex) exits 0" [ "$rc" -eq 0 ]
run firmware verify --sha1 "$sha1" "$tgz"
check "verify --sha1 before FILE exits 0" [ "$rc" -eq 0 ]
run firmware verify "$tgz" --md5 "$wrong_md5"
check "verify --md5 mismatch exits 1" [ "$rc" -eq 1 ]
check "verify mismatch prints both values" bash -c "grep -q 'expected $wrong_md5' '$work/out' && grep -q 'actual   $md5' '$work/out'"
run firmware verify "$tgz" --sha256 "$wrong_sha"
check "verify --sha256 mismatch exits 1" [ "$rc" -eq 1 ]
run --json firmware verify "$tgz" --sha256 "$wrong_sha"
check "verify --json mismatch says match false" python3 -c "import json,sys; d=json.load(open('$work/out')); assert d['match'] is False and d['actual']=='$sha' and d['expected']=='$wrong_sha'"
run firmware verify "$tgz" --md5 "${md5%?}"
check "verify with a short md5 is a usage error (2)" [ "$rc" -eq 2 ]
check "verify names the expected length" grep -q -- "--md5 needs 32 hex digits" "$work/err"
run firmware verify "$tgz" --sha256 "zz${sha#??}"
check "verify with non-hex is a usage error (2)" [ "$rc" -eq 2 ]
run firmware verify "$tgz" --md5 "$md5" --sha256 "$sha"
check "verify with two checksums is a usage error (2)" [ "$rc" -eq 2 ]
run firmware verify "$tgz"
check "verify without a checksum is a usage error (2)" [ "$rc" -eq 2 ]
run firmware verify "$work/missing.tgz" --md5 "$md5"
check "verify of a missing file exits 1" [ "$rc" -eq 1 ]
check "verify of a missing file names it" grep -q "missing.tgz: no such file" "$work/err"

# ---- damaged and missing packages -----------------------------------------
size=$(stat -c %s "$tgz")
head -c $((size / 2)) "$tgz" >"$work/truncated.tgz"
run firmware inspect "$work/truncated.tgz"
check "truncated .tgz exits 1" [ "$rc" -eq 1 ]
check "truncated .tgz: the message names the file and the problem" grep -q "truncated.tgz: truncated or corrupt: .*(libarchive: " "$work/err"
check "truncated .tgz: no listing on stdout" [ -z "$out" ]
run --json firmware inspect "$work/truncated.tgz"
check "truncated .tgz --json exits 1" [ "$rc" -eq 1 ]
check "truncated .tgz --json prints an error object, not a listing" python3 -c "import json; d=json.load(open('$work/out')); assert d['ok'] is False and d['error']['name']=='ECORRUPT' and 'images' not in d"

cp "$tgz" "$work/flipped.tgz"
printf '\xff\x00\xff\x00\xff\x00\xff\x00' | dd of="$work/flipped.tgz" bs=1 seek=$((size / 2)) conv=notrunc status=none
run firmware inspect "$work/flipped.tgz"
check "a .tgz with damaged bytes inside exits 1" [ "$rc" -eq 1 ]
check "damaged .tgz: says corrupt" grep -q "truncated or corrupt" "$work/err"

head -c 100000 /dev/urandom >"$work/garbage.tgz"
run firmware inspect "$work/garbage.tgz"
check "a garbage file exits 1" [ "$rc" -eq 1 ]
check "a garbage file: a clear message naming it" grep -q "garbage.tgz: truncated or corrupt: not a package droidfix can read" "$work/err"

run firmware inspect "$work/nothing-here.tgz"
check "a missing file exits 1" [ "$rc" -eq 1 ]
check "a missing file: the message names it" grep -q "cannot open .*nothing-here.tgz: No such file or directory" "$work/err"

run firmware inspect "$work"
check "a directory exits 1" [ "$rc" -eq 1 ]

tar -C "$work" -czf "$work/notrom.tgz" expected.sha256
run firmware inspect "$work/notrom.tgz"
check "a valid archive that is no ROM exits 1" [ "$rc" -eq 1 ]
check "a valid archive that is no ROM says so" grep -q "not a Xiaomi fastboot ROM" "$work/err"

run firmware inspect
check "inspect without FILE is a usage error (2)" [ "$rc" -eq 2 ]

# ---- .zip -----------------------------------------------------------------
if command -v zip >/dev/null; then
  (cd "$rom" && zip -qr "$work/$folder.zip" "$folder")
  run firmware inspect "$work/$folder.zip"
  check ".zip: inspect exits 0" [ "$rc" -eq 0 ]
  printf '%s\n' "$out" | awk 'length($1) == 64 && $1 ~ /^[0-9a-f]+$/ && NF == 3 { print $1 "  " $3 }' | sort -k2 >"$work/listed-zip.sha256"
  check ".zip: every image with sha256sum's digest" cmp -s "$work/expected.sha256" "$work/listed-zip.sha256"
  zsize=$(stat -c %s "$work/$folder.zip")
  head -c $((zsize - 100)) "$work/$folder.zip" >"$work/cut.zip"
  run firmware inspect "$work/cut.zip"
  check ".zip without its tail exits 1" [ "$rc" -eq 1 ]
else
  echo "# zip not installed: .zip variant skipped"
fi

# ---- a hostile script is parsed, never run --------------------------------
evil=$work/evil
mkdir -p "$evil/$folder/images"
cp "$img/boot.img" "$evil/$folder/images/"
canary=$work/canary
{
  echo "fastboot \$* getvar product 2>&1 | grep \"^product: *$codename\""
  echo "fastboot \$* flash boot \$(touch $canary)/images/boot.img"
  echo "fastboot \$* erase boot; touch $canary"
  echo "\`touch $canary\`"
  echo "fastboot \$* flash boot \`dirname \$0\`/images/boot.img || touch $canary"
  echo "touch $canary"
} >"$evil/$folder/flash_all.sh"
# A name with a control byte and a byte that is not UTF-8.
cp "$img/misc.img" "$evil/$folder/images/$(printf 'bad\001name\377.img')"
tar -C "$evil" -czf "$work/evil.tgz" "$folder"
run firmware inspect "$work/evil.tgz"
check "hostile package: inspect exits 0 (the listing is complete)" [ "$rc" -eq 0 ]
check "hostile script: nothing was run" [ ! -e "$canary" ]
check "hostile script: its 5 bad lines are shown as not understood" [ "$(grep -c 'not understood' "$work/out")" -eq 5 ]
check "hostile name: control bytes are escaped on the terminal" grep -q 'bad\\x01name\\xff.img' "$work/out"
run --json firmware inspect "$work/evil.tgz"
check "hostile name: --json stays valid" python3 -c "import json; d=json.load(open('$work/out')); assert any(i['path'].endswith('bad\x01name\ufffd.img') for i in d['images']); assert d['scripts'][0]['unknown_count']==5"
check "hostile script: still nothing was run" [ ! -e "$canary" ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
