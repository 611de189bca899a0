/* Device files: loading (a private, capped lua_State; an empty guarded
 * _ENV; text chunks only; an instruction budget), following `extends`,
 * schema validation with FILE:LINE: FIELD: messages, listing and matching.
 *
 * Lua forgets where a table field was written, so each file's source is
 * also read by a small locator: a tokenizer plus a parser of the one
 * `return { ... }` table constructor, which records, for every field path
 * ("modes.fastboot.steps[2].keys[1]"), the line its key (or, for a list
 * item, its value) starts on and the line its value ends on. An error at a
 * path is reported at the line of that path or of its nearest written
 * ancestor; a Lua error (syntax, a call, a loop) is reported at Lua's line
 * and named by the innermost field written across that line. */
#include "lua-api/device_file.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/error.h"

#define DF_PATH_MAX 512
#define DF_DEPTH_MAX 16
#define DF_HOOK_EVERY 1000

/* ------------------------------------------------------------------ */
/* Field paths                                                          */

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

/* Appends one key to a path the way it is written in messages: .name,
 * ["odd-name"], [3]. Returns the new length (unchanged if it does not fit). */
static size_t
path_append_str(char *buf, size_t cap, size_t len, const char *key)
{
  char seg[DF_PATH_MAX];
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

static size_t
path_append_int(char *buf, size_t cap, size_t len, long long i)
{
  int n = snprintf(buf + len, cap - len, "[%lld]", i);
  if (n < 0 || len + (size_t)n + 1 > cap) {
    buf[len] = '\0';
    return len;
  }
  return len + (size_t)n;
}

/* A path being walked, with the length before each segment so that the
 * nearest written ancestor can be looked up. */
struct df_path {
  char s[DF_PATH_MAX];
  size_t len;
  size_t marks[DF_DEPTH_MAX + 8];
  int depth;
};

static void
path_init(struct df_path *p)
{
  p->s[0] = '\0';
  p->len = 0;
  p->depth = 0;
}

static void
path_push_str(struct df_path *p, const char *key)
{
  if (p->depth < (int)(sizeof(p->marks) / sizeof(p->marks[0])))
    p->marks[p->depth] = p->len;
  p->depth++;
  p->len = path_append_str(p->s, sizeof(p->s), p->len, key);
}

static void
path_push_int(struct df_path *p, long long i)
{
  if (p->depth < (int)(sizeof(p->marks) / sizeof(p->marks[0])))
    p->marks[p->depth] = p->len;
  p->depth++;
  p->len = path_append_int(p->s, sizeof(p->s), p->len, i);
}

static void
path_pop(struct df_path *p)
{
  p->depth--;
  if (p->depth < (int)(sizeof(p->marks) / sizeof(p->marks[0])))
    p->len = p->marks[p->depth];
  p->s[p->len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Tokenizer (enough of Lua's lexical rules to find fields and lines)   */

enum df_tok_kind { DF_TK_EOF, DF_TK_NAME, DF_TK_STRING, DF_TK_NUMBER, DF_TK_PUNCT, DF_TK_ERROR };

struct df_tok {
  enum df_tok_kind kind;
  int line;
  const char *text; /* names and punctuation */
  size_t len;
  char sval[256];   /* decoded string */
  bool sval_ok;     /* false if the string was too long for sval */
  bool is_int;
  long long ival;
};

struct df_lex {
  const char *s;
  size_t n;
  size_t pos;
  int line;
};

static int
lex_peekc(const struct df_lex *lx, size_t ahead)
{
  return lx->pos + ahead < lx->n ? (unsigned char)lx->s[lx->pos + ahead] : -1;
}

/* Consumes one newline ("\n", "\r", "\r\n" or "\n\r") as Lua does. */
static void
lex_newline(struct df_lex *lx)
{
  int c = lex_peekc(lx, 0);
  lx->pos++;
  int d = lex_peekc(lx, 0);
  if ((d == '\n' || d == '\r') && d != c)
    lx->pos++;
  lx->line++;
}

/* At '[': the level of a long bracket "[==[" (2), or -1 if it is not one. */
static int
lex_long_level(const struct df_lex *lx)
{
  size_t k = 1;
  while (lex_peekc(lx, k) == '=')
    k++;
  return lex_peekc(lx, k) == '[' ? (int)(k - 1) : -1;
}

/* Skips a long bracket of the given level starting at '['. */
static bool
lex_skip_long(struct df_lex *lx, int level)
{
  lx->pos += (size_t)level + 2;
  for (;;) {
    int c = lex_peekc(lx, 0);
    if (c < 0)
      return false;
    if (c == '\n' || c == '\r') {
      lex_newline(lx);
      continue;
    }
    if (c == ']') {
      int k = 1;
      while (lex_peekc(lx, (size_t)k) == '=')
        k++;
      if (k - 1 == level && lex_peekc(lx, (size_t)k) == ']') {
        lx->pos += (size_t)k + 1;
        return true;
      }
    }
    lx->pos++;
  }
}

static bool
lex_skip_space(struct df_lex *lx)
{
  for (;;) {
    int c = lex_peekc(lx, 0);
    if (c == '\n' || c == '\r') {
      lex_newline(lx);
    } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
      lx->pos++;
    } else if (c == '-' && lex_peekc(lx, 1) == '-') {
      lx->pos += 2;
      if (lex_peekc(lx, 0) == '[') {
        int level = lex_long_level(lx);
        if (level >= 0) {
          if (!lex_skip_long(lx, level))
            return false;
          continue;
        }
      }
      while ((c = lex_peekc(lx, 0)) >= 0 && c != '\n' && c != '\r')
        lx->pos++;
    } else {
      return true;
    }
  }
}

static void
tok_putc(struct df_tok *t, size_t *k, int c)
{
  if (*k + 1 < sizeof(t->sval))
    t->sval[(*k)++] = (char)c;
  else
    t->sval_ok = false;
}

static bool
lex_string(struct df_lex *lx, struct df_tok *t)
{
  int q = lex_peekc(lx, 0);
  size_t k = 0;
  lx->pos++;
  t->sval_ok = true;
  for (;;) {
    int c = lex_peekc(lx, 0);
    if (c < 0 || c == '\n' || c == '\r')
      return false;
    lx->pos++;
    if (c == q)
      break;
    if (c != '\\') {
      tok_putc(t, &k, c);
      continue;
    }
    c = lex_peekc(lx, 0);
    switch (c) {
    case 'n': tok_putc(t, &k, '\n'); lx->pos++; break;
    case 't': tok_putc(t, &k, '\t'); lx->pos++; break;
    case 'r': tok_putc(t, &k, '\r'); lx->pos++; break;
    case 'a': tok_putc(t, &k, '\a'); lx->pos++; break;
    case 'b': tok_putc(t, &k, '\b'); lx->pos++; break;
    case 'f': tok_putc(t, &k, '\f'); lx->pos++; break;
    case 'v': tok_putc(t, &k, '\v'); lx->pos++; break;
    case '\n':
    case '\r':
      tok_putc(t, &k, '\n');
      lex_newline(lx);
      break;
    case 'x': {
      int v = 0;
      lx->pos++;
      for (int i = 0; i < 2; i++) {
        int h = lex_peekc(lx, 0);
        if (h >= '0' && h <= '9') v = v * 16 + (h - '0');
        else if (h >= 'a' && h <= 'f') v = v * 16 + (h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') v = v * 16 + (h - 'A' + 10);
        else return false;
        lx->pos++;
      }
      tok_putc(t, &k, v);
      break;
    }
    case 'z':
      lx->pos++;
      for (;;) {
        int w = lex_peekc(lx, 0);
        if (w == '\n' || w == '\r') lex_newline(lx);
        else if (w == ' ' || w == '\t' || w == '\f' || w == '\v') lx->pos++;
        else break;
      }
      break;
    default:
      if (c >= '0' && c <= '9') {
        int v = 0;
        for (int i = 0; i < 3 && (c = lex_peekc(lx, 0)) >= '0' && c <= '9'; i++) {
          v = v * 10 + (c - '0');
          lx->pos++;
        }
        tok_putc(t, &k, v & 0xff);
      } else if (c < 0) {
        return false;
      } else {
        /* \\ \" \' and, kept raw, \u{...} */
        tok_putc(t, &k, c);
        lx->pos++;
      }
    }
  }
  t->sval[k] = '\0';
  return true;
}

static void
lex_number(struct df_lex *lx, struct df_tok *t)
{
  size_t start = lx->pos;
  bool hex = lex_peekc(lx, 0) == '0' && (lex_peekc(lx, 1) == 'x' || lex_peekc(lx, 1) == 'X');
  bool is_float = false;
  if (hex)
    lx->pos += 2;
  for (;;) {
    int c = lex_peekc(lx, 0);
    if (c == '.') {
      is_float = true;
    } else if (hex ? (c == 'p' || c == 'P') : (c == 'e' || c == 'E')) {
      is_float = true;
      if (lex_peekc(lx, 1) == '+' || lex_peekc(lx, 1) == '-')
        lx->pos++;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '_')) {
      break;
    }
    lx->pos++;
  }
  t->kind = DF_TK_NUMBER;
  t->text = lx->s + start;
  t->len = lx->pos - start;
  t->is_int = !is_float;
  t->ival = 0;
  if (t->is_int) {
    char num[64];
    size_t n = t->len < sizeof(num) - 1 ? t->len : sizeof(num) - 1;
    memcpy(num, t->text, n);
    num[n] = '\0';
    t->ival = (long long)strtoull(num, NULL, hex ? 16 : 10);
  }
}

static void
lex_next(struct df_lex *lx, struct df_tok *t)
{
  static const char *const puncts[] = {"...", "..", "==", "~=", "<=", ">=", "//", "::", "<<",
                                       ">>", NULL};
  memset(t, 0, sizeof(*t));
  if (!lex_skip_space(lx)) {
    t->kind = DF_TK_ERROR;
    t->line = lx->line;
    return;
  }
  t->line = lx->line;
  int c = lex_peekc(lx, 0);
  if (c < 0) {
    t->kind = DF_TK_EOF;
    return;
  }
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
    size_t start = lx->pos;
    while ((c = lex_peekc(lx, 0)) >= 0 &&
           ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      lx->pos++;
    t->kind = DF_TK_NAME;
    t->text = lx->s + start;
    t->len = lx->pos - start;
    return;
  }
  if ((c >= '0' && c <= '9') || (c == '.' && lex_peekc(lx, 1) >= '0' && lex_peekc(lx, 1) <= '9')) {
    lex_number(lx, t);
    return;
  }
  if (c == '"' || c == '\'') {
    t->kind = lex_string(lx, t) ? DF_TK_STRING : DF_TK_ERROR;
    return;
  }
  if (c == '[') {
    int level = lex_long_level(lx);
    if (level >= 0) {
      /* A long string: its value is not needed, only its extent. */
      t->kind = lex_skip_long(lx, level) ? DF_TK_STRING : DF_TK_ERROR;
      t->sval_ok = false;
      return;
    }
  }
  for (int i = 0; puncts[i]; i++) {
    size_t n = strlen(puncts[i]);
    if (lx->pos + n <= lx->n && memcmp(lx->s + lx->pos, puncts[i], n) == 0) {
      t->kind = DF_TK_PUNCT;
      t->text = lx->s + lx->pos;
      t->len = n;
      lx->pos += n;
      return;
    }
  }
  t->kind = DF_TK_PUNCT;
  t->text = lx->s + lx->pos;
  t->len = 1;
  lx->pos++;
}

static bool
tok_is(const struct df_tok *t, const char *text)
{
  return (t->kind == DF_TK_PUNCT || t->kind == DF_TK_NAME) && t->len == strlen(text) &&
         memcmp(t->text, text, t->len) == 0;
}

/* ------------------------------------------------------------------ */
/* Locator: where each field path is written                            */

struct df_loc_entry {
  char *path;
  int line;     /* the key's line (a list item: its value's first line) */
  int end_line; /* the value's last line */
};

struct df_locator {
  struct df_loc_entry *e;
  size_t n;
  size_t cap;
  bool shape_ok;   /* the file is one `return { ... }` */
  int return_line; /* 1 when not found */
};

static void
locator_free(struct df_locator *loc)
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
    struct df_loc_entry *e = realloc(loc->e, cap * sizeof(*e));
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
tok_depth_delta(const struct df_tok *t)
{
  if (tok_is(t, "(") || tok_is(t, "[") || tok_is(t, "{") || tok_is(t, "function") ||
      tok_is(t, "if") || tok_is(t, "do") || tok_is(t, "repeat"))
    return 1;
  if (tok_is(t, ")") || tok_is(t, "]") || tok_is(t, "}") || tok_is(t, "end") ||
      tok_is(t, "until"))
    return -1;
  return 0;
}

/* Skips the rest of a value (depth: brackets open so far); stops before
 * a ',' ';' or '}' at depth 0. *end_line gets the value's last line. */
static bool
loc_skip_rest(struct df_lex *lx, int depth, int *end_line)
{
  for (;;) {
    struct df_lex save = *lx;
    struct df_tok t;
    lex_next(lx, &t);
    if (t.kind == DF_TK_EOF || t.kind == DF_TK_ERROR) {
      *lx = save;
      return false;
    }
    if (depth == 0 && (tok_is(&t, ",") || tok_is(&t, ";") || tok_is(&t, "}"))) {
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

static bool loc_table(struct df_lex *lx, struct df_locator *loc, char *path, size_t plen,
                      int depth, int *end_line);

/* Parses a table constructor's fields after its '{'. */
static bool
loc_table(struct df_lex *lx, struct df_locator *loc, char *path, size_t plen, int depth,
          int *end_line)
{
  long long index = 1;
  if (depth > DF_DEPTH_MAX + 4)
    return false;
  for (;;) {
    struct df_lex save = *lx;
    struct df_tok t;
    lex_next(lx, &t);
    *end_line = t.line;
    if (tok_is(&t, "}"))
      return true;
    if (t.kind == DF_TK_EOF || t.kind == DF_TK_ERROR)
      return false;

    size_t nlen = plen;
    int key_line = t.line;
    struct df_tok v;
    bool keyed = false;
    if (t.kind == DF_TK_NAME) {
      struct df_lex save2 = *lx;
      struct df_tok eq;
      lex_next(lx, &eq);
      if (tok_is(&eq, "=")) {
        char name[256];
        size_t n = t.len < sizeof(name) - 1 ? t.len : sizeof(name) - 1;
        memcpy(name, t.text, n);
        name[n] = '\0';
        nlen = path_append_str(path, DF_PATH_MAX, plen, name);
        keyed = true;
      } else {
        *lx = save2;
      }
    } else if (tok_is(&t, "[")) {
      struct df_tok k;
      lex_next(lx, &k);
      if (k.kind == DF_TK_STRING && k.sval_ok)
        nlen = path_append_str(path, DF_PATH_MAX, plen, k.sval);
      else if (k.kind == DF_TK_NUMBER && k.is_int)
        nlen = path_append_int(path, DF_PATH_MAX, plen, k.ival);
      else
        nlen = path_append_str(path, DF_PATH_MAX, plen, "?");
      int kdepth = 1 + (tok_depth_delta(&k) > 0 ? 1 : 0);
      while (kdepth > 0) {
        struct df_tok b;
        lex_next(lx, &b);
        if (b.kind == DF_TK_EOF || b.kind == DF_TK_ERROR)
          return false;
        kdepth += tok_depth_delta(&b);
      }
      struct df_tok eq;
      lex_next(lx, &eq);
      if (!tok_is(&eq, "="))
        return false;
      keyed = true;
    }
    if (keyed) {
      lex_next(lx, &v);
    } else {
      *lx = save;
      lex_next(lx, &v);
      key_line = v.line;
      nlen = path_append_int(path, DF_PATH_MAX, plen, index++);
    }
    if (v.kind == DF_TK_EOF || v.kind == DF_TK_ERROR)
      return false;

    long entry = locator_add(loc, path, key_line);
    if (entry < 0)
      return false;
    int vend = v.line;
    bool ok;
    if (tok_is(&v, "{")) {
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
    struct df_tok sep;
    lex_next(lx, &sep);
    *end_line = sep.line;
    if (tok_is(&sep, "}"))
      return true;
    if (!tok_is(&sep, ",") && !tok_is(&sep, ";"))
      return false;
  }
}

/* Builds the locator of one source text. Never fails hard: on text it
 * cannot follow it keeps what it found, and shape_ok stays false. */
static void
locator_build(struct df_locator *loc, const char *src, size_t len)
{
  struct df_lex lx = {src, len, 0, 1};
  struct df_tok t;
  char path[DF_PATH_MAX];
  int end_line = 1;
  memset(loc, 0, sizeof(*loc));
  loc->return_line = 1;
  path[0] = '\0';
  lex_next(&lx, &t);
  if (t.kind != DF_TK_EOF && t.kind != DF_TK_ERROR)
    loc->return_line = t.line; /* or the first statement that is not `return` */
  if (!tok_is(&t, "return"))
    return;
  lex_next(&lx, &t);
  if (!tok_is(&t, "{"))
    return;
  if (!loc_table(&lx, loc, path, 0, 0, &end_line))
    return;
  lex_next(&lx, &t);
  if (tok_is(&t, ";"))
    lex_next(&lx, &t);
  loc->shape_ok = t.kind == DF_TK_EOF;
}

/* The line of path, or of its nearest written ancestor; 0 if none. */
static int
locator_find(const struct df_locator *loc, const struct df_path *p)
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

/* The innermost field written across line, or NULL. */
static const char *
locator_field_at(const struct df_locator *loc, int line)
{
  const struct df_loc_entry *best = NULL;
  for (size_t i = 0; i < loc->n; i++) {
    const struct df_loc_entry *e = &loc->e[i];
    if (e->line <= line && line <= e->end_line &&
        (!best || e->line > best->line ||
         (e->line == best->line && strlen(e->path) > strlen(best->path))))
      best = e;
  }
  if (best)
    return best->path;
  for (size_t i = 0; i < loc->n; i++) {
    const struct df_loc_entry *e = &loc->e[i];
    if (e->line <= line && (!best || e->line >= best->line))
      best = e;
  }
  return best ? best->path : NULL;
}

/* ------------------------------------------------------------------ */
/* Loading state                                                        */

struct df_dfile {
  char id[DF_DEVICE_ID_MAX];
  char *display; /* devices_dir/id.lua, as messages name it */
  char *src;
  size_t len;
  struct df_locator loc;
  int ref; /* the file's table in P's registry */
};

struct df_mem {
  size_t used;
  size_t limit;
};

struct df_load {
  const char *dir;
  const char *root_id;
  struct df_dfile files[DF_DEVICE_FILE_MAX_EXTENDS];
  int nfiles;
  int cur;       /* file being checked, or -1 for the merged table */
  bool abstract; /* the loaded file says abstract = true */
  char *err;
  size_t errlen;
  int rc;
  long instructions;
  int last_line; /* the line the running file last reached */
  struct df_mem mem;
  lua_State *P;
};

static void
load_set_err(struct df_load *ld, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
load_set_err(struct df_load *ld, int rc, const char *fmt, ...)
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

static int
fail(struct df_load *ld, const struct df_path *p, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Records a schema error at path in the current file (or, for the merged
 * table, in the first file of the chain, leaf first, that writes the path
 * or its nearest ancestor). Returns -1 so callers can `return fail(...)`. */
static int
fail(struct df_load *ld, const struct df_path *p, const char *fmt, ...)
{
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);

  int fi = ld->cur >= 0 ? ld->cur : 0;
  int line = 0;
  if (ld->cur >= 0) {
    line = locator_find(&ld->files[fi].loc, p);
  } else {
    /* Longest written prefix first, leaf file first. */
    struct df_path q = *p;
    for (;;) {
      for (int f = 0; f < ld->nfiles && !line; f++) {
        struct df_path exact = q;
        int l = 0;
        for (size_t i = 0; i < ld->files[f].loc.n; i++)
          if (strcmp(ld->files[f].loc.e[i].path, exact.s) == 0) {
            l = ld->files[f].loc.e[i].line;
            break;
          }
        if (l) {
          fi = f;
          line = l;
        }
      }
      if (line || q.depth <= 1)
        break;
      path_pop(&q);
    }
  }
  if (!line)
    line = ld->files[fi].loc.return_line;
  load_set_err(ld, DF_EINVAL, "%s:%d: %s: %s", ld->files[fi].display, line,
               p->len ? p->s : "(top level)", msg);
  return -1;
}

/* A Lua error message "chunk:LINE: text" becomes "FILE:LINE: FIELD: text". */
static void
fail_lua(struct df_load *ld, int fi, const char *luamsg, int line, const char *hint)
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
  const char *field = line ? locator_field_at(&ld->files[fi].loc, line) : NULL;
  if (!line)
    line = ld->files[fi].loc.return_line;
  load_set_err(ld, DF_EINVAL, "%s:%d: %s: %s%s%s", ld->files[fi].display, line,
               field ? field : "(top level)", text, hint ? "; " : "", hint ? hint : "");
}

/* ------------------------------------------------------------------ */
/* The private lua_State: memory cap, instruction budget, guarded _ENV  */

static void *
limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  struct df_mem *m = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    m->used -= old;
    return NULL;
  }
  if (nsize > old && m->used + (nsize - old) > m->limit)
    return NULL;
  void *np = realloc(ptr, nsize);
  if (!np)
    return NULL;
  m->used = m->used - old + nsize;
  return np;
}

static struct df_load *
load_of(lua_State *P)
{
  struct df_load *ld;
  memcpy(&ld, lua_getextraspace(P), sizeof(ld));
  return ld;
}

/* Counts instructions (the budget) and remembers the line reached, so a
 * memory error, which carries no position, can still name one. */
static void
count_hook(lua_State *P, lua_Debug *ar)
{
  struct df_load *ld = load_of(P);
  if (ar->event == LUA_HOOKLINE) {
    ld->last_line = ar->currentline;
    return;
  }
  ld->instructions += DF_HOOK_EVERY;
  if (ld->instructions > DF_DEVICE_FILE_MAX_INSTRUCTIONS) {
    int line = 0;
    if (lua_getinfo(P, "l", ar))
      line = ar->currentline;
    /* Not luaL_error: its position prefix would name the hook, not the line. */
    lua_pushfstring(P, "x:%d: ran more than %d instructions (a loop?)", line,
                    DF_DEVICE_FILE_MAX_INSTRUCTIONS);
    lua_error(P);
  }
}

static int
env_index(lua_State *P)
{
  const char *name = lua_tostring(P, 2);
  return luaL_error(P, "'%s' is not defined: device files are data only (no functions, "
                       "no globals)", name ? name : "?");
}

static int
env_newindex(lua_State *P)
{
  const char *name = lua_tostring(P, 2);
  return luaL_error(P, "cannot set global '%s': device files are data only",
                    name ? name : "?");
}

#define DF_ENV_META "df.device_file_env"

/* ------------------------------------------------------------------ */
/* Schema helpers                                                       */

static const char *const TOP_KEYS[] = {"extends", "abstract", "vendor", "name",
                                       "marketing_names", "codenames", "model_numbers", "soc",
                                       "match", "properties", "modes", "packages", "flashing",
                                       "notes", NULL};
static const char *const SOC_KEYS[] = {"name", "model", "platform", NULL};
static const char *const MATCH_KEYS[] = {"ro.product.device", "ro.product.model", "usb", NULL};
static const char *const USB_KEYS[] = {"vid", "pid", "mode", NULL};
static const char *const USB_MODES[] = {"adb", "fastboot", "fastbootd", "recovery", "sideload",
                                        "download", "edl", "brom", "preloader", "mtp", NULL};
static const char *const MODE_NAMES[] = {"fastboot", "recovery", "download", "safe-mode", "edl",
                                         NULL};
static const char *const MODE_KEYS[] = {"from", "steps", "notes", "verified", NULL};
static const char *const MODE_FROM[] = {"off", "on", "any", NULL};
static const char *const STEP_KEYS[] = {"action", "keys", "until", "seconds", NULL};
static const char *const STEP_ACTIONS[] = {"hold", "release", "press", "plug_usb", "unplug_usb",
                                           "wait", NULL};
static const char *const KEY_NAMES[] = {"power", "volume_up", "volume_down", "bixby", "home",
                                        NULL};
static const char *const FLASHING_KEYS[] = {"ab", "dynamic_partitions", "super_partition",
                                            "anti_rollback", "max_download_size",
                                            "fastbootd_max_download_size", "partitions",
                                            "rom_format", NULL};
static const char *const ROM_FORMATS[] = {"xiaomi-fastboot-tgz", "samsung-odin",
                                          "google-factory-zip", NULL};
static const char *const PARTITION_KEYS[] = {"name", "size", "slot", "logical", NULL};
static const char *const NOTE_KEYS[] = {"text", "source", NULL};
static const char *const REQUIRED_PROPERTIES[] = {
  "ro.product.device", "ro.product.model", "ro.product.name", "ro.product.manufacturer",
  "ro.product.brand", "ro.build.version.release", "ro.build.version.sdk",
  "ro.build.fingerprint", NULL};
static const char *const REQUIRED_MODEL_KEYS[] = {"vendor", "name", "marketing_names",
                                                  "codenames", "model_numbers", "soc", "match",
                                                  "properties", "modes", "packages", "flashing",
                                                  "notes", NULL};

static int
list_index(const char *const *list, const char *s)
{
  for (int i = 0; list[i]; i++)
    if (strcmp(list[i], s) == 0)
      return i;
  return -1;
}

static void
list_join(const char *const *list, char *out, size_t outlen)
{
  size_t k = 0;
  out[0] = '\0';
  for (int i = 0; list[i]; i++) {
    int n = snprintf(out + k, outlen - k, "%s%s", i ? ", " : "", list[i]);
    if (n < 0 || (size_t)n >= outlen - k)
      break;
    k += (size_t)n;
  }
}

/* "number 5", "string \"x\"", "table", ... for messages. */
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

static int
fail_type(struct df_load *ld, const struct df_path *p, int idx, const char *expected)
{
  char got[128];
  describe_value(ld->P, idx, got, sizeof(got));
  return fail(ld, p, "expected %s, got %s", expected, got);
}

/* True when t's keys are exactly 1..n (an empty table counts as a list). */
static bool
is_list(lua_State *P, int idx)
{
  lua_Integer count = 0, max = 0;
  bool ok = true;
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    lua_pop(P, 1);
    if (!lua_isinteger(P, -1) || lua_tointeger(P, -1) < 1) {
      ok = false;
    } else {
      count++;
      if (lua_tointeger(P, -1) > max)
        max = lua_tointeger(P, -1);
    }
  }
  return ok && count == max;
}

static int
check_string(struct df_load *ld, struct df_path *p, int idx, size_t maxlen, const char *what)
{
  if (lua_type(ld->P, idx) != LUA_TSTRING)
    return fail_type(ld, p, idx, what);
  size_t n;
  lua_tolstring(ld->P, idx, &n);
  if (n == 0)
    return fail(ld, p, "must not be empty (expected %s)", what);
  if (n > maxlen)
    return fail(ld, p, "is %zu characters long; at most %zu", n, maxlen);
  return 0;
}

static int
check_enum(struct df_load *ld, struct df_path *p, int idx, const char *const *allowed,
           const char *what)
{
  char list[256];
  list_join(allowed, list, sizeof(list));
  if (lua_type(ld->P, idx) != LUA_TSTRING) {
    char expected[320];
    snprintf(expected, sizeof(expected), "%s (one of: %s)", what, list);
    return fail_type(ld, p, idx, expected);
  }
  if (list_index(allowed, lua_tostring(ld->P, idx)) < 0)
    return fail(ld, p, "'%s' is not a valid %s; use one of: %s", lua_tostring(ld->P, idx), what,
                list);
  return 0;
}

static int
check_bool(struct df_load *ld, struct df_path *p, int idx)
{
  if (lua_type(ld->P, idx) != LUA_TBOOLEAN)
    return fail_type(ld, p, idx, "true or false");
  return 0;
}

static int
check_integer(struct df_load *ld, struct df_path *p, int idx, long long lo, long long hi,
              const char *what)
{
  if (!lua_isinteger(ld->P, idx))
    return fail_type(ld, p, idx, what);
  long long v = (long long)lua_tointeger(ld->P, idx);
  if (v < lo || v > hi)
    return fail(ld, p, "%lld is out of range: expected %s from %lld to %lld", v, what, lo, hi);
  return 0;
}

/* Every key of the table at idx must be a name in allowed. */
static int
check_keys(struct df_load *ld, struct df_path *p, int idx, const char *const *allowed,
           const char *what)
{
  lua_State *P = ld->P;
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    lua_pop(P, 1);
    if (lua_type(P, -1) != LUA_TSTRING) {
      path_push_int(p, (long long)lua_tointeger(P, -1));
      fail(ld, p, "%s holds named fields (key = value), not list items", what);
      path_pop(p);
      lua_pop(P, 1);
      return -1;
    }
    const char *k = lua_tostring(P, -1);
    if (allowed && list_index(allowed, k) < 0) {
      char list[512];
      list_join(allowed, list, sizeof(list));
      path_push_str(p, k);
      fail(ld, p, "unknown key in %s; allowed keys: %s", what, list);
      path_pop(p);
      lua_pop(P, 1);
      return -1;
    }
  }
  return 0;
}

static int
check_table(struct df_load *ld, struct df_path *p, int idx, bool list, const char *what)
{
  lua_State *P = ld->P;
  if (lua_type(P, idx) != LUA_TTABLE) {
    char expected[160];
    snprintf(expected, sizeof(expected), "%s %s", list ? "a list" : "a table", what);
    return fail_type(ld, p, idx, expected);
  }
  if (list && !is_list(P, idx)) {
    lua_pushnil(P);
    while (lua_next(P, idx)) {
      lua_pop(P, 1);
      if (!lua_isinteger(P, -1) || lua_tointeger(P, -1) < 1) {
        if (lua_type(P, -1) == LUA_TSTRING)
          path_push_str(p, lua_tostring(P, -1));
        else
          path_push_int(p, (long long)lua_tointeger(P, -1));
        fail(ld, p, "%s is a list { ... } of items, not named fields", what);
        path_pop(p);
        lua_pop(P, 1);
        return -1;
      }
    }
    return fail(ld, p, "%s is a list with holes; write its items one after another", what);
  }
  return 0;
}

typedef int (*df_item_check_fn)(struct df_load *ld, struct df_path *p, int idx);

static int
check_list(struct df_load *ld, struct df_path *p, int idx, size_t min_items, size_t max_items,
           const char *what, df_item_check_fn item)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, true, what) != 0)
    return -1;
  size_t n = (size_t)lua_rawlen(P, idx);
  if (n < min_items)
    return fail(ld, p, "%s needs at least %zu item%s", what, min_items, min_items == 1 ? "" : "s");
  if (n > max_items)
    return fail(ld, p, "%s has %zu items; at most %zu", what, n, max_items);
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(P, idx, (lua_Integer)i);
    path_push_int(p, (long long)i);
    int rc = item(ld, p, lua_gettop(P));
    path_pop(p);
    lua_pop(P, 1);
    if (rc != 0)
      return -1;
  }
  return 0;
}

