/* Loading and validating recipes: valid recipes load with every field
 * read; each kind of invalid recipe is refused with "FILE:LINE: FIELD:". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lua.h>

#include "core/error.h"
#include "lua-api/df_module.h"
#include "lua-api/recipe.h"
#include "lua-api/sandbox.h"

/* A valid recipe; the invalid ones below replace one of its lines. */
static const char *const base_lines[] = {
  /* 1 */ "return {",
  /* 2 */ "  id = \"clear-cache\",",
  /* 3 */ "  title = \"Clear a cache\",",
  /* 4 */ "  summary = \"Clears it.\",",
  /* 5 */ "  risk = \"app-data\",",
  /* 6 */ "  applies_to = {",
  /* 7 */ "    modes = { \"system\" },",
  /* 8 */ "    vendors = { \"xiaomi\" },",
  /* 9 */ "    android = { min = 10, max = 14 },",
  /* 10 */ "  },",
  /* 11 */ "  params = {",
  /* 12 */ "    package = { type = \"string\", default = \"com.android.vending\", help = \"the app\" },",
  /* 13 */ "  },",
  /* 14 */ "  steps = {",
  /* 15 */ "    {",
  /* 16 */ "      id = \"first\",",
  /* 17 */ "      title = \"First\",",
  /* 18 */ "      check = function(ctx) return true, \"found\" end,",
  /* 19 */ "      fix = function(ctx) end,",
  /* 20 */ "    },",
  /* 21 */ "    {",
  /* 22 */ "      id = \"second\",",
  /* 23 */ "      title = \"Second\",",
  /* 24 */ "      risk = \"read-only\",",
  /* 25 */ "      check = function(ctx) return false end,",
  /* 26 */ "      fix = function(ctx) end,",
  /* 27 */ "      verify = function(ctx) return true end,",
  /* 28 */ "    },",
  /* 29 */ "  },",
  /* 30 */ "}",
};

/* The base with line `line` (1-based; 0: none) replaced by text. */
static char *
mutate(int line, const char *text)
{
  size_t n = sizeof(base_lines) / sizeof(base_lines[0]);
  size_t cap = 4096, i;
  char *out = calloc(1, cap);

  for (i = 0; i < n; i++) {
    strcat(out, (int)i + 1 == line ? text : base_lines[i]);
    strcat(out, "\n");
  }
  return out;
}

static struct df_sandbox *
new_sandbox(void)
{
  struct df_sandbox_limits limits = {16u * 1024 * 1024, 5000000, 60000};
  struct df_sandbox *sb;

  assert_int_equal(df_sandbox_new(&limits, NULL, &sb), 0);
  df_sandbox_add_global(sb, "df", df_module_push);
  return sb;
}

static int
load(const char *source, struct df_recipe **out, char *err, size_t errlen,
     struct df_sandbox **sb)
{
  *sb = new_sandbox();
  return df_recipe_load_buffer(df_sandbox_state(*sb), source, strlen(source), "bad.lua", out,
                               err, errlen);
}

static void
test_base_is_valid(void **state)
{
  struct df_sandbox *sb;
  struct df_recipe *r;
  char err[512];
  char *src = mutate(0, NULL);

  (void)state;
  assert_int_equal(load(src, &r, err, sizeof(err), &sb), 0);
  assert_string_equal(r->id, "clear-cache");
  assert_int_equal(r->risk, DF_RISK_APP_DATA);
  assert_int_equal(r->nmodes, 1);
  assert_true(df_recipe_applies_to_mode(r, "system"));
  assert_false(df_recipe_applies_to_mode(r, "recovery"));
  assert_int_equal(r->nvendors, 1);
  assert_string_equal(r->vendors[0], "xiaomi");
  assert_int_equal(r->android_min, 10);
  assert_int_equal(r->android_max, 14);
  assert_int_equal(r->nparams, 1);
  assert_string_equal(r->params[0].name, "package");
  assert_int_equal(r->params[0].type, DF_PARAM_STRING);
  assert_true(r->params[0].has_default);
  assert_int_equal(r->nsteps, 2);
  assert_string_equal(r->steps[0].id, "first");
  assert_int_equal(r->steps[0].risk, DF_RISK_APP_DATA); /* inherited */
  assert_int_equal(r->steps[1].risk, DF_RISK_READ_ONLY);
  assert_false(r->steps[0].has_verify);
  assert_true(r->steps[1].has_verify);
  assert_int_equal(r->steps[0].line, 18);
  df_recipe_free(r);
  df_sandbox_free(sb);
  free(src);
}

