/* Unit tests of fastboot replies, commands, numbers and TCP framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "plugins/fastboot/fastboot_protocol.h"

static int
parse(const char *text, struct df_fastboot_reply *r)
{
  return df_fastboot_reply_parse((const uint8_t *)text, strlen(text), r);
}

static void
test_replies(void **state)
{
  struct df_fastboot_reply r;

  assert_int_equal(parse("OKAYvermeer", &r), DF_OK);
  assert_int_equal(r.kind, DF_FASTBOOT_OKAY);
  assert_string_equal(r.message, "vermeer");
  assert_int_equal(parse("INFOmax-download-size:0x20000000", &r), DF_OK);
  assert_int_equal(r.kind, DF_FASTBOOT_INFO);
  assert_int_equal(parse("FAILFlashing is not allowed in Lock State", &r), DF_OK);
  assert_int_equal(r.kind, DF_FASTBOOT_FAIL);
  assert_string_equal(r.message, "Flashing is not allowed in Lock State");
  assert_int_equal(parse("DATA0000a000", &r), DF_OK);
  assert_int_equal(r.data_size, 0xa000);
  assert_int_equal(parse("OKAY", &r), DF_OK);
  assert_string_equal(r.message, "");
}

static void
test_bad_replies(void **state)
{
  struct df_fastboot_reply r;
  char big[300];

  assert_int_equal(parse("OKA", &r), DF_EPROTO);
  assert_int_equal(parse("HELLO", &r), DF_EPROTO);
  assert_int_equal(parse("DATA123", &r), DF_EPROTO);
  assert_int_equal(parse("DATA0000g000", &r), DF_EPROTO);
  memset(big, 'a', sizeof(big) - 1);
  memcpy(big, "INFO", 4);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(parse(big, &r), DF_EPROTO);
}

static void
test_commands_and_numbers(void **state)
{
  char cmd[80];
  uint64_t v;
  char part[70];

  assert_int_equal(df_fastboot_command_format(cmd, sizeof(cmd), "download:%08x", 0x10000000u), DF_OK);
  assert_string_equal(cmd, "download:10000000");
  memset(part, 'p', sizeof(part) - 1);
  part[sizeof(part) - 1] = '\0';
  assert_int_equal(df_fastboot_command_format(cmd, sizeof(cmd), "flash:%s", part), DF_ETOOBIG);

  assert_int_equal(df_fastboot_parse_number("0x20000000", &v), DF_OK);
  assert_int_equal(v, 0x20000000);
  assert_int_equal(df_fastboot_parse_number("4096", &v), DF_OK);
  assert_int_equal(v, 4096);
  assert_int_equal(df_fastboot_parse_number("yes", &v), DF_EINVAL);
  assert_int_equal(df_fastboot_parse_number("0x", &v), DF_EINVAL);
}

static void
test_tcp_framing(void **state)
{
  uint8_t h[8];
  int version;

  df_fastboot_tcp_frame_header(h, 0x0102030405ull);
  assert_memory_equal(h, "\0\0\0\x01\x02\x03\x04\x05", 8);
  assert_int_equal(df_fastboot_tcp_frame_length(h), 0x0102030405ull);
  assert_int_equal(df_fastboot_tcp_check_handshake((const uint8_t *)"FB01", &version), DF_OK);
  assert_int_equal(version, 1);
  assert_int_equal(df_fastboot_tcp_check_handshake((const uint8_t *)"FB00", &version), DF_EPROTO);
  assert_int_equal(df_fastboot_tcp_check_handshake((const uint8_t *)"CNXN", &version), DF_EPROTO);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_replies),
    cmocka_unit_test(test_bad_replies),
    cmocka_unit_test(test_commands_and_numbers),
    cmocka_unit_test(test_tcp_framing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