/* Calls check on t[key] when present. */
static int
check_field(struct df_load *ld, struct df_path *p, int idx, const char *key,
            df_item_check_fn check)
{
  lua_State *P = ld->P;
  int rc = 0;
  if (lua_getfield(P, idx, key) != LUA_TNIL) {
    path_push_str(p, key);
    rc = check(ld, p, lua_gettop(P));
    path_pop(p);
  }
  lua_pop(P, 1);
  return rc;
}

static bool
chars_ok(const char *s, const char *extra, bool upper)
{
  for (; *s; s++) {
    char c = *s;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (upper && c >= 'A' && c <= 'Z') ||
        (extra && strchr(extra, c)))
      continue;
    return false;
  }
  return true;
}

/* "xiaomi/redmi-k70": lowercase segments of [a-z0-9_-] joined by '/'. */
static bool
valid_id(const char *id)
{
  size_t n = strlen(id);
  if (n == 0 || n >= DF_DEVICE_ID_MAX || !chars_ok(id, "_-/", false))
    return false;
  const char *seg = id;
  for (;;) {
    if (*seg == '/' || *seg == '\0' || *seg == '-' || *seg == '_')
      return false;
    const char *slash = strchr(seg, '/');
    if (!slash)
      return true;
    seg = slash + 1;
  }
}

