# Section "hashing": SHA-256 of a 1 GiB file (droidfix firmware verify
# against coreutils sha256sum), and reading a firmware package
# (droidfix firmware inspect, which inflates every entry and hashes each
# image, against tar -xzOf FILE > /dev/null, which only inflates; and
# tar -xzOf FILE | sha256sum, which also hashes, as a second reference).
#
# Two packages in the Xiaomi fastboot ROM layout (see
# tests/e2e/test_firmware.sh): "1 GiB stored" holds 1 GiB of incompressible
# images, and its deflate stream is stored blocks, which is what gzip
# writes for incompressible data (the erofs/lz4 payload of real images), so
# it measures reading, CRC and hashing; "256 MiB deflated" holds
# compressible images packed by tar -czf (gzip -6), so it measures inflate.

export SW
mib=$((1024 * 1024))
randfile "$SW/f1g" $((1024 * mib)) || exit 1
sha=$(sha256sum "$SW/f1g" | cut -d' ' -f1)
export sha
bench_case hashing "sha256 1 GiB" $((1024 * mib)) \
  "droidfix=\"\$DF\" firmware verify \$SW/f1g --sha256 \$sha >/dev/null" \
  "sha256sum=sha256sum \$SW/f1g >/dev/null"
rm -f "$SW/f1g"

# make_rom FOLDER TOTAL_BYTES KIND: the images of a Xiaomi ROM in
# $SW/rom/FOLDER; KIND random (incompressible) or mixed (compressible).
make_rom() {
  local folder=$1 total=$2 kind=$3 img
  img=$SW/rom/$folder/images
  mkdir -p "$img"
  python3 - "$img" "$total" "$kind" <<'PY'
import os, sys, hashlib
img, total, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# Share of each image in the package, as in a real one: super dominates.
shares = [("super.img", 0.78), ("vendor_boot.img", 0.06), ("boot.img", 0.06),
          ("recovery.img", 0.05), ("NON-HLOS.bin", 0.03), ("dtbo.img", 0.01),
          ("xbl_s.melf", 0.005), ("abl.elf", 0.004), ("vbmeta.img", 0.001)]
mib = 1 << 20
seed = hashlib.sha256(b"droidfix-bench").digest()
def block(i):
    # 1 MiB blocks: random bytes, or for "mixed" a mix of text-like runs,
    # zeros and random bytes that gzip -6 shrinks to about half.
    rnd = hashlib.shake_256(seed + i.to_bytes(8, "little")).digest(mib)
    if kind == "random":
        return rnd
    k = i % 4
    if k == 0: return rnd
    if k == 1: return bytes(mib)
    text = (b"ro.build.fingerprint=Xiaomi/vermeer/vermeer:14/UKQ1.230804.001/%08d:user/release-keys\n" % i)
    if k == 2: return (text * (mib // len(text) + 1))[:mib]
    return rnd[: mib // 2] + bytes(mib // 2)
n = 0
for name, share in shares:
    size = int(total * share)
    with open(os.path.join(img, name), "wb") as f:
        left = size
        while left > 0:
            b = block(n); n += 1
            f.write(b[:left]); left -= min(left, mib)
PY
  cat >"$SW/rom/$folder/flash_all.sh" <<'EOF'
fastboot $* getvar product 2>&1 | grep "^product: *vermeer"
if [ $? -ne 0  ] ; then echo "Missmatching image and device"; exit 1; fi
fastboot $* erase boot_ab
if [ $? -ne 0 ] ; then echo "Erase boot error"; exit 1; fi
fastboot $* flash abl_ab `dirname $0`/images/abl.elf
fastboot $* flash xbl_ab `dirname $0`/images/xbl_s.melf
fastboot $* flash modem_ab `dirname $0`/images/NON-HLOS.bin
fastboot $* flash super `dirname $0`/images/super.img
fastboot $* flash vendor_boot_ab `dirname $0`/images/vendor_boot.img
fastboot $* flash dtbo_ab `dirname $0`/images/dtbo.img
fastboot $* flash vbmeta_ab `dirname $0`/images/vbmeta.img
fastboot $* flash recovery_ab `dirname $0`/images/recovery.img
fastboot $* flash boot_ab `dirname $0`/images/boot.img
fastboot $* set_active a
fastboot $* reboot
EOF
}

# Stored deflate blocks for the 1 GiB package (level 0), written by
# Python's tarfile: valid .tgz that tar, gzip and libarchive read.
stored=vermeer_images_OS1.0.BENCH_20240101.0000.00_14.0_cn
make_rom "$stored" $((1024 * mib)) random
python3 - "$SW/rom" "$stored" "$SW/stored.tgz" <<'PY'
import sys, tarfile
root, folder, out = sys.argv[1:]
with tarfile.open(out, "w:gz", compresslevel=0, format=tarfile.GNU_FORMAT) as t:
    t.add(f"{root}/{folder}", arcname=folder)
PY
rm -rf "$SW/rom"
fact rom_stored_bytes "$(stat -c %s "$SW/stored.tgz")"

mixed=vermeer_images_OS1.0.BENCHMIX_20240101.0000.00_14.0_cn
make_rom "$mixed" $((256 * mib)) mixed
tar -C "$SW/rom" -czf "$SW/mixed.tgz" "$mixed"
rm -rf "$SW/rom"
fact rom_mixed_bytes "$(stat -c %s "$SW/mixed.tgz")"

for rom in stored mixed; do
  case $rom in
    stored) name="inspect 1 GiB stored" ;;
    mixed) name="inspect 256 MiB deflated" ;;
  esac
  # bytes: the archive's size on disk
  bench_case hashing "$name" "$(stat -c %s "$SW/$rom.tgz")" \
    "droidfix=\"\$DF\" firmware inspect \$SW/$rom.tgz >/dev/null" \
    "tar=tar -xzOf \$SW/$rom.tgz >/dev/null" \
    "tar|sha256sum=tar -xzOf \$SW/$rom.tgz | sha256sum >/dev/null"
  "$DF" firmware inspect "$SW/$rom.tgz" >"$SW/inspect.out" 2>&1
  if grep -q '^Images: 9 files' "$SW/inspect.out"; then
    fact "check_inspect_$rom" "inspect lists the 9 images"
  else
    fact "check_inspect_$rom" "UNEXPECTED: $(head -c 300 "$SW/inspect.out" | tr '\n' ' ')"
  fi
done
