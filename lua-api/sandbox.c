/* The recipe sandbox: the capped allocator, the budget hook, and the
 * allow-listed environments (Redis's allow-list and kill hook, mpv's
 * lua_Alloc cap, a fresh _ENV per recipe instead of a patched VM). */
#include "lua-api/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>
#include <uv.h>

#include "core/error.h"
#include "lua-api/pattern.h"

#define DF_SANDBOX_MAX_GLOBALS 8
/* Headroom a killed state gets so the kill can unwind and be reported. */
#define DF_SANDBOX_KILL_SLACK (1024 * 1024)
/* Longest table a guarded table function walks: its C loop cannot be
 * interrupted by the hook, so its length is bounded instead. */
#define DF_SANDBOX_MAX_TABLE_N ((lua_Integer)1 << 24)

struct df_sandbox_global {
  const char *name;
  df_sandbox_global_fn fn;
};

struct df_sandbox {
  lua_State *L;
  struct df_sandbox_limits limits;
  size_t mem_used;
  size_t mem_peak;
  /* A refused allocation is a kill unless Lua's retry of the same block
   * after an emergency GC succeeds (lmem.c tryagain). Buffers of the
   * auxiliary library call the allocator directly and never retry. */
  bool refusal_pending;
  void *refused_ptr;
  size_t refused_size;
  bool closing;
  uint64_t instructions;
  uint64_t slice_start_ns;
  enum df_sandbox_kill killed;
  char kill_message[256];
  char lib_dir[4096];
  struct df_sandbox_global globals[DF_SANDBOX_MAX_GLOBALS];
  int nglobals;
};

/* Registry keys (addresses of these statics are unique light userdata). */
static const char df_sb_key_templates = 't'; /* name -> sanitized library */
static const char df_sb_key_libmetas = 'm';  /* name -> its copies' metatable */
static const char df_sb_key_envmeta = 'e';   /* every environment's metatable */
static const char df_sb_key_modules = 'r';   /* require's cache */

static void
df_sb_kill(struct df_sandbox *sb, enum df_sandbox_kill why)
{
  if (sb->killed != DF_SANDBOX_ALIVE) return;
  sb->killed = why;
  switch (why) {
  case DF_SANDBOX_KILL_INSTRUCTIONS:
    snprintf(sb->kill_message, sizeof(sb->kill_message),
             "recipe stopped: instruction budget of %llu instructions exhausted "
             "(a loop that never ends?)",
             (unsigned long long)sb->limits.instructions);
    break;
  case DF_SANDBOX_KILL_DEADLINE:
    snprintf(sb->kill_message, sizeof(sb->kill_message),
             "recipe stopped: it ran %u ms without waiting, past the deadline "
             "(a loop that never ends?)",
             (unsigned)sb->limits.slice_ms);
    break;
  case DF_SANDBOX_KILL_MEMORY:
    snprintf(sb->kill_message, sizeof(sb->kill_message),
             "recipe stopped: memory limit of %zu KiB exceeded",
             sb->limits.memory_bytes / 1024);
    break;
  case DF_SANDBOX_ALIVE:
    break;
  }
}

static void *
df_sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  struct df_sandbox *sb = ud;
  size_t old = ptr != NULL ? osize : 0; /* with ptr NULL, osize is a type */
  void *p;

  if (nsize == 0) {
    free(ptr);
    sb->mem_used -= old;
    return NULL;
  }
  if (nsize > old && !sb->closing) {
    size_t cap = sb->limits.memory_bytes;
    if (sb->killed != DF_SANDBOX_ALIVE) cap += DF_SANDBOX_KILL_SLACK;
    if (sb->mem_used + (nsize - old) > cap) {
      /* A second refusal of the same request: the retry failed too. */
      if (sb->refusal_pending && sb->refused_ptr == ptr && sb->refused_size == nsize)
        df_sb_kill(sb, DF_SANDBOX_KILL_MEMORY);
      sb->refusal_pending = true;
      sb->refused_ptr = ptr;
      sb->refused_size = nsize;
      return NULL;
    }
  }
  p = realloc(ptr, nsize);
  if (p == NULL) return NULL;
  if (sb->refusal_pending && ptr == sb->refused_ptr && nsize == sb->refused_size)
    sb->refusal_pending = false; /* the retry after the emergency GC worked */
  sb->mem_used = sb->mem_used - old + nsize;
  if (sb->mem_used > sb->mem_peak) sb->mem_peak = sb->mem_used;
  return p;
}

