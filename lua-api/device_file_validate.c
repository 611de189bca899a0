/* Validating a device file's values against the schema's descriptors
 * (device_file_schema.h): one function per kind of value, each naming the
 * field and what was expected. */
#include "lua-api/device_file_schema.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

bool
df_lua_is_list(lua_State *P, int idx)
{
  lua_Integer count = 0, max = 0;
  bool ok = true;
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    lua_pop(P, 1);
    if (!lua_isinteger(P, -1) || lua_tointeger(P, -1) < 1) {
      ok = false;
    } else {
      count++;
      if (lua_tointeger(P, -1) > max)
        max = lua_tointeger(P, -1);
    }
  }
  return ok && count == max;
}

int
df_schema_name_index(const char *const *names, const char *s)
{
  for (int i = 0; names[i]; i++)
    if (strcmp(names[i], s) == 0)
      return i;
  return -1;
}

/* "a, b, c" from names, or from the keys of fields. */
static void
join_names(const char *const *names, const struct df_field *fields, char *out, size_t outlen)
{
  size_t k = 0;
  out[0] = '\0';
  for (int i = 0; names ? names[i] != NULL : fields[i].key != NULL; i++) {
    int n = snprintf(out + k, outlen - k, "%s%s", i ? ", " : "", names ? names[i] : fields[i].key);
    if (n < 0 || (size_t)n >= outlen - k)
      break;
    k += (size_t)n;
  }
}

static const struct df_field *
field_named(const struct df_field *fields, const char *key)
{
  for (; fields->key; fields++)
    if (strcmp(fields->key, key) == 0)
      return fields;
  return NULL;
}

static int
check_string(struct df_device_load *ld, struct df_field_path *p, int idx, size_t maxlen,
             const char *what)
{
  if (lua_type(ld->P, idx) != LUA_TSTRING)
    return df_device_fail_type(ld, p, idx, what);
  size_t n;
  lua_tolstring(ld->P, idx, &n);
  if (n == 0)
    return df_device_fail(ld, p, "must not be empty (expected %s)", what);
  if (n > maxlen)
    return df_device_fail(ld, p, "is %zu characters long; at most %zu", n, maxlen);
  return 0;
}

static int
check_enum(struct df_device_load *ld, struct df_field_path *p, int idx, const char *const *allowed,
           const char *what)
{
  char list[256];
  join_names(allowed, NULL, list, sizeof(list));
  if (lua_type(ld->P, idx) != LUA_TSTRING) {
    char expected[320];
    snprintf(expected, sizeof(expected), "%s (one of: %s)", what, list);
    return df_device_fail_type(ld, p, idx, expected);
  }
  if (df_schema_name_index(allowed, lua_tostring(ld->P, idx)) < 0)
    return df_device_fail(ld, p, "'%s' is not a valid %s; use one of: %s",
                          lua_tostring(ld->P, idx), what, list);
  return 0;
}

static int
check_bool(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  if (lua_type(ld->P, idx) != LUA_TBOOLEAN)
    return df_device_fail_type(ld, p, idx, "true or false");
  return 0;
}

static int
check_integer(struct df_device_load *ld, struct df_field_path *p, int idx, long long lo,
              long long hi, const char *what)
{
  if (!lua_isinteger(ld->P, idx))
    return df_device_fail_type(ld, p, idx, what);
  long long v = (long long)lua_tointeger(ld->P, idx);
  if (v < lo || v > hi)
    return df_device_fail(ld, p, "%lld is out of range: expected %s from %lld to %lld", v, what,
                          lo, hi);
  return 0;
}

/* Every key of the table at idx is a name, and one of fields' when given. */
static int
check_keys(struct df_device_load *ld, struct df_field_path *p, int idx,
           const struct df_field *fields, const char *what)
{
  lua_State *P = ld->P;
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    lua_pop(P, 1);
    if (lua_type(P, -1) != LUA_TSTRING) {
      df_field_path_push_index(p, (long long)lua_tointeger(P, -1));
      df_device_fail(ld, p, "%s holds named fields (key = value), not list items", what);
      df_field_path_pop(p);
      lua_pop(P, 1);
      return -1;
    }
    const char *k = lua_tostring(P, -1);
    if (fields && !field_named(fields, k)) {
      char list[512];
      join_names(NULL, fields, list, sizeof(list));
      df_field_path_push_key(p, k);
      df_device_fail(ld, p, "unknown key in %s; allowed keys: %s", what, list);
      df_field_path_pop(p);
      lua_pop(P, 1);
      return -1;
    }
  }
  return 0;
}

