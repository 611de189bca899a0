/* The pattern matcher itself: single character classes, sets, the four
 * repetitions, captures (and position captures), back-references, %b and
 * %f, written from the Lua 5.4 manual (section 6.4.1). Every attempt at a
 * pattern item and every character a loop scans is a step; steps are
 * reported to the sandbox, which may stop the match with its kill. */
#include "lua-api/pattern.h"

#include <ctype.h>
#include <string.h>

#include <lauxlib.h>

#include "lua-api/sandbox.h"

#define DF_PAT_ESC '%'

/* Counts n steps; reports them once enough have gathered. */
static inline void
df_pat_step(struct df_pattern_state *ms, uint32_t n)
{
  ms->steps += n;
  if (ms->steps >= DF_PATTERN_CHARGE_EVERY) df_pattern_flush(ms);
}

void
df_pattern_flush(struct df_pattern_state *ms)
{
  uint32_t n = ms->steps;

  ms->steps = 0;
  if (n > 0) df_sandbox_charge(ms->L, n);
}

void
df_pattern_init(struct df_pattern_state *ms, lua_State *L, const char *s, size_t ls,
                const char *p, size_t lp)
{
  ms->L = L;
  ms->src_init = s;
  ms->src_end = s + ls;
  ms->p_end = p + lp;
  ms->steps = 0;
  df_pattern_reset(ms);
}

void
df_pattern_reset(struct df_pattern_state *ms)
{
  ms->level = 0;
  ms->depth_left = DF_PATTERN_MAX_DEPTH;
}

/* Does c belong to class letter cl (%a, %d, ...; upper case negates)? A
 * letter that names no class stands for itself. */
static int
df_pat_class(int c, int cl)
{
  int in;

  switch (tolower(cl)) {
  case 'a': in = isalpha(c); break;
  case 'c': in = iscntrl(c); break;
  case 'd': in = isdigit(c); break;
  case 'g': in = isgraph(c); break;
  case 'l': in = islower(c); break;
  case 'p': in = ispunct(c); break;
  case 's': in = isspace(c); break;
  case 'u': in = isupper(c); break;
  case 'w': in = isalnum(c); break;
  case 'x': in = isxdigit(c); break;
  case 'z': in = c == 0; break; /* deprecated in the manual, still matched by Lua */
  default: return cl == c;
  }
  if (isupper(cl)) in = !in;
  return in;
}

/* c against the set [..] from p (at '[') to last (at its ']'). */
static int
df_pat_set(int c, const char *p, const char *last)
{
  int yes = 1;

  p++; /* the '[' */
  if (*p == '^') {
    yes = 0;
    p++;
  }
  for (; p < last; p++) {
    if (*p == DF_PAT_ESC) {
      p++;
      if (df_pat_class(c, (unsigned char)*p)) return yes;
    } else if (p + 2 < last && p[1] == '-') {
      if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return yes;
      p += 2;
    } else if ((unsigned char)*p == c) {
      return yes;
    }
  }
  return !yes;
}

