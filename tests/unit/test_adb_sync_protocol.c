/* Unit tests of the sync reply decoder: each reply shape, any split, and
 * replies that do not belong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "plugins/adb/adb_sync_protocol.h"

struct got {
  int stats, dents, dones, fails;
  struct df_sync_stat st;
  char names[4][32];
  uint8_t data[256];
  size_t data_len;
  char fail[64];
};

static void on_stat(void *c, const struct df_sync_stat *st) { struct got *g = c; g->stats++; g->st = *st; }
static void on_dent(void *c, const char *n, const struct df_sync_stat *st) { struct got *g = c; strcpy(g->names[g->dents++], n); }
static void on_data(void *c, const uint8_t *d, size_t len) { struct got *g = c; memcpy(g->data + g->data_len, d, len); g->data_len += len; }
static void on_done(void *c) { ((struct got *)c)->dones++; }
static void on_fail(void *c, const char *m) { struct got *g = c; g->fails++; strcpy(g->fail, m); }

static const struct df_sync_events ev = { on_stat, on_dent, on_data, on_done, on_fail };

static void
le32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void
feed_split(enum df_sync_expect expect, const uint8_t *bytes, size_t n, size_t piece, struct got *g)
{
  struct df_sync_decoder d;
  df_sync_decoder_expect(&d, expect);
  memset(g, 0, sizeof(*g));
  for (size_t off = 0; off < n; off += piece) {
    size_t len = n - off < piece ? n - off : piece;
    long used = df_sync_decoder_feed(&d, bytes + off, len, &ev, g);
    assert_int_equal(used, (long)len);
  }
  assert_true(d.finished);
}

static void
test_list_reply(void **state)
{
  uint8_t b[128];
  size_t n = 0;
  const char *names[] = {"a.txt", "DCIM"};
  for (int i = 0; i < 2; i++) {
    le32(b + n, DF_SYNC_DENT); le32(b + n + 4, 0100644); le32(b + n + 8, 10);
    le32(b + n + 12, 1700000000); le32(b + n + 16, (uint32_t)strlen(names[i]));
    memcpy(b + n + 20, names[i], strlen(names[i]));
    n += 20 + strlen(names[i]);
  }
  memset(b + n, 0, 20);
  le32(b + n, DF_SYNC_DONE);
  n += 20;
  for (size_t piece = 1; piece <= n; piece++) {
    struct got g;
    feed_split(DF_SYNC_EXPECT_LIST, b, n, piece, &g);
    assert_int_equal(g.dents, 2);
    assert_string_equal(g.names[0], "a.txt");
    assert_string_equal(g.names[1], "DCIM");
    assert_int_equal(g.dones, 1);
  }
}

static void
test_recv_reply_and_fail(void **state)
{
  uint8_t b[128];
  size_t n = 0;
  le32(b, DF_SYNC_DATA); le32(b + 4, 5); memcpy(b + 8, "hello", 5); n = 13;
  le32(b + n, DF_SYNC_DATA); le32(b + n + 4, 0); n += 8;
  le32(b + n, DF_SYNC_DATA); le32(b + n + 4, 3); memcpy(b + n + 8, "abc", 3); n += 11;
  le32(b + n, DF_SYNC_DONE); le32(b + n + 4, 0); n += 8;
  for (size_t piece = 1; piece <= n; piece++) {
    struct got g;
    feed_split(DF_SYNC_EXPECT_RECV, b, n, piece, &g);
    assert_int_equal(g.data_len, 8);
    assert_memory_equal(g.data, "helloabc", 8);
    assert_int_equal(g.dones, 1);
  }
  n = 0;
  le32(b, DF_SYNC_FAIL); le32(b + 4, 17); memcpy(b + 8, "Permission denied", 17); n = 25;
  struct got g;
  feed_split(DF_SYNC_EXPECT_RECV, b, n, 3, &g);
  assert_int_equal(g.fails, 1);
  assert_string_equal(g.fail, "Permission denied");
}

static void
test_stat2_reply(void **state)
{
  uint8_t b[72] = {0};
  le32(b, DF_SYNC_STA2);
  le32(b + 24, 0100600);
  le32(b + 40, 123456); /* size low word */
  le32(b + 56, 1700000001);
  struct got g;
  feed_split(DF_SYNC_EXPECT_STAT2, b, sizeof(b), 7, &g);
  assert_int_equal(g.stats, 1);
  assert_true(g.st.exists);
  assert_int_equal(g.st.mode, 0100600);
  assert_int_equal(g.st.size, 123456);
  assert_int_equal(g.st.mtime, 1700000001);

  le32(b + 4, 2); /* ENOENT from the phone */
  feed_split(DF_SYNC_EXPECT_STAT2, b, sizeof(b), 72, &g);
  assert_false(g.st.exists);
}

static void
test_rejects_out_of_place_and_oversized(void **state)
{
  uint8_t b[16];
  struct df_sync_decoder d;
  struct got g = {0};

  le32(b, DF_SYNC_DENT);
  df_sync_decoder_expect(&d, DF_SYNC_EXPECT_RECV);
  assert_int_equal(df_sync_decoder_feed(&d, b, 8, &ev, &g), DF_EPROTO);

  le32(b, DF_SYNC_DATA); le32(b + 4, DF_SYNC_DATA_MAX + 1);
  df_sync_decoder_expect(&d, DF_SYNC_EXPECT_RECV);
  assert_int_equal(df_sync_decoder_feed(&d, b, 8, &ev, &g), DF_EPROTO);

  uint8_t req[16];
  char longpath[1100];
  memset(longpath, 'a', sizeof(longpath) - 1);
  longpath[sizeof(longpath) - 1] = '\0';
  assert_int_equal(df_sync_request_encode(req, sizeof(req), DF_SYNC_STAT, longpath), DF_ETOOBIG);
  assert_int_equal(df_sync_request_encode(req, sizeof(req), DF_SYNC_STAT, "/sdcard"), 15);
  assert_memory_equal(req, "STAT\x07\0\0\0/sdcard", 15);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list_reply),
    cmocka_unit_test(test_recv_reply_and_fail),
    cmocka_unit_test(test_stat2_reply),
    cmocka_unit_test(test_rejects_out_of_place_and_oversized),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
