/* droidfix recipes [--json]: the recipes on the recipe path (cli/recipes.h)
 * with id, title, risk and what they apply to; a broken recipe is listed
 * with its error (file, line, field). Also the recipe path itself. */
#include "cli/recipes.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/error.h"
#include "core/json.h"
#include "lua-api/recipe.h"
#include "lua-api/sandbox.h"

static void
df_cli_recipe_path_add(struct df_cli_recipe_path *p, const char *dir)
{
  if (dir == NULL || dir[0] == '\0' || p->count >= DF_CLI_RECIPE_DIRS) return;
  snprintf(p->dirs[p->count++], sizeof(p->dirs[0]), "%s", dir);
}

void
df_cli_recipe_path(struct df_cli_recipe_path *p)
{
  const char *env = getenv("DROIDFIX_RECIPES");
  const char *home = getenv("HOME");
  const char *xdg = getenv("XDG_CONFIG_HOME");
  const char *vendor = getenv("DROIDFIX_RECIPE_PATH");
  char buf[1024];

  memset(p, 0, sizeof(*p));
  df_cli_recipe_path_add(p, env != NULL && env[0] ? env : DF_SOURCE_DIR "/recipes");
  if (xdg != NULL && xdg[0]) {
    snprintf(buf, sizeof(buf), "%s/droidfix/recipes", xdg);
    df_cli_recipe_path_add(p, buf);
  } else if (home != NULL && home[0]) {
    snprintf(buf, sizeof(buf), "%s/.config/droidfix/recipes", home);
    df_cli_recipe_path_add(p, buf);
  }
  if (vendor != NULL) {
    char *copy = strdup(vendor), *save = NULL;
    for (char *d = copy != NULL ? strtok_r(copy, ":", &save) : NULL; d != NULL;
         d = strtok_r(NULL, ":", &save))
      df_cli_recipe_path_add(p, d);
    free(copy);
  }
}

const char *
df_cli_recipe_lib_dir(void)
{
  static char lib[1100];
  struct df_cli_recipe_path p;

  df_cli_recipe_path(&p);
  snprintf(lib, sizeof(lib), "%s/lib", p.dirs[0]);
  return lib;
}

static bool
df_cli_is_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
df_cli_recipe_resolve(const char *recipe, char *out, size_t outlen)
{
  struct df_cli_recipe_path p;
  size_t n = strlen(recipe);

  if (df_cli_is_file(recipe) || strchr(recipe, '/') != NULL ||
      (n > 4 && strcmp(recipe + n - 4, ".lua") == 0)) {
    snprintf(out, outlen, "%s", recipe);
    return df_cli_is_file(recipe) ? 0 : DF_ENOENT;
  }
  df_cli_recipe_path(&p);
  for (size_t i = 0; i < p.count; i++) {
    snprintf(out, outlen, "%s/%s.lua", p.dirs[i], recipe);
    if (df_cli_is_file(out)) return 0;
  }
  snprintf(out, outlen, "%s", recipe);
  return DF_ENOENT;
}

/* ---- the verb ---- */

struct df_cli_recipe_row {
  char file[1300];
  char id[128];
};

static int
df_cli_row_cmp(const void *a, const void *b)
{
  return strcmp(((const struct df_cli_recipe_row *)a)->file,
                ((const struct df_cli_recipe_row *)b)->file);
}

static void
df_cli_json_list(struct df_json *j, const char *key, char *const *items, size_t n)
{
  df_json_key(j, key);
  df_json_array_begin(j);
  for (size_t i = 0; i < n; i++) df_json_string(j, items[i]);
  df_json_array_end(j);
}