/* A Java package name: at least two dot-separated identifiers. */
static bool
valid_package(const char *s)
{
  int segments = 0;
  const char *c = s;
  for (;;) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
      return false;
    while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
           *c == '_')
      c++;
    segments++;
    if (*c == '\0')
      return segments >= 2;
    if (*c != '.')
      return false;
    c++;
  }
}

/* ------------------------------------------------------------------ */
/* Schema: one function per field kind                                 */

static int
chk_nonempty_string(struct df_load *ld, struct df_path *p, int idx)
{
  return check_string(ld, p, idx, 127, "a string");
}

static int
chk_long_string(struct df_load *ld, struct df_path *p, int idx)
{
  return check_string(ld, p, idx, 1024, "a string");
}

static int
chk_bool(struct df_load *ld, struct df_path *p, int idx)
{
  return check_bool(ld, p, idx);
}

static int
chk_extends(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_string(ld, p, idx, DF_DEVICE_ID_MAX - 1, "a device id such as \"xiaomi/common\"") != 0)
    return -1;
  if (!valid_id(lua_tostring(ld->P, idx)))
    return fail(ld, p, "'%s' is not a device id: write the path under devices/ without .lua, "
                       "lowercase, e.g. \"xiaomi/common\"", lua_tostring(ld->P, idx));
  return 0;
}