/* The end of the single character class starting at p. */
static const char *
df_pat_class_end(struct df_pattern_state *ms, const char *p)
{
  char c = *p++;

  if (c == DF_PAT_ESC) {
    if (p >= ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (p < ms->p_end && *p == '^') p++;
    /* The first character of a set is itself even when it is ']'. */
    do {
      if (p >= ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
      c = *p++;
      if (c == DF_PAT_ESC && p < ms->p_end) p++;
    } while (p >= ms->p_end || *p != ']');
    return p + 1;
  }
  return p;
}

/* Does the character at s match the class p..ep? */
static int
df_pat_single(struct df_pattern_state *ms, const char *s, const char *p, const char *ep)
{
  int c;

  if (s >= ms->src_end) return 0;
  c = (unsigned char)*s;
  switch (*p) {
  case '.': return 1;
  case DF_PAT_ESC: return df_pat_class(c, (unsigned char)p[1]);
  case '[': return df_pat_set(c, p, ep - 1);
  default: return (unsigned char)*p == c;
  }
}

/* %bxy at s: a balanced run from x to its matching y. */
static const char *
df_pat_balance(struct df_pattern_state *ms, const char *s, const char *p)
{
  int open, close, depth = 1;

  if (p + 1 >= ms->p_end) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
  open = (unsigned char)p[0];
  close = (unsigned char)p[1];
  if (s >= ms->src_end || (unsigned char)*s != open) return NULL;
  for (s++; s < ms->src_end; s++) {
    int c = (unsigned char)*s;
    df_pat_step(ms, 1);
    if (c == close) {
      if (--depth == 0) return s + 1;
    } else if (c == open) {
      depth++;
    }
  }
  return NULL;
}

static int
df_pat_capture_index(struct df_pattern_state *ms, int digit)
{
  int l = digit - '1';

  if (l < 0 || l >= ms->level || ms->capture[l].len == DF_PATTERN_CAP_UNFINISHED)
    return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
  return l;
}

static int
df_pat_open_capture(struct df_pattern_state *ms)
{
  int l;

  for (l = ms->level - 1; l >= 0; l--)
    if (ms->capture[l].len == DF_PATTERN_CAP_UNFINISHED) return l;
  return luaL_error(ms->L, "invalid pattern capture");
}

static const char *df_pat_do(struct df_pattern_state *ms, const char *s, const char *p);

static const char *
df_pat_start_capture(struct df_pattern_state *ms, const char *s, const char *p, ptrdiff_t what)
{
  const char *res;

  if (ms->level >= DF_PATTERN_MAX_CAPTURES) luaL_error(ms->L, "too many captures");
  ms->capture[ms->level].init = s;
  ms->capture[ms->level].len = what;
  ms->level++;
  res = df_pat_do(ms, s, p);
  if (res == NULL) ms->level--;
  return res;
}

static const char *
df_pat_end_capture(struct df_pattern_state *ms, const char *s, const char *p)
{
  int l = df_pat_open_capture(ms);
  const char *res;

  ms->capture[l].len = s - ms->capture[l].init;
  res = df_pat_do(ms, s, p);
  if (res == NULL) ms->capture[l].len = DF_PATTERN_CAP_UNFINISHED;
  return res;
}

/* %1..%9: the same text as capture n again. */
static const char *
df_pat_backref(struct df_pattern_state *ms, const char *s, int digit)
{
  int l = df_pat_capture_index(ms, digit);
  size_t len = (size_t)ms->capture[l].len;

  df_pat_step(ms, (uint32_t)(len > 1u << 20 ? 1u << 20 : len));
  if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0)
    return s + len;
  return NULL;
}

/* c* and c+ (from s, c at p..ep): the longest run first, then shorter. */
static const char *
df_pat_greedy(struct df_pattern_state *ms, const char *s, const char *p, const char *ep)
{
  ptrdiff_t n = 0;

  while (df_pat_single(ms, s + n, p, ep)) {
    n++;
    df_pat_step(ms, 1);
  }
  for (; n >= 0; n--) {
    const char *res = df_pat_do(ms, s + n, ep + 1);
    if (res != NULL) return res;
  }
  return NULL;
}

/* c-: the shortest run first, then longer. */
static const char *
df_pat_lazy(struct df_pattern_state *ms, const char *s, const char *p, const char *ep)
{
  for (;;) {
    const char *res = df_pat_do(ms, s, ep + 1);
    if (res != NULL) return res;
    if (!df_pat_single(ms, s, p, ep)) return NULL;
    s++;
  }
}

/* Matches p at s: the end of the match or NULL. Items that need no
 * backtracking loop here; the others recurse, at most
 * DF_PATTERN_MAX_DEPTH deep. */
static const char *
df_pat_do(struct df_pattern_state *ms, const char *s, const char *p)
{
  const char *ep;

  if (ms->depth_left-- == 0) luaL_error(ms->L, "pattern too complex");
  while (s != NULL && p < ms->p_end) {
    df_pat_step(ms, 1);
    switch (*p) {
    case '(':
      if (p + 1 < ms->p_end && p[1] == ')')
        s = df_pat_start_capture(ms, s, p + 2, DF_PATTERN_CAP_POSITION);
      else
        s = df_pat_start_capture(ms, s, p + 1, DF_PATTERN_CAP_UNFINISHED);
      goto out;
    case ')':
      s = df_pat_end_capture(ms, s, p + 1);
      goto out;
    case '$':
      if (p + 1 == ms->p_end) {
        if (s != ms->src_end) s = NULL;
        goto out;
      }
      break; /* a '$' inside the pattern is itself */
    case DF_PAT_ESC:
      if (p + 1 < ms->p_end && p[1] == 'b') {
        s = df_pat_balance(ms, s, p + 2);
        if (s != NULL) p += 4;
        continue;
      }
      if (p + 1 < ms->p_end && p[1] == 'f') {
        int before, at;
        p += 2;
        if (p >= ms->p_end || *p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
        ep = df_pat_class_end(ms, p);
        before = s == ms->src_init ? 0 : (unsigned char)s[-1];
        at = s < ms->src_end ? (unsigned char)*s : 0;
        if (!df_pat_set(before, p, ep - 1) && df_pat_set(at, p, ep - 1))
          p = ep;
        else
          s = NULL;
        continue;
      }
      if (p + 1 < ms->p_end && isdigit((unsigned char)p[1])) {
        s = df_pat_backref(ms, s, (unsigned char)p[1]);
        if (s != NULL) p += 2;
        continue;
      }
      break;
    default:
      break;
    }
    /* A single character class, maybe with a repetition after it. */
    ep = df_pat_class_end(ms, p);
    if (!df_pat_single(ms, s, p, ep)) {
      if (ep < ms->p_end && (*ep == '*' || *ep == '?' || *ep == '-'))
        p = ep + 1; /* zero of them is fine */
      else
        s = NULL;
      continue;
    }
    switch (ep < ms->p_end ? *ep : '\0') {
    case '?': {
      const char *res = df_pat_do(ms, s + 1, ep + 1);
      if (res != NULL) {
        s = res;
        goto out;
      }
      p = ep + 1;
      continue;
    }
    case '+':
      s = df_pat_greedy(ms, s + 1, p, ep);
      goto out;
    case '*':
      s = df_pat_greedy(ms, s, p, ep);
      goto out;
    case '-':
      s = df_pat_lazy(ms, s, p, ep);
      goto out;
    default:
      s++;
      p = ep;
      continue;
    }
  }
out:
  ms->depth_left++;
  return s;
}

const char *
df_pattern_match(struct df_pattern_state *ms, const char *s, const char *p)
{
  return df_pat_do(ms, s, p);
}

void
df_pattern_push_capture(struct df_pattern_state *ms, int i, const char *s, const char *e)
{
  if (i >= ms->level) {
    if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(ms->L, s, (size_t)(e - s));
    return;
  }
  if (ms->capture[i].len == DF_PATTERN_CAP_UNFINISHED) luaL_error(ms->L, "unfinished capture");
  if (ms->capture[i].len == DF_PATTERN_CAP_POSITION)
    lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
  else
    lua_pushlstring(ms->L, ms->capture[i].init, (size_t)ms->capture[i].len);
}

int
df_pattern_push_captures(struct df_pattern_state *ms, const char *s, const char *e)
{
  int n = ms->level == 0 && s != NULL ? 1 : ms->level;
  int i;

  luaL_checkstack(ms->L, n, "too many captures");
  for (i = 0; i < n; i++) df_pattern_push_capture(ms, i, s, e);
  return n;
}
