/* string.find, string.match, string.gmatch and string.gsub on our own
 * matcher (lua-api/pattern_match.c), with the arguments, results and
 * errors of Lua 5.4's. The sandbox puts them in every recipe environment
 * and behind the string metatable in place of Lua's. A plain find uses
 * memmem (glibc's is linear; the build defines _GNU_SOURCE). */
#include "lua-api/pattern.h"

#include <string.h>

#include <lauxlib.h>

/* Lua's rule for a start position: negative counts from the end, 0 and
 * anything before the start is 1. */
static size_t
df_pat_start_pos(lua_Integer pos, size_t len)
{
  if (pos > 0) return (size_t)pos;
  if (pos == 0) return 1;
  if (pos < -(lua_Integer)len) return 1;
  return len + (size_t)pos + 1;
}

static int
df_pat_has_specials(const char *p, size_t lp)
{
  size_t i;

  for (i = 0; i < lp; i++)
    if (strchr("^$*+?.([%-", p[i]) != NULL && p[i] != '\0') return 1;
  return 0;
}

static int
df_pat_find_aux(lua_State *L, int find)
{
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = df_pat_start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
  struct df_pattern_state ms;
  const char *s1;
  int anchor;

  if (init > ls) {
    lua_pushnil(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !df_pat_has_specials(p, lp))) {
    const char *hit = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
    if (hit != NULL) {
      lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
      lua_pushinteger(L, (lua_Integer)(hit - s + lp));
      return 2;
    }
    lua_pushnil(L);
    return 1;
  }
  anchor = lp > 0 && *p == '^';
  if (anchor) {
    p++;
    lp--;
  }
  df_pattern_init(&ms, L, s, ls, p, lp);
  s1 = s + init;
  for (;;) {
    const char *e;
    df_pattern_reset(&ms);
    e = df_pattern_match(&ms, s1, p);
    if (e != NULL) {
      df_pattern_flush(&ms);
      if (find) {
        lua_pushinteger(L, (lua_Integer)(s1 - s) + 1);
        lua_pushinteger(L, (lua_Integer)(e - s));
        return df_pattern_push_captures(&ms, NULL, NULL) + 2;
      }
      return df_pattern_push_captures(&ms, s1, e);
    }
    if (anchor || s1 >= ms.src_end) break;
    s1++;
  }
  df_pattern_flush(&ms);
  lua_pushnil(L);
  return 1;
}

int
df_pattern_find(lua_State *L)
{
  return df_pat_find_aux(L, 1);
}

int
df_pattern_match_fn(lua_State *L)
{
  return df_pat_find_aux(L, 0);
}

/* gmatch's iterator state: offsets into the subject (upvalue 1), so the
 * userdata holds no pointer into a string it does not anchor. */
struct df_pat_gmatch {
  size_t pos;       /* where the next attempt starts */
  ptrdiff_t last;   /* end of the last match, or -1 */
};

static int
df_pat_gmatch_next(lua_State *L)
{
  size_t ls, lp;
  const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  struct df_pat_gmatch *g = lua_touserdata(L, lua_upvalueindex(3));
  struct df_pattern_state ms;
  const char *src;

  if (g->pos > ls) return 0; /* done, or started past the end */
  df_pattern_init(&ms, L, s, ls, p, lp);
  for (src = s + g->pos; src <= ms.src_end; src++) {
    const char *e;
    df_pattern_reset(&ms);
    e = df_pattern_match(&ms, src, p);
    if (e != NULL && (g->last < 0 || e != s + g->last)) {
      df_pattern_flush(&ms);
      g->pos = (size_t)(e - s);
      g->last = e - s;
      return df_pattern_push_captures(&ms, src, e);
    }
  }
  df_pattern_flush(&ms);
  g->pos = ls + 1;
  return 0;
}

int
df_pattern_gmatch(lua_State *L)
{
  size_t ls;
  struct df_pat_gmatch *g;
  size_t init;

  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  init = df_pat_start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) init = ls + 1; /* nothing to match */
  lua_settop(L, 2);
  g = lua_newuserdatauv(L, sizeof(*g), 0);
  g->pos = init;
  g->last = -1;
  lua_pushcclosure(L, df_pat_gmatch_next, 3);
  return 1;
}

/* gsub with a string replacement: %0-%9 and %%. */
static void
df_pat_add_string(struct df_pattern_state *ms, luaL_Buffer *b, const char *s, const char *e)
{
  lua_State *L = ms->L;
  size_t l;
  const char *r = lua_tolstring(L, 3, &l);
  const char *end = r + l;

  while (r < end) {
    const char *esc = memchr(r, '%', (size_t)(end - r));
    if (esc == NULL) {
      luaL_addlstring(b, r, (size_t)(end - r));
      break;
    }
    luaL_addlstring(b, r, (size_t)(esc - r));
    esc++;
    if (esc < end && *esc == '%') {
      luaL_addchar(b, '%');
    } else if (esc < end && *esc == '0') {
      luaL_addlstring(b, s, (size_t)(e - s));
    } else if (esc < end && *esc >= '1' && *esc <= '9') {
      df_pattern_push_capture(ms, *esc - '1', s, e);
      luaL_tolstring(L, -1, NULL); /* a position capture is a number */
      lua_remove(L, -2);
      luaL_addvalue(b);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", '%');
    }
    r = esc + 1;
  }
}

/* gsub with a table or function replacement; false or nil keeps the
 * match as it was. */
static void
df_pat_add_value(struct df_pattern_state *ms, luaL_Buffer *b, const char *s, const char *e,
                 int type)
{
  lua_State *L = ms->L;

  if (type == LUA_TFUNCTION) {
    int n;
    lua_pushvalue(L, 3);
    n = df_pattern_push_captures(ms, s, e);
    lua_call(L, n, 1);
  } else {
    df_pattern_push_capture(ms, 0, s, e);
    lua_gettable(L, 3);
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return;
  }
  if (!lua_isstring(L, -1))
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
}

int
df_pattern_gsub(lua_State *L)
{
  size_t ls, lp;
  const char *src = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  const char *last = NULL;
  int type = lua_type(L, 3);
  lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
  lua_Integer n = 0;
  struct df_pattern_state ms;
  luaL_Buffer b;
  int anchor;

  luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION ||
                        type == LUA_TTABLE,
                   3, "string/function/table");
  luaL_buffinit(L, &b);
  anchor = lp > 0 && *p == '^';
  if (anchor) {
    p++;
    lp--;
  }
  df_pattern_init(&ms, L, src, ls, p, lp);
  while (n < max_n) {
    const char *e;
    df_pattern_reset(&ms);
    e = df_pattern_match(&ms, src, p);
    if (e != NULL && e != last) {
      n++;
      if (type == LUA_TFUNCTION || type == LUA_TTABLE)
        df_pat_add_value(&ms, &b, src, e, type);
      else
        df_pat_add_string(&ms, &b, src, e);
      src = last = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  df_pattern_flush(&ms);
  if (n == 0) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}
