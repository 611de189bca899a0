/* The JSON writer: separators from a per-depth "has items" flag, and a
 * strict UTF-8 check so that nothing but valid JSON leaves. */
#include "core/json.h"

#include <inttypes.h>
#include <string.h>

void
df_json_init(struct df_json *j, FILE *out)
{
  memset(j, 0, sizeof(*j));
  j->out = out;
}

/* Before any value: a comma if the container already has one, unless the
 * value follows its key. */
static void
df_json_before_value(struct df_json *j)
{
  if (j->after_key) {
    j->after_key = false;
    return;
  }
  if (j->depth > 0 && j->has_items[j->depth]) fputc(',', j->out);
  if (j->depth > 0) j->has_items[j->depth] = true;
}

/* After a value: a newline once the top-level value is complete. */
static void
df_json_after_value(struct df_json *j)
{
  if (j->depth == 0) fputc('\n', j->out);
}

static void
df_json_open(struct df_json *j, char c)
{
  df_json_before_value(j);
  fputc(c, j->out);
  if (j->depth + 1 < DF_JSON_MAX_DEPTH) j->depth++;
  j->has_items[j->depth] = false;
}

static void
df_json_close(struct df_json *j, char c)
{
  fputc(c, j->out);
  if (j->depth > 0) j->depth--;
  df_json_after_value(j);
}

void
df_json_object_begin(struct df_json *j)
{
  df_json_open(j, '{');
}

void
df_json_object_end(struct df_json *j)
{
  df_json_close(j, '}');
}

void
df_json_array_begin(struct df_json *j)
{
  df_json_open(j, '[');
}

void
df_json_array_end(struct df_json *j)
{
  df_json_close(j, ']');
}

size_t
df_utf8_sequence(const unsigned char *s, size_t len)
{
  unsigned char c = s[0];
  size_t n;
  uint32_t cp;

  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
  else return 0;
  if (n > len) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

void
df_json_write_escaped(FILE *out, const char *text, size_t len)
{
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;

  while (i < len) {
    unsigned char c = s[i];
    size_t n = df_utf8_sequence(s + i, len - i);
    if (n == 0) {
      fputs("\\ufffd", out);
      i++;
      continue;
    }
    switch (c) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    case '\b': fputs("\\b", out); break;
    case '\f': fputs("\\f", out); break;
    default:
      if (c < 0x20 || c == 0x7f) fprintf(out, "\\u%04x", c);
      else fwrite(s + i, 1, n, out);
    }
    i += n;
  }
}

void
df_json_key(struct df_json *j, const char *key)
{
  df_json_before_value(j);
  fputc('"', j->out);
  df_json_write_escaped(j->out, key, strlen(key));
  fputs("\":", j->out);
  j->after_key = true;
}

void
df_json_string_len(struct df_json *j, const char *s, size_t len)
{
  df_json_before_value(j);
  fputc('"', j->out);
  df_json_write_escaped(j->out, s, len);
  fputc('"', j->out);
  df_json_after_value(j);
}

void
df_json_string(struct df_json *j, const char *s)
{
  if (s == NULL) df_json_null(j);
  else df_json_string_len(j, s, strlen(s));
}

void
df_json_uint(struct df_json *j, uint64_t v)
{
  df_json_before_value(j);
  fprintf(j->out, "%" PRIu64, v);
  df_json_after_value(j);
}

void
df_json_int(struct df_json *j, int64_t v)
{
  df_json_before_value(j);
  fprintf(j->out, "%" PRId64, v);
  df_json_after_value(j);
}

void
df_json_bool(struct df_json *j, bool v)
{
  df_json_before_value(j);
  fputs(v ? "true" : "false", j->out);
  df_json_after_value(j);
}

void
df_json_null(struct df_json *j)
{
  df_json_before_value(j);
  fputs("null", j->out);
  df_json_after_value(j);
}

void
df_json_kv_string(struct df_json *j, const char *key, const char *s)
{
  df_json_key(j, key);
  df_json_string(j, s);
}

void
df_json_kv_uint(struct df_json *j, const char *key, uint64_t v)
{
  df_json_key(j, key);
  df_json_uint(j, v);
}

void
df_json_kv_int(struct df_json *j, const char *key, int64_t v)
{
  df_json_key(j, key);
  df_json_int(j, v);
}

void
df_json_kv_bool(struct df_json *j, const char *key, bool v)
{
  df_json_key(j, key);
  df_json_bool(j, v);
}
