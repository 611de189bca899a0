/* The recipe path shared by `droidfix run` and `droidfix recipes`: the
 * repository's recipes/ (DROIDFIX_RECIPES overrides it), then
 * ~/.config/droidfix/recipes, then each folder of DROIDFIX_RECIPE_PATH
 * (colon-separated, vendors' folders). An id found in an earlier folder
 * hides the same id later. */
#ifndef DF_CLI_RECIPES_H
#define DF_CLI_RECIPES_H

#include <stddef.h>

#define DF_CLI_RECIPE_DIRS 16

struct df_cli_recipe_path {
  char dirs[DF_CLI_RECIPE_DIRS][1024];
  size_t count;
};

void
df_cli_recipe_path(struct df_cli_recipe_path *p);

/* RECIPE as typed: a file when it names one (or has a '/' or ends in
 * ".lua"), else an id looked up on the path. Returns 0 with out set, or
 * DF_ENOENT. */
int
df_cli_recipe_resolve(const char *recipe, char *out, size_t outlen);

/* recipes/lib for require: the lib folder beside the recipe's folder
 * chain's first entry (the repository's recipes/lib). */
const char *
df_cli_recipe_lib_dir(void);

/* devices/ (DROIDFIX_DEVICES or the repository's); in cli/info.c. */
const char *
df_cli_devices_dir(void);

#endif
