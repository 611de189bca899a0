/* Safe text for terminals, and failure reports. */
#include "cli/output.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/json.h"
#include "core/error.h"
#include "core/log.h"

static size_t
df_cli_utf8_sequence(const unsigned char *s)
{
  unsigned char c = s[0];
  size_t n;
  uint32_t cp;

  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
  else return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
    return 0;
  return n;
}

void
df_cli_safe_text(const char *in, char *out, size_t outlen)
{
  const unsigned char *s = (const unsigned char *)in;
  size_t o = 0;

  if (outlen == 0) return;
  while (*s != '\0') {
    size_t n = df_cli_utf8_sequence(s);
    if (n == 0 || *s < 0x20 || *s == 0x7f) {
      if (o + 4 >= outlen) break;
      snprintf(out + o, outlen - o, "\\x%02x", *s);
      o += 4;
      s++;
      continue;
    }
    if (o + n >= outlen) break;
    memcpy(out + o, s, n);
    o += n;
    s += n;
  }
  out[o] = '\0';
}

int
df_cli_fail(struct df_cli *cli, const char *file, int err, const char *fmt, ...)
{
  char message[2048];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  df_log_error("%s", message);
  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", false);
    df_json_key(&j, "error");
    df_json_object_begin(&j);
    df_json_kv_string(&j, "name", df_error_name(err));
    df_json_kv_int(&j, "code", err);
    df_json_kv_string(&j, "message", message);
    df_json_object_end(&j);
    if (file != NULL) df_json_kv_string(&j, "file", file);
    df_json_object_end(&j);
  }
  return DF_CLI_EXIT_FAILED;
}
