/* fastboot responses, commands and TCP framing. */
#include "plugins/fastboot/fastboot_protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int
df_fastboot_reply_parse(const uint8_t *data, size_t len, struct df_fastboot_reply *r)
{
  memset(r, 0, sizeof(*r));
  if (len < 4 || len > DF_FASTBOOT_RESPONSE_MAX) return DF_EPROTO;
  if (memcmp(data, "INFO", 4) == 0) r->kind = DF_FASTBOOT_INFO;
  else if (memcmp(data, "OKAY", 4) == 0) r->kind = DF_FASTBOOT_OKAY;
  else if (memcmp(data, "FAIL", 4) == 0) r->kind = DF_FASTBOOT_FAIL;
  else if (memcmp(data, "DATA", 4) == 0) r->kind = DF_FASTBOOT_DATA;
  else if (memcmp(data, "TEXT", 4) == 0) r->kind = DF_FASTBOOT_TEXT;
  else return DF_EPROTO;
  memcpy(r->message, data + 4, len - 4);
  r->message[len - 4] = '\0';
  if (r->kind == DF_FASTBOOT_DATA) {
    char *end;
    if (len != 12) return DF_EPROTO;
    for (int i = 0; i < 8; i++) {
      char c = r->message[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
        return DF_EPROTO;
    }
    r->data_size = (uint32_t)strtoul(r->message, &end, 16);
  }
  return DF_OK;
}

int
df_fastboot_command_format(char *out, size_t outlen, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(out, outlen, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= outlen || n > DF_FASTBOOT_COMMAND_MAX) return DF_ETOOBIG;
  return DF_OK;
}

int
df_fastboot_parse_number(const char *text, uint64_t *value)
{
  char *end;
  int base = 10;

  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text += 2;
  }
  /* Digits only: strtoull would also take blanks, a sign ("-1" is 2^64 - 1)
   * and a second "0x". */
  if (*text == '\0' ||
      strspn(text, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != strlen(text))
    return DF_EINVAL;
  *value = strtoull(text, &end, base);
  return *end == '\0' ? DF_OK : DF_EINVAL;
}

int
df_fastboot_tcp_check_handshake(const uint8_t reply[4], int *version)
{
  if (reply[0] != 'F' || reply[1] != 'B') return DF_EPROTO;
  if (reply[2] < '0' || reply[2] > '9' || reply[3] < '0' || reply[3] > '9') return DF_EPROTO;
  *version = (reply[2] - '0') * 10 + (reply[3] - '0');
  return *version >= 1 ? DF_OK : DF_EPROTO;
}

void
df_fastboot_tcp_frame_header(uint8_t out[8], uint64_t len)
{
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(len >> (56 - 8 * i));
}

uint64_t
df_fastboot_tcp_frame_length(const uint8_t in[8])
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | in[i];
  return v;
}