static void
test_fixture_files(void **state)
{
  char path[1024], err[512];
  const char *src = getenv("DF_SOURCE_DIR") ? getenv("DF_SOURCE_DIR") : DF_SOURCE_DIR;

  (void)state;
  snprintf(path, sizeof(path), "%s/tests/fixtures/recipes/clear-app-cache.lua", src);
  if (df_recipe_check_file(path, NULL, err, sizeof(err)) != 0) fail_msg("%s", err);
  snprintf(path, sizeof(path), "%s/tests/fixtures/recipes/minimal.lua", src);
  assert_int_equal(df_recipe_check_file(path, NULL, err, sizeof(err)), 0);
  snprintf(path, sizeof(path), "%s/tests/fixtures/recipes/bad-step-risk.lua", src);
  assert_int_equal(df_recipe_check_file(path, NULL, err, sizeof(err)), DF_EINVAL);
  assert_non_null(strstr(err, "bad-step-risk.lua:15: steps[2].risk: 'user-data' is above the "
                              "recipe's risk 'app-data'"));
  snprintf(path, sizeof(path), "%s/tests/fixtures/recipes/not-a-table.lua", src);
  assert_int_equal(df_recipe_check_file(path, NULL, err, sizeof(err)), DF_EINVAL);
  assert_non_null(strstr(err, "not-a-table.lua:3: recipe: the file must return a table, not a "
                              "string"));
  snprintf(path, sizeof(path), "%s/tests/fixtures/recipes/no-such.lua", src);
  assert_int_equal(df_recipe_check_file(path, NULL, err, sizeof(err)), DF_ENOENT);
  assert_non_null(strstr(err, "no-such.lua: cannot read the recipe"));
}

/* Every field of the df table is annotated in lua-api/meta/df.lua, the one
 * source of the API docs: a function added without docs fails here. */
static void
test_meta_covers_df(void **state)
{
  const char *src = getenv("DF_SOURCE_DIR") ? getenv("DF_SOURCE_DIR") : DF_SOURCE_DIR;
  struct df_sandbox *sb = new_sandbox();
  lua_State *L = df_sandbox_state(sb);
  char path[1024], needle[128];
  char *meta;
  size_t len;
  int fields = 0;

  (void)state;
  /* the df table is annotated across meta/df.lua and meta/device.lua */
  {
    static const char *const files[] = {"df.lua", "device.lua", "backup.lua"};
    char *all = NULL;
    size_t total = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
      snprintf(path, sizeof(path), "%s/lua-api/meta/%s", src, files[i]);
      assert_int_equal(df_sandbox_read_file(NULL, path, 1 << 20, &meta, &len), 0);
      all = realloc(all, total + len + 1);
      assert_non_null(all);
      memcpy(all + total, meta, len + 1);
      total += len;
      free(meta);
    }
    meta = all;
  }
  df_module_push(L);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *key = lua_tostring(L, -2);
    if (lua_isfunction(L, -1))
      snprintf(needle, sizeof(needle), "function df.%s(", key);
    else
      snprintf(needle, sizeof(needle), "---@field %s ", key);
    if (strstr(meta, needle) == NULL) fail_msg("df.%s is not annotated in meta/df.lua", key);
    fields++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  assert_true(fields >= 8);
  free(meta);
  df_sandbox_free(sb);
}

struct bad_case {
  const char *name;
  int line;         /* line of the base replaced (0: source is whole) */
  const char *text; /* the replacement, or the whole source */
  const char *expect;
};