static int
check_table(struct df_device_load *ld, struct df_field_path *p, int idx, bool list,
            const char *what)
{
  lua_State *P = ld->P;
  if (lua_type(P, idx) != LUA_TTABLE) {
    char expected[160];
    snprintf(expected, sizeof(expected), "%s %s", list ? "a list" : "a table", what);
    return df_device_fail_type(ld, p, idx, expected);
  }
  if (list && !df_lua_is_list(P, idx)) {
    lua_pushnil(P);
    while (lua_next(P, idx)) {
      lua_pop(P, 1);
      if (!lua_isinteger(P, -1) || lua_tointeger(P, -1) < 1) {
        if (lua_type(P, -1) == LUA_TSTRING)
          df_field_path_push_key(p, lua_tostring(P, -1));
        else
          df_field_path_push_index(p, (long long)lua_tointeger(P, -1));
        df_device_fail(ld, p, "%s is a list { ... } of items, not named fields", what);
        df_field_path_pop(p);
        lua_pop(P, 1);
        return -1;
      }
    }
    return df_device_fail(ld, p, "%s is a list with holes; write its items one after another",
                          what);
  }
  return 0;
}

/* Validates the value on the top of the stack, its path segment pushed by
 * the caller; pops both. */
static int
validate_child(struct df_device_load *ld, struct df_field_path *p, const struct df_value_type *t)
{
  int rc = df_schema_validate(ld, p, lua_gettop(ld->P), t);
  df_field_path_pop(p);
  lua_pop(ld->P, 1);
  return rc;
}

static int
check_list(struct df_device_load *ld, struct df_field_path *p, int idx,
           const struct df_value_type *t)
{
  lua_State *P = ld->P;
  size_t min_items = (size_t)t->min, max_items = (size_t)t->max;
  if (check_table(ld, p, idx, true, t->what) != 0)
    return -1;
  size_t n = (size_t)lua_rawlen(P, idx);
  if (n < min_items)
    return df_device_fail(ld, p, "%s needs at least %zu item%s", t->what, min_items,
                          min_items == 1 ? "" : "s");
  if (n > max_items)
    return df_device_fail(ld, p, "%s has %zu items; at most %zu", t->what, n, max_items);
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(P, idx, (lua_Integer)i);
    df_field_path_push_index(p, (long long)i);
    if (validate_child(ld, p, t->item) != 0)
      return -1;
  }
  return 0;
}

/* A record's fields in order: whether each is there as it must be, then
 * its value. With missing_first, every absent field is reported before
 * any value is checked. */
static int
check_record(struct df_device_load *ld, struct df_field_path *p, int idx,
             const struct df_value_type *t)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, t->what) != 0 ||
      check_keys(ld, p, idx, t->fields, t->name) != 0)
    return -1;
  for (const struct df_field *f = t->fields; t->missing_first && f->key; f++) {
    bool absent = lua_getfield(P, idx, f->key) == LUA_TNIL;
    lua_pop(P, 1);
    if (absent && f->missing)
      return df_device_fail(ld, p, "%s", f->missing);
  }
  for (const struct df_field *f = t->fields; f->key; f++) {
    bool present = lua_getfield(P, idx, f->key) != LUA_TNIL;
    int rc = 0;
    if (f->presence)
      rc = f->presence(ld, p, idx, present);
    else if (!present && f->missing)
      rc = df_device_fail(ld, p, "%s", f->missing);
    if (rc == 0 && present) {
      df_field_path_push_key(p, f->key);
      rc = df_schema_validate(ld, p, lua_gettop(P), f->type);
      df_field_path_pop(p);
    }
    lua_pop(P, 1);
    if (rc != 0)
      return -1;
  }
  return 0;
}