static int
chk_vendor(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_string(ld, p, idx, 63, "a vendor name such as \"xiaomi\"") != 0)
    return -1;
  if (!chars_ok(lua_tostring(ld->P, idx), "-", false))
    return fail(ld, p, "'%s': a vendor is lowercase letters, digits and '-', like its folder "
                       "under devices/", lua_tostring(ld->P, idx));
  return 0;
}

static int
chk_string_list(struct df_load *ld, struct df_path *p, int idx)
{
  return check_list(ld, p, idx, 0, 64, "this field", chk_nonempty_string);
}

static int
chk_soc(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_table(ld, p, idx, false, "{ name = ..., model = ..., platform = ... }") != 0 ||
      check_keys(ld, p, idx, SOC_KEYS, "soc") != 0)
    return -1;
  for (int i = 0; SOC_KEYS[i]; i++)
    if (check_field(ld, p, idx, SOC_KEYS[i], chk_nonempty_string) != 0)
      return -1;
  return 0;
}

static int
chk_usb_id(struct df_load *ld, struct df_path *p, int idx)
{
  return check_integer(ld, p, idx, 0, 0xffff, "a 16-bit USB id such as 0x2717");
}

static int
chk_usb_mode(struct df_load *ld, struct df_path *p, int idx)
{
  return check_enum(ld, p, idx, USB_MODES, "USB mode");
}

static int
chk_usb_entry(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, "{ vid = 0x..., pid = 0x..., mode = \"adb\" }") != 0 ||
      check_keys(ld, p, idx, USB_KEYS, "a USB entry") != 0)
    return -1;
  for (int i = 0; USB_KEYS[i]; i++) {
    if (lua_getfield(P, idx, USB_KEYS[i]) == LUA_TNIL) {
      lua_pop(P, 1);
      return fail(ld, p, "a USB entry needs %s", USB_KEYS[i]);
    }
    lua_pop(P, 1);
  }
  if (check_field(ld, p, idx, "vid", chk_usb_id) != 0 ||
      check_field(ld, p, idx, "pid", chk_usb_id) != 0 ||
      check_field(ld, p, idx, "mode", chk_usb_mode) != 0)
    return -1;
  return 0;
}

static int
chk_prop_values(struct df_load *ld, struct df_path *p, int idx)
{
  return check_list(ld, p, idx, 1, 64, "this match rule", chk_nonempty_string);
}

static int
chk_usb_list(struct df_load *ld, struct df_path *p, int idx)
{
  return check_list(ld, p, idx, 0, 32, "usb", chk_usb_entry);
}

static int
chk_match(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_table(ld, p, idx, false, "of match rules") != 0 ||
      check_keys(ld, p, idx, MATCH_KEYS, "match") != 0)
    return -1;
  if (check_field(ld, p, idx, "ro.product.device", chk_prop_values) != 0 ||
      check_field(ld, p, idx, "ro.product.model", chk_prop_values) != 0 ||
      check_field(ld, p, idx, "usb", chk_usb_list) != 0)
    return -1;
  return 0;
}

static int
chk_properties(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, "of system properties") != 0 ||
      check_keys(ld, p, idx, NULL, "properties") != 0)
    return -1;
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    const char *k = lua_tostring(P, -2);
    path_push_str(p, k);
    int rc = 0;
    if (strlen(k) > 255 || !strchr(k, '.') || !chars_ok(k, "._-", true))
      rc = fail(ld, p, "'%s' is not a property name (like \"ro.product.device\")", k);
    else if (lua_type(P, -1) != LUA_TSTRING)
      rc = fail_type(ld, p, lua_gettop(P), "a string (property values are strings, e.g. \"34\")");
    else if (lua_rawlen(P, -1) > 255)
      rc = fail(ld, p, "is longer than 255 characters");
    path_pop(p);
    lua_pop(P, 1);
    if (rc != 0) {
      lua_pop(P, 1);
      return -1;
    }
  }
  return 0;
}

static int
chk_key_name(struct df_load *ld, struct df_path *p, int idx)
{
  return check_enum(ld, p, idx, KEY_NAMES, "key name");
}

static int
chk_seconds(struct df_load *ld, struct df_path *p, int idx)
{
  if (lua_type(ld->P, idx) != LUA_TNUMBER)
    return fail_type(ld, p, idx, "a number of seconds");
  double s = (double)lua_tonumber(ld->P, idx);
  if (!(s > 0 && s <= 120))
    return fail(ld, p, "%g is out of range: expected seconds from 0 to 120", s);
  return 0;
}

static int
chk_until(struct df_load *ld, struct df_path *p, int idx)
{
  return check_string(ld, p, idx, 256, "a string saying what the user waits for");
}

static int
chk_step(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, "{ action = \"hold\", keys = { ... } }") != 0 ||
      check_keys(ld, p, idx, STEP_KEYS, "a step") != 0)
    return -1;
  if (lua_getfield(P, idx, "action") == LUA_TNIL) {
    lua_pop(P, 1);
    return fail(ld, p, "a step needs an action (one of: hold, release, press, plug_usb, "
                       "unplug_usb, wait)");
  }
  lua_pop(P, 1);
  lua_getfield(P, idx, "action");
  path_push_str(p, "action");
  int rc = check_enum(ld, p, lua_gettop(P), STEP_ACTIONS, "step action");
  path_pop(p);
  const char *action = rc == 0 ? lua_tostring(P, -1) : "";
  bool needs_keys = strcmp(action, "hold") == 0 || strcmp(action, "release") == 0 ||
                    strcmp(action, "press") == 0;
  lua_pop(P, 1);
  if (rc != 0)
    return -1;

  int kt = lua_getfield(P, idx, "keys");
  if (needs_keys && kt == LUA_TNIL) {
    lua_pop(P, 1);
    return fail(ld, p, "a %s step needs keys = { ... }", action);
  }
  if (!needs_keys && kt != LUA_TNIL) {
    lua_pop(P, 1);
    path_push_str(p, "keys");
    fail(ld, p, "a %s step takes no keys", action);
    path_pop(p);
    return -1;
  }
  if (kt != LUA_TNIL) {
    int kidx = lua_gettop(P);
    path_push_str(p, "keys");
    rc = check_list(ld, p, kidx, 1, 5, "keys", chk_key_name);
    /* No key twice in one step. */
    size_t n = rc == 0 ? (size_t)lua_rawlen(P, kidx) : 0;
    for (size_t i = 1; rc == 0 && i <= n; i++)
      for (size_t j = 1; rc == 0 && j < i; j++) {
        lua_rawgeti(P, kidx, (lua_Integer)i);
        lua_rawgeti(P, kidx, (lua_Integer)j);
        if (lua_rawequal(P, -1, -2)) {
          path_push_int(p, (long long)i);
          rc = fail(ld, p, "'%s' is listed twice", lua_tostring(P, -1));
          path_pop(p);
        }
        lua_pop(P, 2);
      }
    path_pop(p);
  }
  lua_pop(P, 1);
  if (rc != 0)
    return -1;
  if (check_field(ld, p, idx, "until", chk_until) != 0 ||
      check_field(ld, p, idx, "seconds", chk_seconds) != 0)
    return -1;
  if (strcmp(action, "wait") == 0) {
    bool has_until = lua_getfield(P, idx, "until") != LUA_TNIL;
    bool has_seconds = lua_getfield(P, idx, "seconds") != LUA_TNIL;
    lua_pop(P, 2);
    if (!has_until && !has_seconds)
      return fail(ld, p, "a wait step needs until = \"...\" or seconds = N");
  }
  return 0;
}

/* Walks the steps as a person would: a key is held until released, a
 * pressed key must not be held, and nothing stays held at the end. */
static int
check_step_sequence(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  unsigned held = 0;
  size_t n = (size_t)lua_rawlen(P, idx);
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(P, idx, (lua_Integer)i);
    lua_getfield(P, -1, "action");
    const char *action = lua_tostring(P, -1);
    lua_getfield(P, -2, "keys");
    size_t nk = lua_type(P, -1) == LUA_TTABLE ? (size_t)lua_rawlen(P, -1) : 0;
    for (size_t k = 1; k <= nk; k++) {
      lua_rawgeti(P, -1, (lua_Integer)k);
      int key = list_index(KEY_NAMES, lua_tostring(P, -1));
      const char *kname = lua_tostring(P, -1);
      unsigned bit = 1u << key;
      const char *problem = NULL;
      if (strcmp(action, "hold") == 0) {
        if (held & bit)
          problem = "is already held by an earlier step";
        held |= bit;
      } else if (strcmp(action, "release") == 0) {
        if (!(held & bit))
          problem = "is not held: no earlier step holds it";
        held &= ~bit;
      } else if (strcmp(action, "press") == 0) {
        if (held & bit)
          problem = "is held; release it before pressing it";
      }
      if (problem) {
        path_push_int(p, (long long)i);
        path_push_str(p, "keys");
        path_push_int(p, (long long)k);
        fail(ld, p, "'%s' %s", kname, problem);
        path_pop(p);
        path_pop(p);
        path_pop(p);
        lua_pop(P, 4);
        return -1;
      }
      lua_pop(P, 1);
    }
    lua_pop(P, 3);
  }
  if (held) {
    char names[128] = "";
    size_t k = 0;
    for (int b = 0; KEY_NAMES[b]; b++)
      if (held & (1u << b)) {
        int w = snprintf(names + k, sizeof(names) - k, "%s%s", k ? ", " : "", KEY_NAMES[b]);
        if (w > 0 && (size_t)w < sizeof(names) - k)
          k += (size_t)w;
      }
    return fail(ld, p, "the steps end with %s still held; add a step "
                       "{ action = \"release\", keys = { ... } }", names);
  }
  return 0;
}

