/* External plugins: dlopen each *.so of DROIDFIX_PLUGIN_PATH's folders,
 * check its description, and add its functions to every df table. */
#include "lua-api/plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "lua-api/df_module.h"
#include "lua-api/droidfix_plugin.h"

struct df_plugin_slot {
  const struct droidfix_plugin *desc;
  char path[PATH_MAX];
  void *handle;
};

static struct df_plugin_slot df_plugins[DF_PLUGIN_MAX];
static size_t df_nplugins;

static bool
df_plugin_name_ok(const char *name)
{
  if (name == NULL || name[0] == '\0' || strlen(name) > 64) return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return !(name[0] >= '0' && name[0] <= '9');
}

int
df_plugin_load_file(const char *file, char *err, size_t errlen)
{
  char real[PATH_MAX];
  void *h;
  droidfix_plugin_init_fn init;
  const struct droidfix_plugin *desc;

  if (realpath(file, real) == NULL) {
    snprintf(err, errlen, "plugin %s: no such file", file);
    return DF_ENOENT;
  }
  for (size_t i = 0; i < df_nplugins; i++)
    if (strcmp(df_plugins[i].path, real) == 0) return 0;
  if (df_nplugins >= DF_PLUGIN_MAX) {
    snprintf(err, errlen, "plugin %s: at most %d plugins can be loaded", file, DF_PLUGIN_MAX);
    return DF_ENOSPC;
  }
  h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(err, errlen, "plugin %s cannot be loaded: %s", file, dlerror());
    return DF_EINVAL;
  }
  *(void **)(&init) = dlsym(h, DROIDFIX_PLUGIN_INIT);
  if (init == NULL) {
    snprintf(err, errlen, "%s is not a droidfix plugin (no %s function)", file,
             DROIDFIX_PLUGIN_INIT);
    dlclose(h);
    return DF_EINVAL;
  }
  desc = init();
  if (desc == NULL || desc->abi != DROIDFIX_PLUGIN_ABI) {
    snprintf(err, errlen, "plugin %s was built for plugin ABI %d; this droidfix has ABI %d: "
             "rebuild it against this droidfix's droidfix_plugin.h",
             file, desc != NULL ? desc->abi : -1, DROIDFIX_PLUGIN_ABI);
    dlclose(h);
    return DF_EINVAL;
  }
  if (!df_plugin_name_ok(desc->name) || desc->functions == NULL) {
    snprintf(err, errlen, "plugin %s: its name must be lowercase letters, digits and '_', and "
             "it must list its functions", file);
    dlclose(h);
    return DF_EINVAL;
  }
  for (size_t i = 0; i < df_nplugins; i++)
    if (strcmp(df_plugins[i].desc->name, desc->name) == 0) {
      snprintf(err, errlen, "plugin %s: the name '%s' is taken by %s", file, desc->name,
               df_plugins[i].path);
      dlclose(h);
      return DF_EEXIST;
    }
  df_plugins[df_nplugins].desc = desc;
  df_plugins[df_nplugins].handle = h;
  snprintf(df_plugins[df_nplugins].path, sizeof(df_plugins[df_nplugins].path), "%s", real);
  df_nplugins++;
  df_log_info("plugin %s %s loaded from %s", desc->name, desc->version ? desc->version : "",
              real);
  return 0;
}

static int
df_plugin_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One folder: its *.so files in name order. */
static void
df_plugin_load_dir(const char *dir, char *err, size_t errlen)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char *names[64];
  size_t n = 0;

  if (d == NULL) {
    df_log_warn("plugin folder %s cannot be read", dir);
    return;
  }
  while ((e = readdir(d)) != NULL && n < 64) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || len < 4 || strcmp(e->d_name + len - 3, ".so") != 0) continue;
    names[n] = strdup(e->d_name);
    if (names[n] != NULL) n++;
  }
  closedir(d);
  qsort(names, n, sizeof(*names), df_plugin_cmp);
  for (size_t i = 0; i < n; i++) {
    char file[PATH_MAX], msg[512];
    snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
    if (df_plugin_load_file(file, msg, sizeof(msg)) != 0) {
      df_log_warn("%s", msg);
      if (err != NULL && errlen > 0 && err[0] == '\0') snprintf(err, errlen, "%s", msg);
    }
    free(names[i]);
  }
}

int
df_plugin_load_path(const char *path, char *err, size_t errlen)
{
  char *copy, *save = NULL, *dir;

  if (err != NULL && errlen > 0) err[0] = '\0';
  if (path == NULL || path[0] == '\0') return (int)df_nplugins;
  copy = strdup(path);
  if (copy == NULL) return (int)df_nplugins;
  for (dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save))
    if (dir[0] != '\0') df_plugin_load_dir(dir, err, errlen);
  free(copy);
  return (int)df_nplugins;
}

size_t
df_plugin_count(void)
{
  return df_nplugins;
}

const struct droidfix_plugin *
df_plugin_at(size_t i)
{
  return i < df_nplugins ? df_plugins[i].desc : NULL;
}

void
df_plugin_register_all(lua_State *L)
{
  lua_createtable(L, 0, (int)df_nplugins);
  for (size_t i = 0; i < df_nplugins; i++) {
    lua_newtable(L);
    luaL_setfuncs(L, df_plugins[i].desc->functions, 0);
    lua_setfield(L, -2, df_plugins[i].desc->name);
  }
  lua_setfield(L, -2, "plugins");
}
