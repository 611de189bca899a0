/* The recipe sandbox against escape attempts: each attempt runs in a fresh
 * sandbox, must fail with a message that names what was refused (or, for
 * isolation attempts, must have no effect outside its environment), and a
 * normal recipe chunk must then run fine: in the same sandbox when it was
 * not killed, and in a new one always. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "core/error.h"
#include "lua-api/sandbox.h"

static char test_lib_dir[256];

static const struct df_sandbox_limits test_limits = {
  .memory_bytes = 16u * 1024 * 1024,
  .instructions = 20000000,
  .slice_ms = 60000,
};

/* What a normal recipe does: strings, tables, methods, formatting. */
static const char normal_chunk[] =
  "local t = {}\n"
  "for i = 1, 1000 do t[i] = string.format('%d', i) end\n"
  "table.sort(t)\n"
  "return ('x'):upper() .. #t .. string.rep('a', 3) .. table.concat({1, 2}, ',') ..\n"
  "  ('k=v'):match('=(%w)') .. string.gsub('a.b', '%.', '-')\n";
static const char normal_result[] = "X1000aaa1,2va-b";

static int
push_env_protected(lua_State *L)
{
  df_sandbox_push_env(L);
  return 1;
}

/* Runs code in a fresh environment of sb. Returns the LUA_* status; out
 * gets the result (tostring of the first value) or the error message. */
