/* The df.Device userdata: its metatable (fields serial/mode/transport,
 * methods from df_device_*.c, __gc/__close/__tostring), the check and
 * push functions, and the rule for local paths a recipe may touch. */
#include "lua-api/df_device.h"

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/df_module.h"

static void
df_lua_device_close(struct df_lua_device *d)
{
  if (d->sync != NULL) df_adb_sync_close(d->sync);
  d->sync = NULL;
  if (d->dev != NULL) df_device_close(d->dev);
  d->dev = NULL;
  for (size_t i = 0; i < d->nallowed; i++) free(d->allowed[i]);
  d->nallowed = 0;
}

static int
df_lua_device_gc(lua_State *L)
{
  struct df_lua_device *d = luaL_checkudata(L, 1, DF_LUA_DEVICE_MT);
  /* An operation under way holds the device on its task's stack, so the
   * userdata cannot be collected during one; __close from a recipe's
   * `local x <close>` while busy would pull the session from under it. */
  if (!d->busy) df_lua_device_close(d);
  return 0;
}

static int
df_lua_device_tostring(lua_State *L)
{
  struct df_lua_device *d = luaL_checkudata(L, 1, DF_LUA_DEVICE_MT);
  lua_pushfstring(L, "df.Device(%s, %s)", d->serial, df_device_mode_name(d->mode));
  return 1;
}

static int
df_lua_device_index(lua_State *L)
{
  struct df_lua_device *d = luaL_checkudata(L, 1, DF_LUA_DEVICE_MT);
  const char *key = luaL_checkstring(L, 2);

  if (strcmp(key, "serial") == 0) {
    lua_pushstring(L, d->serial);
  } else if (strcmp(key, "mode") == 0) {
    lua_pushstring(L, df_device_mode_name(d->mode));
  } else if (strcmp(key, "transport") == 0) {
    lua_pushstring(L, d->transport);
  } else {
    lua_getiuservalue(L, 1, 1); /* the methods table */
    lua_getfield(L, -1, key);
    if (lua_isnil(L, -1)) return luaL_error(L, "df.Device has no field '%s'", key);
  }
  return 1;
}

static int
df_lua_device_newindex(lua_State *L)
{
  return luaL_error(L, "df.Device is read-only");
}

static const luaL_Reg df_lua_device_meta[] = {
  {"__gc", df_lua_device_gc},
  {"__close", df_lua_device_gc},
  {"__tostring", df_lua_device_tostring},
  {"__index", df_lua_device_index},
  {"__newindex", df_lua_device_newindex},
  {NULL, NULL},
};

static int
df_lua_device_push_protected(lua_State *L)
{
  struct df_lua_device *d;

  d = lua_newuserdatauv(L, sizeof(*d), 1);
  memset(d, 0, sizeof(*d));
  /* methods: a fresh table per device, so a recipe changing one (it
   * cannot: the table is reached only through __index) touches nothing
   * shared */
  lua_newtable(L);
  df_device_shell_methods(L);
  df_device_files_methods(L);
  df_device_fastboot_methods(L);
  df_device_flash_entry_methods(L);
  df_device_wait_methods(L);
  lua_setiuservalue(L, -2, 1);
  if (luaL_newmetatable(L, DF_LUA_DEVICE_MT)) {
    luaL_setfuncs(L, df_lua_device_meta, 0);
    lua_pushliteral(L, "df.Device");
    lua_setfield(L, -2, "__metatable"); /* getmetatable cannot reach it */
  }
  lua_setmetatable(L, -2);
  return 1;
}

void
df_lua_device_push(lua_State *L, struct df_device *dev, const struct df_lua_device_env *env)
{
  struct df_lua_device *d;

  lua_pushcfunction(L, df_lua_device_push_protected);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
    df_device_close(dev);
    lua_error(L);
  }
  d = lua_touserdata(L, -1);
  d->env = *env;
  d->dev = dev;
  snprintf(d->serial, sizeof(d->serial), "%s", dev->serial);
  snprintf(d->transport, sizeof(d->transport), "%s", dev->transport);
  d->mode = dev->mode;
}