struct df_sandbox *
df_sandbox_from_state(lua_State *L)
{
  void *ud = NULL;
  lua_Alloc f = lua_getallocf(L, &ud);

  return f == df_sb_alloc ? ud : NULL;
}

/* Counts n instructions and kills the run past the budget or the slice's
 * deadline. */
static void
df_sb_count(struct df_sandbox *sb, uint64_t n)
{
  if (sb->refusal_pending) df_sb_kill(sb, DF_SANDBOX_KILL_MEMORY);
  if (sb->killed != DF_SANDBOX_ALIVE) return;
  sb->instructions += n;
  if (sb->instructions > sb->limits.instructions)
    df_sb_kill(sb, DF_SANDBOX_KILL_INSTRUCTIONS);
  else if (uv_hrtime() - sb->slice_start_ns > (uint64_t)sb->limits.slice_ms * 1000000u)
    df_sb_kill(sb, DF_SANDBOX_KILL_DEADLINE);
}

static void df_sb_hook(lua_State *L, lua_Debug *ar);

/* Raises the kill on L, with the hook re-armed to fire on every
 * instruction of whichever thread runs next. */
static void
df_sb_raise_kill(lua_State *L, struct df_sandbox *sb)
{
  lua_sethook(L, df_sb_hook, LUA_MASKCOUNT, 1);
  lua_pushstring(L, sb->kill_message);
  lua_error(L);
}

/* The count hook. Once the run is killed it re-arms to fire on every
 * instruction of whichever thread runs, so a pcall, an xpcall handler or a
 * coroutine that catches the kill is killed again at its next instruction. */
static void
df_sb_hook(lua_State *L, lua_Debug *ar)
{
  struct df_sandbox *sb = df_sandbox_from_state(L);

  (void)ar;
  df_sb_count(sb, DF_SANDBOX_HOOK_EVERY);
  if (sb->killed != DF_SANDBOX_ALIVE) df_sb_raise_kill(L, sb);
}

void
df_sandbox_charge(lua_State *L, uint64_t n)
{
  struct df_sandbox *sb = df_sandbox_from_state(L);

  if (sb == NULL || sb->closing) return;
  df_sb_count(sb, n);
  if (sb->killed != DF_SANDBOX_ALIVE) df_sb_raise_kill(L, sb);
}

/* ---- error messages raised by the sandboxed functions ---- */

static int
df_sb_unknown_global(lua_State *L)
{
  const char *name = lua_tostring(L, 2);
  const char *hint = "";

  if (name == NULL) return luaL_error(L, "unknown global (a non-string key)");
  if (strcmp(name, "print") == 0)
    hint = " (recipes talk to the user with df.say)";
  else if (strcmp(name, "io") == 0 || strcmp(name, "dofile") == 0 ||
           strcmp(name, "loadfile") == 0)
    hint = " (recipes have no file access; the df API reaches the phone)";
  else if (strcmp(name, "debug") == 0 || strcmp(name, "package") == 0)
    hint = " (not available in the recipe sandbox)";
  return luaL_error(L, "unknown global '%s'%s", name, hint);
}

static int
df_sb_missing_field(lua_State *L)
{
  const char *lib = lua_tostring(L, lua_upvalueindex(1));
  const char *name = lua_tostring(L, 2);

  if (name == NULL) return 0; /* t[1] and the like: plain nil */
  return luaL_error(L, "%s.%s is not available in recipes", lib, name);
}

/* ---- guarded standard functions ---- */

/* string.rep: an empty piece repeated n times is a C loop of n no-op
 * copies the hook never sees; answer it at once. */
