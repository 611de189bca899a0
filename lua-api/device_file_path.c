/* Field paths of a device file (see device_file_path.h). */
#include "lua-api/device_file_path.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DF_FIELD_PATH_SEGMENTS (sizeof(((struct df_field_path *)0)->marks) / sizeof(size_t))

static bool
is_identifier(const char *s)
{
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return false;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_'))
      return false;
  return true;
}

size_t
df_field_path_append_key(char *buf, size_t cap, size_t len, const char *key)
{
  char seg[DF_FIELD_PATH_MAX];
  int n;
  if (is_identifier(key)) {
    n = snprintf(seg, sizeof(seg), "%s%s", len ? "." : "", key);
  } else {
    size_t k = 0;
    seg[k++] = '[';
    seg[k++] = '"';
    for (const char *c = key; *c && k + 4 < sizeof(seg); c++) {
      if (*c == '"' || *c == '\\')
        seg[k++] = '\\';
      seg[k++] = *c;
    }
    seg[k++] = '"';
    seg[k++] = ']';
    seg[k] = '\0';
    n = (int)k;
  }
  if (n < 0 || len + (size_t)n + 1 > cap)
    return len;
  memcpy(buf + len, seg, (size_t)n + 1);
  return len + (size_t)n;
}

size_t
df_field_path_append_index(char *buf, size_t cap, size_t len, long long i)
{
  int n = snprintf(buf + len, cap - len, "[%lld]", i);
  if (n < 0 || len + (size_t)n + 1 > cap) {
    buf[len] = '\0';
    return len;
  }
  return len + (size_t)n;
}

void
df_field_path_init(struct df_field_path *p)
{
  p->s[0] = '\0';
  p->len = 0;
  p->depth = 0;
}

/* Past the marks it can hold, a path still grows; popping such a segment
 * leaves the path as it is (check_data refuses files nested that deep). */
static void
mark(struct df_field_path *p)
{
  if (p->depth < (int)DF_FIELD_PATH_SEGMENTS)
    p->marks[p->depth] = p->len;
  p->depth++;
}

void
df_field_path_push_key(struct df_field_path *p, const char *key)
{
  mark(p);
  p->len = df_field_path_append_key(p->s, sizeof(p->s), p->len, key);
}

void
df_field_path_push_index(struct df_field_path *p, long long i)
{
  mark(p);
  p->len = df_field_path_append_index(p->s, sizeof(p->s), p->len, i);
}

void
df_field_path_pop(struct df_field_path *p)
{
  p->depth--;
  if (p->depth < (int)DF_FIELD_PATH_SEGMENTS)
    p->len = p->marks[p->depth];
  p->s[p->len] = '\0';
}