static int
chk_steps(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_list(ld, p, idx, 1, 16, "steps", chk_step) != 0)
    return -1;
  return check_step_sequence(ld, p, idx);
}

static int
chk_mode_from(struct df_load *ld, struct df_path *p, int idx)
{
  return check_enum(ld, p, idx, MODE_FROM, "starting state");
}

static int
chk_mode(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_table(ld, p, idx, false, "{ from = ..., steps = { ... }, verified = ... }") != 0 ||
      check_keys(ld, p, idx, MODE_KEYS, "a mode") != 0)
    return -1;
  if (check_field(ld, p, idx, "from", chk_mode_from) != 0 ||
      check_field(ld, p, idx, "steps", chk_steps) != 0 ||
      check_field(ld, p, idx, "notes", chk_long_string) != 0 ||
      check_field(ld, p, idx, "verified", chk_bool) != 0)
    return -1;
  return 0;
}

static int
chk_modes(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_table(ld, p, idx, false, "of button paths by mode") != 0 ||
      check_keys(ld, p, idx, MODE_NAMES, "modes") != 0)
    return -1;
  for (int i = 0; MODE_NAMES[i]; i++)
    if (check_field(ld, p, idx, MODE_NAMES[i], chk_mode) != 0)
      return -1;
  return 0;
}

static int
chk_packages(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, "{ role = \"package.name\" }") != 0 ||
      check_keys(ld, p, idx, NULL, "packages") != 0)
    return -1;
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    const char *k = lua_tostring(P, -2);
    path_push_str(p, k);
    int rc = 0;
    if (strlen(k) > 63 || !(k[0] >= 'a' && k[0] <= 'z') || !chars_ok(k, "_", false))
      rc = fail(ld, p, "'%s' is not a package role: use lowercase letters, digits and '_', "
                       "e.g. factory_test", k);
    else if (lua_type(P, -1) != LUA_TSTRING)
      rc = fail_type(ld, p, lua_gettop(P), "a package name such as \"com.miui.cit\"");
    else if (!valid_package(lua_tostring(P, -1)) || lua_rawlen(P, -1) > 255)
      rc = fail(ld, p, "'%s' is not an Android package name (like \"com.miui.cit\")",
                lua_tostring(P, -1));
    path_pop(p);
    lua_pop(P, 1);
    if (rc != 0) {
      lua_pop(P, 1);
      return -1;
    }
  }
  return 0;
}

static int
chk_partition_name(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_string(ld, p, idx, 63, "a partition name such as \"boot\"") != 0)
    return -1;
  const char *s = lua_tostring(ld->P, idx);
  size_t n = strlen(s);
  if (!chars_ok(s, "_", false))
    return fail(ld, p, "'%s': partition names are lowercase letters, digits and '_'", s);
  if (n > 2 && (strcmp(s + n - 2, "_a") == 0 || strcmp(s + n - 2, "_b") == 0))
    return fail(ld, p, "'%s' ends in a slot suffix; write the name without it and set "
                       "slot = true", s);
  return 0;
}

static int
chk_partition_size(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_integer(ld, p, idx, 4096, 1LL << 40, "a size in bytes") != 0)
    return -1;
  if (lua_tointeger(ld->P, idx) % 4096 != 0)
    return fail(ld, p, "%lld is not a multiple of 4096 (the block size)",
                (long long)lua_tointeger(ld->P, idx));
  return 0;
}

static int
chk_partition(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, "{ name = \"boot\", size = N, slot = true }") != 0 ||
      check_keys(ld, p, idx, PARTITION_KEYS, "a partition") != 0)
    return -1;
  for (int i = 0; i < 2; i++) {
    if (lua_getfield(P, idx, PARTITION_KEYS[i]) == LUA_TNIL) {
      lua_pop(P, 1);
      return fail(ld, p, "a partition needs %s", PARTITION_KEYS[i]);
    }
    lua_pop(P, 1);
  }
  if (check_field(ld, p, idx, "name", chk_partition_name) != 0 ||
      check_field(ld, p, idx, "size", chk_partition_size) != 0 ||
      check_field(ld, p, idx, "slot", chk_bool) != 0 ||
      check_field(ld, p, idx, "logical", chk_bool) != 0)
    return -1;
  return 0;
}

static int
chk_partitions(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (check_list(ld, p, idx, 0, 128, "partitions", chk_partition) != 0)
    return -1;
  size_t n = (size_t)lua_rawlen(P, idx);
  for (size_t i = 2; i <= n; i++) {
    lua_rawgeti(P, idx, (lua_Integer)i);
    lua_getfield(P, -1, "name");
    for (size_t j = 1; j < i; j++) {
      lua_rawgeti(P, idx, (lua_Integer)j);
      lua_getfield(P, -1, "name");
      bool same = lua_rawequal(P, -1, -3);
      lua_pop(P, 2);
      if (same) {
        path_push_int(p, (long long)i);
        path_push_str(p, "name");
        fail(ld, p, "partition '%s' is listed twice (also item %zu)", lua_tostring(P, -1), j);
        path_pop(p);
        path_pop(p);
        lua_pop(P, 2);
        return -1;
      }
    }
    lua_pop(P, 2);
  }
  return 0;
}

static int
chk_super_name(struct df_load *ld, struct df_path *p, int idx)
{
  return chk_partition_name(ld, p, idx);
}

static int
chk_anti(struct df_load *ld, struct df_path *p, int idx)
{
  return check_integer(ld, p, idx, 0, 65535, "an anti-rollback index");
}

static int
chk_download_size(struct df_load *ld, struct df_path *p, int idx)
{
  return check_integer(ld, p, idx, 4096, 1LL << 40, "a size in bytes");
}

static int
chk_rom_format(struct df_load *ld, struct df_path *p, int idx)
{
  return check_enum(ld, p, idx, ROM_FORMATS, "ROM format");
}

static int
chk_flashing(struct df_load *ld, struct df_path *p, int idx)
{
  if (check_table(ld, p, idx, false, "of flashing facts") != 0 ||
      check_keys(ld, p, idx, FLASHING_KEYS, "flashing") != 0)
    return -1;
  if (check_field(ld, p, idx, "ab", chk_bool) != 0 ||
      check_field(ld, p, idx, "dynamic_partitions", chk_bool) != 0 ||
      check_field(ld, p, idx, "super_partition", chk_super_name) != 0 ||
      check_field(ld, p, idx, "anti_rollback", chk_anti) != 0 ||
      check_field(ld, p, idx, "max_download_size", chk_download_size) != 0 ||
      check_field(ld, p, idx, "fastbootd_max_download_size", chk_download_size) != 0 ||
      check_field(ld, p, idx, "partitions", chk_partitions) != 0 ||
      check_field(ld, p, idx, "rom_format", chk_rom_format) != 0)
    return -1;
  return 0;
}

static int
chk_note(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, "{ text = \"...\", source = \"...\" }") != 0 ||
      check_keys(ld, p, idx, NOTE_KEYS, "a note") != 0)
    return -1;
  for (int i = 0; NOTE_KEYS[i]; i++) {
    if (lua_getfield(P, idx, NOTE_KEYS[i]) == LUA_TNIL) {
      lua_pop(P, 1);
      return fail(ld, p, "a note needs %s (source: where the fact comes from, or "
                         "\"unverified\")", NOTE_KEYS[i]);
    }
    lua_pop(P, 1);
    if (check_field(ld, p, idx, NOTE_KEYS[i], chk_long_string) != 0)
      return -1;
  }
  return 0;
}

static int
chk_notes(struct df_load *ld, struct df_path *p, int idx)
{
  return check_list(ld, p, idx, 0, 64, "notes", chk_note);
}

/* Before the schema: only data, keys that are names or list positions,
 * bounded depth. */
static int
check_data(struct df_load *ld, struct df_path *p, int idx, int depth)
{
  lua_State *P = ld->P;
  if (depth > DF_DEPTH_MAX)
    return fail(ld, p, "tables nested more than %d deep", DF_DEPTH_MAX);
  luaL_checkstack(P, 4, "device file");
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    int rc = 0;
    int kt = lua_type(P, -2);
    if (kt == LUA_TSTRING)
      path_push_str(p, lua_tostring(P, -2));
    else if (lua_isinteger(P, -2))
      path_push_int(p, (long long)lua_tointeger(P, -2));
    else
      path_push_str(p, "?");
    if (kt != LUA_TSTRING && !lua_isinteger(P, -2)) {
      rc = fail(ld, p, "a key must be a name or a list position, not a %s", lua_typename(P, kt));
    } else {
      switch (lua_type(P, -1)) {
      case LUA_TSTRING:
      case LUA_TNUMBER:
      case LUA_TBOOLEAN:
        break;
      case LUA_TTABLE:
        rc = check_data(ld, p, lua_gettop(P), depth + 1);
        break;
      case LUA_TFUNCTION:
        rc = fail(ld, p, "a function is not data: device files hold only strings, numbers, "
                         "booleans and tables");
        break;
      default:
        rc = fail(ld, p, "a %s is not data: device files hold only strings, numbers, booleans "
                         "and tables", luaL_typename(P, -1));
      }
    }
    path_pop(p);
    lua_pop(P, 1);
    if (rc != 0) {
      lua_pop(P, 1);
      return -1;
    }
  }
  return 0;
}