static int
check_map(struct df_device_load *ld, struct df_field_path *p, int idx,
          const struct df_value_type *t)
{
  lua_State *P = ld->P;
  if (check_table(ld, p, idx, false, t->what) != 0 || check_keys(ld, p, idx, NULL, t->name) != 0)
    return -1;
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    df_field_path_push_key(p, lua_tostring(P, -2));
    if (t->key(ld, p, lua_gettop(P) - 1) != 0) {
      df_field_path_pop(p);
      lua_pop(P, 2);
      return -1;
    }
    if (validate_child(ld, p, t->item) != 0) {
      lua_pop(P, 1); /* the key */
      return -1;
    }
  }
  return 0;
}

int
df_schema_validate(struct df_device_load *ld, struct df_field_path *p, int idx,
                   const struct df_value_type *t)
{
  int rc = 0;
  switch (t->kind) {
  case DF_VALUE_STRING:
    rc = check_string(ld, p, idx, (size_t)t->max, t->what);
    break;
  case DF_VALUE_BOOL:
    rc = check_bool(ld, p, idx);
    break;
  case DF_VALUE_INTEGER:
    rc = check_integer(ld, p, idx, t->min, t->max, t->what);
    break;
  case DF_VALUE_ENUM:
    rc = check_enum(ld, p, idx, t->names, t->what);
    break;
  case DF_VALUE_LIST:
    rc = check_list(ld, p, idx, t);
    break;
  case DF_VALUE_RECORD:
    rc = check_record(ld, p, idx, t);
    break;
  case DF_VALUE_MAP:
    rc = check_map(ld, p, idx, t);
    break;
  case DF_VALUE_CUSTOM:
    break;
  }
  if (rc == 0 && t->check)
    rc = t->check(ld, p, idx);
  return rc == 0 ? 0 : -1;
}

/* Before the schema: only data, keys that are names or list positions,
 * bounded depth. */
static int
check_data(struct df_device_load *ld, struct df_field_path *p, int idx, int depth)
{
  lua_State *P = ld->P;
  if (depth > DF_FIELD_DEPTH_MAX)
    return df_device_fail(ld, p, "tables nested more than %d deep", DF_FIELD_DEPTH_MAX);
  luaL_checkstack(P, 4, "device file");
  lua_pushnil(P);
  while (lua_next(P, idx)) {
    int rc = 0;
    int kt = lua_type(P, -2);
    if (kt == LUA_TSTRING)
      df_field_path_push_key(p, lua_tostring(P, -2));
    else if (lua_isinteger(P, -2))
      df_field_path_push_index(p, (long long)lua_tointeger(P, -2));
    else
      df_field_path_push_key(p, "?");
    if (kt != LUA_TSTRING && !lua_isinteger(P, -2)) {
      rc = df_device_fail(ld, p, "a key must be a name or a list position, not a %s",
                          lua_typename(P, kt));
    } else {
      switch (lua_type(P, -1)) {
      case LUA_TSTRING:
      case LUA_TNUMBER:
      case LUA_TBOOLEAN:
        break;
      case LUA_TTABLE:
        rc = check_data(ld, p, lua_gettop(P), depth + 1);
        break;
      case LUA_TFUNCTION:
        rc = df_device_fail(ld, p, "a function is not data: device files hold only strings, "
                                   "numbers, booleans and tables");
        break;
      default:
        rc = df_device_fail(ld, p, "a %s is not data: device files hold only strings, numbers, "
                                   "booleans and tables", luaL_typename(P, -1));
      }
    }
    df_field_path_pop(p);
    lua_pop(P, 1);
    if (rc != 0) {
      lua_pop(P, 1);
      return -1;
    }
  }
  return 0;
}

int
df_schema_check_file(struct df_device_load *ld, int idx)
{
  struct df_field_path p;
  df_field_path_init(&p);
  if (check_data(ld, &p, idx, 1) != 0)
    return -1;
  return df_schema_validate(ld, &p, idx, &df_schema_file);
}
