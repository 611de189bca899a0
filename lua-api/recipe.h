/* Recipes: a Lua file returning a table (id, title, summary, applies_to,
 * risk, params, steps with check/fix/verify; see lua-api/meta/recipe.lua),
 * loaded in a sandbox environment and validated before anything runs. A
 * bad recipe gets "FILE:LINE: FIELD: problem". */
#ifndef DF_LUA_RECIPE_H
#define DF_LUA_RECIPE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

/* What a recipe (or one of its steps) may do to a phone, in order. */
enum df_risk {
  DF_RISK_READ_ONLY = 0,
  DF_RISK_APP_DATA,  /* clears an app's data or cache */
  DF_RISK_USER_DATA, /* can lose the user's data: backup first */
  DF_RISK_FIRMWARE,  /* flashes partitions */
};

/* "read-only", "app-data", "user-data", "firmware". */
const char *
df_risk_name(enum df_risk risk);

/* Returns 0, or DF_EINVAL for an unknown name. */
int
df_risk_parse(const char *name, enum df_risk *out);

enum df_param_type {
  DF_PARAM_STRING = 0,
  DF_PARAM_NUMBER,
  DF_PARAM_BOOLEAN,
  DF_PARAM_PATH,
};

const char *
df_param_type_name(enum df_param_type type);

struct df_recipe_param {
  char *name;
  enum df_param_type type;
  bool required;
  bool has_default; /* the default stays in the recipe table */
  char *help;       /* "" when none */
};

struct df_recipe_step {
  char *id;
  char *title;
  enum df_risk risk; /* its own, or the recipe's when it names none */
  int line;          /* where its table starts, roughly (its first function) */
  bool has_verify;   /* without verify the runner re-runs check */
};

struct df_recipe {
  char *name; /* the chunk name: the path as given */
  char *id;
  char *title;
  char *summary;
  enum df_risk risk;
  char **modes;
  size_t nmodes;
  char **vendors; /* vendors, or models, or neither (any phone) */
  size_t nvendors;
  char **models;
  size_t nmodels;
  int android_min; /* Android release (11, 14...); 0: no bound */
  int android_max;
  struct df_recipe_param *params;
  size_t nparams;
  struct df_recipe_step *steps;
  size_t nsteps;
  lua_State *L;  /* the state holding the table */
  int table_ref; /* the recipe table, in L's registry */
};

/* Compiles source (text only) in a fresh sandbox environment of L (a
 * df_sandbox state), runs it under the budget, and validates the table it
 * returns. Returns 0 with *out set (free with df_recipe_free), or
 * DF_EINVAL (err: "NAME:LINE: FIELD: problem"), DF_ETOOBIG, DF_ENOMEM.
 * Never raises. */
int
df_recipe_load_buffer(lua_State *L, const char *source, size_t len, const char *name,
                      struct df_recipe **out, char *err, size_t errlen);

/* The same from a file (at most DF_SANDBOX_MAX_CHUNK bytes); DF_ENOENT
 * when there is no such file. */
int
df_recipe_load_file(lua_State *L, const char *path, struct df_recipe **out, char *err,
                    size_t errlen);

/* Releases the table's ref in r->L (which must still be open) and frees r. */
void
df_recipe_free(struct df_recipe *r);

/* Validates a recipe file in a private sandbox (what `droidfix recipes` and
 * `make test` run on every recipe). lib_dir: recipes/lib or NULL. */
int
df_recipe_check_file(const char *path, const char *lib_dir, char *err, size_t errlen);

/* Pushes the recipe's step function ("check", "fix" or "verify") of step
 * index (0-based), or nil when the step has none. */
void
df_recipe_push_step_function(const struct df_recipe *r, size_t index, const char *which);

/* Pushes the default of parameter index (nil when it has none). */
void
df_recipe_push_param_default(const struct df_recipe *r, size_t index);

/* True when the recipe lists the mode ("system", "recovery", ...). */
bool
df_recipe_applies_to_mode(const struct df_recipe *r, const char *mode);

#endif
