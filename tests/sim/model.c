/* Device files: devices/<vendor>/<model>.lua, Lua data loaded in an empty
 * environment, with `extends = "vendor/common"` merged under the model's own
 * keys. The sim reads what makes a phone of that model: identity, properties,
 * button combinations, vendor packages and flashing facts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

int
df_sim_lua_load_data(lua_State *L, const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return errno == ENOENT ? DF_ENOENT : DF_EIO;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      cap *= 2;
      buf = df_sim_xrealloc(buf, cap);
    }
  }
  fclose(f);
  if (buf == NULL) {
    return DF_ENOMEM;
  }
  char chunk[PATH_MAX + 1];
  snprintf(chunk, sizeof(chunk), "@%s", path);
  /* Text only, and an empty _ENV: a data file cannot call anything. */
  int r = luaL_loadbufferx(L, buf, len, chunk, "t");
  free(buf);
  if (r != LUA_OK) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return DF_EINVAL;
  }
  lua_newtable(L);
  lua_setupvalue(L, -2, 1);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return DF_EINVAL;
  }
  if (!lua_istable(L, -1)) {
    snprintf(err, errlen, "%s does not return a table", path);
    lua_pop(L, 1);
    return DF_EINVAL;
  }
  return 0;
}

static bool
is_array(lua_State *L, int idx)
{
  return lua_rawlen(L, idx) > 0;
}

/* Copies every key of the table at src into the table at dst; tables that
 * are maps on both sides merge, anything else replaces. */
static void
merge_into(lua_State *L, int dst, int src)
{
  dst = lua_absindex(L, dst);
  src = lua_absindex(L, src);
  lua_pushnil(L);
  while (lua_next(L, src)) {
    /* key -2, value -1 */
    if (lua_istable(L, -1) && !is_array(L, -1)) {
      lua_pushvalue(L, -2);
      lua_rawget(L, dst);
      if (lua_istable(L, -1) && !is_array(L, -1)) {
        merge_into(L, -1, -2);
        lua_pop(L, 2);
        continue;
      }
      lua_pop(L, 1);
    }
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, dst);
    lua_pop(L, 1);
  }
}

static int
load_with_extends(lua_State *L, const char *devices_dir, const char *id, int depth, char *err,
                  size_t errlen)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s.lua", devices_dir, id);
  int r = df_sim_lua_load_data(L, path, err, errlen);
  if (r < 0) {
    return r;
  }
  lua_getfield(L, -1, "extends");
  if (lua_type(L, -1) == LUA_TSTRING && depth < 4) {
    char base[256];
    snprintf(base, sizeof(base), "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    r = load_with_extends(L, devices_dir, base, depth + 1, err, errlen);
    if (r < 0) {
      lua_pop(L, 1);
      return r;
    }
    /* stack: model, base -> base merged with model on top */
    merge_into(L, -1, -2);
    lua_remove(L, -2);
    return 0;
  }
  lua_pop(L, 1);
  return 0;
}

