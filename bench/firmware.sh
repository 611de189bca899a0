# Section "firmware": a 2 GiB Xiaomi-layout fastboot ROM (.tgz), from the
# package to a flashed phone, on one simulated phone in its unlocked
# bootloader:
#   droidfix   droidfix run recipes/system-reflash.lua --param firmware=ROM
#              --param variant=flash_all --yes: checks the package (reads it
#              whole, gzip CRC included), then flashes every image straight
#              out of the archive, reboots the phone and waits for Android
#   tar+fastboot  what users do today: tar -xzf ROM, then the ROM's
#              flash_all.sh with Google's fastboot -s tcp:PHONE
# Wall time and the temporary disk space each needs: for tar, the extracted
# folder; for droidfix, whatever appears under its working folder, TMPDIR
# and HOME while it runs (sampled every 0.1 s, and measured at the end).
#
# The ROM is tests/fixtures/make-rom.sh's "good" vermeer ROM with a 4088 MiB
# super image (half of it random data, sparse: a 2 GiB super.img), packed
# with gzip -1 (its data does not compress; -1 only saves build time). Set
# BENCH_ROM=FILE to use a ROM built before (building takes minutes).
#
# droidfix-sim does not implement Xiaomi's "NAME_ab" partition names (its
# bootloader knows NAME_a and NAME_b): the flash_all.sh fastboot runs is
# therefore the ROM's own with each "_ab" line written as the two lines for
# _a and _b, the writes droidfix's recipe makes for the same script. It is
# copied beside the extracted one (untimed copy of a 2 KiB file).

export SW
sim_up phone || exit 1
sim_to_bootloader "$SIM_DIR" "$SIM_FB" || exit 1
export SIM_FB SIM_ADB SIM_DIR

if [ -n "${BENCH_ROM:-}" ] && [ -f "$BENCH_ROM" ]; then
  ROM=$BENCH_ROM
  fact firmware_rom "given (BENCH_ROM): $(basename "$ROM")"
else
  log "firmware: building the 2 GiB ROM (a few minutes)"
  ROM=$(DF_ROM_SUPER_MIB=4088 DF_ROM_GZIP_LEVEL=1 bash "$SRC/tests/fixtures/make-rom.sh" "$SW" good) ||
    { log "firmware: make-rom.sh failed"; exit 1; }
  fact firmware_rom "built by tests/fixtures/make-rom.sh (DF_ROM_SUPER_MIB=4088 DF_ROM_GZIP_LEVEL=1)"
fi
export ROM
rom_bytes=$(stat -c %s "$ROM")
fact firmware_rom_bytes "$rom_bytes"
folder=$(python3 -c 'import sys, tarfile; print(tarfile.open(sys.argv[1], "r|gz").next().name.split("/")[0])' "$ROM")
export FOLDER=$folder

# The script fastboot runs (see above), made once from the ROM's own.
tar -C "$SW" --occurrence=1 -xzf "$ROM" "$folder/flash_all.sh" || exit 1
sed -E 's/^(fastboot \$\* (flash|erase) )([A-Za-z0-9_]+)_ab( .*)?$/\1\3_a\4\n\1\3_b\4/' \
  "$SW/$folder/flash_all.sh" >"$SW/flash_all_sim.sh"
rm -rf "${SW:?}/$folder"
fact firmware_ab_lines "$(grep -c '^fastboot.*_ab' "$SW/flash_all_sim.sh") fastboot lines with an _ab name left in the script fastboot runs"

mkdir -p "$SW/x" "$SW/dfcwd" "$SW/dftmp"
# droidfix makes its ADB key in HOME the first time it connects: once here,
# untimed, so that the key is not counted as a temporary file.
"$DF" -q --connect "$SIM_ADB" --connect "$SIM_FB" devices >/dev/null 2>&1