static const struct bad_case bad_cases[] = {
  {"id with spaces", 2, "  id = \"Clear Cache\",", "bad.lua:2: id: 'Clear Cache' must be lowercase"},
  {"unknown top-level field", 2, "  tittle = \"x\", id = \"x\",", "bad.lua:2: tittle: unknown field"},
  {"missing id", 2, "  -- no id", "bad.lua:1: id: missing"},
  {"missing title", 3, "", "bad.lua:1: title: missing"},
  {"title not a string", 3, "  title = 42,", "bad.lua:3: title: must be a string, not a number"},
  {"unknown risk", 5, "  risk = \"dangerous\",", "bad.lua:5: risk: 'dangerous' is not a risk"},
  {"unknown mode", 7, "    modes = { \"normal\" },", "bad.lua:7: applies_to.modes: 'normal' is not a mode"},
  {"modes not a list", 7, "    modes = \"system\",", "bad.lua:7: applies_to.modes: must be a list"},
  {"vendors and models", 8, "    vendors = { \"xiaomi\" }, models = { \"xiaomi/redmi-k70\" },",
   "bad.lua:8: applies_to.models: give vendors or models, not both"},
  {"vendor with capitals", 8, "    vendors = { \"Xiaomi\" },",
   "bad.lua:8: applies_to.vendors: 'Xiaomi' must be lowercase"},
  {"android min above max", 9, "    android = { min = 14, max = 10 },",
   "bad.lua:9: applies_to.android: min 14 is above max 10"},
  {"android not a number", 9, "    android = { min = \"ten\" },",
   "bad.lua:9: applies_to.android.min: must be an Android release number"},
  {"unknown applies_to field", 9, "    androids = { min = 10 },",
   "bad.lua:9: applies_to.androids: unknown field"},
  {"param of unknown type", 12, "    package = { type = \"text\" },",
   "bad.lua:12: params.package.type: missing or unknown"},
  {"param default of the wrong type", 12, "    package = { type = \"number\", default = \"x\" },",
   "bad.lua:12: params.package.default: must be a number"},
  {"required param with a default", 12,
   "    package = { type = \"string\", required = true, default = \"x\" },",
   "bad.lua:12: params.package: a required parameter cannot have a default"},
  {"param with a bad name", 12, "    [\"bad-name\"] = { type = \"string\" },",
   "bad.lua:11: params: parameter names are lowercase words"},
  {"unknown param field", 12, "    package = { type = \"string\", helps = \"x\" },",
   "bad.lua:12: params.package.helps: unknown field"},
  {"unknown step field", 18, "      chek = function(ctx) return true end, check = function() end,",
   "bad.lua:18: steps[1].chek: unknown field"},
  {"check not a function", 18, "      check = \"yes\",",
   "bad.lua:18: steps[1].check: must be a function(ctx), not a string"},
  {"missing fix", 19, "      -- no fix",
   "bad.lua:18: steps[1].fix: missing"},
  {"missing check", 18, "      -- no check",
   "bad.lua:19: steps[1].check: missing"},
  {"duplicate step id", 22, "      id = \"first\",",
   "bad.lua:22: steps[2].id: 'first' is also the id of steps[1]"},
  {"second step id is bad", 22, "      id = \"Second\",",
   "bad.lua:22: steps[2].id: 'Second' must be lowercase"},
  {"second step title not a string", 23, "      title = 42,",
   "bad.lua:23: steps[2].title: must be a string"},
  {"step risk above the recipe's", 24, "      risk = \"firmware\",",
   "bad.lua:24: steps[2].risk: 'firmware' is above the recipe's risk 'app-data'"},
  {"verify not a function", 27, "      verify = 1,",
   "bad.lua:27: steps[2].verify: must be a function(ctx), not a number"},
  {"step not a table", 0,
   "return {\n id = \"x\", title = \"X\", summary = \"x\", risk = \"read-only\",\n"
   " applies_to = { modes = { \"system\" } },\n steps = {\n  \"check everything\",\n },\n}\n",
   "bad.lua:4: steps[1]: must be a table"},
  {"no steps", 0,
   "return {\n id = \"x\", title = \"X\", summary = \"x\", risk = \"read-only\",\n"
   " applies_to = { modes = { \"system\" } },\n}\n",
   "bad.lua:1: steps: missing"},
  {"empty steps", 0,
   "return {\n id = \"x\", title = \"X\", summary = \"x\", risk = \"read-only\",\n"
   " applies_to = { modes = { \"system\" } },\n steps = {},\n}\n",
   "bad.lua:4: steps: must be a list of 1 to"},
  {"no applies_to", 0,
   "return {\n id = \"x\", title = \"X\", summary = \"x\", risk = \"read-only\",\n"
   " steps = { { id = \"a\", title = \"A\", check = function() end, fix = function() end } },\n}\n",
   "bad.lua:1: applies_to: missing"},
  {"recipe table with a metatable", 0,
   "local t = { id = \"x\" }\nreturn setmetatable(t, { __index = function() return 1 end })\n",
   "bad.lua:2: recipe: the returned table must not have a metatable"},
  {"not a table", 0, "\n\nreturn 42\n", "bad.lua:3: recipe: the file must return a table, not a number"},
  {"syntax error", 4, "  summary = = \"x\",", "bad.lua:4: unexpected symbol near '='"},
  {"unknown global while loading", 4, "  summary = nosuch.x,", "bad.lua:4: unknown global 'nosuch'"},
  {"io while loading", 4, "  summary = io.read(),", "bad.lua:4: unknown global 'io'"},
  {"infinite loop while loading", 4, "  summary = (function() while true do end end)(),",
   "instruction budget"},
  {"df.sleep while loading", 4, "  summary = df.sleep(1),",
   "df.sleep can only be called from a recipe step"},
  {"binary chunk", 0, "\x1bLua\x54\x00\x19\x93\r\n\x1a\n", "attempt to load a binary chunk"},
};

static void
test_bad_recipe(void **state)
{
  const struct bad_case *c = *state;
  struct df_sandbox *sb;
  struct df_recipe *r = NULL;
  char err[1024];
  char *src = c->line > 0 ? mutate(c->line, c->text) : strdup(c->text);
  int rc;

  rc = load(src, &r, err, sizeof(err), &sb);
  if (rc == 0 || strstr(err, c->expect) == NULL)
    fail_msg("%s: rc %d, err '%s' (wanted '%s')", c->name, rc, err, c->expect);
  assert_null(r);
  df_sandbox_free(sb);
  free(src);
}

int
main(void)
{
  size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);
  struct CMUnitTest *tests = calloc(n + 3, sizeof(*tests));
  size_t i;
  int rc;

  tests[0].name = "the base recipe is valid and fully read";
  tests[0].test_func = test_base_is_valid;
  tests[1].name = "fixture files";
  tests[1].test_func = test_fixture_files;
  for (i = 0; i < n; i++) {
    tests[i + 2].name = bad_cases[i].name;
    tests[i + 2].test_func = test_bad_recipe;
    tests[i + 2].initial_state = (void *)&bad_cases[i];
  }
  tests[n + 2].name = "meta/df.lua annotates every df field";
  tests[n + 2].test_func = test_meta_covers_df;
  rc = _cmocka_run_group_tests("recipe", tests, n + 3, NULL, NULL);
  free(tests);
  return rc;
}
