/* Enough of Lua's lexical rules to find fields and lines (see
 * device_file_lex.h). */
#include "lua-api/device_file_lex.h"

#include <stdlib.h>
#include <string.h>

static int
lex_peekc(const struct df_lua_lexer *lx, size_t ahead)
{
  return lx->pos + ahead < lx->n ? (unsigned char)lx->s[lx->pos + ahead] : -1;
}

/* Consumes one newline ("\n", "\r", "\r\n" or "\n\r") as Lua does. */
static void
lex_newline(struct df_lua_lexer *lx)
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
lex_long_level(const struct df_lua_lexer *lx)
{
  size_t k = 1;
  while (lex_peekc(lx, k) == '=')
    k++;
  return lex_peekc(lx, k) == '[' ? (int)(k - 1) : -1;
}

/* Skips a long bracket of the given level starting at '['. */
static bool
lex_skip_long(struct df_lua_lexer *lx, int level)
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
lex_skip_space(struct df_lua_lexer *lx)
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
tok_putc(struct df_lua_token *t, size_t *k, int c)
{
  if (*k + 1 < sizeof(t->sval))
    t->sval[(*k)++] = (char)c;
  else
    t->sval_ok = false;
}

static bool
lex_string(struct df_lua_lexer *lx, struct df_lua_token *t)
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
lex_number(struct df_lua_lexer *lx, struct df_lua_token *t)
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

void
df_lua_lexer_next(struct df_lua_lexer *lx, struct df_lua_token *t)
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

bool
df_lua_token_is(const struct df_lua_token *t, const char *text)
{
  return (t->kind == DF_TK_PUNCT || t->kind == DF_TK_NAME) && t->len == strlen(text) &&
         memcmp(t->text, text, t->len) == 0;
}

