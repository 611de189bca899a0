/* External plugins: dlopen each *.so of the plugin folders (--plugin-dir,
 * DROIDFIX_PLUGIN_PATH), check its description, register its transport's
 * scheme for --connect, and add its functions to every df table. */
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
#include "plugins/device.h"

struct df_plugin_slot {
  const struct droidfix_plugin *desc;
  char path[PATH_MAX];
  void *handle;
};

static struct df_plugin_slot df_plugins[DF_PLUGIN_MAX];
static size_t df_nplugins;

/* Files refused once (real paths): a second look at the same folder, as
 * `droidfix run` makes after the start-up load, neither retries nor warns
 * again. */
#define DF_PLUGIN_REFUSED_MAX 32
static char *df_plugin_refused[DF_PLUGIN_REFUSED_MAX];
static size_t df_plugin_nrefused;

static bool
df_plugin_was_refused(const char *real)
{
  for (size_t i = 0; i < df_plugin_nrefused; i++)
    if (strcmp(df_plugin_refused[i], real) == 0) return true;
  return false;
}

static void
df_plugin_refuse(const char *real)
{
  if (df_plugin_nrefused < DF_PLUGIN_REFUSED_MAX && !df_plugin_was_refused(real)) {
    df_plugin_refused[df_plugin_nrefused] = strdup(real);
    if (df_plugin_refused[df_plugin_nrefused] != NULL) df_plugin_nrefused++;
  }
}

/* An ABI-1 description ends before `transport`: never read it there. */
static const struct droidfix_transport *
df_plugin_desc_transport(const struct droidfix_plugin *desc)
{
  return desc->abi >= 2 ? desc->transport : NULL;
}

static bool
df_plugin_protocol_ok(int protocol, enum df_endpoint_kind *kind)
{
  switch (protocol) {
  case DROIDFIX_PROTOCOL_ANY: *kind = DF_ENDPOINT_ANY; return true;
  case DROIDFIX_PROTOCOL_ADB: *kind = DF_ENDPOINT_ADB; return true;
  case DROIDFIX_PROTOCOL_FASTBOOT: *kind = DF_ENDPOINT_FASTBOOT; return true;
  default: return false;
  }
}

/* Registers the transport's scheme; 0 or an error with err filled. */
static int
df_plugin_add_transport(const char *file, const struct droidfix_plugin *desc, char *err,
                        size_t errlen)
{
  const struct droidfix_transport *tr = df_plugin_desc_transport(desc);
  enum df_endpoint_kind kind;
  const char *owner;
  int rc;

  if (tr == NULL) return 0;
  if (tr->scheme == NULL || tr->open == NULL || !df_plugin_protocol_ok(tr->protocol, &kind)) {
    snprintf(err, errlen, "plugin %s: its transport needs a scheme, an open function and a "
             "protocol of DROIDFIX_PROTOCOL_ANY, _ADB or _FASTBOOT", file);
    return DF_EINVAL;
  }
  owner = df_device_scheme_owner(tr->scheme);
  rc = df_device_scheme_add(tr->scheme, kind, tr->open, desc->name);
  if (rc == DF_EEXIST)
    snprintf(err, errlen, "plugin %s: the transport scheme '%s' is taken by the plugin %s", file,
             tr->scheme, owner != NULL ? owner : "?");
  else if (rc == DF_ENOSPC)
    snprintf(err, errlen, "plugin %s: at most %d transports can be added", file,
             DF_DEVICE_SCHEME_MAX);
  else if (rc != 0)
    snprintf(err, errlen, "plugin %s: '%s' cannot be a transport scheme: use a lowercase "
             "letter, then lowercase letters, digits, '-' or '_' (at most 31), not adb, "
             "fastboot, tcp or usb, and not 1-4 hex digits", file, tr->scheme);
  return rc;
}

static bool
df_plugin_name_ok(const char *name)
{
  if (name == NULL || name[0] == '\0' || strlen(name) > 64) return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return !(name[0] >= '0' && name[0] <= '9');
}