static char *
field_str(lua_State *L, int t, const char *key)
{
  lua_getfield(L, t, key);
  char *s = NULL;
  if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    s = df_sim_strdup(lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  return s;
}

static void
read_map(lua_State *L, int t, const char *key, struct df_sim_kvs *out, bool keys_only)
{
  lua_getfield(L, t, key);
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        const char *v = "1";
        if (!keys_only && (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
          v = lua_tostring(L, -1);
        }
        if (keys_only || lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
          df_sim_kvs_set(out, lua_tostring(L, -2), v);
        }
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static void
read_flashing(lua_State *L, int t, struct df_sim_model *m)
{
  lua_getfield(L, t, "flashing");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  int f = lua_gettop(L);
  lua_getfield(L, f, "ab");
  m->ab = lua_toboolean(L, -1);
  lua_getfield(L, f, "dynamic_partitions");
  m->dynamic = lua_toboolean(L, -1);
  lua_getfield(L, f, "anti_rollback");
  m->anti_rollback = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : -1;
  lua_getfield(L, f, "max_download_size");
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
    m->max_download_size = (uint64_t)lua_tointeger(L, -1);
  }
  lua_getfield(L, f, "fastbootd_max_download_size");
  if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
    m->fastbootd_max_download_size = (uint64_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 5);
  free(m->super_name);
  m->super_name = field_str(L, f, "super_partition");
  lua_getfield(L, f, "partitions");
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    free(m->parts);
    m->parts = calloc((size_t)n + 1, sizeof(*m->parts));
    m->nparts = 0;
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      if (lua_istable(L, -1)) {
        struct df_sim_partition *p = &m->parts[m->nparts];
        lua_getfield(L, -1, "name");
        const char *name = lua_tostring(L, -1);
        if (name && strlen(name) < sizeof(p->name)) {
          snprintf(p->name, sizeof(p->name), "%s", name);
          lua_getfield(L, -2, "size");
          p->size = lua_isinteger(L, -1) ? (uint64_t)lua_tointeger(L, -1) : 0;
          lua_getfield(L, -3, "slot");
          p->has_slot = lua_toboolean(L, -1);
          lua_getfield(L, -4, "logical");
          p->logical = lua_toboolean(L, -1);
          lua_pop(L, 3);
          m->nparts++;
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
}

static int
model_from_table(lua_State *L, const char *id, struct df_sim_model *m, char *err, size_t errlen)
{
  int t = lua_gettop(L);
  m->id = df_sim_strdup(id);
  m->vendor = field_str(L, t, "vendor");
  if (m->vendor == NULL) {
    const char *slash = strchr(id, '/');
    m->vendor = df_sim_strndup(id, slash ? (size_t)(slash - id) : strlen(id));
  }
  m->name = field_str(L, t, "name");
  if (m->name == NULL) {
    m->name = df_sim_strdup(id);
  }
  lua_getfield(L, t, "codenames");
  if (lua_istable(L, -1)) {
    lua_rawgeti(L, -1, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      m->codename = df_sim_strdup(lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  read_map(L, t, "properties", &m->props, false);
  if (m->codename == NULL) {
    m->codename = df_sim_strdup(df_sim_kvs_get(&m->props, "ro.product.device"));
  }
  if (m->codename == NULL) {
    snprintf(err, errlen, "device file %s names no codename (codenames = {...})", id);
    return DF_EINVAL;
  }
  read_map(L, t, "modes", &m->modes, true);
  read_map(L, t, "packages", &m->packages, false);
  m->anti_rollback = -1;
  m->max_download_size = 0x20000000u;
  m->fastbootd_max_download_size = 0x10000000u; /* AOSP fastbootd */
  read_flashing(L, t, m);
  return 0;
}

int
df_sim_model_load(const char *devices_dir, const char *sim_dir, const char *id,
                  struct df_sim_model *model, char *err, size_t errlen)
{
  memset(model, 0, sizeof(*model));
  if (strstr(id, "..") || id[0] == '/' || strchr(id, '/') == NULL) {
    snprintf(err, errlen, "bad model '%s': give VENDOR/MODEL, a file of devices/ without .lua",
             id);
    return DF_EINVAL;
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    return DF_ENOMEM;
  }
  int r = load_with_extends(L, devices_dir, id, 0, err, errlen);
  if (r == DF_ENOENT) {
    /* No device file (yet): the sim's own description of the model. */
    char path[PATH_MAX], err2[512];
    snprintf(path, sizeof(path), "%s/phone_default.lua", sim_dir);
    r = df_sim_lua_load_data(L, path, err2, sizeof(err2));
    if (r == 0) {
      lua_getfield(L, -1, "fallback_models");
      if (lua_istable(L, -1)) {
        lua_getfield(L, -1, id);
      } else {
        lua_pushnil(L);
      }
      if (lua_istable(L, -1)) {
        model->from_fallback = true;
        r = 0;
      } else {
        snprintf(err, errlen, "no device file %s/%s.lua: pick a model from %s", devices_dir, id,
                 devices_dir);
        r = DF_ENOENT;
      }
    } else {
      snprintf(err, errlen, "%s", err2);
    }
  }
  if (r == 0) {
    r = model_from_table(L, id, model, err, errlen);
  }
  lua_close(L);
  if (r < 0) {
    df_sim_model_free(model);
  }
  return r;
}

void
df_sim_model_free(struct df_sim_model *m)
{
  free(m->id);
  free(m->vendor);
  free(m->name);
  free(m->codename);
  free(m->super_name);
  free(m->parts);
  df_sim_kvs_free(&m->props);
  df_sim_kvs_free(&m->modes);
  df_sim_kvs_free(&m->packages);
  memset(m, 0, sizeof(*m));
}

bool
df_sim_model_has_mode(const struct df_sim_model *model, const char *mode)
{
  return df_sim_kvs_get(&model->modes, mode) != NULL;
}
