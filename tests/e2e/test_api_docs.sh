#!/usr/bin/env bash
# docs/api is generated from lua-api/meta/*.lua by lua-api/gen-docs.py: this
# fails when someone changed the annotations without regenerating, and
# checks that the generator itself notices a stale page.
source "$(dirname "$0")/../lib/harness.sh"

GEN="$DF_SOURCE_DIR/lua-api/gen-docs.py"
check "docs/api matches lua-api/meta (else: python3 lua-api/gen-docs.py)" python3 "$GEN" --check

# The generator must notice a change: run it on a copy with one page edited.
mkdir -p "$WORK/tree/lua-api" "$WORK/tree/docs"
cp -r "$DF_SOURCE_DIR/lua-api/meta" "$WORK/tree/lua-api/"
cp "$GEN" "$WORK/tree/lua-api/"
cp -r "$DF_SOURCE_DIR/docs/api" "$WORK/tree/docs/"
printf '\n---Added without regenerating.\nfunction df.extra() end\n' >>"$WORK/tree/lua-api/meta/df.lua"
if python3 "$WORK/tree/lua-api/gen-docs.py" --check >"$WORK/stale.out"; then
  bad "a stale docs/api was not noticed"
else
  grep -q 'df.md' "$WORK/stale.out" && ok "a stale page is named" || bad "stale output: $(cat "$WORK/stale.out")"
fi
python3 "$WORK/tree/lua-api/gen-docs.py" >/dev/null
check "regenerated docs describe the new function" grep -q 'df.extra()' "$WORK/tree/docs/api/df.md"
check "every device method has a section" bash -c "for m in shell getprop push pull stat list reboot wait_for getvar fastboot flash flash_entry erase set_active; do grep -q \"### \\\`dev:\$m(\" '$DF_SOURCE_DIR/docs/api/device.md' || { echo \"missing dev:\$m\"; exit 1; }; done"
finish