static int
run_in(struct df_sandbox *sb, const char *code, char *out, size_t outlen)
{
  lua_State *L = df_sandbox_state(sb);
  char err[1024];
  int status, rc;

  lua_pushcfunction(L, push_env_protected);
  status = lua_pcall(L, 0, 1, 0);
  if (status != LUA_OK) {
    snprintf(out, outlen, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return status;
  }
  rc = df_sandbox_load(L, code, strlen(code), "=escape", -1, err, sizeof(err));
  lua_remove(L, -2); /* the env */
  if (rc != 0) {
    snprintf(out, outlen, "%s", err);
    return LUA_ERRSYNTAX;
  }
  status = df_sandbox_pcall(L, 0, 1);
  if (status == LUA_OK)
    snprintf(out, outlen, "%s", luaL_tolstring(L, -1, NULL)), lua_pop(L, 1);
  else
    snprintf(out, outlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
  lua_pop(L, 1);
  return status;
}

static void
assert_healthy(struct df_sandbox *sb)
{
  struct df_sandbox *fresh;
  char out[1024];

  if (df_sandbox_killed(sb) == DF_SANDBOX_ALIVE) {
    assert_int_equal(run_in(sb, normal_chunk, out, sizeof(out)), LUA_OK);
    assert_string_equal(out, normal_result);
  }
  assert_int_equal(df_sandbox_new(&test_limits, test_lib_dir, &fresh), 0);
  assert_int_equal(run_in(fresh, normal_chunk, out, sizeof(out)), LUA_OK);
  assert_string_equal(out, normal_result);
  df_sandbox_free(fresh);
}

struct escape {
  const char *name;
  const char *code;
  const char *expect; /* a substring of the error message */
  bool succeeds;      /* the chunk runs, and `expect` is its result */
  enum df_sandbox_kill kill;
  struct df_sandbox_limits limits; /* zeros: test_limits */
};

/* Most entries leave the trailing fields to their zero defaults. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct escape escapes[] = {
  {"string.dump for bytecode", "return string.dump(function() end)",
   "string.dump is not available in recipes"},
  {"dump through the string metatable", "local f = ('').dump return f(function() end)",
   "string.dump is not available in recipes"},
  {"load with mode b", "return load('return 1', 'x', 'b')", "mode 'b' refused"},
  {"load with mode bt", "return load('return 1', 'x', 'bt')", "mode 'bt' refused"},
  {"load of a \\27Lua string",
   "local f, err = load('\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10') assert(f == nil) error(err)",
   "attempt to load a binary chunk"},
  {"load with a reader function", "return load(function() return nil end)",
   "pass the chunk as a string"},
  {"io.open", "return io.open('/etc/passwd')", "unknown global 'io'"},
  {"os.execute", "return os.execute('true')", "os.execute is not available in recipes"},
  {"os.remove", "return os.remove('/tmp/x')", "os.remove is not available in recipes"},
  {"os.getenv", "return os.getenv('HOME')", "os.getenv is not available in recipes"},
  {"os.exit", "os.exit(1)", "os.exit is not available in recipes"},
  {"debug library", "return debug.getregistry()", "unknown global 'debug'"},
  {"package.loadlib", "return package.loadlib('libc.so.6', 'system')",
   "unknown global 'package'"},
  {"dofile", "return dofile('/etc/passwd')", "unknown global 'dofile'"},
  {"loadfile", "return loadfile('/etc/passwd')", "unknown global 'loadfile'"},
  {"print", "print('hi')", "unknown global 'print' (recipes talk to the user with df.say)"},
  {"unknown global read", "return some_global_typo", "unknown global 'some_global_typo'"},
  {"getmetatable('').__index poisoning",
   "getmetatable('').__index = { upper = function() return 'pwned' end }",
   "recipes may only read the metatables of tables"},
  {"string metatable through a string key", "local m = ('').__index return m",
   "string.__index is not available in recipes"},
  {"library metatable poisoning", "getmetatable(string).__index = function() return 1 end",
   "attempt to index a boolean value"},
  {"setmetatable on a library copy", "setmetatable(string, {})",
   "cannot change a protected metatable"},
  {"setmetatable on the environment", "setmetatable(_ENV, nil)",
   "cannot change a protected metatable"},
  {"_ENV = nil", "_ENV = nil return x", "attempt to index a nil value (upvalue '_ENV')"},
  {"local _ENV to reach the host", "local g = _G local _ENV = {} return g.io",
   "unknown global 'io'"},
  {"require of a path", "return require('../../etc/passwd')", "is not a helper module name"},
  {"require of an absolute path", "return require('/etc/passwd')",
   "is not a helper module name"},
  {"require of a standard library", "return require('os')",
   "no helper module 'os' in recipes/lib"},
  {"require of a C module", "return require('socket.core')",
   "no helper module 'socket.core' in recipes/lib"},
  {"helper module is sandboxed too", "return require('leaky')", "unknown global 'io'"},
  {"helper module symlinked outside", "return require('outside')",
   "resolves outside recipes/lib"},
  {"infinite loop", "while true do end", "instruction budget", false,
   DF_SANDBOX_KILL_INSTRUCTIONS},
  {"goto loop", "::top:: goto top", "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"numeric for to huge", "for i = 1, math.maxinteger do end", "instruction budget", false,
   DF_SANDBOX_KILL_INSTRUCTIONS},
  {"while true with pcall around it",
   "while true do pcall(function() while true do end end) end", "instruction budget", false,
   DF_SANDBOX_KILL_INSTRUCTIONS},
  {"pcall swallowing the kill",
   "for i = 1, 10 do pcall(function() while true do end end) end return 'survived'",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"error handler swallowing the kill",
   "local ok = pcall(error) for i = 1, 10 do pcall(function() while true do end end) end "
   "return ok",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"xpcall with a looping handler",
   "xpcall(function() error('x') end, function() while true do end end) return 'survived'",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"coroutine wrapping a loop", "coroutine.wrap(function() while true do end end)()",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"coroutine ping-pong",
   "local co = coroutine.wrap(function() while true do coroutine.yield() end end) "
   "while true do co() end",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"coroutine swallowing the kill",
   "local co = coroutine.create(function() while true do end end) "
   "for i = 1, 10 do coroutine.resume(co) end return 'survived'",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"deadline without waiting", "while true do end", "past the deadline", false,
   DF_SANDBOX_KILL_DEADLINE, {16u * 1024 * 1024, UINT64_MAX / 2, 200}},
  {"string.rep with a count past the string size limit", "return string.rep('x', 1 << 40)",
   "resulting string too large"},
  {"memory bomb: string.rep of 1 GiB", "return string.rep('x', 1 << 30)", "memory limit", false,
   DF_SANDBOX_KILL_MEMORY},
  {"memory bomb: string.rep with pcall",
   "local ok = pcall(string.rep, 'x', 1 << 30) return 'survived'", "memory limit", false,
   DF_SANDBOX_KILL_MEMORY},
  {"memory bomb: table growth", "local t = {} for i = 1, 1e9 do t[i] = i end",
   "memory limit", false, DF_SANDBOX_KILL_MEMORY},
  {"memory bomb: doubling string", "local s = 'x' while true do s = s .. s end",
   "memory limit", false, DF_SANDBOX_KILL_MEMORY},
  {"memory bomb: collectgarbage stop then garbage",
   "collectgarbage('stop') for i = 1, 1e9 do local t = {i} end", "collectgarbage('stop') is not "
   "allowed in recipes"},
  {"collectgarbage generational", "collectgarbage('generational')",
   "collectgarbage('generational') is not allowed in recipes"},
  {"deep Lua recursion", "local function f() return 1 + f() end return f()", "stack overflow",
   false, DF_SANDBOX_ALIVE, {256u * 1024 * 1024, 20000000, 60000}},
  {"C stack overflow through __index",
   "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x",
   "stack overflow"},
  {"string.format huge width", "return string.format('%99999d', 1)", "invalid conversion"},
  {"string.rep of an empty string a huge number of times", "return #string.rep('', 1 << 50)",
   "0", true},
  {"table.move over a huge range", "table.move({}, 1, 1 << 40, 2)",
   "table.move: range of 1099511627776 elements is over the recipe limit"},
  {"table.insert with a faked __len",
   "table.insert(setmetatable({}, {__len = function() return math.maxinteger - 1 end}), 1, 'x')",
   "table.insert: range of"},
  {"table.concat over a huge range", "return table.concat({}, '', 1, 1 << 40)",
   "table.concat: range of"},
  {"__gc metamethod to run after the kill",
   "setmetatable({}, {__gc = function() while true do end end})",
   "__gc metamethods are not allowed in recipes"},
  {"load of a chunk over 1 MiB",
   "return load('return {' .. string.rep('1.5,', 300000) .. '}')", "over the limit of"},
  {"load of a chunk with many constants",
   "local p = {} for i = 1, 60000 do p[i] = \"'k\" .. i .. \"'\" end "
   "return #assert(load('return {' .. table.concat(p, ',') .. '}'))()",
   "60000", true},
  {"backtracking pattern in string.find (deadline)",
   "return string.find(string.rep('a', 40000), '.-.-.-.-.-b')", "past the deadline", false,
   DF_SANDBOX_KILL_DEADLINE, {16u * 1024 * 1024, UINT64_MAX / 2, 200}},
  {"backtracking pattern in string.find (budget)",
   "return string.find(string.rep('a', 40000), '.-.-.-.-.-b')", "instruction budget", false,
   DF_SANDBOX_KILL_INSTRUCTIONS},
  {"backtracking pattern through the string metatable",
   "local s = string.rep('a', 40000) return s:match('.-.-.-.-.-b')", "past the deadline", false,
   DF_SANDBOX_KILL_DEADLINE, {16u * 1024 * 1024, UINT64_MAX / 2, 200}},
  {"backtracking pattern in gsub",
   "return string.gsub(string.rep('a', 40000), '.-.-.-.-.-b', 'x')", "past the deadline", false,
   DF_SANDBOX_KILL_DEADLINE, {16u * 1024 * 1024, UINT64_MAX / 2, 200}},
  {"backtracking pattern in gmatch",
   "for m in string.rep('a', 40000):gmatch('a*a*a*a*b') do end", "past the deadline", false,
   DF_SANDBOX_KILL_DEADLINE, {16u * 1024 * 1024, UINT64_MAX / 2, 200}},
  {"quadratic %b scan", "return string.find(string.rep('(', 200000), '%b()')",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"pcall swallowing a pattern kill",
   "for i = 1, 10 do pcall(string.find, string.rep('a', 40000), '.-.-.-.-.-b') end "
   "return 'survived'",
   "instruction budget", false, DF_SANDBOX_KILL_INSTRUCTIONS},
  {"plain find of a long needle stays linear",
   "local s = string.rep('a', 1000000) return tostring(s:find(string.rep('a', 500000) .. 'b', "
   "1, true))",
   "nil", true},
  {"load gets the caller's sandbox env", "return load('return io')()", "unknown global 'io'"},
  {"load with an explicit env cannot reach the host",
   "return load('return string.dump', 'x', 't', {string = string})()",
   "string.dump is not available in recipes"},
};
#pragma GCC diagnostic pop

static void
test_escape(void **state)
{
  const struct escape *e = *state;
  const struct df_sandbox_limits *limits = e->limits.memory_bytes ? &e->limits : &test_limits;
  struct df_sandbox *sb;
  char out[4096];
  int status;

  assert_int_equal(df_sandbox_new(limits, test_lib_dir, &sb), 0);
  status = run_in(sb, e->code, out, sizeof(out));
  if (e->succeeds) {
    assert_int_equal(status, LUA_OK);
    assert_string_equal(out, e->expect);
  } else {
    if (status == LUA_OK || strstr(out, e->expect) == NULL)
      fail_msg("%s: status %d, message: %s (wanted '%s')", e->name, status, out, e->expect);
  }
  assert_int_equal(df_sandbox_killed(sb), e->kill);
  if (e->kill == DF_SANDBOX_KILL_MEMORY)
    assert_true(df_sandbox_memory_peak(sb) <= limits->memory_bytes + 1024 * 1024);
  assert_healthy(sb);
  df_sandbox_free(sb);
}

/* Globals one recipe sets, and library functions it replaces, stay in its
 * own environment. */
static void
test_isolation_between_environments(void **state)
{
  struct df_sandbox *sb;
  char out[1024];

  (void)state;
  assert_int_equal(df_sandbox_new(&test_limits, test_lib_dir, &sb), 0);
  assert_int_equal(run_in(sb,
                          "_G.leak = 1 leak2 = 2 string.upper = function() return 'pwned' end "
                          "rawset(string, 'format', nil) rawset(table, 'concat', nil) "
                          "math.pi = 3 return 'poisoned'",
                          out, sizeof(out)),
                   LUA_OK);
  assert_int_equal(run_in(sb, "return leak", out, sizeof(out)), LUA_ERRRUN);
  assert_non_null(strstr(out, "unknown global 'leak'"));
  assert_int_equal(run_in(sb, "return leak2", out, sizeof(out)), LUA_ERRRUN);
  assert_non_null(strstr(out, "unknown global 'leak2'"));
  assert_int_equal(run_in(sb,
                          "return string.upper('a') .. ('b'):upper() .. string.format('%d', 7) "
                          ".. table.concat({1}) .. math.pi",
                          out, sizeof(out)),
                   LUA_OK);
  assert_string_equal(out, "AB713.1415926535898");
  assert_healthy(sb);
  df_sandbox_free(sb);
}

/* require finds helper modules, caches them per run, and refuses loops. */
static void
test_require_helpers(void **state)
{
  struct df_sandbox *sb;
  char out[1024];

  (void)state;
  assert_int_equal(df_sandbox_new(&test_limits, test_lib_dir, &sb), 0);
  assert_int_equal(run_in(sb,
                          "local h = require('helper') local h2 = require('helper') "
                          "return h.twice(21) .. tostring(h == h2) .. require('nested.deep').name",
                          out, sizeof(out)),
                   LUA_OK);
  assert_string_equal(out, "42truedeep");
  assert_int_equal(run_in(sb, "return require('loop_a')", out, sizeof(out)), LUA_ERRRUN);
  assert_non_null(strstr(out, "requires itself"));
  df_sandbox_free(sb);
}

/* Counting and the kill message. */
static void
test_budget_counts_and_names_itself(void **state)
{
  struct df_sandbox *sb;
  char out[1024];

  (void)state;
  assert_int_equal(df_sandbox_new(&test_limits, test_lib_dir, &sb), 0);
  assert_int_equal(run_in(sb, "local n = 0 for i = 1, 100000 do n = n + i end return n", out,
                          sizeof(out)),
                   LUA_OK);
  assert_string_equal(out, "5000050000");
  assert_true(df_sandbox_instructions(sb) > 0);
  assert_int_equal(df_sandbox_killed(sb), DF_SANDBOX_ALIVE);
  assert_int_equal(run_in(sb, "while true do end", out, sizeof(out)), LUA_ERRRUN);
  assert_non_null(strstr(df_sandbox_kill_message(sb), "instruction budget of 20000000"));
  /* Once killed, it stays killed: nothing more runs in that state. */
  assert_int_equal(run_in(sb, "local x = 0 for i = 1, 10 do x = x + 1 end return x", out,
                          sizeof(out)),
                   LUA_ERRRUN);
  assert_non_null(strstr(out, "instruction budget"));
  df_sandbox_free(sb);
}

/* The sandbox's string.find/match/gmatch/gsub give what Lua's give, errors
 * included, on tests/fixtures/patterns.lua's table of cases (run in a
 * sandbox and in a plain state with Lua's string library). */
static void
test_patterns_match_lua(void **state)
{
  const char *src = getenv("DF_SOURCE_DIR");
  char path[1024], out[65536], err[256];
  struct df_sandbox *sb;
  lua_State *L;
  char *code;
  size_t len;
  const char *real, *a, *b;

  (void)state;
  if (src != NULL) {
    snprintf(path, sizeof(path), "%s/tests/fixtures/patterns.lua", src);
  } else { /* run by hand: next to this file */
    snprintf(path, sizeof(path), "%s", __FILE__);
    snprintf(strrchr(path, '/'), sizeof(path) - (size_t)(strrchr(path, '/') - path),
             "/../fixtures/patterns.lua");
  }
  assert_int_equal(df_sandbox_read_file(NULL, path, 1 << 20, &code, &len), 0);
  assert_int_equal(df_sandbox_new(&test_limits, test_lib_dir, &sb), 0);
  if (run_in(sb, code, out, sizeof(out)) != LUA_OK) fail_msg("in the sandbox: %s", out);
  L = luaL_newstate();
  luaL_openlibs(L);
  if (luaL_loadbufferx(L, code, len, "=escape", "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
    fail_msg("with Lua's library: %s", lua_tostring(L, -1));
  real = lua_tostring(L, -1);
  /* The first line that differs, for the failure message. */
  for (a = out, b = real; *a != '\0' && *a == *b; a++, b++) continue;
  if (*a != '\0' || *b != '\0') {
    while (a > out && a[-1] != '\n') a--, b--;
    snprintf(err, sizeof(err), "%.*s", (int)strcspn(b, "\n"), b);
    fail_msg("ours: %.*s\nLua's: %s", (int)strcspn(a, "\n"), a, err);
  }
  assert_true(strlen(out) > 1000); /* the cases ran */
  lua_close(L);
  free(code);
  assert_healthy(sb);
  df_sandbox_free(sb);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
  char path[512];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int
setup_lib(void **state)
{
  char path[512];

  (void)state;
  snprintf(test_lib_dir, sizeof(test_lib_dir), "/tmp/df-test-sandbox-XXXXXX");
  if (mkdtemp(test_lib_dir) == NULL) return -1;
  write_file(test_lib_dir, "helper.lua",
             "local M = {} function M.twice(x) return x * 2 end return M\n");
  write_file(test_lib_dir, "leaky.lua", "return io\n");
  write_file(test_lib_dir, "loop_a.lua", "return require('loop_b')\n");
  write_file(test_lib_dir, "loop_b.lua", "return require('loop_a')\n");
  snprintf(path, sizeof(path), "%s/nested", test_lib_dir);
  mkdir(path, 0700);
  write_file(path, "deep.lua", "return { name = 'deep' }\n");
  snprintf(path, sizeof(path), "%s/outside.lua", test_lib_dir);
  if (symlink("/etc/passwd", path) != 0) return -1;
  return 0;
}

static int
teardown_lib(void **state)
{
  char cmd[600];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_lib_dir);
  return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
  size_t n = sizeof(escapes) / sizeof(escapes[0]);
  struct CMUnitTest *tests = calloc(n + 4, sizeof(*tests));
  size_t i;
  int rc;

  for (i = 0; i < n; i++) {
    tests[i].name = escapes[i].name;
    tests[i].test_func = test_escape;
    tests[i].initial_state = (void *)&escapes[i];
  }
  tests[n].name = "isolation between environments";
  tests[n].test_func = test_isolation_between_environments;
  tests[n + 1].name = "require of helper modules";
  tests[n + 1].test_func = test_require_helpers;
  tests[n + 2].name = "budget counts and names itself";
  tests[n + 2].test_func = test_budget_counts_and_names_itself;
  tests[n + 3].name = "patterns give what Lua's give";
  tests[n + 3].test_func = test_patterns_match_lua;
  rc = _cmocka_run_group_tests("sandbox", tests, n + 4, setup_lib, teardown_lib);
  free(tests);
  return rc;
}
