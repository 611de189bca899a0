/* Unit tests of shell v2 framing, fed in every split a socket could make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "plugins/adb/adb_shell_protocol.h"

struct got {
  char out[64];
  size_t out_len;
  char err[64];
  size_t err_len;
  int exit_code;
  int packets_empty;
};

static int
on_data(void *ctx, uint8_t id, const uint8_t *data, size_t len)
{
  struct got *g = ctx;
  if (id == 1) {
    memcpy(g->out + g->out_len, data, len);
    g->out_len += len;
  } else if (id == 2) {
    memcpy(g->err + g->err_len, data, len);
    g->err_len += len;
  } else if (id == 3 && len == 1) {
    g->exit_code = data[0];
  }
  if (len == 0) g->packets_empty++;
  return 0;
}

static size_t
put(uint8_t *p, uint8_t id, const char *payload, size_t len)
{
  df_shell_header_encode(p, id, (uint32_t)len);
  memcpy(p + 5, payload, len);
  return 5 + len;
}

static void
test_decoder_every_split(void **state)
{
  uint8_t stream[128];
  size_t n = 0;

  n += put(stream + n, 1, "hello\n", 6);
  n += put(stream + n, 2, "oops\n", 5);
  n += put(stream + n, 1, "", 0);
  n += put(stream + n, 3, "\x07", 1);

  for (size_t piece = 1; piece <= n; piece++) {
    struct df_shell_decoder d;
    struct got g = {0};
    df_shell_decoder_init(&d);
    for (size_t off = 0; off < n; off += piece) {
      size_t len = n - off < piece ? n - off : piece;
      assert_int_equal(df_shell_decoder_feed(&d, stream + off, len, on_data, &g), 0);
    }
    assert_int_equal(g.out_len, 6);
    assert_memory_equal(g.out, "hello\n", 6);
    assert_int_equal(g.err_len, 5);
    assert_memory_equal(g.err, "oops\n", 5);
    assert_int_equal(g.exit_code, 7);
    assert_int_equal(g.packets_empty, 1);
  }
}

static void
test_header_layout(void **state)
{
  uint8_t h[5];
  df_shell_header_encode(h, 2, 0x01020304);
  assert_int_equal(h[0], 2);
  assert_int_equal(h[1], 0x04);
  assert_int_equal(h[4], 0x01);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_decoder_every_split),
    cmocka_unit_test(test_header_layout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