static int
df_sb_string_rep(lua_State *L)
{
  size_t l, lsep = 0;
  lua_Integer n;

  luaL_checklstring(L, 1, &l);
  n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0 || l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

enum df_sb_table_kind { DF_SB_T_LEN = 0, DF_SB_T_MOVE, DF_SB_T_CONCAT };

/* table.insert/remove/sort/move/concat walk the table in C: bound the walk so
 * a faked __len or a huge range cannot hold the loop beyond the hook. */
static int
df_sb_table_guard(lua_State *L)
{
  int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
  const char *name = lua_tostring(L, lua_upvalueindex(3));
  lua_Integer from, to;

  luaL_checktype(L, 1, LUA_TTABLE);
  if (kind == DF_SB_T_MOVE) {
    from = luaL_checkinteger(L, 2);
    to = luaL_checkinteger(L, 3);
  } else if (kind == DF_SB_T_CONCAT) {
    from = luaL_optinteger(L, 3, 1);
    to = lua_isnoneornil(L, 4) ? luaL_len(L, 1) : luaL_checkinteger(L, 4);
  } else {
    from = 1;
    to = luaL_len(L, 1);
  }
  if (to >= from && (lua_Unsigned)to - (lua_Unsigned)from >= (lua_Unsigned)DF_SANDBOX_MAX_TABLE_N)
    return luaL_error(L, "table.%s: range of %I elements is over the recipe limit of %I",
                      name, (lua_Integer)((lua_Unsigned)to - (lua_Unsigned)from + 1u),
                      DF_SANDBOX_MAX_TABLE_N);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* xpcall's message handler, wrapped. When the hook raises the kill, Lua
 * calls the handler from inside the hook, with hooks still off: a looping
 * Lua handler could then never be stopped. Once killed, the wrapper
 * answers with the kill's message and never calls the recipe's handler. */
static int
df_sb_xpcall_handler(lua_State *L)
{
  struct df_sandbox *sb = df_sandbox_from_state(L);

  if (sb != NULL && df_sandbox_killed(sb) != DF_SANDBOX_ALIVE) {
    lua_pushstring(L, sb->kill_message);
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int
df_sb_xpcall_finish(lua_State *L, int status, lua_KContext extra)
{
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - (int)extra;
}

/* xpcall(f, msgh, ...) with msgh wrapped; a continuation keeps it
 * yieldable, so df.sleep inside xpcall still waits. */
static int
df_sb_xpcall(lua_State *L)
{
  int n = lua_gettop(L);
  int status;

  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, df_sb_xpcall_handler, 1);
  lua_replace(L, 2);
  lua_pushboolean(L, 1); /* the first result when all goes well */
  lua_pushvalue(L, 1);   /* the function */
  lua_rotate(L, 3, 2);   /* (f, handler, true, f, args...) */
  status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, df_sb_xpcall_finish);
  return df_sb_xpcall_finish(L, status, 2);
}

static int
df_sb_setmetatable(lua_State *L)
{
  int t = lua_type(L, 2);

  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  /* Finalizers run with hooks off: a looping __gc could never be killed. */
  if (t == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "setmetatable: __gc metamethods are not allowed in recipes");
    lua_pop(L, 1);
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

static int
df_sb_getmetatable(lua_State *L)
{
  luaL_checkany(L, 1);
  if (lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L, "getmetatable: recipes may only read the metatables of tables "
                         "(the string metatable is protected)");
  if (!lua_getmetatable(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  luaL_getmetafield(L, 1, "__metatable");
  return 1;
}

static int
df_sb_collectgarbage(lua_State *L)
{
  static const char *const allowed[] = {"collect", "count", "step", "isrunning", NULL};
  const char *opt = luaL_optstring(L, 1, "collect");
  int i;

  for (i = 0; allowed[i] != NULL; i++)
    if (strcmp(opt, allowed[i]) == 0) break;
  if (allowed[i] == NULL)
    return luaL_error(L, "collectgarbage('%s') is not allowed in recipes", opt);
  if (strcmp(opt, "count") == 0) {
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT) +
                          (lua_Number)lua_gc(L, LUA_GCCOUNTB) / 1024.0);
    return 1;
  }
  if (strcmp(opt, "isrunning") == 0) {
    lua_pushboolean(L, lua_gc(L, LUA_GCISRUNNING));
    return 1;
  }
  if (strcmp(opt, "step") == 0) {
    lua_pushboolean(L, lua_gc(L, LUA_GCSTEP, (int)luaL_optinteger(L, 2, 0)));
    return 1;
  }
  lua_gc(L, LUA_GCCOLLECT);
  lua_pushinteger(L, 0);
  return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]): text only, strings only, the
 * caller's environment (upvalue 1) unless one is given. */
static int
df_sb_load(lua_State *L)
{
  size_t len;
  const char *chunk;
  const char *name;
  const char *mode = luaL_optstring(L, 3, "t");
  bool has_env = !lua_isnone(L, 4);
  int status;

  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "load: pass the chunk as a string (reader functions are not "
                         "allowed in recipes)");
  chunk = lua_tolstring(L, 1, &len);
  if (strcmp(mode, "t") != 0)
    return luaL_error(L, "load: mode '%s' refused: recipes load text chunks only (mode 't'), "
                         "never bytecode",
                      mode);
  if (len > DF_SANDBOX_MAX_CHUNK)
    return luaL_error(L, "load: chunk of %I bytes is over the limit of %d bytes",
                      (lua_Integer)len, DF_SANDBOX_MAX_CHUNK);
  name = luaL_optstring(L, 2, "=(load)");
  status = luaL_loadbufferx(L, chunk, len, name, "t");
  if (status != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (has_env)
    lua_pushvalue(L, 4);
  else
    lua_pushvalue(L, lua_upvalueindex(1));
  if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
  return 1;
}

/* A helper module name: lowercase words joined by dots (lib.android.pm ->
 * recipes/lib/lib/android/pm.lua). No slashes, no "..", nothing absolute. */
static bool
df_sb_module_name_ok(const char *name)
{
  const char *p;
  bool word_start = true;

  if (*name == '\0' || strlen(name) > 128) return false;
  for (p = name; *p != '\0'; p++) {
    char c = *p;
    if (c == '.') {
      if (word_start) return false;
      word_start = true;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
    word_start = false;
  }
  return !word_start;
}

static int
df_sb_require(lua_State *L)
{
  struct df_sandbox *sb = df_sandbox_from_state(L);
  const char *name = luaL_checkstring(L, 1);
  char rel[256], path[4600], err[512];
  char *source = NULL;
  size_t len = 0, i;
  int rc, env, cache;

  if (!df_sb_module_name_ok(name))
    return luaL_error(L, "require: '%s' is not a helper module name; recipes may only "
                         "require modules under recipes/lib by name, like require('pm')",
                      name);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_sb_key_modules);
  cache = lua_gettop(L);
  if (lua_getfield(L, cache, name) != LUA_TNIL) {
    if (lua_islightuserdata(L, -1))
      return luaL_error(L, "require: module '%s' requires itself (a require loop)", name);
    return 1;
  }
  lua_pop(L, 1);
  if (sb->lib_dir[0] == '\0')
    return luaL_error(L, "require: no helper module directory is set up for this run");
  snprintf(rel, sizeof(rel), "%s", name);
  for (i = 0; rel[i] != '\0'; i++)
    if (rel[i] == '.') rel[i] = '/';
  snprintf(path, sizeof(path), "%s/%s.lua", sb->lib_dir, rel);
  rc = df_sandbox_read_file(sb->lib_dir, path, DF_SANDBOX_MAX_CHUNK, &source, &len);
  if (rc == DF_EACCES)
    return luaL_error(L, "require: helper module '%s' resolves outside recipes/lib", name);
  if (rc == DF_ENOENT)
    return luaL_error(L, "require: no helper module '%s' in recipes/lib (recipes cannot load "
                         "Lua or C libraries)",
                      name);
  if (rc != 0)
    return luaL_error(L, "require: cannot read helper module '%s': %s", name, df_strerror(rc));

  lua_pushlightuserdata(L, (void *)&df_sb_key_modules); /* "loading" mark */
  lua_setfield(L, cache, name);
  df_sandbox_push_env(L);
  env = lua_gettop(L);
  snprintf(path, sizeof(path), "@lib/%s.lua", rel);
  rc = df_sandbox_load(L, source, len, path, env, err, sizeof(err));
  free(source);
  if (rc != 0) {
    lua_pushnil(L);
    lua_setfield(L, cache, name);
    return luaL_error(L, "require: %s", err);
  }
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, cache, name);
  return 1;
}

/* ---- the allow-list ---- */

static const char *const df_sb_allowed_base[] = {
  "assert", "error",    "ipairs", "next",   "pairs",    "pcall", "rawequal", "rawget",
  "rawlen", "rawset",   "select", "tonumber", "tostring", "type",  "_VERSION", NULL};

struct df_sb_library {
  const char *name;
  const char *const *allowed;
};

static const char *const df_sb_allowed_string[] = {
  "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match",
  "pack", "packsize", "rep", "reverse", "sub", "unpack", "upper", NULL};
static const char *const df_sb_allowed_table[] = {
  "concat", "insert", "move", "pack", "remove", "sort", "unpack", NULL};
static const char *const df_sb_allowed_math[] = {
  "abs", "acos", "asin", "atan", "ceil", "cos", "deg", "exp", "floor", "fmod", "huge",
  "log", "max", "maxinteger", "min", "mininteger", "modf", "pi", "rad", "random",
  "randomseed", "sin", "sqrt", "tan", "tointeger", "type", "ult", NULL};
static const char *const df_sb_allowed_utf8[] = {
  "char", "charpattern", "codepoint", "codes", "len", "offset", NULL};
static const char *const df_sb_allowed_coroutine[] = {
  "close", "create", "isyieldable", "resume", "running", "status", "wrap", "yield", NULL};
static const char *const df_sb_allowed_os[] = {"clock", "date", "difftime", "time", NULL};

static const struct df_sb_library df_sb_libraries[] = {
  {"string", df_sb_allowed_string},       {"table", df_sb_allowed_table},
  {"math", df_sb_allowed_math},           {"utf8", df_sb_allowed_utf8},
  {"coroutine", df_sb_allowed_coroutine}, {"os", df_sb_allowed_os},
  {NULL, NULL},
};

/* Builds the sanitized template of one library from the real one (on the
 * stack top, popped) and stores it with its copies' metatable. */
static void
df_sb_make_template(lua_State *L, const struct df_sb_library *lib)
{
  int real = lua_gettop(L);
  int i;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_sb_key_templates);
  lua_newtable(L);
  for (i = 0; lib->allowed[i] != NULL; i++) {
    lua_getfield(L, real, lib->allowed[i]);
    lua_setfield(L, -2, lib->allowed[i]);
  }
  if (strcmp(lib->name, "string") == 0) {
    /* Lua's matcher runs in C out of the hook's sight: a backtracking
     * pattern could hold the loop for hours. Ours counts its steps
     * (lua-api/pattern.h). The template is also the string metatable's
     * __index (below), so s:find(...) gets ours too. */
    static const luaL_Reg patterns[] = {{"find", df_pattern_find},
                                        {"match", df_pattern_match_fn},
                                        {"gmatch", df_pattern_gmatch},
                                        {"gsub", df_pattern_gsub},
                                        {NULL, NULL}};
    luaL_setfuncs(L, patterns, 0);
    lua_getfield(L, real, "rep");
    lua_pushcclosure(L, df_sb_string_rep, 1);
    lua_setfield(L, -2, "rep");
  } else if (strcmp(lib->name, "table") == 0) {
    static const struct {
      const char *name;
      int kind;
    } guarded[] = {{"insert", DF_SB_T_LEN}, {"remove", DF_SB_T_LEN}, {"sort", DF_SB_T_LEN},
                   {"move", DF_SB_T_MOVE},  {"concat", DF_SB_T_CONCAT}};
    size_t g;
    for (g = 0; g < sizeof(guarded) / sizeof(guarded[0]); g++) {
      lua_getfield(L, real, guarded[g].name);
      lua_pushinteger(L, guarded[g].kind);
      lua_pushstring(L, guarded[g].name);
      lua_pushcclosure(L, df_sb_table_guard, 3);
      lua_setfield(L, -2, guarded[g].name);
    }
  }
  /* The copies' metatable: names the missing function, and is protected so
   * one environment cannot change what another's copies do. */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_sb_key_libmetas);
  lua_newtable(L);
  lua_pushstring(L, lib->name);
  lua_pushcclosure(L, df_sb_missing_field, 1);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setfield(L, -2, lib->name);
  lua_pop(L, 1);

  if (strcmp(lib->name, "string") == 0) {
    /* The string metatable is one per state: its __index becomes an
     * unreachable sanitized table (no dump), and the metatable itself is
     * protected from getmetatable. */
    lua_pushvalue(L, -1);
    lua_newtable(L);
    lua_pushstring(L, "string");
    lua_pushcclosure(L, df_sb_missing_field, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 3);
  }
  lua_setfield(L, -2, lib->name);
  lua_settop(L, real - 1);
}

