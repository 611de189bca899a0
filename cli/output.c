/* Safe text for terminals, and failure reports. */
#include "cli/output.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/error.h"
#include "core/log.h"

/* A character a terminal shows as it is: valid UTF-8 that is not a C0 or
 * C1 control (C1 controls, U+0080..U+009F, can drive a terminal too).
 * Returns its length, or 0. */
static size_t
df_cli_printable_sequence(const unsigned char *s, size_t left)
{
  size_t n = df_utf8_sequence(s, left);

  if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) return 0;
  return n;
}

void
df_cli_safe_text(const char *in, char *out, size_t outlen)
{
  const unsigned char *s = (const unsigned char *)in;
  const unsigned char *end = s + strlen(in);
  size_t o = 0;

  if (outlen == 0) return;
  while (*s != '\0') {
    size_t n = df_cli_printable_sequence(s, (size_t)(end - s));
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
