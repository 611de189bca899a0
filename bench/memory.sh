# Section "memory": peak resident memory of droidfix flashing a 4 GiB raw
# image (to super, 4 GiB on the simulated Redmi K70), against fastboot
# flashing the same image, BENCH_BIG_RUNS times each (default 3). The
# resident memory of push/pull comes from the transfer section.

sim_up phone || exit 1
sim_to_bootloader "$SIM_DIR" "$SIM_FB" || exit 1
export SIM_FB SW

bytes=$((4096 * 1024 * 1024))
randfile "$SW/raw4g.img" "$bytes" || exit 1
BENCH_RUNS=${BENCH_BIG_RUNS:-3}
fact big_runs "$BENCH_RUNS"
bench_case memory "flash raw 4 GiB" "$bytes" \
  "droidfix=\"\$DF\" -q --connect \$SIM_FB flash super \$SW/raw4g.img" \
  "fastboot=fastboot -s tcp:\$SIM_FB flash super \$SW/raw4g.img >/dev/null 2>&1"

# Did each tool write the image? (fastboot 29 is known to send a raw image
# of exactly 4 GiB as "sparse 1/1 (0 KB)": its size wraps to 0.)
want=$(openssl dgst -sha256 -r "$SW/raw4g.img" | cut -d' ' -f1)
super_sha() {
  "$SIM" status --state-dir "$SIM_DIR" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["partitions"].get("super", {}).get("sha256", ""))'
}
for tool in fastboot droidfix; do
  # From an erased partition, so that what the other tool wrote cannot pass.
  timeout 60 fastboot -s "tcp:$SIM_FB" erase super >/dev/null 2>&1
  if [ $tool = fastboot ]; then
    timeout 300 fastboot -s "tcp:$SIM_FB" flash super "$SW/raw4g.img" >"$SW/fb.out" 2>&1
  else
    timeout 300 "$DF" -q --connect "$SIM_FB" flash super "$SW/raw4g.img" >/dev/null 2>&1
  fi
  rc=$?
  if [ "$(super_sha)" = "$want" ]; then
    fact "check_flash4g_$tool" "exit $rc; super holds the 4 GiB image"
  else
    fact "check_flash4g_$tool" "exit $rc; super does NOT hold the image$( [ $tool = fastboot ] && printf ' (fastboot said: %s)' "$(grep -m1 'Sending' "$SW/fb.out" | tr -s ' ')")"
  fi
done