static int
df_sb_setup(lua_State *L)
{
  static const struct {
    const char *name;
    lua_CFunction open;
  } libs[] = {{"_G", luaopen_base},      {"string", luaopen_string}, {"table", luaopen_table},
              {"math", luaopen_math},    {"utf8", luaopen_utf8},     {"coroutine", luaopen_coroutine},
              {"os", luaopen_os}};
  size_t i;

  /* Real libraries live only in the host's global table, which no recipe
   * environment can reach. */
  for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
    luaL_requiref(L, libs[i].name, libs[i].open, 1);
    lua_pop(L, 1);
  }
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &df_sb_key_templates);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &df_sb_key_libmetas);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &df_sb_key_modules);

  for (i = 0; df_sb_libraries[i].name != NULL; i++) {
    lua_getglobal(L, df_sb_libraries[i].name);
    df_sb_make_template(L, &df_sb_libraries[i]);
  }

  lua_newtable(L);
  lua_pushcfunction(L, df_sb_unknown_global);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &df_sb_key_envmeta);
  return 0;
}

static int
df_sb_forget_modules_protected(lua_State *L)
{
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &df_sb_key_modules);
  return 0;
}

int
df_sandbox_forget_modules(struct df_sandbox *sb)
{
  lua_pushcfunction(sb->L, df_sb_forget_modules_protected);
  if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
    lua_pop(sb->L, 1);
    return DF_ENOMEM;
  }
  return 0;
}

