/* What a device file means as a whole once extends is merged: a model has
 * every field it needs, matches itself and sits in its vendor's folder;
 * its modes say where they start, how and whether verified; its flashing
 * facts agree with each other. A vendor base (abstract) is only held to
 * the last two. */
#include "lua-api/device_file_schema.h"

#include <string.h>

static int
require_field(struct df_device_load *ld, struct df_field_path *p, int idx, const char *key,
              const char *why)
{
  lua_State *P = ld->P;
  int t = lua_getfield(P, idx, key);
  lua_pop(P, 1);
  if (t != LUA_TNIL)
    return 0;
  df_field_path_push_key(p, key);
  df_device_fail(ld, p, "missing: %s", why);
  df_field_path_pop(p);
  return -1;
}

/* The fields of record the schema says a model needs. */
static int
require_fields(struct df_device_load *ld, struct df_field_path *p, int idx,
               const struct df_value_type *record)
{
  for (const struct df_field *f = record->fields; f->key; f++)
    if (f->model_needs && require_field(ld, p, idx, f->key, f->model_needs) != 0)
      return -1;
  return 0;
}

bool
df_device_lists(lua_State *P, int t, const char *key, const char *s)
{
  if (lua_getfield(P, t, key) != LUA_TTABLE) {
    lua_pop(P, 1);
    return true;
  }
  bool found = false;
  size_t n = (size_t)lua_rawlen(P, -1);
  for (size_t i = 1; i <= n && !found; i++) {
    lua_rawgeti(P, -1, (lua_Integer)i);
    found = lua_type(P, -1) == LUA_TSTRING && strcmp(lua_tostring(P, -1), s) == 0;
    lua_pop(P, 1);
  }
  lua_pop(P, 1);
  return found;
}

static int
check_merged_modes(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  lua_State *P = ld->P;
  if (lua_getfield(P, idx, "modes") != LUA_TTABLE) {
    lua_pop(P, 1);
    return 0;
  }
  int m = lua_gettop(P);
  df_field_path_push_key(p, "modes");
  int rc = 0;
  for (const struct df_field *f = df_schema_modes.fields; f->key && rc == 0; f++) {
    if (lua_getfield(P, m, f->key) == LUA_TTABLE) {
      df_field_path_push_key(p, f->key);
      rc = require_fields(ld, p, lua_gettop(P), f->type);
      df_field_path_pop(p);
    }
    lua_pop(P, 1);
  }
  df_field_path_pop(p);
  lua_pop(P, 1);
  return rc;
}

static int
check_merged_flashing(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  lua_State *P = ld->P;
  if (lua_getfield(P, idx, "flashing") != LUA_TTABLE) {
    lua_pop(P, 1);
    return 0;
  }
  int f = lua_gettop(P);
  int rc = 0;
  df_field_path_push_key(p, "flashing");
  int ab_t = lua_getfield(P, f, "ab");
  int ab = ab_t == LUA_TBOOLEAN ? lua_toboolean(P, -1) : -1;
  int dyn_t = lua_getfield(P, f, "dynamic_partitions");
  int dyn = dyn_t == LUA_TBOOLEAN ? lua_toboolean(P, -1) : -1;
  lua_getfield(P, f, "super_partition");
  const char *super = lua_tostring(P, -1);
  bool fbd = lua_getfield(P, f, "fastbootd_max_download_size") != LUA_TNIL;
  lua_pop(P, 1);
  int top = lua_gettop(P); /* ab, dyn, super stay on the stack */

  if (super && dyn == 0) {
    df_field_path_push_key(p, "super_partition");
    rc = df_device_fail(ld, p,
                        "set, but dynamic_partitions is false; remove it or set "
                        "dynamic_partitions = true");
    df_field_path_pop(p);
  } else if (dyn == 1 && !super) {
    df_field_path_push_key(p, "dynamic_partitions");
    rc = df_device_fail(ld, p,
                        "true, but super_partition is missing; add super_partition = \"super\"");
    df_field_path_pop(p);
  } else if (fbd && dyn == 0) {
    df_field_path_push_key(p, "fastbootd_max_download_size");
    rc = df_device_fail(ld, p,
                        "fastbootd exists only with dynamic partitions (dynamic_partitions is "
                        "false)");
    df_field_path_pop(p);
  }

  if (rc == 0 && lua_getfield(P, f, "partitions") == LUA_TTABLE) {
    int parts = lua_gettop(P);
    df_field_path_push_key(p, "partitions");
    size_t n = (size_t)lua_rawlen(P, parts);
    long long logical_sum = 0, super_size = -1;
    for (size_t i = 1; i <= n && rc == 0; i++) {
      lua_rawgeti(P, parts, (lua_Integer)i);
      int e = lua_gettop(P);
      lua_getfield(P, e, "name");
      lua_getfield(P, e, "size");
      bool slot = lua_getfield(P, e, "slot") == LUA_TBOOLEAN && lua_toboolean(P, -1);
      bool logical = lua_getfield(P, e, "logical") == LUA_TBOOLEAN && lua_toboolean(P, -1);
      const char *name = lua_tostring(P, e + 1);
      long long size = (long long)lua_tointeger(P, e + 2);
      df_field_path_push_index(p, (long long)i);
      if (slot && ab == 0) {
        df_field_path_push_key(p, "slot");
        rc = df_device_fail(ld, p, "slot = true on a phone with ab = false");
        df_field_path_pop(p);
      } else if (logical && dyn != 1) {
        df_field_path_push_key(p, "logical");
        rc = df_device_fail(ld, p, "logical = true needs dynamic_partitions = true");
        df_field_path_pop(p);
      } else if (super && name && strcmp(name, super) == 0) {
        if (logical || slot) {
          rc = df_device_fail(ld, p, "the super partition '%s' is neither logical nor slotted",
                              super);
        }
        super_size = size;
      }
      if (logical)
        logical_sum += size;
      df_field_path_pop(p);
      lua_pop(P, 5);
    }
    if (rc == 0 && dyn == 1 && super && super_size < 0)
      rc = df_device_fail(ld, p,
                          "super_partition is '%s' but no partition of that name is listed; add "
                          "{ name = \"%s\", size = N }",
                          super, super);
    if (rc == 0 && super_size >= 0 && logical_sum > super_size)
      rc = df_device_fail(ld, p, "the logical partitions take %lld bytes, more than super's %lld",
                          logical_sum, super_size);
    df_field_path_pop(p);
  }
  lua_settop(P, top);
  lua_pop(P, 4); /* flashing, ab, dyn, super */
  df_field_path_pop(p);
  return rc;
}

