/* Unit tests of the host-side ADB packet code: header, checksum, banner,
 * incremental reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "plugins/adb/adb_packet.h"

static void
test_header_roundtrip(void **state)
{
  struct df_adb_header h, back;
  uint8_t raw[DF_ADB_HEADER_SIZE];
  const char payload[] = "host::features=shell_v2";

  df_adb_header_make(&h, DF_ADB_CNXN, 0x01000001, 0x100000, payload, sizeof(payload), true);
  df_adb_header_encode(&h, raw);
  /* "CNXN" in little-endian is the ASCII bytes in order. */
  assert_memory_equal(raw, "CNXN", 4);
  assert_int_equal(df_adb_header_decode(raw, DF_ADB_MAX_PAYLOAD, &back), DF_OK);
  assert_int_equal(back.arg0, 0x01000001);
  assert_int_equal(back.data_length, sizeof(payload));
  assert_int_equal(back.data_check, df_adb_checksum(payload, sizeof(payload)));
}

static void
test_checksum_is_byte_sum(void **state)
{
  const uint8_t bytes[] = {1, 2, 3, 250};
  assert_int_equal(df_adb_checksum(bytes, sizeof(bytes)), 256);
  assert_int_equal(df_adb_checksum(bytes, 0), 0);
}

static void
test_header_rejects_bad_magic_and_size(void **state)
{
  struct df_adb_header h, back;
  uint8_t raw[DF_ADB_HEADER_SIZE];

  df_adb_header_make(&h, DF_ADB_WRTE, 1, 2, NULL, 5000, false);
  df_adb_header_encode(&h, raw);
  assert_int_equal(df_adb_header_decode(raw, 4096, &back), DF_EPROTO);
  assert_int_equal(df_adb_header_decode(raw, 8192, &back), DF_OK);
  raw[20] ^= 1;
  assert_int_equal(df_adb_header_decode(raw, 8192, &back), DF_EPROTO);

  df_adb_header_make(&h, 0x41414141, 0, 0, NULL, 0, false);
  df_adb_header_encode(&h, raw);
  assert_int_equal(df_adb_header_decode(raw, 8192, &back), DF_EPROTO);
}

static void
test_banner_parse(void **state)
{
  struct df_adb_banner b;
  const char text[] = "device::ro.product.name=vermeer;ro.product.model=23113RKC6C;"
                      "ro.product.device=vermeer;features=shell_v2,cmd,stat_v2";

  assert_int_equal(df_adb_banner_parse(text, sizeof(text), &b), DF_OK);
  assert_string_equal(b.state, "device");
  assert_string_equal(b.product_name, "vermeer");
  assert_string_equal(b.model, "23113RKC6C");
  assert_string_equal(b.device, "vermeer");
  assert_true(df_adb_banner_has_feature(&b, "shell_v2"));
  assert_true(df_adb_banner_has_feature(&b, "stat_v2"));
  assert_false(df_adb_banner_has_feature(&b, "shell"));
  assert_false(df_adb_banner_has_feature(&b, "ls_v2"));

  assert_int_equal(df_adb_banner_parse("recovery::", 10, &b), DF_OK);
  assert_string_equal(b.state, "recovery");
  assert_int_equal(df_adb_banner_parse("no-colon", 8, &b), DF_EPROTO);
  assert_int_equal(df_adb_banner_parse(":x:y", 4, &b), DF_EPROTO);
}

struct collected {
  int count;
  uint32_t commands[8];
  uint32_t lengths[8];
  uint8_t last_payload[64];
};

static int
collect(void *ctx, const struct df_adb_header *h, const uint8_t *payload)
{
  struct collected *c = ctx;
  c->commands[c->count] = h->command;
  c->lengths[c->count] = h->data_length;
  if (h->data_length <= sizeof(c->last_payload)) memcpy(c->last_payload, payload, h->data_length);
  c->count++;
  return 0;
}

static size_t
make_packet(uint8_t *out, uint32_t cmd, const char *payload, bool checksum)
{
  struct df_adb_header h;
  uint32_t len = payload != NULL ? (uint32_t)strlen(payload) : 0;
  df_adb_header_make(&h, cmd, 1, 2, payload, len, checksum);
  df_adb_header_encode(&h, out);
  if (len > 0) memcpy(out + DF_ADB_HEADER_SIZE, payload, len);
  return DF_ADB_HEADER_SIZE + len;
}

static void
test_reader_any_split(void **state)
{
  uint8_t stream[256];
  size_t n = 0;

  n += make_packet(stream + n, DF_ADB_OKAY, NULL, false);
  n += make_packet(stream + n, DF_ADB_WRTE, "hello world", true);
  n += make_packet(stream + n, DF_ADB_CLSE, NULL, false);

  for (size_t piece = 1; piece <= n; piece++) {
    struct df_adb_reader r;
    struct collected c = {0};
    assert_int_equal(df_adb_reader_init(&r, 4096), DF_OK);
    for (size_t off = 0; off < n; off += piece) {
      size_t len = n - off < piece ? n - off : piece;
      assert_int_equal(df_adb_reader_feed(&r, stream + off, len, collect, &c), DF_OK);
    }
    assert_int_equal(c.count, 3);
    assert_int_equal(c.commands[0], DF_ADB_OKAY);
    assert_int_equal(c.commands[1], DF_ADB_WRTE);
    assert_int_equal(c.lengths[1], 11);
    assert_int_equal(c.commands[2], DF_ADB_CLSE);
    df_adb_reader_free(&r);
  }
}

static void
test_reader_rejects_bad_checksum_and_oversize(void **state)
{
  uint8_t stream[128];
  size_t n = make_packet(stream, DF_ADB_WRTE, "payload", true);
  struct df_adb_reader r;
  struct collected c = {0};

  stream[DF_ADB_HEADER_SIZE] ^= 0x01; /* corrupt one payload byte */
  assert_int_equal(df_adb_reader_init(&r, 4096), DF_OK);
  assert_int_equal(df_adb_reader_feed(&r, stream, n, collect, &c), DF_ECORRUPT);
  assert_int_equal(c.count, 0);
  df_adb_reader_free(&r);

  n = make_packet(stream, DF_ADB_WRTE, "payload", false);
  assert_int_equal(df_adb_reader_init(&r, 4), DF_OK);
  assert_int_equal(df_adb_reader_feed(&r, stream, n, collect, &c), DF_EPROTO);
  df_adb_reader_free(&r);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_header_roundtrip),
    cmocka_unit_test(test_checksum_is_byte_sum),
    cmocka_unit_test(test_header_rejects_bad_magic_and_size),
    cmocka_unit_test(test_banner_parse),
    cmocka_unit_test(test_reader_any_split),
    cmocka_unit_test(test_reader_rejects_bad_checksum_and_oversize),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
