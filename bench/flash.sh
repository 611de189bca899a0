# Section "flash": droidfix flash against fastboot flash on one simulated
# phone in its (unlocked) bootloader, same run, to userdata (1 GiB, the
# largest non-logical partition of the simulated Redmi K70):
#   raw 240 MiB   fits one download (max-download-size is 256 MiB)
#   raw 1 GiB     bigger than max-download-size: both tools cut it into
#                 sparse pieces, each downloaded and flashed
#   sparse 1 GiB  img2simg of a 1 GiB image holding 128 MiB of data in
#                 1 MiB stripes (the rest zeros): one download
# Each result is checked against the phone's own account (sha256 of the
# partition, from droidfix-sim status).

sim_up phone || exit 1
sim_to_bootloader "$SIM_DIR" "$SIM_FB" || exit 1
export SIM_FB SW

mib=$((1024 * 1024))
randfile "$SW/raw240.img" $((240 * mib)) || exit 1
randfile "$SW/raw1g.img" $((1024 * mib)) || exit 1
# 1 MiB of data every 8 MiB: 128 MiB of data in a 1 GiB image.
python3 - "$SW/stripes.img" "$SW/raw1g.img" <<'PY'
import sys
out, src = sys.argv[1], sys.argv[2]
mib = 1 << 20
with open(src, "rb") as s, open(out, "wb") as o:
    for i in range(128):
        o.write(s.read(mib))
        o.seek(7 * mib, 1)
    o.truncate(1024 * mib)
PY
img2simg "$SW/stripes.img" "$SW/sparse1g.simg" || exit 1
fact sparse_image_bytes "$(stat -c %s "$SW/sparse1g.simg")"

part_sha() {
  "$SIM" status --state-dir "$SIM_DIR" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["partitions"].get("userdata", {}).get("sha256", ""))'
}

flash_case() { # NAME FILE BYTES EXPECTED-RAW
  local name=$1 file=$2 bytes=$3 expect=$4 want
  bench_case flash "$name" "$bytes" \
    "droidfix=\"\$DF\" -q --connect \$SIM_FB flash userdata $file" \
    "fastboot=fastboot -s tcp:\$SIM_FB flash userdata $file >/dev/null 2>&1"
  # The last run's tool wrote the partition; check it holds the image.
  want=$(sha256sum <"$expect" | cut -d' ' -f1)
  if [ "$(part_sha)" = "$want" ]; then
    fact "check_flash_$name" "partition holds the image"
  else
    fact "check_flash_$name" "MISMATCH: the partition differs from the image"
    log "flash $name: the partition differs from the image"
  fi
  # And once more with droidfix alone, so both tools are checked.
  "$DF" -q --connect "$SIM_FB" flash userdata "$file" >/dev/null 2>&1
  if [ "$(part_sha)" = "$want" ]; then
    fact "check_flash_${name}_droidfix" "partition holds the image"
  else
    fact "check_flash_${name}_droidfix" "MISMATCH: the partition differs from the image"
  fi
}

flash_case "raw 240 MiB" '$SW/raw240.img' $((240 * mib)) "$SW/raw240.img"
flash_case "raw 1 GiB" '$SW/raw1g.img' $((1024 * mib)) "$SW/raw1g.img"
flash_case "sparse 1 GiB (128 MiB data)" '$SW/sparse1g.simg' $((1024 * mib)) "$SW/stripes.img"