void
df_sandbox_push_env(lua_State *L)
{
  struct df_sandbox *sb = df_sandbox_from_state(L);
  int env, i;

  lua_newtable(L);
  env = lua_gettop(L);
  for (i = 0; df_sb_allowed_base[i] != NULL; i++) {
    lua_getglobal(L, df_sb_allowed_base[i]);
    lua_setfield(L, env, df_sb_allowed_base[i]);
  }
  lua_pushvalue(L, env);
  lua_setfield(L, env, "_G");
  lua_pushcfunction(L, df_sb_setmetatable);
  lua_setfield(L, env, "setmetatable");
  lua_pushcfunction(L, df_sb_getmetatable);
  lua_setfield(L, env, "getmetatable");
  lua_pushcfunction(L, df_sb_collectgarbage);
  lua_setfield(L, env, "collectgarbage");
  lua_pushcfunction(L, df_sb_xpcall);
  lua_setfield(L, env, "xpcall");
  lua_pushvalue(L, env);
  lua_pushcclosure(L, df_sb_load, 1);
  lua_setfield(L, env, "load");
  lua_pushcfunction(L, df_sb_require);
  lua_setfield(L, env, "require");

  /* Per-environment copies: a recipe that rewrites string.format changes
   * its own copy only. */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_sb_key_templates);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_sb_key_libmetas);
  for (i = 0; df_sb_libraries[i].name != NULL; i++) {
    lua_newtable(L);
    lua_getfield(L, env + 1, df_sb_libraries[i].name);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -5);
    }
    lua_pop(L, 1);
    lua_getfield(L, env + 2, df_sb_libraries[i].name);
    lua_setmetatable(L, -2);
    lua_setfield(L, env, df_sb_libraries[i].name);
  }
  lua_pop(L, 2);

  if (sb != NULL) {
    for (i = 0; i < sb->nglobals; i++) {
      sb->globals[i].fn(L);
      lua_setfield(L, env, sb->globals[i].name);
    }
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_sb_key_envmeta);
  lua_setmetatable(L, env);
}