void
df_lua_device_replace(struct df_lua_device *d, struct df_device *dev)
{
  if (d->sync != NULL) df_adb_sync_close(d->sync);
  d->sync = NULL;
  d->sync_broken = false;
  if (d->dev != NULL && d->dev != dev) df_device_close(d->dev);
  d->dev = dev;
  if (dev != NULL) {
    d->mode = dev->mode;
    snprintf(d->transport, sizeof(d->transport), "%s", dev->transport);
  }
}

struct df_lua_device *
df_lua_device_check(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, DF_LUA_DEVICE_MT);
}

struct df_device *
df_lua_device_live(lua_State *L, struct df_lua_device *d, const char *what)
{
  if (d->busy) luaL_error(L, "%s: the phone is busy with another call", what);
  if (d->dev == NULL)
    luaL_error(L, "%s: the phone %s is away (rebooting?): call dev:wait_for first", what,
               d->serial);
  return d->dev;
}

/* The real path of path, or of its folder plus its last name when the file
 * does not exist (for_write). Returns 0 or an errno. */
static int
df_lua_device_real(const char *path, bool for_write, char *out)
{
  char copy[PATH_MAX], dirbuf[PATH_MAX], *dir, *base;

  if (realpath(path, out) != NULL) return 0;
  if (!for_write || errno != ENOENT) return errno;
  if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) return ENAMETOOLONG;
  dir = dirname(copy);
  if (realpath(dir, dirbuf) == NULL) return errno;
  snprintf(copy, sizeof(copy), "%s", path);
  base = basename(copy);
  if (strcmp(base, "..") == 0 || strcmp(base, ".") == 0) return EINVAL;
  if (snprintf(out, PATH_MAX, "%s/%s", dirbuf, base) >= PATH_MAX) return ENAMETOOLONG;
  return 0;
}

static bool
df_lua_device_under(const char *path, const char *root)
{
  size_t n = strlen(root);
  return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/' ||
                                         (n > 0 && root[n - 1] == '/'));
}

int
df_lua_device_allow_path(struct df_lua_device *d, const char *path)
{
  char real[PATH_MAX];

  if (d->nallowed >= DF_LUA_DEVICE_MAX_ALLOWED) return DF_ENOSPC;
  if (df_lua_device_real(path, true, real) != 0) snprintf(real, sizeof(real), "%s", path);
  d->allowed[d->nallowed] = strdup(real);
  if (d->allowed[d->nallowed] == NULL) return DF_ENOMEM;
  d->nallowed++;
  return 0;
}

void
df_lua_device_check_local(lua_State *L, struct df_lua_device *d, int arg, const char *path,
                          bool for_write)
{
  char real[PATH_MAX], root[PATH_MAX];
  int e = df_lua_device_real(path, for_write, real);

  if (e != 0) {
    if (!for_write && e == ENOENT) return; /* the operation reports ENOENT */
    luaL_argerror(L, arg, lua_pushfstring(L, "local path '%s': %s", path, strerror(e)));
  }
  if (d->env.workdir != NULL && realpath(d->env.workdir, root) != NULL &&
      df_lua_device_under(real, root))
    return;
  for (size_t i = 0; i < d->nallowed; i++)
    if (df_lua_device_under(real, d->allowed[i])) return;
  luaL_argerror(L, arg,
                lua_pushfstring(L, "local path '%s' is outside the run's work folder (ctx.workdir)"
                                   " and no \"path\" parameter names it",
                                path));
}

bool
df_device_mode_serves(const char *device_mode, const char *recipe_mode)
{
  if (strcmp(device_mode, recipe_mode) == 0) return true;
  /* these are states of a phone that ADB sees as "system" */
  return strcmp(device_mode, "system") == 0 &&
         (strcmp(recipe_mode, "safe-mode") == 0 || strcmp(recipe_mode, "factory-mode") == 0 ||
          strcmp(recipe_mode, "bootloop") == 0);
}

void
df_device_emit_waiting(lua_State *L, const struct df_wait_info *w)
{
  void *ud;
  const struct df_host_callbacks *h = df_module_host(L, &ud);

  if (h->waiting != NULL)
    h->waiting(ud, w);
  else if (h->say != NULL && w->message != NULL)
    h->say(ud, w->message);
}
