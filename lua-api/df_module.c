/* The df table and its host: where df functions find the run they belong
 * to; the device part is in df_device*.c, files in df_files.c. */
#include "lua-api/df_module.h"

#include <lauxlib.h>

#include "core/log.h"
#include "lua-api/df_backup.h"
#include "lua-api/df_device.h"

static const char df_module_host_key = 'h';

struct df_module_host {
  const struct df_host_callbacks *cbs;
  void *ud;
};

static void
df_module_default_say(void *ud, const char *text)
{
  (void)ud;
  df_log_info("%s", text);
}

static void
df_module_default_log(void *ud, enum df_log_level level, const char *text)
{
  (void)ud;
  df_log(level, "recipe: %s", text);
}

static const struct df_host_callbacks df_module_default_host = {
  .say = df_module_default_say,
  .step = df_module_default_say,
  .log = df_module_default_log,
};

void
df_module_set_host(lua_State *L, const struct df_host_callbacks *cbs, void *ud)
{
  struct df_module_host *h;

  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &df_module_host_key) == LUA_TNIL) {
    lua_pop(L, 1);
    h = lua_newuserdatauv(L, sizeof(*h), 0);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &df_module_host_key);
  } else {
    h = lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
  h->cbs = cbs;
  h->ud = ud;
}

const struct df_host_callbacks *
df_module_host(lua_State *L, void **ud)
{
  struct df_module_host *h;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &df_module_host_key);
  h = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (h == NULL || h->cbs == NULL) {
    *ud = NULL;
    return &df_module_default_host;
  }
  *ud = h->ud;
  return h->cbs;
}

const char *
df_module_format(lua_State *L, int first)
{
  int top = lua_gettop(L);
  int i;

  if (top - first + 1 <= 1) return luaL_tolstring(L, first, NULL);
  /* The real string.format from the host's globals: recipes cannot reach
   * or change it. */
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_getfield(L, -1, "string");
  lua_getfield(L, -1, "format");
  lua_remove(L, -2);
  lua_remove(L, -2);
  luaL_checkstring(L, first);
  for (i = first; i <= top; i++) lua_pushvalue(L, i);
  lua_call(L, top - first + 1, 1);
  return lua_tostring(L, -1);
}

void
df_module_push(lua_State *L)
{
  lua_newtable(L);
  lua_pushliteral(L, DF_MODULE_VERSION);
  lua_setfield(L, -2, "version");
  df_ui_register(L);
  df_sleep_register(L);
  df_device_register(L);
  df_files_register(L);
  df_backup_register(L);
  df_plugin_register_all(L);
}