int
df_sandbox_new(const struct df_sandbox_limits *limits, const char *lib_dir,
               struct df_sandbox **out)
{
  struct df_sandbox *sb;

  *out = NULL;
  sb = calloc(1, sizeof(*sb));
  if (sb == NULL) return DF_ENOMEM;
  if (limits != NULL) sb->limits = *limits;
  if (sb->limits.memory_bytes == 0) sb->limits.memory_bytes = DF_SANDBOX_DEFAULT_MEMORY;
  if (sb->limits.instructions == 0) sb->limits.instructions = DF_SANDBOX_DEFAULT_INSTRUCTIONS;
  if (sb->limits.slice_ms == 0) sb->limits.slice_ms = DF_SANDBOX_DEFAULT_SLICE_MS;
  if (lib_dir != NULL) {
    if (strlen(lib_dir) >= sizeof(sb->lib_dir)) {
      free(sb);
      return DF_EINVAL;
    }
    strcpy(sb->lib_dir, lib_dir);
  }
  sb->slice_start_ns = uv_hrtime();
  sb->L = lua_newstate(df_sb_alloc, sb);
  if (sb->L == NULL) {
    free(sb);
    return DF_ENOMEM;
  }
  /* lua_newstate leaves the main thread's extra space as it found it; the
   * bridge keeps a task pointer there and every new thread copies the main
   * thread's, so it must start NULL. */
  memset(lua_getextraspace(sb->L), 0, LUA_EXTRASPACE);
  /* Threads made later copy the main thread's hook (lua_newthread), so
   * every coroutine of the run counts against the budget. */
  lua_sethook(sb->L, df_sb_hook, LUA_MASKCOUNT, DF_SANDBOX_HOOK_EVERY);
  lua_pushcfunction(sb->L, df_sb_setup);
  if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
    df_sandbox_free(sb);
    return DF_ENOMEM;
  }
  *out = sb;
  return 0;
}