# Before every run: the phone back in its unlocked bootloader (both tools
# end by restarting it), super erased (so that a run that wrote nothing is
# seen), no leftovers of the previous run.
prep() {
  rm -rf "${SW:?}/x"/* "${SW:?}/dfcwd"/* "${SW:?}/dftmp"/*
  # (its status is fastboot flashing unlock's, which fails on an unlocked
  # phone: the mode is what counts)
  sim_to_bootloader "$SIM_DIR" "$SIM_FB" >/dev/null 2>&1
  [ "$(sim_mode "$SIM_DIR")" = bootloader ] || log "firmware: the phone did not reach the bootloader"
  timeout 60 fastboot -s "tcp:$SIM_FB" erase super >/dev/null 2>&1
}

# Bytes under the folders a tool may use for temporary files.
tmp_bytes() {
  du -sb "$SW/x" "$SW/dfcwd" "$SW/dftmp" "$HOME" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# sampler OUT: the largest tmp_bytes seen, every 0.1 s, until killed.
sampler() {
  local max=0 b
  while :; do
    b=$(tmp_bytes)
    [ "$b" -gt "$max" ] && { max=$b; echo "$max" >"$1"; }
    sleep 0.1
  done
}

DF_CMD='cd $SW/dfcwd && TMPDIR=$SW/dftmp "$DF" -q run $SRC/recipes/system-reflash.lua --yes --no-backup --param firmware=$ROM --param variant=flash_all --connect $SIM_ADB --connect $SIM_FB'
FB_CMD='tar -C $SW/x -xzf $ROM && cp $SW/flash_all_sim.sh $SW/x/$FOLDER/ && bash $SW/x/$FOLDER/flash_all_sim.sh -s tcp:$SIM_FB'
export SRC
printf 'firmware\t2 GiB ROM\tdroidfix\t%s\n' "$DF_CMD" >>"$W/commands.tsv"
printf 'firmware\t2 GiB ROM\ttar+fastboot\t%s\n' "$FB_CMD" >>"$W/commands.tsv"

part_map() {
  "$SIM" status --state-dir "$SIM_DIR" |
    python3 -c 'import json,sys; p=json.load(sys.stdin)["partitions"]; print(" ".join("%s=%s" % (k, p[k].get("sha256", "")) for k in sorted(p)))'
}

tools=(droidfix tar+fastboot)
for ((run = 1; run <= BENCH_RUNS; run++)); do
  for ((k = 0; k < 2; k++)); do
    tool=${tools[$(( (k + run) % 2 ))]}
    prep
    base=$(tmp_bytes)
    : >"$SW/peak"
    touch "$SW/mark"
    sampler "$SW/peak" &
    spid=$!
    if [ "$tool" = droidfix ]; then timed "$DF_CMD"; else timed "$FB_CMD"; fi
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    after=$(tmp_bytes)
    peak=$(cat "$SW/peak" 2>/dev/null)
    [ -n "$peak" ] || peak=$base
    [ "$after" -gt "$peak" ] && peak=$after
    if [ "$RUN_STATUS" -ne 0 ]; then
      log "firmware/$tool run $run FAILED (exit $RUN_STATUS): $(tail -n 3 "$W/.err" "$W/.out" | tr '\n' ' ' | cut -c1-400)"
    fi
    record firmware "2 GiB ROM" "$tool" "$run" "$RUN_WALL" "$RUN_RSS" "$rom_bytes" "$RUN_STATUS"
    # The temporary bytes go in the RSS column of their own record.
    record firmware_tmp "2 GiB ROM" "$tool" "$run" "$RUN_WALL" $((peak - base)) "$rom_bytes" "$RUN_STATUS"
    if [ "$run" -eq "$BENCH_RUNS" ]; then
      part_map >"$SW/map.$tool"
      if [ "$tool" = droidfix ]; then
        fact firmware_df_files "$(find "$SW/dfcwd" "$SW/dftmp" "$HOME" -type f -newer "$SW/mark" 2>/dev/null | sed "s|$W|\$W|" | head -n 5 | tr '\n' ' ')"
      fi
    fi
  done
  log "firmware: run $run done"
done

# Both tools leave the phone in the same state, and super was written.
empty=$(printf '' | sha256sum | cut -d' ' -f1)
if cmp -s "$SW/map.droidfix" "$SW/map.tar+fastboot" && ! grep -q "super=$empty" "$SW/map.droidfix"; then
  fact check_firmware "after each tool's last run every partition (super included, erased before each run) holds the same bytes"
else
  fact check_firmware "MISMATCH: the partitions differ between the tools, or super stayed empty: $(diff <(tr ' ' '\n' <"$SW/map.droidfix") <(tr ' ' '\n' <"$SW/map.tar+fastboot") | head -c 300 | tr '\n' ' ')"
fi