static int
df_plugin_load_real(const char *file, const char *real, char *err, size_t errlen)
{
  void *h;
  droidfix_plugin_init_fn init;
  const struct droidfix_plugin *desc;
  int rc;

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
  if (desc == NULL || (desc->abi != DROIDFIX_PLUGIN_ABI && desc->abi != 1)) {
    snprintf(err, errlen, "plugin %s was built for plugin ABI %d; this droidfix has ABI %d "
             "(and still takes 1): rebuild it against this droidfix's droidfix_plugin.h",
             file, desc != NULL ? desc->abi : -1, DROIDFIX_PLUGIN_ABI);
    dlclose(h);
    return DF_EINVAL;
  }
  if (!df_plugin_name_ok(desc->name) ||
      (desc->functions == NULL && df_plugin_desc_transport(desc) == NULL)) {
    snprintf(err, errlen, "plugin %s: its name must be lowercase letters, digits and '_', and "
             "it must list its functions or add a transport", file);
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
  rc = df_plugin_add_transport(file, desc, err, errlen);
  if (rc != 0) {
    dlclose(h);
    return rc;
  }
  df_plugins[df_nplugins].desc = desc;
  df_plugins[df_nplugins].handle = h;
  snprintf(df_plugins[df_nplugins].path, sizeof(df_plugins[df_nplugins].path), "%s", real);
  df_nplugins++;
  df_log_info("plugin %s %s loaded from %s%s%s", desc->name, desc->version ? desc->version : "",
              real, df_plugin_desc_transport(desc) != NULL ? "; transport " : "",
              df_plugin_desc_transport(desc) != NULL ? df_plugin_desc_transport(desc)->scheme : "");
  return 0;
}

int
df_plugin_load_file(const char *file, char *err, size_t errlen)
{
  char real[PATH_MAX];
  int rc;

  if (realpath(file, real) == NULL) {
    snprintf(err, errlen, "plugin %s: no such file", file);
    return DF_ENOENT;
  }
  for (size_t i = 0; i < df_nplugins; i++)
    if (strcmp(df_plugins[i].path, real) == 0) return 0;
  rc = df_plugin_load_real(file, real, err, errlen);
  if (rc != 0) df_plugin_refuse(real);
  return rc;
}

static int
df_plugin_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One folder: its *.so files in name order. */
int
df_plugin_load_dir(const char *dir, char *err, size_t errlen)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char *names[64];
  size_t n = 0;

  if (d == NULL) {
    char msg[PATH_MAX + 64];
    if (df_plugin_was_refused(dir)) return (int)df_nplugins; /* said so once */
    df_plugin_refuse(dir);
    snprintf(msg, sizeof(msg), "plugin folder %s cannot be read", dir);
    df_log_warn("%s", msg);
    if (err != NULL && errlen > 0 && err[0] == '\0') snprintf(err, errlen, "%s", msg);
    return (int)df_nplugins;
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
    char file[PATH_MAX], real[PATH_MAX], msg[1024];
    snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
    free(names[i]);
    if (realpath(file, real) != NULL && df_plugin_was_refused(real)) continue;
    if (df_plugin_load_file(file, msg, sizeof(msg)) != 0) {
      df_log_warn("%s", msg);
      if (err != NULL && errlen > 0 && err[0] == '\0') snprintf(err, errlen, "%s", msg);
    }
  }
  return (int)df_nplugins;
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

const char *
df_plugin_path_at(size_t i)
{
  return i < df_nplugins ? df_plugins[i].path : NULL;
}

const struct droidfix_transport *
df_plugin_transport_at(size_t i)
{
  return i < df_nplugins ? df_plugin_desc_transport(df_plugins[i].desc) : NULL;
}

void
df_plugin_register_all(lua_State *L)
{
  lua_createtable(L, 0, (int)df_nplugins);
  for (size_t i = 0; i < df_nplugins; i++) {
    lua_newtable(L);
    if (df_plugins[i].desc->functions != NULL) luaL_setfuncs(L, df_plugins[i].desc->functions, 0);
    lua_setfield(L, -2, df_plugins[i].desc->name);
  }
  lua_setfield(L, -2, "plugins");
}