void
df_sandbox_free(struct df_sandbox *sb)
{
  if (sb == NULL) return;
  sb->closing = true;
  if (sb->L != NULL) lua_close(sb->L);
  free(sb);
}

lua_State *
df_sandbox_state(struct df_sandbox *sb)
{
  return sb->L;
}

int
df_sandbox_add_global(struct df_sandbox *sb, const char *name, df_sandbox_global_fn fn)
{
  if (sb->nglobals == DF_SANDBOX_MAX_GLOBALS) return DF_ENOSPC;
  sb->globals[sb->nglobals].name = name;
  sb->globals[sb->nglobals].fn = fn;
  sb->nglobals++;
  return 0;
}

struct df_sb_load_args {
  const char *source;
  size_t len;
  const char *chunkname;
};

static int
df_sb_load_protected(lua_State *L)
{
  struct df_sb_load_args *a = lua_touserdata(L, 1);
  int status = luaL_loadbufferx(L, a->source, a->len, a->chunkname, "t");

  if (status != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 2); /* the environment */
  if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
  return 1;
}

int
df_sandbox_load(lua_State *L, const char *source, size_t len, const char *chunkname,
                int env_index, char *err, size_t errlen)
{
  struct df_sb_load_args a;
  int status;

  if (len > DF_SANDBOX_MAX_CHUNK) {
    snprintf(err, errlen, "%s: %zu bytes is over the limit of %d bytes", chunkname + 1, len,
             DF_SANDBOX_MAX_CHUNK);
    return DF_ETOOBIG;
  }
  a.source = source;
  a.len = len;
  a.chunkname = chunkname;
  env_index = lua_absindex(L, env_index);
  lua_pushcfunction(L, df_sb_load_protected);
  lua_pushlightuserdata(L, &a);
  lua_pushvalue(L, env_index);
  status = lua_pcall(L, 2, 1, 0);
  if (status == LUA_OK) return 0;
  const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "cannot load";
  const char *name = chunkname[0] == '@' || chunkname[0] == '=' ? chunkname + 1 : chunkname;
  /* Lua names the chunk in syntax errors only, not in "attempt to load a
   * binary chunk" or out of memory: the message must name the file. */
  if (strncmp(msg, name, strlen(name)) == 0)
    snprintf(err, errlen, "%s", msg);
  else
    snprintf(err, errlen, "%s: %s", name, msg);
  lua_pop(L, 1);
  return status == LUA_ERRMEM ? DF_ENOMEM : DF_EINVAL;
}