static void
df_cli_text_list(char *out, size_t outlen, char *const *items, size_t n)
{
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && used + 2 < outlen; i++) {
    int w = snprintf(out + used, outlen - used, "%s%s", i ? "," : "", items[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

/* Why one state for the whole listing: a new sandbox (a Lua state, its
 * allow-listed libraries, recipes/lib loaded again) for each recipe was
 * part of what `droidfix recipes` cost (docs/benchmarks.md, Start-up).
 * Each recipe still gets its own fresh environment (df_recipe_load_file)
 * and runs under the budget, the deadline and the memory cap, and the
 * require cache is emptied before each one, so no recipe sees a helper
 * module another one changed. The instruction budget and the memory cap
 * are the state's, shared by the recipes loaded so far: a recipe stopped
 * by either (or out of memory) in the shared state is loaded again alone
 * in a private sandbox, exactly as it would be by itself, and that result
 * is the one listed. Other errors (syntax, validation, the per-call
 * deadline) do not depend on what ran before and stand. A killed state is
 * dropped; the next recipe gets a new one. */
static int
df_cli_recipe_load(struct df_sandbox **shared, const char *lib, const char *file,
                   struct df_sandbox **alone, struct df_recipe **r, char *err, size_t errlen)
{
  enum df_sandbox_kill killed = DF_SANDBOX_ALIVE;
  int rc = DF_ENOMEM;

  *alone = NULL;
  if (*shared == NULL && df_sandbox_new(NULL, lib, shared) != 0) *shared = NULL;
  if (*shared != NULL && df_sandbox_forget_modules(*shared) == 0) {
    rc = df_recipe_load_file(df_sandbox_state(*shared), file, r, err, errlen);
    killed = df_sandbox_killed(*shared);
    if (killed != DF_SANDBOX_ALIVE) {
      df_sandbox_free(*shared);
      *shared = NULL;
    }
    if (rc == 0 || (rc != DF_ENOMEM && (killed == DF_SANDBOX_ALIVE ||
                                        killed == DF_SANDBOX_KILL_DEADLINE)))
      return rc;
  }
  df_sandbox_free(*shared);
  *shared = NULL;
  rc = df_sandbox_new(NULL, lib, alone);
  if (rc == 0) rc = df_recipe_load_file(df_sandbox_state(*alone), file, r, err, errlen);
  else snprintf(err, errlen, "%s", df_strerror(rc));
  return rc;
}

/* One recipe file: loaded (above) and described. */
static void
df_cli_recipes_one(struct df_cli *cli, struct df_json *j, const char *file, const char *lib,
                   struct df_sandbox **shared, int *broken)
{
  struct df_sandbox *sb = NULL;
  struct df_recipe *r = NULL;
  char err[1024], safe[1200];
  int rc;

  rc = df_cli_recipe_load(shared, lib, file, &sb, &r, err, sizeof(err));
  if (rc != 0) {
    (*broken)++;
    if (cli->json) {
      df_json_object_begin(j);
      df_json_kv_string(j, "file", file);
      df_json_kv_bool(j, "ok", false);
      df_json_kv_string(j, "error", err);
      df_json_object_end(j);
    } else {
      df_cli_safe_text(err, safe, sizeof(safe));
      fprintf(cli->out, "BROKEN  %s\n", safe);
    }
    df_sandbox_free(sb);
    return;
  }
  if (cli->json) {
    df_json_object_begin(j);
    df_json_kv_string(j, "id", r->id);
    df_json_kv_bool(j, "ok", true);
    df_json_kv_string(j, "title", r->title);
    df_json_kv_string(j, "summary", r->summary);
    df_json_kv_string(j, "risk", df_risk_name(r->risk));
    df_json_kv_string(j, "file", file);
    df_json_key(j, "applies_to");
    df_json_object_begin(j);
    df_cli_json_list(j, "modes", r->modes, r->nmodes);
    df_cli_json_list(j, "vendors", r->vendors, r->nvendors);
    df_cli_json_list(j, "models", r->models, r->nmodels);
    if (r->android_min > 0 || r->android_max > 0) {
      df_json_key(j, "android");
      df_json_object_begin(j);
      if (r->android_min > 0) df_json_kv_int(j, "min", r->android_min);
      if (r->android_max > 0) df_json_kv_int(j, "max", r->android_max);
      df_json_object_end(j);
    }
    df_json_object_end(j);
    df_json_key(j, "params");
    df_json_array_begin(j);
    for (size_t i = 0; i < r->nparams; i++) {
      df_json_object_begin(j);
      df_json_kv_string(j, "name", r->params[i].name);
      df_json_kv_string(j, "type", df_param_type_name(r->params[i].type));
      df_json_kv_bool(j, "required", r->params[i].required);
      df_json_kv_string(j, "help", r->params[i].help);
      df_json_object_end(j);
    }
    df_json_array_end(j);
    df_json_kv_uint(j, "steps", r->nsteps);
    df_json_object_end(j);
  } else {
    char modes[200], who[300], android[64] = "";
    df_cli_text_list(modes, sizeof(modes), r->modes, r->nmodes);
    if (r->nmodels > 0) df_cli_text_list(who, sizeof(who), r->models, r->nmodels);
    else if (r->nvendors > 0) df_cli_text_list(who, sizeof(who), r->vendors, r->nvendors);
    else snprintf(who, sizeof(who), "any phone");
    if (r->android_min > 0 && r->android_max > 0)
      snprintf(android, sizeof(android), ", Android %d-%d", r->android_min, r->android_max);
    else if (r->android_min > 0)
      snprintf(android, sizeof(android), ", Android %d+", r->android_min);
    else if (r->android_max > 0)
      snprintf(android, sizeof(android), ", Android up to %d", r->android_max);
    df_cli_safe_text(r->title, safe, sizeof(safe));
    fprintf(cli->out, "%-24s %-10s %s\n", r->id, df_risk_name(r->risk), safe);
    df_cli_safe_text(who, safe, sizeof(safe));
    fprintf(cli->out, "%-24s %-10s for %s in %s%s\n", "", "", safe, modes, android);
  }
  df_recipe_free(r);
  df_sandbox_free(sb);
}

static int
df_cli_recipes_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_recipe_path p;
  struct df_cli_recipe_row *rows = NULL;
  size_t nrows = 0, cap = 0;
  struct df_json j;
  struct df_sandbox *shared = NULL;
  int broken = 0;
  const char *lib = df_cli_recipe_lib_dir();

  if (args->positional_count > 0)
    return df_cli_usage_error(cli, args->verb, "recipes takes no arguments");
  df_cli_recipe_path(&p);
  for (size_t d = 0; d < p.count; d++) {
    DIR *dir = opendir(p.dirs[d]);
    struct dirent *e;
    size_t first = nrows;
    if (dir == NULL) continue;
    while ((e = readdir(dir)) != NULL) {
      size_t n = strlen(e->d_name);
      bool hidden = false;
      if (e->d_name[0] == '.' || n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0) continue;
      /* an id found earlier on the path hides this one */
      for (size_t k = 0; k < first && !hidden; k++)
        hidden = strlen(rows[k].id) == n - 4 && strncmp(rows[k].id, e->d_name, n - 4) == 0;
      if (hidden) continue;
      if (nrows == cap) {
        cap = cap ? cap * 2 : 32;
        struct df_cli_recipe_row *nr = realloc(rows, cap * sizeof(*rows));
        if (nr == NULL) break;
        rows = nr;
      }
      snprintf(rows[nrows].file, sizeof(rows[nrows].file), "%s/%s", p.dirs[d], e->d_name);
      snprintf(rows[nrows].id, sizeof(rows[nrows].id), "%.*s", (int)(n - 4), e->d_name);
      nrows++;
    }
    closedir(dir);
    qsort(rows + first, nrows - first, sizeof(*rows), df_cli_row_cmp);
  }
  if (cli->json) {
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_key(&j, "path");
    df_json_array_begin(&j);
    for (size_t d = 0; d < p.count; d++) df_json_string(&j, p.dirs[d]);
    df_json_array_end(&j);
    df_json_key(&j, "recipes");
    df_json_array_begin(&j);
  }
  for (size_t i = 0; i < nrows; i++)
    df_cli_recipes_one(cli, &j, rows[i].file, lib, &shared, &broken);
  df_sandbox_free(shared);
  if (cli->json) {
    df_json_array_end(&j);
    df_json_object_end(&j);
  } else if (nrows == 0) {
    fprintf(cli->err, "droidfix: no recipes found on the recipe path:\n");
    for (size_t d = 0; d < p.count; d++) fprintf(cli->err, "  %s\n", p.dirs[d]);
  }
  free(rows);
  return broken > 0 ? DF_CLI_EXIT_FAILED : DF_CLI_EXIT_OK;
}

const struct df_cli_verb df_cli_verb_recipes = {
  .name = "recipes",
  .summary = "list the recipes droidfix can run",
  .usage = "recipes [--json]",
  .help = "Lists the recipes on the recipe path: the repository's recipes/ (or\n"
          "DROIDFIX_RECIPES), then ~/.config/droidfix/recipes, then the folders of\n"
          "DROIDFIX_RECIPE_PATH (colon-separated). An id found earlier hides the\n"
          "same id later. Each recipe is validated; a broken one is listed with\n"
          "its file, line and field, and the exit status is 1.",
  .run = df_cli_recipes_run,
};
