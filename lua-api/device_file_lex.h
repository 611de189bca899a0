/* A tokenizer with enough of Lua's lexical rules (names, numbers, short
 * and long strings, comments, newlines counted as Lua counts them) to find
 * a device file's fields and the lines they are written on. It never
 * evaluates anything: Lua itself runs the file. */
#ifndef DF_LUA_DEVICE_FILE_LEX_H
#define DF_LUA_DEVICE_FILE_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum df_lua_token_kind {
  DF_TK_EOF,
  DF_TK_NAME,
  DF_TK_STRING,
  DF_TK_NUMBER,
  DF_TK_PUNCT,
  DF_TK_ERROR /* an unfinished string or long comment */
};

struct df_lua_token {
  enum df_lua_token_kind kind;
  int line;
  const char *text; /* names, numbers and punctuation: into the source */
  size_t len;
  char sval[256];   /* a short string, decoded */
  bool sval_ok;     /* false if the string was too long for sval (or long) */
  bool is_int;
  long long ival;
};

/* The text being read; start it as { src, len, 0, 1 }. */
struct df_lua_lexer {
  const char *s;
  size_t n;
  size_t pos;
  int line;
};

/* Reads the next token into *t (DF_TK_EOF at the end). */
void
df_lua_lexer_next(struct df_lua_lexer *lx, struct df_lua_token *t);

/* Is t the punctuation or name text? */
bool
df_lua_token_is(const struct df_lua_token *t, const char *text);

#endif
