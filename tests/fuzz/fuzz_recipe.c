/* Fuzzes recipe metadata (lua-api/recipe.h): the input is a recipe's source,
 * loaded by df_recipe_load_buffer in a fresh sandbox (lua-api/sandbox.h) with
 * small limits, as `droidfix recipes` would. A recipe that passes is read the
 * way the runner reads it: every step's check/fix/verify and every param's
 * default are pushed, and its mode list asked. Checked: nothing crashes,
 * leaks or raises through C; a refusal carries "NAME:...: problem"; an
 * accepted recipe has an id, a title, at least one step and a known risk,
 * and no step above the recipe's risk. */
#include "tests/fuzz/fuzz_util.h"

#include <lauxlib.h>
#include <lua.h>

#include "core/error.h"
#include "core/log.h"
#include "lua-api/df_module.h"
#include "lua-api/recipe.h"
#include "lua-api/sandbox.h"

static const char *lib_dir = DF_SOURCE_DIR "/recipes/lib";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  df_log_set_level(DF_LOG_ERROR);
  return 0;
}

static void
check_recipe(const struct df_recipe *r)
{
  lua_State *L = r->L;
  int top = lua_gettop(L);

  DF_FUZZ_CHECK(r->id != NULL && r->id[0] != '\0', "no id");
  DF_FUZZ_CHECK(r->title != NULL && r->summary != NULL, "no title or summary");
  DF_FUZZ_CHECK(r->risk <= DF_RISK_FIRMWARE, "risk %d", (int)r->risk);
  DF_FUZZ_CHECK(r->nsteps > 0, "a recipe without steps");
  for (size_t i = 0; i < r->nsteps; i++) {
    static const char *const which[] = {"check", "fix", "verify"};
    DF_FUZZ_CHECK(r->steps[i].id != NULL && r->steps[i].title != NULL, "step %zu", i);
    DF_FUZZ_CHECK(r->steps[i].risk <= r->risk, "step %zu above the recipe's risk", i);
    for (size_t k = 0; k < 3; k++) {
      df_recipe_push_step_function(r, i, which[k]);
      DF_FUZZ_CHECK(lua_isfunction(L, -1) || lua_isnil(L, -1), "step %zu %s is a %s", i,
                    which[k], luaL_typename(L, -1));
      lua_pop(L, 1);
    }
  }
  for (size_t i = 0; i < r->nparams; i++) {
    DF_FUZZ_CHECK(r->params[i].name != NULL && r->params[i].help != NULL, "param %zu", i);
    df_recipe_push_param_default(r, i);
    DF_FUZZ_CHECK(r->params[i].has_default || lua_isnil(L, -1), "param %zu default", i);
    lua_pop(L, 1);
  }
  (void)df_recipe_applies_to_mode(r, "system");
  for (size_t i = 0; i < r->nmodes; i++)
    DF_FUZZ_CHECK(df_recipe_applies_to_mode(r, r->modes[i]), "mode %s", r->modes[i]);
  DF_FUZZ_CHECK(lua_gettop(L) == top, "stack grew by %d", lua_gettop(L) - top);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct df_sandbox_limits limits = {16u * 1024 * 1024, 2000000, 5000};
  struct df_sandbox *sb;
  struct df_recipe *r = NULL;
  char err[1024];
  int rc;

  DF_FUZZ_CHECK(df_sandbox_new(&limits, lib_dir, &sb) == 0, "sandbox");
  df_sandbox_add_global(sb, "df", df_module_push);
  err[0] = '\0';
  rc = df_recipe_load_buffer(df_sandbox_state(sb), (const char *)data, size, "fuzz.lua", &r, err,
                             sizeof(err));
  if (rc == 0) {
    DF_FUZZ_CHECK(r != NULL, "no recipe");
    check_recipe(r);
    df_recipe_free(r);
  } else {
    DF_FUZZ_CHECK(rc == DF_EINVAL || rc == DF_ETOOBIG || rc == DF_ENOMEM, "result %d", rc);
    DF_FUZZ_CHECK(strncmp(err, "fuzz.lua", 8) == 0, "message \"%s\" does not name the file",
                  err);
  }
  df_sandbox_free(sb);
  return 0;
}
