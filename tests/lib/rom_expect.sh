# What a phone must hold once a synthetic Xiaomi fastboot ROM
# (tests/fixtures/make-rom.sh) is flashed by its flash_all script; source it
# after harness.sh.
#   rom_expect NAME TGZ      unpacks TGZ into $WORK/expect-NAME and writes
#                            $WORK/expect-NAME.sha, "PARTITION SHA256" lines:
#                            both slots of the _ab images, metadata, misc,
#                            and super unsparsed by simg2img
#   rom_held NAME STATE_DIR  the sim in STATE_DIR holds ROM NAME's images;
#                            else prints the partitions that do not (" a b")
#                            and fails
rom_sha() { sha256sum <"$1" | cut -d' ' -f1; }

rom_expect() {
  local dir="$WORK/expect-$1" img p
  mkdir -p "$dir"
  tar -C "$dir" -xzf "$2" || return 1
  img=$(echo "$dir"/*/images)
  simg2img "$img/super.img" "$dir/super.raw" || return 1
  {
    for p in boot init_boot recovery vendor_boot dtbo vbmeta vbmeta_system; do
      echo "${p}_a $(rom_sha "$img/$p.img")"
      echo "${p}_b $(rom_sha "$img/$p.img")"
    done
    for p in metadata misc; do echo "$p $(rom_sha "$img/$p.img")"; done
    echo "super $(rom_sha "$dir/super.raw")"
  } >"$dir.sha"
}

# (grep, not python: a python start costs seconds on a loaded machine)
rom_held() {
  local status wrong="" name want got
  status=$("$SIM" status --state-dir "$2") || return 1
  while read -r name want; do
    got=$(printf '%s\n' "$status" | grep -o "\"$name\": {[^}]*}" | grep -o '"sha256": "[0-9a-f]*"' | cut -d'"' -f4)
    [ "$got" = "$want" ] || wrong+=" $name"
  done <"$WORK/expect-$1.sha"
  [ -z "$wrong" ] || { echo "$wrong"; return 1; }
}