static int
check_file_table(struct df_load *ld, int idx)
{
  struct df_path p;
  path_init(&p);
  if (check_data(ld, &p, idx, 1) != 0 || check_keys(ld, &p, idx, TOP_KEYS, "a device file") != 0)
    return -1;
  static const struct {
    const char *key;
    df_item_check_fn fn;
  } fields[] = {
    {"extends", chk_extends},          {"abstract", chk_bool},
    {"vendor", chk_vendor},            {"name", chk_nonempty_string},
    {"marketing_names", chk_string_list}, {"codenames", chk_string_list},
    {"model_numbers", chk_string_list}, {"soc", chk_soc},
    {"match", chk_match},              {"properties", chk_properties},
    {"modes", chk_modes},              {"packages", chk_packages},
    {"flashing", chk_flashing},        {"notes", chk_notes},
  };
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
    if (check_field(ld, &p, idx, fields[i].key, fields[i].fn) != 0)
      return -1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Checks on the merged table (what a model means as a whole)           */

static int
require_field(struct df_load *ld, struct df_path *p, int idx, const char *key, const char *why)
{
  lua_State *P = ld->P;
  int t = lua_getfield(P, idx, key);
  lua_pop(P, 1);
  if (t != LUA_TNIL)
    return 0;
  path_push_str(p, key);
  fail(ld, p, "missing: %s", why);
  path_pop(p);
  return -1;
}

/* Does t[key] hold a list? */
static bool
has_list(lua_State *P, int t, const char *key)
{
  bool yes = lua_getfield(P, t, key) == LUA_TTABLE;
  lua_pop(P, 1);
  return yes;
}

/* Is s one of the strings in the list at t[key]? (true if no such list) */
static bool
listed_or_absent(lua_State *P, int t, const char *key, const char *s)
{
  if (lua_getfield(P, t, key) != LUA_TTABLE) {
    lua_pop(P, 1);
    return true;
  }
  bool found = false;
  size_t n = (size_t)lua_rawlen(P, -1);
  for (size_t i = 1; i <= n && !found; i++) {
    lua_rawgeti(P, -1, (lua_Integer)i);
    found = lua_type(P, -1) == LUA_TSTRING && strcmp(lua_tostring(P, -1), s) == 0;
    lua_pop(P, 1);
  }
  lua_pop(P, 1);
  return found;
}

static int
check_merged_modes(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (lua_getfield(P, idx, "modes") != LUA_TTABLE) {
    lua_pop(P, 1);
    return 0;
  }
  int m = lua_gettop(P);
  path_push_str(p, "modes");
  int rc = 0;
  for (int i = 0; MODE_NAMES[i] && rc == 0; i++) {
    if (lua_getfield(P, m, MODE_NAMES[i]) == LUA_TTABLE) {
      path_push_str(p, MODE_NAMES[i]);
      int mi = lua_gettop(P);
      if (require_field(ld, p, mi, "from", "a mode says where it starts: from = \"off\"") != 0 ||
          require_field(ld, p, mi, "steps", "a mode needs steps = { ... }") != 0 ||
          require_field(ld, p, mi, "verified", "say verified = true (a source documents it) "
                                               "or false") != 0)
        rc = -1;
      path_pop(p);
    }
    lua_pop(P, 1);
  }
  path_pop(p);
  lua_pop(P, 1);
  return rc;
}

static int
check_merged_flashing(struct df_load *ld, struct df_path *p, int idx)
{
  lua_State *P = ld->P;
  if (lua_getfield(P, idx, "flashing") != LUA_TTABLE) {
    lua_pop(P, 1);
    return 0;
  }
  int f = lua_gettop(P);
  int rc = 0;
  path_push_str(p, "flashing");
  int ab_t = lua_getfield(P, f, "ab");
  int ab = ab_t == LUA_TBOOLEAN ? lua_toboolean(P, -1) : -1;
  int dyn_t = lua_getfield(P, f, "dynamic_partitions");
  int dyn = dyn_t == LUA_TBOOLEAN ? lua_toboolean(P, -1) : -1;
  lua_getfield(P, f, "super_partition");
  const char *super = lua_tostring(P, -1);
  bool fbd = lua_getfield(P, f, "fastbootd_max_download_size") != LUA_TNIL;
  lua_pop(P, 1);
  int top = lua_gettop(P); /* ab, dyn, super stay on the stack */

  if (super && dyn == 0) {
    path_push_str(p, "super_partition");
    rc = fail(ld, p, "set, but dynamic_partitions is false; remove it or set "
                     "dynamic_partitions = true");
    path_pop(p);
  } else if (dyn == 1 && !super) {
    path_push_str(p, "dynamic_partitions");
    rc = fail(ld, p, "true, but super_partition is missing; add super_partition = \"super\"");
    path_pop(p);
  } else if (fbd && dyn == 0) {
    path_push_str(p, "fastbootd_max_download_size");
    rc = fail(ld, p, "fastbootd exists only with dynamic partitions (dynamic_partitions is "
                     "false)");
    path_pop(p);
  }

  if (rc == 0 && lua_getfield(P, f, "partitions") == LUA_TTABLE) {
    int parts = lua_gettop(P);
    path_push_str(p, "partitions");
    size_t n = (size_t)lua_rawlen(P, parts);
    long long logical_sum = 0, super_size = -1;
    for (size_t i = 1; i <= n && rc == 0; i++) {
      lua_rawgeti(P, parts, (lua_Integer)i);
      int e = lua_gettop(P);
      lua_getfield(P, e, "name");
      lua_getfield(P, e, "size");
      bool slot = lua_getfield(P, e, "slot") == LUA_TBOOLEAN && lua_toboolean(P, -1);
      bool logical = lua_getfield(P, e, "logical") == LUA_TBOOLEAN && lua_toboolean(P, -1);
      const char *name = lua_tostring(P, e + 1);
      long long size = (long long)lua_tointeger(P, e + 2);
      path_push_int(p, (long long)i);
      if (slot && ab == 0) {
        path_push_str(p, "slot");
        rc = fail(ld, p, "slot = true on a phone with ab = false");
        path_pop(p);
      } else if (logical && dyn != 1) {
        path_push_str(p, "logical");
        rc = fail(ld, p, "logical = true needs dynamic_partitions = true");
        path_pop(p);
      } else if (super && name && strcmp(name, super) == 0) {
        if (logical || slot) {
          rc = fail(ld, p, "the super partition '%s' is neither logical nor slotted", super);
        }
        super_size = size;
      }
      if (logical)
        logical_sum += size;
      path_pop(p);
      lua_pop(P, 5);
    }
    if (rc == 0 && dyn == 1 && super && super_size < 0)
      rc = fail(ld, p, "super_partition is '%s' but no partition of that name is listed; add "
                       "{ name = \"%s\", size = N }", super, super);
    if (rc == 0 && super_size >= 0 && logical_sum > super_size)
      rc = fail(ld, p, "the logical partitions take %lld bytes, more than super's %lld", logical_sum,
                super_size);
    path_pop(p);
  }
  lua_settop(P, top);
  lua_pop(P, 4); /* flashing, ab, dyn, super */
  path_pop(p);
  return rc;
}

static int
check_merged(struct df_load *ld, int idx)
{
  lua_State *P = ld->P;
  struct df_path p;
  path_init(&p);
  if (!ld->abstract) {
    for (int i = 0; REQUIRED_MODEL_KEYS[i]; i++)
      if (require_field(ld, &p, idx, REQUIRED_MODEL_KEYS[i],
                        "every model has it (write it, or inherit it with extends)") != 0)
        return -1;
    lua_getfield(P, idx, "soc");
    path_push_str(&p, "soc");
    for (int i = 0; SOC_KEYS[i]; i++)
      if (require_field(ld, &p, lua_gettop(P), SOC_KEYS[i], "soc has name, model and platform") !=
          0)
        return -1;
    path_pop(&p);
    lua_pop(P, 1);

    lua_getfield(P, idx, "properties");
    int props = lua_gettop(P);
    path_push_str(&p, "properties");
    for (int i = 0; REQUIRED_PROPERTIES[i]; i++)
      if (require_field(ld, &p, props, REQUIRED_PROPERTIES[i],
                        "the simulated phone and the matcher need it") != 0)
        return -1;
    lua_getfield(P, props, "ro.build.version.sdk");
    const char *sdk = lua_tostring(P, -1);
    if (!sdk[0] || !chars_ok(sdk, NULL, false)) {
      path_push_str(&p, "ro.build.version.sdk");
      return fail(ld, &p, "'%s' is not an API level (digits, e.g. \"34\")", sdk);
    }
    lua_pop(P, 1);
    lua_getfield(P, idx, "match");
    int match = lua_gettop(P);
    static const char *const self_match[] = {"ro.product.device", "ro.product.model", NULL};
    for (int i = 0; self_match[i]; i++) {
      lua_getfield(P, props, self_match[i]);
      const char *v = lua_tostring(P, -1);
      if (!listed_or_absent(P, match, self_match[i], v)) {
        path_push_str(&p, self_match[i]);
        return fail(ld, &p, "'%s' is not in match[\"%s\"]: the model would not match itself",
                    v, self_match[i]);
      }
      lua_pop(P, 1);
    }
    lua_pop(P, 2);
    path_pop(&p);

    lua_getfield(P, idx, "flashing");
    path_push_str(&p, "flashing");
    static const char *const flashing_required[] = {"ab", "dynamic_partitions", "partitions",
                                                    NULL};
    for (int i = 0; flashing_required[i]; i++)
      if (require_field(ld, &p, lua_gettop(P), flashing_required[i],
                        "every model says how it is flashed") != 0)
        return -1;
    path_pop(&p);
    lua_pop(P, 1);

    /* A model in a vendor's folder belongs to that vendor. */
    const char *slash = strchr(ld->root_id, '/');
    if (slash) {
      lua_getfield(P, idx, "vendor");
      const char *vendor = lua_tostring(P, -1);
      size_t vlen = (size_t)(slash - ld->root_id);
      if (strlen(vendor) != vlen || memcmp(vendor, ld->root_id, vlen) != 0) {
        path_push_str(&p, "vendor");
        return fail(ld, &p, "'%s' differs from the folder '%.*s' this file is in", vendor,
                    (int)vlen, ld->root_id);
      }
      lua_pop(P, 1);
    }
  }
  if (check_merged_modes(ld, &p, idx) != 0 || check_merged_flashing(ld, &p, idx) != 0)
    return -1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Merging: maps merge key by key, lists (and empty tables) replace     */

static void
deep_copy(lua_State *P, int src, int depth)
{
  luaL_checkstack(P, 4, "device file");
  if (lua_type(P, src) != LUA_TTABLE || depth > DF_DEPTH_MAX) {
    lua_pushvalue(P, src);
    return;
  }
  lua_newtable(P);
  int dst = lua_gettop(P);
  lua_pushnil(P);
  while (lua_next(P, src)) {
    lua_pushvalue(P, -2);
    deep_copy(P, lua_gettop(P) - 1, depth + 1);
    lua_rawset(P, dst);
    lua_pop(P, 1);
  }
}

static void
merge_into(lua_State *P, int dst, int src, bool top, int depth)
{
  luaL_checkstack(P, 6, "device file");
  lua_pushnil(P);
  while (lua_next(P, src)) {
    int v = lua_gettop(P);
    if (top && lua_type(P, -2) == LUA_TSTRING &&
        (strcmp(lua_tostring(P, -2), "extends") == 0 ||
         strcmp(lua_tostring(P, -2), "abstract") == 0)) {
      lua_pop(P, 1);
      continue;
    }
    lua_pushvalue(P, -2);
    lua_rawget(P, dst);
    int old = lua_gettop(P);
    if (lua_type(P, v) == LUA_TTABLE && lua_type(P, old) == LUA_TTABLE && !is_list(P, v) &&
        !is_list(P, old) && depth < DF_DEPTH_MAX) {
      merge_into(P, old, v, false, depth + 1);
      lua_pop(P, 1);
    } else {
      lua_pop(P, 1);
      lua_pushvalue(P, -2);
      deep_copy(P, v, depth + 1);
      lua_rawset(P, dst);
    }
    lua_pop(P, 1);
  }
}

/* ------------------------------------------------------------------ */
/* Reading and running one file                                         */

static int
read_source(const char *path, char **out, size_t *outlen)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return df_error_from_errno(errno);
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return DF_EINVAL;
  }
  if (st.st_size > DF_DEVICE_FILE_MAX_BYTES) {
    fclose(f);
    return DF_ETOOBIG;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    fclose(f);
    return DF_ENOMEM;
  }
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  fclose(f);
  buf[n] = '\0';
  *out = buf;
  *outlen = n;
  return 0;
}