void
df_sandbox_slice_begin(struct df_sandbox *sb)
{
  sb->slice_start_ns = uv_hrtime();
}

void
df_sandbox_push_traceback(lua_State *L, lua_State *co, int level)
{
  struct df_sandbox *sb = df_sandbox_from_state(L);

  if (sb != NULL && df_sandbox_killed(sb) != DF_SANDBOX_ALIVE)
    lua_pushstring(L, sb->kill_message);
  else if (lua_type(co, -1) == LUA_TSTRING || lua_type(co, -1) == LUA_TNUMBER)
    lua_pushstring(L, lua_tostring(co, -1));
  else
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(co, -1));
  luaL_traceback(L, co, lua_tostring(L, -1), level);
  lua_remove(L, -2);
}

static int
df_sb_traceback_handler(lua_State *L)
{
  df_sandbox_push_traceback(L, L, 1);
  return 1;
}

int
df_sandbox_pcall(lua_State *L, int nargs, int nresults)
{
  struct df_sandbox *sb = df_sandbox_from_state(L);
  int base = lua_gettop(L) - nargs;
  int status;

  lua_pushcfunction(L, df_sb_traceback_handler);
  lua_insert(L, base);
  if (sb != NULL) df_sandbox_slice_begin(sb);
  status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (sb != NULL && df_sandbox_killed(sb) != DF_SANDBOX_ALIVE) {
    /* Killed: the kill's message leads, even when something on the way
     * out swallowed it or replaced it (memory errors skip the handler). */
    size_t klen = strlen(sb->kill_message);
    const char *msg = status != LUA_OK ? lua_tostring(L, -1) : NULL;
    if (msg == NULL || strncmp(msg, sb->kill_message, klen) != 0) {
      lua_settop(L, base - 1);
      lua_pushstring(L, sb->kill_message);
    }
    status = LUA_ERRRUN;
  }
  return status;
}

enum df_sandbox_kill
df_sandbox_killed(struct df_sandbox *sb)
{
  /* A refusal nobody retried is a kill, seen here when no hook ran since. */
  if (sb->refusal_pending && !sb->closing) df_sb_kill(sb, DF_SANDBOX_KILL_MEMORY);
  return sb->killed;
}

const char *
df_sandbox_kill_message(const struct df_sandbox *sb)
{
  return sb->kill_message;
}

size_t
df_sandbox_memory_used(const struct df_sandbox *sb)
{
  return sb->mem_used;
}

size_t
df_sandbox_memory_peak(const struct df_sandbox *sb)
{
  return sb->mem_peak;
}

uint64_t
df_sandbox_instructions(const struct df_sandbox *sb)
{
  return sb->instructions;
}

int
df_sandbox_read_file(const char *root, const char *path, size_t max, char **out, size_t *len)
{
  char real_root[4096], real_path[4096];
  size_t rlen, got = 0;
  char *buf;
  FILE *f;

  *out = NULL;
  *len = 0;
  if (root != NULL) {
    if (realpath(root, real_root) == NULL) return df_error_from_errno(errno);
    if (realpath(path, real_path) == NULL) return df_error_from_errno(errno);
    rlen = strlen(real_root);
    if (strncmp(real_path, real_root, rlen) != 0 || real_path[rlen] != '/') return DF_EACCES;
    path = real_path;
  }
  f = fopen(path, "rb");
  if (f == NULL) return df_error_from_errno(errno);
  buf = malloc(max + 1);
  if (buf == NULL) {
    fclose(f);
    return DF_ENOMEM;
  }
  got = fread(buf, 1, max + 1, f);
  if (ferror(f)) {
    fclose(f);
    free(buf);
    return DF_EIO;
  }
  fclose(f);
  if (got > max) {
    free(buf);
    return DF_ETOOBIG;
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  return 0;
}
