/* Device files, the public side (device_file.h): loading one into the
 * caller's lua_State and checking one. The work is done apart, one idea a
 * file:
 *   device_file_load.c      the private, capped state; extends; merging
 *   device_file_lex.c       enough of Lua's tokens to find fields...
 *   device_file_locator.c   ...and the lines they are written on
 *   device_file_path.c      field paths as messages spell them
 *   device_file_error.c     "FILE:LINE: FIELD: problem"
 *   device_file_schema.c    the schema, as a table of value descriptors
 *   device_file_validate.c  one check per kind of value, walking the schema
 *   device_file_model.c     what a merged model needs as a whole
 *   device_file_ids.c       listing the files under devices/
 *   device_file_match.c     matching a phone to a model */
#include "lua-api/device_file.h"

#include <stdio.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/device_file_load.h"
#include "lua-api/device_file_path.h"

struct df_copy {
  lua_State *P;
  const char *id;
};

static void
copy_value(lua_State *L, lua_State *P, int pidx, int depth)
{
  switch (lua_type(P, pidx)) {
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(P, pidx, &n);
    lua_pushlstring(L, s, n);
    break;
  }
  case LUA_TNUMBER:
    if (lua_isinteger(P, pidx))
      lua_pushinteger(L, lua_tointeger(P, pidx));
    else
      lua_pushnumber(L, lua_tonumber(P, pidx));
    break;
  case LUA_TBOOLEAN:
    lua_pushboolean(L, lua_toboolean(P, pidx));
    break;
  case LUA_TTABLE: {
    if (depth > DF_FIELD_DEPTH_MAX + 2 || !lua_checkstack(P, 4))
      luaL_error(L, "device file nested too deeply");
    luaL_checkstack(L, 4, "device file");
    lua_newtable(L);
    lua_pushnil(P);
    while (lua_next(P, pidx)) {
      int top = lua_gettop(P);
      copy_value(L, P, top - 1, depth + 1);
      copy_value(L, P, top, depth + 1);
      lua_rawset(L, -3);
      lua_pop(P, 1);
    }
    break;
  }
  default:
    lua_pushnil(L);
  }
}

static int
copy_entry(lua_State *L)
{
  struct df_copy *c = lua_touserdata(L, 1);
  lua_settop(L, 0);
  copy_value(L, c->P, lua_gettop(c->P), 0);
  lua_pushstring(L, c->id);
  lua_setfield(L, -2, "id");
  return 1;
}

int
df_device_file_load(lua_State *L, const char *devices_dir, const char *id, char *err,
                    size_t errlen)
{
  struct df_device_load ld;
  int rc = df_device_load_run(&ld, devices_dir, id, err, errlen);
  if (rc == 0) {
    struct df_copy c = {ld.P, id};
    if (!lua_checkstack(L, 3)) {
      rc = DF_ENOMEM;
    } else {
      lua_pushcfunction(L, copy_entry);
      lua_pushlightuserdata(L, &c);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        if (err && errlen)
          snprintf(err, errlen, "%s: cannot copy the device table: %s", id,
                   lua_tostring(L, -1));
        lua_pop(L, 1);
        rc = DF_ENOMEM;
      }
    }
  }
  df_device_load_free(&ld);
  return rc;
}

int
df_device_file_check(const char *devices_dir, const char *id, char *err, size_t errlen)
{
  struct df_device_load ld;
  int rc = df_device_load_run(&ld, devices_dir, id, err, errlen);
  df_device_load_free(&ld);
  return rc;
}
