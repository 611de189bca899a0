/* Fuzzes the host side's shell v2 decoder (plugins/adb/adb_shell_protocol.h)
 * with a phone's stream of packets, fed whole and in random pieces. The
 * decoder hands payloads over in pieces, so the two runs are compared as
 * streams: consecutive bytes of one id are joined, an empty packet is its
 * own event. Both runs must give the same streams, never more bytes than
 * were fed, and a header must re-encode to the bytes it came from. */
#include "tests/fuzz/fuzz_util.h"

#include "plugins/adb/adb_shell_protocol.h"

struct shell_run {
  struct df_fuzz_log log;
  struct df_fuzz_log cur; /* bytes of the current id not yet flushed */
  int cur_id;             /* -1: none */
  uint64_t bytes;
};

static void
flush(struct shell_run *run)
{
  if (run->cur_id < 0) return;
  df_fuzz_log_u64(&run->log, (uint64_t)run->cur_id);
  df_fuzz_log_u64(&run->log, run->cur.len);
  df_fuzz_log_put(&run->log, run->cur.p, run->cur.len);
  run->cur.len = 0;
  run->cur_id = -1;
}

static int
on_data(void *ctx, uint8_t id, const uint8_t *data, size_t len)
{
  struct shell_run *run = ctx;

  run->bytes += len;
  if (len == 0) {
    flush(run);
    df_fuzz_log_u64(&run->log, 0x100u + id); /* an empty packet */
    return 0;
  }
  if (run->cur_id != id) flush(run);
  run->cur_id = id;
  df_fuzz_log_put(&run->cur, data, len);
  return 0;
}

static void
run_decoder(struct shell_run *run, const uint8_t *data, size_t size, struct df_fuzz_rng *rng)
{
  struct df_shell_decoder d;

  run->cur_id = -1;
  df_shell_decoder_init(&d);
  if (rng == NULL) {
    DF_FUZZ_CHECK(df_shell_decoder_feed(&d, data, size, on_data, run) == 0, "feed failed");
  } else {
    for (size_t off = 0; off < size;) {
      size_t n = df_fuzz_piece(rng, size - off);
      DF_FUZZ_CHECK(df_shell_decoder_feed(&d, data + off, n, on_data, run) == 0, "feed failed");
      off += n;
    }
  }
  flush(run);
  DF_FUZZ_CHECK(d.header_have <= DF_SHELL_HEADER_SIZE, "header overrun");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct df_fuzz_rng rng;
  struct shell_run whole = {0}, cut = {0};

  if (size >= DF_SHELL_HEADER_SIZE) {
    uint8_t back[DF_SHELL_HEADER_SIZE];
    uint32_t len = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                   (uint32_t)data[4] << 24;
    df_shell_header_encode(back, (enum df_shell_id)data[0], len);
    DF_FUZZ_CHECK(memcmp(back, data, DF_SHELL_HEADER_SIZE) == 0, "header does not round-trip");
  }
  df_fuzz_rng_seed(&rng, data, size);
  run_decoder(&whole, data, size, NULL);
  run_decoder(&cut, data, size, &rng);
  DF_FUZZ_CHECK(whole.bytes <= size && cut.bytes == whole.bytes, "bytes %llu / %llu of %zu",
                (unsigned long long)whole.bytes, (unsigned long long)cut.bytes, size);
  DF_FUZZ_CHECK(df_fuzz_log_equal(&whole.log, &cut.log), "different streams in pieces");
  df_fuzz_log_free(&whole.log);
  df_fuzz_log_free(&whole.cur);
  df_fuzz_log_free(&cut.log);
  df_fuzz_log_free(&cut.cur);
  return 0;
}
