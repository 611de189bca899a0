# Section "startup": wall time of `droidfix --version` and, when the verb
# exists, `droidfix recipes`, by hyperfine (warm caches, 50 runs), with
# `adb version` and `fastboot --version` beside them for scale.

hf() { # NAME COMMAND
  local name=$1 cmd=$2 json=$SW/hf.json
  if hyperfine -N --warmup 5 --runs 50 --export-json "$json" "$cmd" >/dev/null 2>&1 ||
     hyperfine --warmup 5 --runs 50 --export-json "$json" "$cmd" >/dev/null 2>&1; then
    python3 - "$json" "$name" "$cmd" <<'PY' >>"$W/results.tsv"
import json, sys
d = json.load(open(sys.argv[1]))["results"][0]
for i, t in enumerate(d["times"], 1):
    print("startup\t%s\t%s\t%d\t%.6f\t0\t0\t0" % (sys.argv[2], sys.argv[2], i, t))
PY
    printf 'startup\t%s\t%s\t%s\n' "$name" "$name" "$cmd" >>"$W/commands.tsv"
  else
    log "hyperfine failed on: $cmd"
  fi
}

hf "droidfix --version" "$DF --version"
if "$DF" help recipes >/dev/null 2>&1; then
  hf "droidfix recipes" "$DF recipes"
else
  fact startup_recipes "droidfix has no recipes verb yet: not measured"
fi
hf "adb version" "adb version"
hf "fastboot --version" "fastboot --version"
