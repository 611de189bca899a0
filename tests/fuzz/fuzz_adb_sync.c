/* Fuzzes the host side's sync reply decoder (plugins/adb/adb_sync_protocol.h)
 * in each of its five expectations (STAT, STA2/LST2, LIST, RECV, status
 * after SEND), with the reply fed whole and in random pieces. The first
 * input byte picks the expectation. Both runs must report the same events
 * (DATA joined into one stream), consume the same bytes or fail the same
 * way, never hand out a name or message over its limit, and stop consuming
 * once the reply is finished. */
#include "tests/fuzz/fuzz_util.h"

#include "core/error.h"
#include "plugins/adb/adb_sync_protocol.h"

struct sync_run {
  struct df_fuzz_log log;
  struct df_fuzz_log data; /* DATA bytes not yet flushed into log */
  bool finished_seen;
};

static void
flush_data(struct sync_run *run)
{
  if (run->data.len == 0) return;
  df_fuzz_log_u64(&run->log, 'D');
  df_fuzz_log_u64(&run->log, run->data.len);
  df_fuzz_log_put(&run->log, run->data.p, run->data.len);
  run->data.len = 0;
}

static void
log_stat(struct sync_run *run, const struct df_sync_stat *st)
{
  df_fuzz_log_u64(&run->log, st->exists);
  df_fuzz_log_u64(&run->log, st->error);
  df_fuzz_log_u64(&run->log, st->mode);
  df_fuzz_log_u64(&run->log, st->size);
  df_fuzz_log_u64(&run->log, (uint64_t)st->mtime);
  df_fuzz_log_u64(&run->log, st->uid);
  df_fuzz_log_u64(&run->log, st->gid);
}

static void
on_stat(void *ctx, const struct df_sync_stat *st)
{
  struct sync_run *run = ctx;

  DF_FUZZ_CHECK(!run->finished_seen, "event after the end");
  run->finished_seen = true;
  flush_data(run);
  df_fuzz_log_u64(&run->log, 'S');
  log_stat(run, st);
}

static void
on_dent(void *ctx, const char *name, const struct df_sync_stat *st)
{
  struct sync_run *run = ctx;
  size_t n = strnlen(name, DF_SYNC_PATH_MAX + 1);

  DF_FUZZ_CHECK(!run->finished_seen, "event after the end");
  DF_FUZZ_CHECK(n <= DF_SYNC_PATH_MAX, "name over %d bytes", DF_SYNC_PATH_MAX);
  df_fuzz_log_u64(&run->log, 'E');
  df_fuzz_log_u64(&run->log, n);
  df_fuzz_log_put(&run->log, name, n);
  log_stat(run, st);
}

static void
on_data(void *ctx, const uint8_t *data, size_t len)
{
  struct sync_run *run = ctx;

  DF_FUZZ_CHECK(!run->finished_seen, "event after the end");
  DF_FUZZ_CHECK(len > 0 && len <= DF_SYNC_DATA_MAX, "DATA piece of %zu bytes", len);
  df_fuzz_log_put(&run->data, data, len);
}

static void
on_done(void *ctx)
{
  struct sync_run *run = ctx;

  DF_FUZZ_CHECK(!run->finished_seen, "event after the end");
  run->finished_seen = true;
  flush_data(run);
  df_fuzz_log_u64(&run->log, 'O');
}

static void
on_fail(void *ctx, const char *message)
{
  struct sync_run *run = ctx;
  size_t n = strnlen(message, 1025);

  DF_FUZZ_CHECK(!run->finished_seen, "event after the end");
  DF_FUZZ_CHECK(n <= 1024, "message over 1024 bytes");
  run->finished_seen = true;
  flush_data(run);
  df_fuzz_log_u64(&run->log, 'F');
  df_fuzz_log_u64(&run->log, n);
  df_fuzz_log_put(&run->log, message, n);
}

static const struct df_sync_events events = {
  .on_stat = on_stat,
  .on_dent = on_dent,
  .on_data = on_data,
  .on_done = on_done,
  .on_fail = on_fail,
};

/* Returns bytes consumed or the error. */
static long
run_decoder(struct sync_run *run, enum df_sync_expect expect, const uint8_t *data, size_t size,
            struct df_fuzz_rng *rng)
{
  struct df_sync_decoder d;
  long total = 0;

  df_sync_decoder_expect(&d, expect);
  if (rng == NULL) {
    total = df_sync_decoder_feed(&d, data, size, &events, run);
  } else {
    for (size_t off = 0; off < size;) {
      size_t n = df_fuzz_piece(rng, size - off);
      long used = df_sync_decoder_feed(&d, data + off, n, &events, run);
      if (used < 0) {
        total = used;
        break;
      }
      DF_FUZZ_CHECK((size_t)used <= n, "consumed %ld of %zu", used, n);
      total += used;
      off += n;
      if ((size_t)used < n) {
        DF_FUZZ_CHECK(d.finished, "stopped short of a piece without finishing");
        break;
      }
    }
  }
  if (total >= 0) {
    DF_FUZZ_CHECK(d.finished == run->finished_seen, "finished flag and events disagree");
    /* A finished reply takes nothing more. */
    if (d.finished) {
      uint8_t more[8] = {0};
      DF_FUZZ_CHECK(df_sync_decoder_feed(&d, more, sizeof(more), &events, run) == 0,
                    "bytes taken after the end");
    }
  }
  flush_data(run);
  return total;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct df_fuzz_rng rng;
  struct sync_run whole = {0}, cut = {0};
  enum df_sync_expect expect;
  long r_whole, r_cut;

  if (size < 1) return 0;
  expect = (enum df_sync_expect)(data[0] % 5);
  df_fuzz_rng_seed(&rng, data, size);
  r_whole = run_decoder(&whole, expect, data + 1, size - 1, NULL);
  r_cut = run_decoder(&cut, expect, data + 1, size - 1, &rng);
  DF_FUZZ_CHECK(r_whole == r_cut, "whole %ld, in pieces %ld", r_whole, r_cut);
  DF_FUZZ_CHECK(r_whole == DF_EPROTO || (r_whole >= 0 && (size_t)r_whole <= size - 1),
                "unexpected result %ld", r_whole);
  DF_FUZZ_CHECK(df_fuzz_log_equal(&whole.log, &cut.log), "different events in pieces");
  df_fuzz_log_free(&whole.log);
  df_fuzz_log_free(&whole.data);
  df_fuzz_log_free(&cut.log);
  df_fuzz_log_free(&cut.data);
  return 0;
}
