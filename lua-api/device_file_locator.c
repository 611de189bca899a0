/* Where each field of a device file is written (see device_file_locator.h). */
#include "lua-api/device_file_locator.h"

#include <stdlib.h>
#include <string.h>

#include "lua-api/device_file_lex.h"

void
df_locator_free(struct df_locator *loc)
{
  for (size_t i = 0; i < loc->n; i++)
    free(loc->e[i].path);
  free(loc->e);
  memset(loc, 0, sizeof(*loc));
}

/* Returns the index of the new entry, or -1 when out of memory. */
static long
locator_add(struct df_locator *loc, const char *path, int line)
{
  if (loc->n == loc->cap) {
    size_t cap = loc->cap ? loc->cap * 2 : 64;
    struct df_locator_entry *e = realloc(loc->e, cap * sizeof(*e));
    if (!e)
      return -1;
    loc->e = e;
    loc->cap = cap;
  }
  char *copy = strdup(path);
  if (!copy)
    return -1;
  loc->e[loc->n].path = copy;
  loc->e[loc->n].line = line;
  loc->e[loc->n].end_line = line;
  return (long)loc->n++;
}

/* Block keywords open and close like brackets when skipping a value that
 * is code (a function): their commas must not end the field. */
static int
tok_depth_delta(const struct df_lua_token *t)
{
  if (df_lua_token_is(t, "(") || df_lua_token_is(t, "[") || df_lua_token_is(t, "{") ||
      df_lua_token_is(t, "function") || df_lua_token_is(t, "if") || df_lua_token_is(t, "do") ||
      df_lua_token_is(t, "repeat"))
    return 1;
  if (df_lua_token_is(t, ")") || df_lua_token_is(t, "]") || df_lua_token_is(t, "}") ||
      df_lua_token_is(t, "end") || df_lua_token_is(t, "until"))
    return -1;
  return 0;
}

/* Skips the rest of a value (depth: brackets open so far); stops before
 * a ',' ';' or '}' at depth 0. *end_line gets the value's last line. */
static bool
loc_skip_rest(struct df_lua_lexer *lx, int depth, int *end_line)
{
  for (;;) {
    struct df_lua_lexer save = *lx;
    struct df_lua_token t;
    df_lua_lexer_next(lx, &t);
    if (t.kind == DF_TK_EOF || t.kind == DF_TK_ERROR) {
      *lx = save;
      return false;
    }
    if (depth == 0 &&
        (df_lua_token_is(&t, ",") || df_lua_token_is(&t, ";") || df_lua_token_is(&t, "}"))) {
      *lx = save;
      return true;
    }
    depth += tok_depth_delta(&t);
    if (depth < 0) {
      *lx = save;
      return false;
    }
    *end_line = lx->line;
  }
}