static char *
display_path(const char *dir, const char *id)
{
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/')
    dl--;
  size_t n = dl + strlen(id) + 6;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%.*s/%s.lua", (int)dl, dir, id);
  return s;
}

/* Loads, runs and checks file number fi (ld->files[fi].id set). Leaves
 * nothing on the stack; the table is in the registry at files[fi].ref. */
static int
load_one(struct df_load *ld, int fi)
{
  lua_State *P = ld->P;
  struct df_dfile *df = &ld->files[fi];
  df->ref = LUA_NOREF;
  df->display = display_path(ld->dir, df->id);
  if (!df->display) {
    load_set_err(ld, DF_ENOMEM, "out of memory");
    return -1;
  }
  int rc = read_source(df->display, &df->src, &df->len);
  if (rc != 0) {
    if (fi > 0) {
      struct df_path p;
      path_init(&p);
      path_push_str(&p, "extends");
      ld->cur = fi - 1;
      if (rc == DF_ENOENT)
        return fail(ld, &p, "extends '%s', but %s does not exist; fix the id or add the file",
                    df->id, df->display);
      return fail(ld, &p, "extends '%s', but %s cannot be read: %s", df->id, df->display,
                  df_strerror(rc));
    }
    if (rc == DF_ETOOBIG)
      load_set_err(ld, DF_EINVAL, "%s: larger than %d bytes; a device file is a small table",
                   df->display, DF_DEVICE_FILE_MAX_BYTES);
    else if (rc == DF_ENOENT)
      load_set_err(ld, DF_ENOENT, "%s: no such device file (a model id is its path under the "
                                  "devices folder, without .lua)", df->display);
    else
      load_set_err(ld, rc, "%s: cannot read: %s", df->display, df_strerror(rc));
    return -1;
  }
  locator_build(&df->loc, df->src, df->len);

  char chunkname[DF_DEVICE_ID_MAX + 8];
  snprintf(chunkname, sizeof(chunkname), "=%s.lua", df->id);
  int status = luaL_loadbufferx(P, df->src, df->len, chunkname, "t");
  if (status != LUA_OK) {
    if (status == LUA_ERRMEM)
      load_set_err(ld, DF_EINVAL, "%s: memory limit reached while reading it", df->display);
    else
      fail_lua(ld, fi, lua_tostring(P, -1), 0, NULL);
    lua_pop(P, 1);
    return -1;
  }
  lua_newtable(P);
  luaL_setmetatable(P, DF_ENV_META);
  if (!lua_setupvalue(P, -2, 1))
    lua_pop(P, 1);
  ld->instructions = 0;
  ld->last_line = 0;
  lua_sethook(P, count_hook, LUA_MASKCOUNT | LUA_MASKLINE, DF_HOOK_EVERY);
  status = lua_pcall(P, 0, 1, 0);
  lua_sethook(P, NULL, 0, 0);
  if (status != LUA_OK) {
    if (status == LUA_ERRMEM) {
      char msg[160];
      snprintf(msg, sizeof(msg), "x:%d: running it needs more than %d MiB of memory",
               ld->last_line, DF_DEVICE_FILE_MAX_MEMORY / (1024 * 1024));
      fail_lua(ld, fi, msg, 0, "a device file is a small table");
    } else {
      const char *msg = lua_tostring(P, -1);
      bool runaway = msg && strstr(msg, "instructions (a loop?)");
      fail_lua(ld, fi, msg, 0,
               runaway ? "device files are data: they cannot loop or compute"
                       : "write values, not code");
    }
    lua_pop(P, 1);
    return -1;
  }
  if (lua_type(P, -1) != LUA_TTABLE) {
    struct df_path p;
    path_init(&p);
    ld->cur = fi;
    fail_type(ld, &p, lua_gettop(P), "the file to return a table: return { ... }");
    lua_pop(P, 1);
    return -1;
  }
  if (!df->loc.shape_ok) {
    struct df_path p;
    path_init(&p);
    ld->cur = fi;
    fail(ld, &p, "a device file is one 'return { ... }' table and nothing else (no locals, no "
                 "statements)");
    lua_pop(P, 1);
    return -1;
  }
  ld->cur = fi;
  rc = check_file_table(ld, lua_gettop(P));
  if (rc != 0) {
    lua_pop(P, 1);
    return -1;
  }
  df->ref = luaL_ref(P, LUA_REGISTRYINDEX);
  return 0;
}

/* Runs in P under lua_pcall: loads the chain, merges, checks; returns the
 * merged table, or nothing with ld->rc set. */
static int
load_chain(lua_State *P)
{
  struct df_load *ld = lua_touserdata(P, 1);
  lua_settop(P, 0);
  if (luaL_newmetatable(P, DF_ENV_META)) {
    lua_pushcfunction(P, env_index);
    lua_setfield(P, -2, "__index");
    lua_pushcfunction(P, env_newindex);
    lua_setfield(P, -2, "__newindex");
    lua_pushboolean(P, 0);
    lua_setfield(P, -2, "__metatable");
  }
  lua_pop(P, 1);

  const char *id = ld->root_id;
  for (;;) {
    int fi = ld->nfiles;
    for (int i = 0; i < fi; i++) {
      if (strcmp(ld->files[i].id, id) == 0) {
        char chain[512];
        size_t k = 0;
        for (int j = 0; j < fi; j++) {
          int n = snprintf(chain + k, sizeof(chain) - k, "%s -> ", ld->files[j].id);
          if (n > 0 && (size_t)n < sizeof(chain) - k)
            k += (size_t)n;
        }
        snprintf(chain + k, sizeof(chain) - k, "%s", id);
        struct df_path p;
        path_init(&p);
        path_push_str(&p, "extends");
        ld->cur = fi - 1;
        fail(ld, &p, "extends cycle: %s; a chain of extends must end at a file without extends",
             chain);
        return 0;
      }
    }
    if (fi == DF_DEVICE_FILE_MAX_EXTENDS) {
      struct df_path p;
      path_init(&p);
      path_push_str(&p, "extends");
      ld->cur = fi - 1;
      fail(ld, &p, "more than %d files in one extends chain", DF_DEVICE_FILE_MAX_EXTENDS);
      return 0;
    }
    snprintf(ld->files[fi].id, sizeof(ld->files[fi].id), "%s", id);
    ld->files[fi].ref = LUA_NOREF;
    ld->nfiles++;
    if (load_one(ld, fi) != 0)
      return 0;
    lua_rawgeti(P, LUA_REGISTRYINDEX, ld->files[fi].ref);
    if (fi == 0) {
      lua_getfield(P, -1, "abstract");
      ld->abstract = lua_toboolean(P, -1);
      lua_pop(P, 1);
    }
    lua_getfield(P, -1, "extends");
    if (lua_type(P, -1) != LUA_TSTRING) {
      lua_pop(P, 2);
      break;
    }
    /* The id string stays alive: it is a value in the referenced table. */
    id = lua_tostring(P, -1);
    lua_pop(P, 2);
  }

  lua_newtable(P);
  int merged = lua_gettop(P);
  for (int f = ld->nfiles - 1; f >= 0; f--) {
    lua_rawgeti(P, LUA_REGISTRYINDEX, ld->files[f].ref);
    merge_into(P, merged, lua_gettop(P), true, 0);
    lua_pop(P, 1);
  }
  if (ld->abstract) {
    lua_pushboolean(P, 1);
    lua_setfield(P, merged, "abstract");
  }
  ld->cur = -1;
  if (check_merged(ld, merged) != 0)
    return 0;
  lua_settop(P, merged);
  return 1;
}

static void
load_free(struct df_load *ld)
{
  for (int i = 0; i < ld->nfiles; i++) {
    free(ld->files[i].display);
    free(ld->files[i].src);
    locator_free(&ld->files[i].loc);
  }
  if (ld->P)
    lua_close(ld->P);
}

/* Loads id into a fresh private state; on success the merged table is on
 * the top of ld->P. */
static int
load_run(struct df_load *ld, const char *devices_dir, const char *id, char *err, size_t errlen)
{
  memset(ld, 0, sizeof(*ld));
  ld->dir = devices_dir;
  ld->root_id = id;
  ld->err = err;
  ld->errlen = errlen;
  ld->cur = -1;
  if (err && errlen)
    err[0] = '\0';
  if (!devices_dir || !id) {
    load_set_err(ld, DF_EINVAL, "no devices folder or id given");
    return ld->rc;
  }
  if (!valid_id(id)) {
    load_set_err(ld, DF_EINVAL, "'%s' is not a device id: ids are paths under the devices "
                                "folder without .lua, lowercase letters, digits, '-', '_' and "
                                "'/', e.g. xiaomi/redmi-k70", id);
    return ld->rc;
  }
  ld->mem.limit = DF_DEVICE_FILE_MAX_MEMORY;
  ld->P = lua_newstate(limited_alloc, &ld->mem);
  if (!ld->P) {
    load_set_err(ld, DF_ENOMEM, "out of memory");
    return ld->rc;
  }
  memcpy(lua_getextraspace(ld->P), &ld, sizeof(ld));
  lua_pushcfunction(ld->P, load_chain);
  lua_pushlightuserdata(ld->P, ld);
  int status = lua_pcall(ld->P, 1, 1, 0);
  if (status != LUA_OK) {
    const char *who = ld->nfiles > 0 && ld->files[ld->nfiles - 1].display
                        ? ld->files[ld->nfiles - 1].display
                        : id;
    if (status == LUA_ERRMEM)
      load_set_err(ld, DF_EINVAL, "%s: the %d MiB memory limit was reached while loading it",
                   who, DF_DEVICE_FILE_MAX_MEMORY / (1024 * 1024));
    else
      load_set_err(ld, DF_EINVAL, "%s: %s", who, lua_tostring(ld->P, -1));
    return ld->rc;
  }
  if (ld->rc == 0 && lua_type(ld->P, -1) != LUA_TTABLE)
    load_set_err(ld, DF_EINVAL, "%s: could not be loaded", id);
  return ld->rc;
}

/* ------------------------------------------------------------------ */
/* Copy into the caller's state                                         */

struct df_copy {
  lua_State *P;
  const char *id;
};

static void
copy_value(lua_State *L, lua_State *P, int pidx, int depth)
{
  switch (lua_type(P, pidx)) {
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(P, pidx, &n);
    lua_pushlstring(L, s, n);
    break;
  }
  case LUA_TNUMBER:
    if (lua_isinteger(P, pidx))
      lua_pushinteger(L, lua_tointeger(P, pidx));
    else
      lua_pushnumber(L, lua_tonumber(P, pidx));
    break;
  case LUA_TBOOLEAN:
    lua_pushboolean(L, lua_toboolean(P, pidx));
    break;
  case LUA_TTABLE: {
    if (depth > DF_DEPTH_MAX + 2 || !lua_checkstack(P, 4))
      luaL_error(L, "device file nested too deeply");
    luaL_checkstack(L, 4, "device file");
    lua_newtable(L);
    lua_pushnil(P);
    while (lua_next(P, pidx)) {
      int top = lua_gettop(P);
      copy_value(L, P, top - 1, depth + 1);
      copy_value(L, P, top, depth + 1);
      lua_rawset(L, -3);
      lua_pop(P, 1);
    }
    break;
  }
  default:
    lua_pushnil(L);
  }
}