static const char *const REQUIRED_PROPERTIES[] = {
  "ro.product.device", "ro.product.model", "ro.product.name", "ro.product.manufacturer",
  "ro.product.brand", "ro.build.version.release", "ro.build.version.sdk",
  "ro.build.fingerprint", NULL};

/* The properties the simulated phone and the matcher need, an API level
 * that is a number, and a match rule the model's own properties pass. */
static int
check_model_properties(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  lua_State *P = ld->P;
  lua_getfield(P, idx, "properties");
  int props = lua_gettop(P);
  df_field_path_push_key(p, "properties");
  for (int i = 0; REQUIRED_PROPERTIES[i]; i++)
    if (require_field(ld, p, props, REQUIRED_PROPERTIES[i],
                      "the simulated phone and the matcher need it") != 0)
      return -1;
  lua_getfield(P, props, "ro.build.version.sdk");
  const char *sdk = lua_tostring(P, -1);
  if (!sdk[0] || !df_schema_chars_ok(sdk, NULL, false)) {
    df_field_path_push_key(p, "ro.build.version.sdk");
    return df_device_fail(ld, p, "'%s' is not an API level (digits, e.g. \"34\")", sdk);
  }
  lua_pop(P, 1);
  lua_getfield(P, idx, "match");
  int match = lua_gettop(P);
  static const char *const self_match[] = {"ro.product.device", "ro.product.model", NULL};
  for (int i = 0; self_match[i]; i++) {
    lua_getfield(P, props, self_match[i]);
    const char *v = lua_tostring(P, -1);
    if (!df_device_lists(P, match, self_match[i], v)) {
      df_field_path_push_key(p, self_match[i]);
      return df_device_fail(ld, p, "'%s' is not in match[\"%s\"]: the model would not match itself",
                            v, self_match[i]);
    }
    lua_pop(P, 1);
  }
  lua_pop(P, 2);
  df_field_path_pop(p);
  return 0;
}

/* A model in a vendor's folder belongs to that vendor. */
static int
check_model_vendor(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  lua_State *P = ld->P;
  const char *slash = strchr(ld->root_id, '/');
  if (!slash)
    return 0;
  lua_getfield(P, idx, "vendor");
  const char *vendor = lua_tostring(P, -1);
  size_t vlen = (size_t)(slash - ld->root_id);
  lua_pop(P, 1); /* the merged table keeps the string */
  if (strlen(vendor) != vlen || memcmp(vendor, ld->root_id, vlen) != 0) {
    df_field_path_push_key(p, "vendor");
    return df_device_fail(ld, p, "'%s' differs from the folder '%.*s' this file is in", vendor,
                          (int)vlen, ld->root_id);
  }
  return 0;
}

/* The fields a record in the merged table needs. */
static int
require_in(struct df_device_load *ld, struct df_field_path *p, int idx, const char *key,
           const struct df_value_type *record)
{
  lua_getfield(ld->P, idx, key);
  df_field_path_push_key(p, key);
  int rc = require_fields(ld, p, lua_gettop(ld->P), record);
  df_field_path_pop(p);
  lua_pop(ld->P, 1);
  return rc;
}

int
df_schema_check_model(struct df_device_load *ld, int idx)
{
  struct df_field_path p;
  df_field_path_init(&p);
  if (!ld->abstract &&
      (require_fields(ld, &p, idx, &df_schema_file) != 0 ||
       require_in(ld, &p, idx, "soc", &df_schema_soc) != 0 ||
       check_model_properties(ld, &p, idx) != 0 ||
       require_in(ld, &p, idx, "flashing", &df_schema_flashing) != 0 ||
       check_model_vendor(ld, &p, idx) != 0))
    return -1;
  if (check_merged_modes(ld, &p, idx) != 0 || check_merged_flashing(ld, &p, idx) != 0)
    return -1;
  return 0;
}