/* Parses a table constructor's fields after its '{'. */
static bool
loc_table(struct df_lua_lexer *lx, struct df_locator *loc, char *path, size_t plen, int depth,
          int *end_line)
{
  long long index = 1;
  if (depth > DF_FIELD_DEPTH_MAX + 4)
    return false;
  for (;;) {
    struct df_lua_lexer save = *lx;
    struct df_lua_token t;
    df_lua_lexer_next(lx, &t);
    *end_line = t.line;
    if (df_lua_token_is(&t, "}"))
      return true;
    if (t.kind == DF_TK_EOF || t.kind == DF_TK_ERROR)
      return false;

    size_t nlen = plen;
    int key_line = t.line;
    struct df_lua_token v;
    bool keyed = false;
    if (t.kind == DF_TK_NAME) {
      struct df_lua_lexer save2 = *lx;
      struct df_lua_token eq;
      df_lua_lexer_next(lx, &eq);
      if (df_lua_token_is(&eq, "=")) {
        char name[256];
        size_t n = t.len < sizeof(name) - 1 ? t.len : sizeof(name) - 1;
        memcpy(name, t.text, n);
        name[n] = '\0';
        nlen = df_field_path_append_key(path, DF_FIELD_PATH_MAX, plen, name);
        keyed = true;
      } else {
        *lx = save2;
      }
    } else if (df_lua_token_is(&t, "[")) {
      struct df_lua_token k;
      df_lua_lexer_next(lx, &k);
      if (k.kind == DF_TK_STRING && k.sval_ok)
        nlen = df_field_path_append_key(path, DF_FIELD_PATH_MAX, plen, k.sval);
      else if (k.kind == DF_TK_NUMBER && k.is_int)
        nlen = df_field_path_append_index(path, DF_FIELD_PATH_MAX, plen, k.ival);
      else
        nlen = df_field_path_append_key(path, DF_FIELD_PATH_MAX, plen, "?");
      int kdepth = 1 + (tok_depth_delta(&k) > 0 ? 1 : 0);
      while (kdepth > 0) {
        struct df_lua_token b;
        df_lua_lexer_next(lx, &b);
        if (b.kind == DF_TK_EOF || b.kind == DF_TK_ERROR)
          return false;
        kdepth += tok_depth_delta(&b);
      }
      struct df_lua_token eq;
      df_lua_lexer_next(lx, &eq);
      if (!df_lua_token_is(&eq, "="))
        return false;
      keyed = true;
    }
    if (keyed) {
      df_lua_lexer_next(lx, &v);
    } else {
      *lx = save;
      df_lua_lexer_next(lx, &v);
      key_line = v.line;
      nlen = df_field_path_append_index(path, DF_FIELD_PATH_MAX, plen, index++);
    }
    if (v.kind == DF_TK_EOF || v.kind == DF_TK_ERROR)
      return false;

    long entry = locator_add(loc, path, key_line);
    if (entry < 0)
      return false;
    int vend = v.line;
    bool ok;
    if (df_lua_token_is(&v, "{")) {
      ok = loc_table(lx, loc, path, nlen, depth + 1, &vend);
      if (ok)
        ok = loc_skip_rest(lx, 0, &vend);
    } else {
      int d = tok_depth_delta(&v);
      ok = d >= 0 && loc_skip_rest(lx, d, &vend);
    }
    loc->e[entry].end_line = vend > key_line ? vend : key_line;
    path[plen] = '\0';
    if (!ok) {
      loc->e[entry].end_line = lx->line;
      return false;
    }
    struct df_lua_token sep;
    df_lua_lexer_next(lx, &sep);
    *end_line = sep.line;
    if (df_lua_token_is(&sep, "}"))
      return true;
    if (!df_lua_token_is(&sep, ",") && !df_lua_token_is(&sep, ";"))
      return false;
  }
}

void
df_locator_build(struct df_locator *loc, const char *src, size_t len)
{
  struct df_lua_lexer lx = {src, len, 0, 1};
  struct df_lua_token t;
  char path[DF_FIELD_PATH_MAX];
  int end_line = 1;
  memset(loc, 0, sizeof(*loc));
  loc->return_line = 1;
  path[0] = '\0';
  df_lua_lexer_next(&lx, &t);
  if (t.kind != DF_TK_EOF && t.kind != DF_TK_ERROR)
    loc->return_line = t.line; /* or the first statement that is not `return` */
  if (!df_lua_token_is(&t, "return"))
    return;
  df_lua_lexer_next(&lx, &t);
  if (!df_lua_token_is(&t, "{"))
    return;
  if (!loc_table(&lx, loc, path, 0, 0, &end_line))
    return;
  df_lua_lexer_next(&lx, &t);
  if (df_lua_token_is(&t, ";"))
    df_lua_lexer_next(&lx, &t);
  loc->shape_ok = t.kind == DF_TK_EOF;
}

int
df_locator_find(const struct df_locator *loc, const struct df_field_path *p)
{
  int d = p->depth;
  size_t len = p->len;
  for (;;) {
    for (size_t i = 0; i < loc->n; i++)
      if (strlen(loc->e[i].path) == len && memcmp(loc->e[i].path, p->s, len) == 0)
        return loc->e[i].line;
    if (d <= 1)
      return 0;
    d--;
    len = d < (int)(sizeof(p->marks) / sizeof(p->marks[0])) ? p->marks[d] : 0;
  }
}

const char *
df_locator_field_at(const struct df_locator *loc, int line)
{
  const struct df_locator_entry *best = NULL;
  for (size_t i = 0; i < loc->n; i++) {
    const struct df_locator_entry *e = &loc->e[i];
    if (e->line <= line && line <= e->end_line &&
        (!best || e->line > best->line ||
         (e->line == best->line && strlen(e->path) > strlen(best->path))))
      best = e;
  }
  if (best)
    return best->path;
  for (size_t i = 0; i < loc->n; i++) {
    const struct df_locator_entry *e = &loc->e[i];
    if (e->line <= line && (!best || e->line >= best->line))
      best = e;
  }
  return best ? best->path : NULL;
}

int
df_locator_line_of(const struct df_locator *loc, const char *path)
{
  for (size_t i = 0; i < loc->n; i++)
    if (strcmp(loc->e[i].path, path) == 0)
      return loc->e[i].line;
  return 0;
}