static int
copy_entry(lua_State *L)
{
  struct df_copy *c = lua_touserdata(L, 1);
  lua_settop(L, 0);
  copy_value(L, c->P, lua_gettop(c->P), 0);
  lua_pushstring(L, c->id);
  lua_setfield(L, -2, "id");
  return 1;
}

/* ------------------------------------------------------------------ */
/* Public: load, check                                                  */

int
df_device_file_load(lua_State *L, const char *devices_dir, const char *id, char *err,
                    size_t errlen)
{
  struct df_load ld;
  int rc = load_run(&ld, devices_dir, id, err, errlen);
  if (rc == 0) {
    struct df_copy c = {ld.P, id};
    if (!lua_checkstack(L, 3)) {
      rc = DF_ENOMEM;
    } else {
      lua_pushcfunction(L, copy_entry);
      lua_pushlightuserdata(L, &c);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        if (err && errlen)
          snprintf(err, errlen, "%s: cannot copy the device table: %s", id,
                   lua_tostring(L, -1));
        lua_pop(L, 1);
        rc = DF_ENOMEM;
      }
    }
  }
  load_free(&ld);
  return rc;
}

int
df_device_file_check(const char *devices_dir, const char *id, char *err, size_t errlen)
{
  struct df_load ld;
  int rc = load_run(&ld, devices_dir, id, err, errlen);
  load_free(&ld);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Listing                                                              */

struct df_id_list {
  char **ids;
  size_t n;
  size_t cap;
};

static void
id_list_free(struct df_id_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->ids[i]);
  free(l->ids);
  memset(l, 0, sizeof(*l));
}

static int
id_list_walk(struct df_id_list *l, const char *root, const char *rel, int depth)
{
  char dirpath[PATH_MAX];
  int nd = snprintf(dirpath, sizeof(dirpath), "%s%s%s", root, rel[0] ? "/" : "", rel);
  if (nd < 0 || (size_t)nd >= sizeof(dirpath))
    return DF_ETOOBIG;
  DIR *d = opendir(dirpath);
  if (!d)
    return df_error_from_errno(errno);
  struct dirent *de;
  int rc = 0;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char full[PATH_MAX], sub[PATH_MAX];
    int nf = snprintf(full, sizeof(full), "%s/%s", dirpath, de->d_name);
    int ns = snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
    if (nf < 0 || (size_t)nf >= sizeof(full) || ns < 0 || (size_t)ns >= sizeof(sub))
      continue;
    struct stat st;
    if (stat(full, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < 8)
        rc = id_list_walk(l, root, sub, depth + 1);
      continue;
    }
    size_t n = strlen(sub);
    if (!S_ISREG(st.st_mode) || n <= 4 || strcmp(sub + n - 4, ".lua") != 0)
      continue;
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 32;
      char **ids = realloc(l->ids, cap * sizeof(*ids));
      if (!ids) {
        rc = DF_ENOMEM;
        break;
      }
      l->ids = ids;
      l->cap = cap;
    }
    l->ids[l->n] = strndup(sub, n - 4);
    if (!l->ids[l->n]) {
      rc = DF_ENOMEM;
      break;
    }
    l->n++;
  }
  closedir(d);
  return rc;
}

static int
cmp_ids(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
id_list_load(struct df_id_list *l, const char *devices_dir)
{
  memset(l, 0, sizeof(*l));
  if (!devices_dir)
    return DF_EINVAL;
  int rc = id_list_walk(l, devices_dir, "", 0);
  if (rc != 0) {
    id_list_free(l);
    return rc;
  }
  qsort(l->ids, l->n, sizeof(*l->ids), cmp_ids);
  return 0;
}

int
df_device_file_list(const char *devices_dir, df_device_id_fn fn, void *ctx)
{
  struct df_id_list l;
  int rc = id_list_load(&l, devices_dir);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < l.n && rc == 0; i++)
    rc = fn(ctx, l.ids[i]);
  id_list_free(&l);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Matching                                                             */

struct df_candidates {
  const char *ids[64];
  char vendors[64][64];
  size_t n;
  size_t total;
};

static void
candidates_add(struct df_candidates *c, const char *id, const char *vendor)
{
  if (c->n < sizeof(c->ids) / sizeof(c->ids[0])) {
    c->ids[c->n] = id;
    snprintf(c->vendors[c->n], sizeof(c->vendors[0]), "%s", vendor ? vendor : "");
    c->n++;
  }
  c->total++;
}

static bool
usb_listed(lua_State *P, int match, int vid, int pid)
{
  bool found = false;
  if (lua_getfield(P, match, "usb") == LUA_TTABLE) {
    size_t n = (size_t)lua_rawlen(P, -1);
    for (size_t i = 1; i <= n && !found; i++) {
      lua_rawgeti(P, -1, (lua_Integer)i);
      lua_getfield(P, -1, "vid");
      lua_getfield(P, -2, "pid");
      found = lua_tointeger(P, -2) == vid && lua_tointeger(P, -1) == pid;
      lua_pop(P, 3);
    }
  }
  lua_pop(P, 1);
  return found;
}

static void
join_candidates(const struct df_candidates *c, char *out, size_t outlen)
{
  size_t k = 0;
  out[0] = '\0';
  for (size_t i = 0; i < c->n; i++) {
    int n = snprintf(out + k, outlen - k, "%s%s", i ? ", " : "", c->ids[i]);
    if (n < 0 || (size_t)n >= outlen - k)
      break;
    k += (size_t)n;
  }
}

static bool
decide(struct df_device_match *out, const struct df_candidates *c, const char *what)
{
  if (c->total == 0)
    return false;
  const char *vendor = c->vendors[0];
  for (size_t i = 1; i < c->n; i++)
    if (strcmp(c->vendors[i], vendor) != 0)
      vendor = "";
  snprintf(out->vendor, sizeof(out->vendor), "%s", vendor);
  if (c->total == 1) {
    snprintf(out->id, sizeof(out->id), "%s", c->ids[0]);
    out->fallback = false;
    snprintf(out->reason, sizeof(out->reason), "%s matches %s", what, c->ids[0]);
    return true;
  }
  char list[384];
  join_candidates(c, list, sizeof(list));
  snprintf(out->id, sizeof(out->id), "%s", DF_DEVICE_FALLBACK_ID);
  out->fallback = true;
  out->ambiguous = true;
  snprintf(out->reason, sizeof(out->reason),
           "%s is listed by %zu models (%s); using %s until the phone tells them apart "
           "(ro.product.device over adb)", what, c->total, list, DF_DEVICE_FALLBACK_ID);
  return true;
}

int
df_device_match(const char *devices_dir, const struct df_device_query *q,
                struct df_device_match *out, char *err, size_t errlen)
{
  struct df_id_list l;
  memset(out, 0, sizeof(*out));
  if (err && errlen)
    err[0] = '\0';
  if (!q)
    return DF_EINVAL;
  int rc = id_list_load(&l, devices_dir);
  if (rc != 0)
    return rc;

  struct df_candidates by_device = {0}, by_device_model = {0}, by_model = {0}, by_usb = {0};
  for (size_t i = 0; i < l.n; i++) {
    struct df_load ld;
    char one_err[1024];
    if (load_run(&ld, devices_dir, l.ids[i], one_err, sizeof(one_err)) != 0) {
      if (out->broken++ == 0 && err && errlen)
        snprintf(err, errlen, "%s", one_err);
      load_free(&ld);
      continue;
    }
    lua_State *P = ld.P;
    int t = lua_gettop(P);
    bool abstract = ld.abstract;
    lua_getfield(P, t, "vendor");
    const char *vendor = lua_tostring(P, -1);
    lua_getfield(P, t, "match");
    int match = lua_gettop(P);
    if (!abstract && lua_type(P, match) == LUA_TTABLE) {
      bool dev_hit = q->device && q->device[0] && has_list(P, match, "ro.product.device") &&
                     listed_or_absent(P, match, "ro.product.device", q->device);
      bool model_hit = q->model && q->model[0] && has_list(P, match, "ro.product.model") &&
                       listed_or_absent(P, match, "ro.product.model", q->model);
      if (dev_hit)
        candidates_add(&by_device, l.ids[i], vendor);
      if (dev_hit && model_hit)
        candidates_add(&by_device_model, l.ids[i], vendor);
      if (model_hit)
        candidates_add(&by_model, l.ids[i], vendor);
      if (q->usb_vid >= 0 && q->usb_pid >= 0 && usb_listed(P, match, q->usb_vid, q->usb_pid))
        candidates_add(&by_usb, l.ids[i], vendor);
    }
    load_free(&ld);
  }

  char what[256];
  bool done = false;
  if (by_device.total > 1 && by_device_model.total >= 1) {
    snprintf(what, sizeof(what), "ro.product.device=%s with ro.product.model=%s", q->device,
             q->model);
    done = decide(out, &by_device_model, what);
  }
  if (!done) {
    snprintf(what, sizeof(what), "ro.product.device=%s", q->device ? q->device : "");
    done = decide(out, &by_device, what);
  }
  if (!done) {
    snprintf(what, sizeof(what), "ro.product.model=%s", q->model ? q->model : "");
    done = decide(out, &by_model, what);
  }
  if (!done) {
    snprintf(what, sizeof(what), "USB %04x:%04x", (unsigned)q->usb_vid & 0xffff,
             (unsigned)q->usb_pid & 0xffff);
    done = decide(out, &by_usb, what);
  }
  if (!done) {
    char known[256] = "";
    size_t k = 0;
    if (q->device && q->device[0])
      k += (size_t)snprintf(known + k, sizeof(known) - k, "ro.product.device=%s", q->device);
    if (q->model && q->model[0] && k < sizeof(known))
      k += (size_t)snprintf(known + k, sizeof(known) - k, "%sro.product.model=%s",
                            k ? ", " : "", q->model);
    if (q->usb_vid >= 0 && q->usb_pid >= 0 && k < sizeof(known))
      snprintf(known + k, sizeof(known) - k, "%sUSB %04x:%04x", k ? ", " : "",
               (unsigned)q->usb_vid & 0xffff, (unsigned)q->usb_pid & 0xffff);
    snprintf(out->id, sizeof(out->id), "%s", DF_DEVICE_FALLBACK_ID);
    out->fallback = true;
    snprintf(out->reason, sizeof(out->reason),
             "no device file matches %s; using %s: its button combinations and partitions are "
             "guesses (add a device file: see docs/device-files.md)",
             known[0] ? known : "this phone (nothing known of it)", DF_DEVICE_FALLBACK_ID);
  }
  id_list_free(&l);
  return 0;
}
