# Section "intake": how fast droidfix-sim itself takes a fastboot download
# over loopback (bench/fb_intake.c sends 4 downloads of 256 MiB from memory
# on one connection), so that a reader can tell whether the simulated phone
# or the host tool limits the other figures. Beside it, the ceiling of this
# machine's loopback: the same bytes into a sink that discards them.

export SW
cc -O2 -o "$SW/fb_intake" "$SRC/bench/fb_intake.c" || { log "cannot build fb_intake"; exit 1; }
cc -O2 -o "$SW/tcp_sink" "$SRC/bench/tcp_sink.c" || { log "cannot build tcp_sink"; exit 1; }
sim_up phone || exit 1
sim_to_bootloader "$SIM_DIR" "$SIM_FB" || exit 1

size=$((256 * 1024 * 1024))
count=4
printf 'intake\tfastboot download 4x256 MiB\tdroidfix-sim\t%s\n' \
  "bench/fb_intake 127.0.0.1:PORT $size $count (download:10000000 and 256 MiB as one frame, four times)" >>"$W/commands.tsv"
printf 'intake\tfastboot download 4x256 MiB\tloopback sink\t%s\n' \
  "bench/tcp_sink: the same client against a server that reads into a 4 MiB buffer and discards" >>"$W/commands.tsv"
# One untimed round first: the sim's first downloads create its files.
"$SW/fb_intake" "$SIM_FB" "$size" "$count" >/dev/null 2>&1
"$SW/tcp_sink" "$size" "$count" >/dev/null 2>&1
for ((run = 1; run <= BENCH_RUNS; run++)); do
  if out=$("$SW/fb_intake" "$SIM_FB" "$size" "$count" 2>"$SW/err"); then
    record intake "fastboot download 4x256 MiB" droidfix-sim "$run" "${out#* }" 0 "${out%% *}" 0
  else
    record intake "fastboot download 4x256 MiB" droidfix-sim "$run" 0 0 $((size * count)) 1
    log "fb_intake failed: $(cat "$SW/err")"
  fi
  if out=$("$SW/tcp_sink" "$size" "$count" 2>"$SW/err"); then
    record intake "fastboot download 4x256 MiB" "loopback sink" "$run" "${out#* }" 0 "${out%% *}" 0
  else
    log "tcp_sink failed: $(cat "$SW/err")"
  fi
done
