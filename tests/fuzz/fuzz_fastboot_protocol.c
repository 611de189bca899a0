/* Fuzzes the host side's fastboot parsers (plugins/fastboot/fastboot_protocol.h)
 * with what a phone sends: a response packet, a variable's value read as a
 * number, the TCP handshake reply and a TCP frame header. Each result is
 * checked against the rule its header states: a reply is accepted exactly
 * when it is 4..256 bytes with a known tag (DATA: 8 hex digits), a number
 * only when it is "0x" + hex digits or decimal digits, and then with the
 * right value. */
#include "tests/fuzz/fuzz_util.h"

#include "core/error.h"
#include "plugins/fastboot/fastboot_protocol.h"

static bool
is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned
hex_value(char c)
{
  if (c >= '0' && c <= '9') return (unsigned)(c - '0');
  if (c >= 'a' && c <= 'f') return (unsigned)(c - 'a' + 10);
  return (unsigned)(c - 'A' + 10);
}

static void
check_reply(const uint8_t *data, size_t size)
{
  struct df_fastboot_reply r;
  static const char *const tags[] = {"INFO", "OKAY", "FAIL", "DATA", "TEXT"};
  bool known = false, want;
  int rc = df_fastboot_reply_parse(data, size, &r);

  for (size_t i = 0; size >= 4 && i < sizeof(tags) / sizeof(tags[0]); i++)
    if (memcmp(data, tags[i], 4) == 0) known = true;
  want = known && size <= DF_FASTBOOT_RESPONSE_MAX;
  if (want && memcmp(data, "DATA", 4) == 0) {
    want = size == 12;
    for (size_t i = 4; want && i < 12; i++) want = is_hex((char)data[i]);
  }
  DF_FUZZ_CHECK((rc == DF_OK) == want, "reply of %zu bytes: result %d", size, rc);
  if (rc != DF_OK) return;
  DF_FUZZ_CHECK(memcmp(r.message, data + 4, size - 4) == 0 && r.message[size - 4] == '\0',
                "message differs from the packet");
  if (r.kind == DF_FASTBOOT_DATA) {
    uint32_t v = 0;
    for (size_t i = 4; i < 12; i++) v = v << 4 | hex_value((char)data[i]);
    DF_FUZZ_CHECK(r.data_size == v, "DATA size %u, expected %u", r.data_size, v);
  }
}

static void
check_number(const uint8_t *data, size_t size)
{
  char text[80];
  size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
  const char *digits = text;
  unsigned base = 10;
  bool valid, overflow = false;
  uint64_t want = 0, got = 0;
  int rc;

  memcpy(text, data, n);
  text[n] = '\0';
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    digits = text + 2;
  }
  valid = digits[0] != '\0';
  for (const char *p = digits; valid && *p != '\0'; p++) {
    unsigned d;
    if (base == 16 ? !is_hex(*p) : !(*p >= '0' && *p <= '9')) {
      valid = false;
      break;
    }
    d = base == 16 ? hex_value(*p) : (unsigned)(*p - '0');
    if (want > (UINT64_MAX - d) / base) overflow = true;
    want = want * base + d;
  }
  rc = df_fastboot_parse_number(text, &got);
  if (rc == DF_OK) {
    DF_FUZZ_CHECK(valid, "\"%s\" accepted as a number (%llu)", text, (unsigned long long)got);
    DF_FUZZ_CHECK(overflow || got == want, "\"%s\" read as %llu", text,
                  (unsigned long long)got);
  } else {
    DF_FUZZ_CHECK(!valid || overflow, "\"%s\" refused", text);
  }
}

static void
check_tcp(const uint8_t *data, size_t size)
{
  uint8_t hs[4] = {0}, frame[8] = {0}, back[8];
  int version = -1, rc;
  bool want;

  memcpy(hs, data, size < 4 ? size : 4);
  rc = df_fastboot_tcp_check_handshake(hs, &version);
  want = hs[0] == 'F' && hs[1] == 'B' && hs[2] >= '0' && hs[2] <= '9' && hs[3] >= '0' &&
         hs[3] <= '9' && (hs[2] != '0' || hs[3] != '0');
  DF_FUZZ_CHECK((rc == DF_OK) == want, "handshake result %d", rc);
  if (rc == DF_OK)
    DF_FUZZ_CHECK(version == (hs[2] - '0') * 10 + (hs[3] - '0'), "version %d", version);

  memcpy(frame, data, size < 8 ? size : 8);
  df_fastboot_tcp_frame_header(back, df_fastboot_tcp_frame_length(frame));
  DF_FUZZ_CHECK(memcmp(frame, back, 8) == 0, "frame header does not round-trip");
}

static void
check_command(const uint8_t *data, size_t size)
{
  char arg[300], out[DF_FASTBOOT_COMMAND_MAX + 8];
  size_t n = strnlen((const char *)data, size < sizeof(arg) - 1 ? size : sizeof(arg) - 1);
  int rc;

  memcpy(arg, data, n);
  arg[n] = '\0';
  rc = df_fastboot_command_format(out, sizeof(out), "flash:%s", arg);
  DF_FUZZ_CHECK((rc == DF_OK) == (6 + n <= DF_FASTBOOT_COMMAND_MAX), "command of %zu: %d",
                6 + n, rc);
  if (rc == DF_OK) DF_FUZZ_CHECK(strlen(out) == 6 + n, "command cut");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_reply(data, size);
  check_number(data, size);
  check_tcp(data, size);
  check_command(data, size);
  return 0;
}
