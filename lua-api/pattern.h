/* Lua patterns (Lua 5.4 manual, section 6.4.1) matched by our own
 * backtracking matcher that counts its steps, and the string.find /
 * string.match / string.gmatch / string.gsub recipes get in its place.
 *
 * Why our own: Lua's matcher runs in C, where the sandbox's instruction
 * hook never fires, so one backtracking pattern such as
 * string.find(string.rep("a", 40000), ".-.-.-.-.-b") could hold the loop
 * every phone shares for hours. This one reports its work to the sandbox
 * (df_sandbox_charge) every DF_PATTERN_CHARGE_EVERY steps, which raises
 * the same budget or deadline kill as the hook. Results and error messages
 * are Lua's: tests/unit/test_sandbox.c compares them with the real string
 * library on a table of cases. */
#ifndef DF_LUA_PATTERN_H
#define DF_LUA_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* Captures a pattern may hold (Lua's LUA_MAXCAPTURES). */
#define DF_PATTERN_MAX_CAPTURES 32
/* Nesting of the matcher's recursion before "pattern too complex". */
#define DF_PATTERN_MAX_DEPTH 200
/* Steps between two reports to the sandbox. */
#define DF_PATTERN_CHARGE_EVERY 1024

#define DF_PATTERN_CAP_UNFINISHED (-1)
#define DF_PATTERN_CAP_POSITION (-2)

struct df_pattern_capture {
  const char *init;
  ptrdiff_t len; /* or DF_PATTERN_CAP_UNFINISHED / DF_PATTERN_CAP_POSITION */
};

/* One match attempt's state. Errors in the pattern raise on L with Lua's
 * messages; so does a sandbox kill while matching. */
struct df_pattern_state {
  lua_State *L;
  const char *src_init, *src_end;
  const char *p_end;
  int level; /* captures made */
  int depth_left;
  uint32_t steps; /* not yet reported */
  struct df_pattern_capture capture[DF_PATTERN_MAX_CAPTURES];
};

void
df_pattern_init(struct df_pattern_state *ms, lua_State *L, const char *s, size_t ls,
                const char *p, size_t lp);

/* Clears the captures before the next attempt. */
void
df_pattern_reset(struct df_pattern_state *ms);

/* Matches pattern p (no leading '^' handling: the caller strips it) at s.
 * Returns the end of the match, or NULL. May raise. */
const char *
df_pattern_match(struct df_pattern_state *ms, const char *s, const char *p);

/* Pushes capture i (the whole match s..e when there are none and i is 0).
 * May raise ("invalid capture index", "unfinished capture"). */
void
df_pattern_push_capture(struct df_pattern_state *ms, int i, const char *s, const char *e);

/* Pushes every capture (or the whole match when there are none and s is
 * not NULL); returns how many. */
int
df_pattern_push_captures(struct df_pattern_state *ms, const char *s, const char *e);

/* Reports the steps not yet reported (called by the matcher itself). */
void
df_pattern_flush(struct df_pattern_state *ms);

/* The four string functions, as lua_CFunctions. */
int
df_pattern_find(lua_State *L);

int
df_pattern_match_fn(lua_State *L);

int
df_pattern_gmatch(lua_State *L);

int
df_pattern_gsub(lua_State *L);

#endif
