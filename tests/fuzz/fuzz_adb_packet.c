/* Fuzzes the host side's ADB packet code (plugins/adb/adb_packet.h) with
 * bytes a phone could send: the 24-byte header, the CNXN banner, and the
 * incremental reader fed the whole input at once and again in random pieces.
 * Properties checked: a decoded header encodes back to the same 24 bytes; a
 * banner's strings are terminated inside their fields; the reader hands out
 * the same packets and ends with the same result however the bytes are cut,
 * and every packet it hands out fits max_payload and its checksum. */
#include "tests/fuzz/fuzz_util.h"

#include "core/error.h"
#include "plugins/adb/adb_packet.h"

struct reader_run {
  struct df_fuzz_log log;
  unsigned packets;
  unsigned stop_after; /* on_packet returns 1 after this many; 0: never */
  uint32_t max_payload;
  bool verify;         /* the reader checks checksums (else it may not) */
};

static int
on_packet(void *ctx, const struct df_adb_header *h, const uint8_t *payload)
{
  struct reader_run *run = ctx;

  DF_FUZZ_CHECK(h->data_length <= run->max_payload, "payload %u over %u", h->data_length,
                run->max_payload);
  DF_FUZZ_CHECK(h->magic == (h->command ^ 0xffffffffu), "bad magic handed out");
  DF_FUZZ_CHECK(!run->verify || h->data_check == 0 ||
                  h->data_check == df_adb_checksum(payload, h->data_length),
                "bad checksum handed out");
  df_fuzz_log_put(&run->log, h, sizeof(*h));
  df_fuzz_log_put(&run->log, payload, h->data_length);
  run->packets++;
  return run->stop_after != 0 && run->packets == run->stop_after ? 1 : 0;
}

static void
check_header(const uint8_t *data, size_t size)
{
  uint8_t raw[DF_ADB_HEADER_SIZE] = {0}, back[DF_ADB_HEADER_SIZE];
  struct df_adb_header h;

  memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
  if (df_adb_header_decode(raw, DF_ADB_MAX_PAYLOAD, &h) == DF_OK) {
    df_adb_header_encode(&h, back);
    DF_FUZZ_CHECK(memcmp(raw, back, sizeof(raw)) == 0, "header does not encode back");
    DF_FUZZ_CHECK(strcmp(df_adb_command_name(h.command), "????") != 0, "unknown command passed");
    DF_FUZZ_CHECK(h.data_length <= DF_ADB_MAX_PAYLOAD, "length over the limit passed");
  }
}

static void
check_banner(const uint8_t *data, size_t size)
{
  struct df_adb_banner b;

  if (df_adb_banner_parse((const char *)data, size, &b) != DF_OK) return;
  DF_FUZZ_CHECK(memchr(b.state, '\0', sizeof(b.state)) != NULL, "state not terminated");
  DF_FUZZ_CHECK(memchr(b.product_name, '\0', sizeof(b.product_name)) != NULL, "name");
  DF_FUZZ_CHECK(memchr(b.model, '\0', sizeof(b.model)) != NULL, "model");
  DF_FUZZ_CHECK(memchr(b.device, '\0', sizeof(b.device)) != NULL, "device");
  DF_FUZZ_CHECK(memchr(b.features, '\0', sizeof(b.features)) != NULL, "features");
  (void)df_adb_banner_has_feature(&b, "shell_v2");
  (void)df_adb_banner_has_feature(&b, "");
}

/* Feeds data whole (rng NULL) or in random pieces; returns the result. */
static int
run_reader(struct reader_run *run, const uint8_t *data, size_t size, struct df_fuzz_rng *rng,
           bool verify_checksum)
{
  struct df_adb_reader r;
  int rc = 0;

  DF_FUZZ_CHECK(df_adb_reader_init(&r, run->max_payload) == DF_OK, "init");
  run->verify = verify_checksum;
  r.verify_checksum = verify_checksum;
  if (rng == NULL) {
    rc = df_adb_reader_feed(&r, data, size, on_packet, run);
  } else {
    for (size_t off = 0; off < size && rc == 0;) {
      size_t n = df_fuzz_piece(rng, size - off);
      rc = df_adb_reader_feed(&r, data + off, n, on_packet, run);
      off += n;
    }
  }
  df_adb_reader_free(&r);
  return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct df_fuzz_rng rng;
  struct reader_run whole = {0}, cut = {0};
  int rc_whole, rc_cut;
  bool verify;

  check_header(data, size);
  check_banner(data, size);
  if (size < 1) return 0;

  /* First byte: the reader's settings; the rest: the stream. The limit is
   * CNXN's 4096 bytes, or 8192 for one setting in two: the reader
   * allocates max_payload up front, and under ASan on this VM a 1 MiB
   * allocation costs milliseconds (mmap, page faults, TLB flushes), which
   * cut the harness to 300 runs a second. The check against the limit is
   * the same code at any size. */
  whole.max_payload = data[0] & 1 ? 2 * DF_ADB_MAX_PAYLOAD_LEGACY : DF_ADB_MAX_PAYLOAD_LEGACY;
  whole.stop_after = (data[0] >> 4) & 3;
  verify = (data[0] & 64) == 0;
  cut.max_payload = whole.max_payload;
  cut.stop_after = whole.stop_after;
  df_fuzz_rng_seed(&rng, data, size);
  rc_whole = run_reader(&whole, data + 1, size - 1, NULL, verify);
  rc_cut = run_reader(&cut, data + 1, size - 1, &rng, verify);
  DF_FUZZ_CHECK(rc_whole == rc_cut, "whole %d, in pieces %d", rc_whole, rc_cut);
  DF_FUZZ_CHECK(whole.packets == cut.packets, "packets whole %u, in pieces %u", whole.packets,
                cut.packets);
  DF_FUZZ_CHECK(df_fuzz_log_equal(&whole.log, &cut.log), "different packets in pieces");
  DF_FUZZ_CHECK(rc_whole == 0 || rc_whole == 1 || rc_whole == DF_EPROTO ||
                rc_whole == DF_ECORRUPT, "unexpected result %d", rc_whole);
  df_fuzz_log_free(&whole.log);
  df_fuzz_log_free(&cut.log);
  return 0;
}
