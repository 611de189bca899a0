/* How a device file's errors are reported: "FILE:LINE: FIELD: problem",
 * the line found by the locator (see device_file_load.h). */
#include "lua-api/device_file_load.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

void
df_device_load_error(struct df_device_load *ld, int rc, const char *fmt, ...)
{
  if (ld->rc != 0)
    return;
  ld->rc = rc;
  if (ld->err && ld->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
  }
}

/* For the merged table: the file (leaf first) and line that write p's
 * longest written prefix; *line stays 0 when no file writes any. */
static void
find_in_chain(const struct df_device_load *ld, const struct df_field_path *p, int *fi, int *line)
{
  struct df_field_path q = *p;
  for (;;) {
    for (int f = 0; f < ld->nfiles && !*line; f++) {
      int l = df_locator_line_of(&ld->files[f].loc, q.s);
      if (l) {
        *fi = f;
        *line = l;
      }
    }
    if (*line || q.depth <= 1)
      return;
    df_field_path_pop(&q);
  }
}

int
df_device_fail(struct df_device_load *ld, const struct df_field_path *p, const char *fmt, ...)
{
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);

  int fi = ld->cur >= 0 ? ld->cur : 0;
  int line = 0;
  if (ld->cur >= 0)
    line = df_locator_find(&ld->files[fi].loc, p);
  else
    find_in_chain(ld, p, &fi, &line);
  if (!line)
    line = ld->files[fi].loc.return_line;
  df_device_load_error(ld, DF_EINVAL, "%s:%d: %s: %s", ld->files[fi].display, line,
                       p->len ? p->s : "(top level)", msg);
  return -1;
}

/* "the number 5", "the string \"x\"", "a table", ... for messages. */
static void
describe_value(lua_State *P, int idx, char *out, size_t outlen)
{
  switch (lua_type(P, idx)) {
  case LUA_TNUMBER:
    if (lua_isinteger(P, idx))
      snprintf(out, outlen, "the number %lld", (long long)lua_tointeger(P, idx));
    else
      snprintf(out, outlen, "the number %g", (double)lua_tonumber(P, idx));
    break;
  case LUA_TSTRING:
    snprintf(out, outlen, "the string \"%.60s\"", lua_tostring(P, idx));
    break;
  case LUA_TBOOLEAN:
    snprintf(out, outlen, "%s", lua_toboolean(P, idx) ? "true" : "false");
    break;
  case LUA_TTABLE:
    snprintf(out, outlen, "a table");
    break;
  default:
    snprintf(out, outlen, "a %s", lua_typename(P, lua_type(P, idx)));
  }
}

int
df_device_fail_type(struct df_device_load *ld, const struct df_field_path *p, int idx,
                    const char *expected)
{
  char got[128];
  describe_value(ld->P, idx, got, sizeof(got));
  return df_device_fail(ld, p, "expected %s, got %s", expected, got);
}

void
df_device_fail_lua(struct df_device_load *ld, int fi, const char *luamsg, int line,
                   const char *hint)
{
  const char *text = luamsg ? luamsg : "error";
  const char *c = text;
  while ((c = strchr(c, ':')) != NULL) {
    const char *d = c + 1;
    int n = 0;
    while (*d >= '0' && *d <= '9')
      n = n * 10 + (*d++ - '0');
    if (d > c + 1 && d[0] == ':' && d[1] == ' ') {
      if (!line)
        line = n;
      text = d + 2;
      break;
    }
    c++;
  }
  const char *field = line ? df_locator_field_at(&ld->files[fi].loc, line) : NULL;
  if (!line)
    line = ld->files[fi].loc.return_line;
  df_device_load_error(ld, DF_EINVAL, "%s:%d: %s: %s%s%s", ld->files[fi].display, line,
                       field ? field : "(top level)", text, hint ? "; " : "", hint ? hint : "");
}
