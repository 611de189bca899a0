#!/usr/bin/env bash
# droidfix firmware inspect / verify against a synthetic Xiaomi fastboot ROM
# (tests/fixtures/make-rom.sh, with its Windows twin script): listing and
# SHA-256s against sha256sum, --json content, verify match and mismatch,
# damaged and missing packages, a .zip variant, and a hostile flash script
# that must never run.
source "$(dirname "$0")/../lib/harness.sh"

# run ARGS...: runs droidfix, leaving stdout in $out, stderr in $err, exit in $rc.
run() {
  "$DROIDFIX" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}

if [ ! -x "$DROIDFIX" ]; then
  bad "droidfix is built ($DROIDFIX; set DF_BIN_DIR)"
  finish
fi

# ---- A ROM shaped like Xiaomi's, unpacked beside it for the expectations ---
codename=vermeer
if ! tgz=$(DF_ROM_BAT=1 bash "$DF_SOURCE_DIR/tests/fixtures/make-rom.sh" "$WORK" good 1); then
  bad "make-rom.sh builds a ROM"
  finish
fi
folder=$(basename "$tgz" -good.tgz)
rom=$WORK/rom
mkdir -p "$rom"
tar -C "$rom" -xzf "$tgz"
img=$rom/$folder/images
(cd "$rom" && sha256sum "$folder"/images/*) | sort -k2 >"$WORK/expected.sha256"
image_count=$(ls "$img" | wc -l)

# ---- inspect --------------------------------------------------------------
run firmware inspect "$tgz"
check "inspect exits 0" [ "$rc" -eq 0 ]
printf '%s\n' "$out" | awk 'length($1) == 64 && $1 ~ /^[0-9a-f]+$/ && NF == 3 { print $1 "  " $3 }' | sort -k2 >"$WORK/listed.sha256"
check "inspect lists every image with sha256sum's digest" cmp -s "$WORK/expected.sha256" "$WORK/listed.sha256"
sizes_ok=true
sizes_seen=0
while read -r sha size path; do
  [ "$(stat -c %s "$rom/$path")" = "$size" ] || sizes_ok=false
  sizes_seen=$((sizes_seen + 1))
done < <(printf '%s\n' "$out" | awk 'length($1) == 64 && $1 ~ /^[0-9a-f]+$/ && NF == 3')
check "inspect gives each image's size" [ $sizes_ok = true -a $sizes_seen -eq "$(ls "$img" | wc -l)" ]
check "inspect counts the images" grep -q "^Images: $image_count files" "$WORK/out"
check "inspect names the codename from the product check" grep -q "^Codename:  $codename (from the product check)" "$WORK/out"
check "inspect gives the anti-rollback version" grep -q "^Anti-rollback version: 1 " "$WORK/out"
for s in flash_all.sh flash_all_except_storage.sh flash_all_lock.sh flash_all.bat; do
  check "inspect names $s" grep -q "^  $s  *$codename, " "$WORK/out"
done
check "flash_all.sh wipes user data" grep -q "^  flash_all.sh .*wipes user data" "$WORK/out"
check "flash_all_except_storage.sh keeps user data" grep -q "^  flash_all_except_storage.sh .*keeps user data" "$WORK/out"
check "flash_all_lock.sh locks the bootloader" grep -q "^  flash_all_lock.sh .*locks the bootloader" "$WORK/out"
check "no line of the real-shaped scripts is left not understood" bash -c "! grep -q 'not understood' '$WORK/out'"
check "inspect reports the folder" grep -q "^Folder:    $folder" "$WORK/out"

run --json firmware inspect "$tgz"
check "inspect --json exits 0" [ "$rc" -eq 0 ]
check "inspect --json is valid JSON" python3 -m json.tool "$WORK/out" /dev/null
check "inspect --json content matches the package" python3 - "$WORK/out" "$WORK/expected.sha256" "$codename" <<'PY'
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
check "verify --md5 match says so" grep -q "md5 matches" "$WORK/out"
run firmware verify "$tgz" --sha256 "$(printf '%s' "$sha" | tr a-f A-F)"
check "verify --sha256 match (uppercase hex) exits 0" [ "$rc" -eq 0 ]
run firmware verify --sha1 "$sha1" "$tgz"
check "verify --sha1 before FILE exits 0" [ "$rc" -eq 0 ]
run firmware verify "$tgz" --md5 "$wrong_md5"
check "verify --md5 mismatch exits 1" [ "$rc" -eq 1 ]
check "verify mismatch prints both values" bash -c "grep -q 'expected $wrong_md5' '$WORK/out' && grep -q 'actual   $md5' '$WORK/out'"
run firmware verify "$tgz" --sha256 "$wrong_sha"
check "verify --sha256 mismatch exits 1" [ "$rc" -eq 1 ]
run --json firmware verify "$tgz" --sha256 "$wrong_sha"
check "verify --json mismatch says match false" python3 -c "import json,sys; d=json.load(open('$WORK/out')); assert d['match'] is False and d['actual']=='$sha' and d['expected']=='$wrong_sha'"
run firmware verify "$tgz" --md5 "${md5%?}"
check "verify with a short md5 is a usage error (2)" [ "$rc" -eq 2 ]
check "verify names the expected length" grep -q -- "--md5 needs 32 hex digits" "$WORK/err"
run firmware verify "$tgz" --sha256 "zz${sha#??}"
check "verify with non-hex is a usage error (2)" [ "$rc" -eq 2 ]
run firmware verify "$tgz" --md5 "$md5" --sha256 "$sha"
check "verify with two checksums is a usage error (2)" [ "$rc" -eq 2 ]
run firmware verify "$tgz"
check "verify without a checksum is a usage error (2)" [ "$rc" -eq 2 ]
run firmware verify "$WORK/missing.tgz" --md5 "$md5"
check "verify of a missing file exits 1" [ "$rc" -eq 1 ]
check "verify of a missing file names it" grep -q "missing.tgz: no such file" "$WORK/err"

# ---- damaged and missing packages -----------------------------------------
size=$(stat -c %s "$tgz")
head -c $((size / 2)) "$tgz" >"$WORK/truncated.tgz"
run firmware inspect "$WORK/truncated.tgz"
check "truncated .tgz exits 1" [ "$rc" -eq 1 ]
check "truncated .tgz: the message names the file and the problem" grep -q "truncated.tgz: truncated or corrupt: .*(libarchive: " "$WORK/err"
check "truncated .tgz: no listing on stdout" [ -z "$out" ]
run --json firmware inspect "$WORK/truncated.tgz"
check "truncated .tgz --json exits 1" [ "$rc" -eq 1 ]
check "truncated .tgz --json prints an error object, not a listing" python3 -c "import json; d=json.load(open('$WORK/out')); assert d['ok'] is False and d['error']['name']=='ECORRUPT' and 'images' not in d"

cp "$tgz" "$WORK/flipped.tgz"
printf '\xff\x00\xff\x00\xff\x00\xff\x00' | dd of="$WORK/flipped.tgz" bs=1 seek=$((size / 2)) conv=notrunc status=none
run firmware inspect "$WORK/flipped.tgz"
check "a .tgz with damaged bytes inside exits 1" [ "$rc" -eq 1 ]
check "damaged .tgz: says corrupt" grep -q "truncated or corrupt" "$WORK/err"

head -c 100000 /dev/urandom >"$WORK/garbage.tgz"
run firmware inspect "$WORK/garbage.tgz"
check "a garbage file exits 1" [ "$rc" -eq 1 ]
check "a garbage file: a clear message naming it" grep -q "garbage.tgz: truncated or corrupt: not a package droidfix can read" "$WORK/err"

run firmware inspect "$WORK/nothing-here.tgz"
check "a missing file exits 1" [ "$rc" -eq 1 ]
check "a missing file: the message names it" grep -q "cannot open .*nothing-here.tgz: No such file or directory" "$WORK/err"

run firmware inspect "$WORK"
check "a directory exits 1" [ "$rc" -eq 1 ]

tar -C "$WORK" -czf "$WORK/notrom.tgz" expected.sha256
run firmware inspect "$WORK/notrom.tgz"
check "a valid archive that is no ROM exits 1" [ "$rc" -eq 1 ]
check "a valid archive that is no ROM says so" grep -q "not a Xiaomi fastboot ROM" "$WORK/err"

run firmware inspect
check "inspect without FILE is a usage error (2)" [ "$rc" -eq 2 ]

# ---- .zip -----------------------------------------------------------------
if command -v zip >/dev/null; then
  (cd "$rom" && zip -qr "$WORK/$folder.zip" "$folder")
  run firmware inspect "$WORK/$folder.zip"
  check ".zip: inspect exits 0" [ "$rc" -eq 0 ]
  printf '%s\n' "$out" | awk 'length($1) == 64 && $1 ~ /^[0-9a-f]+$/ && NF == 3 { print $1 "  " $3 }' | sort -k2 >"$WORK/listed-zip.sha256"
  check ".zip: every image with sha256sum's digest" cmp -s "$WORK/expected.sha256" "$WORK/listed-zip.sha256"
  zsize=$(stat -c %s "$WORK/$folder.zip")
  head -c $((zsize - 100)) "$WORK/$folder.zip" >"$WORK/cut.zip"
  run firmware inspect "$WORK/cut.zip"
  check ".zip without its tail exits 1" [ "$rc" -eq 1 ]
else
  echo "# zip not installed: .zip variant skipped"
fi

# ---- a hostile script is parsed, never run --------------------------------
evil=$WORK/evil
mkdir -p "$evil/$folder/images"
cp "$img/boot.img" "$evil/$folder/images/"
canary=$WORK/canary
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
tar -C "$evil" -czf "$WORK/evil.tgz" "$folder"
run firmware inspect "$WORK/evil.tgz"
check "hostile package: inspect exits 0 (the listing is complete)" [ "$rc" -eq 0 ]
check "hostile script: nothing was run" [ ! -e "$canary" ]
check "hostile script: its 5 bad lines are shown as not understood" [ "$(grep -c 'not understood' "$WORK/out")" -eq 5 ]
check "hostile name: control bytes are escaped on the terminal" grep -q 'bad\\x01name\\xff.img' "$WORK/out"
run --json firmware inspect "$WORK/evil.tgz"
check "hostile name: --json stays valid" python3 -c "import json; d=json.load(open('$WORK/out')); assert any(i['path'].endswith('bad\x01name\ufffd.img') for i in d['images']); assert d['scripts'][0]['unknown_count']==5"
check "hostile script: still nothing was run" [ ! -e "$canary" ]

finish
