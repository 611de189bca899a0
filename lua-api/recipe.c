/* Loading a recipe file in the sandbox and validating the table it returns.
 * Every error names the field and a line: for functions the line Lua
 * records (linedefined), for other values the line where the key is
 * written, found by scanning the source (right for the usual layout of one
 * key per line; a step's keys are searched between its neighbours). */
#include "lua-api/recipe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/df_module.h"
#include "lua-api/sandbox.h"

#define DF_RECIPE_MAX_ID 64
#define DF_RECIPE_MAX_TEXT 4096
#define DF_RECIPE_MAX_STEPS 64
#define DF_RECIPE_MAX_PARAMS 32
#define DF_RECIPE_MAX_LIST 64

static const char *const df_risk_names[] = {"read-only", "app-data", "user-data", "firmware"};
static const char *const df_param_type_names[] = {"string", "number", "boolean", "path"};
/* The modes droidfix knows a phone in (the simulated phone's names). */
static const char *const df_recipe_modes[] = {
  "system", "safe-mode", "recovery", "sideload", "bootloader", "fastbootd",
  "factory-mode", "bootloop", "download", NULL};
static const char *const df_recipe_top_keys[] = {
  "id", "title", "summary", "description", "applies_to", "risk", "params", "steps",
  "author", "notes", NULL};
static const char *const df_recipe_step_keys[] = {
  "id", "title", "risk", "check", "fix", "verify", "notes", NULL};
static const char *const df_recipe_param_keys[] = {"type", "default", "required", "help", NULL};
static const char *const df_recipe_applies_keys[] = {"modes", "vendors", "models", "android",
                                                     NULL};

const char *
df_risk_name(enum df_risk risk)
{
  return (unsigned)risk <= DF_RISK_FIRMWARE ? df_risk_names[risk] : "unknown";
}

int
df_risk_parse(const char *name, enum df_risk *out)
{
  int i;

  for (i = 0; i <= DF_RISK_FIRMWARE; i++) {
    if (strcmp(name, df_risk_names[i]) == 0) {
      *out = (enum df_risk)i;
      return 0;
    }
  }
  return DF_EINVAL;
}

const char *
df_param_type_name(enum df_param_type type)
{
  return (unsigned)type <= DF_PARAM_PATH ? df_param_type_names[type] : "unknown";
}

/* ---- the validation context and source lines ---- */

struct df_rv {
  lua_State *L;
  const char *src;
  size_t len;
  const char *name; /* without the '@' */
  size_t *line_start;
  int nlines;
  char *err;
  size_t errlen;
  int rc;
  struct df_recipe *r;
};

static int
df_rv_fail(struct df_rv *rv, int line, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static int
df_rv_fail(struct df_rv *rv, int line, const char *field, const char *fmt, ...)
{
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(rv->err, rv->errlen, "%s:%d: %s: %s", rv->name, line > 0 ? line : 1, field, msg);
  rv->rc = DF_EINVAL;
  return DF_EINVAL;
}

static int
df_rv_index_lines(struct df_rv *rv)
{
  size_t i;
  int n = 1;

  for (i = 0; i < rv->len; i++)
    if (rv->src[i] == '\n') n++;
  rv->line_start = malloc(sizeof(size_t) * (size_t)(n + 1));
  if (rv->line_start == NULL) return DF_ENOMEM;
  rv->line_start[0] = 0;
  n = 1;
  for (i = 0; i < rv->len; i++)
    if (rv->src[i] == '\n') rv->line_start[n++] = i + 1;
  rv->line_start[n] = rv->len + 1;
  rv->nlines = n;
  return 0;
}

static bool
df_rv_ident_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does line (1-based) hold `key =` or `["key"] =` outside a comment? */
static bool
df_rv_line_has_key(const struct df_rv *rv, int line, const char *key)
{
  size_t start = rv->line_start[line - 1];
  size_t end = rv->line_start[line] - 1; /* the '\n' or len */
  size_t klen = strlen(key);
  size_t i, j;

  if (end > rv->len) end = rv->len;
  for (i = start; i + klen <= end; i++) {
    if (rv->src[i] == '-' && i + 1 < end && rv->src[i + 1] == '-') return false;
    if (memcmp(rv->src + i, key, klen) != 0) continue;
    if (i > start && (df_rv_ident_char(rv->src[i - 1]) || rv->src[i - 1] == '.')) continue;
    j = i + klen;
    if (j < end && df_rv_ident_char(rv->src[j])) continue;
    if (i > start && (rv->src[i - 1] == '"' || rv->src[i - 1] == '\'')) {
      if (j < end && rv->src[j] == rv->src[i - 1]) j++;
      while (j < end && (rv->src[j] == ' ' || rv->src[j] == '\t')) j++;
      if (j < end && rv->src[j] == ']') j++;
      else continue;
    }
    while (j < end && (rv->src[j] == ' ' || rv->src[j] == '\t')) j++;
    if (j < end && rv->src[j] == '=' && (j + 1 >= end || rv->src[j + 1] != '=')) return true;
  }
  return false;
}

/* First line in [from, to] holding key, or 0. */
static int
df_rv_find_key(const struct df_rv *rv, const char *key, int from, int to)
{
  int l;

  if (from < 1) from = 1;
  if (to > rv->nlines) to = rv->nlines;
  for (l = from; l <= to; l++)
    if (df_rv_line_has_key(rv, l, key)) return l;
  return 0;
}

/* The line of a chain of keys ("applies_to", "android", "min") searched
 * one after the other from `from`; the deepest found, else fallback. */
static int
df_rv_find_path(const struct df_rv *rv, int from, int to, int fallback, const char *k1,
                const char *k2, const char *k3)
{
  const char *keys[3] = {k1, k2, k3};
  int line = 0, l, i;

  for (i = 0; i < 3 && keys[i] != NULL; i++) {
    l = df_rv_find_key(rv, keys[i], line > 0 ? line : from, to);
    if (l == 0) break;
    line = l;
  }
  return line > 0 ? line : fallback;
}

/* The line of the file's last `return` (where a missing field belongs). */
static int
df_rv_return_line(const struct df_rv *rv)
{
  int l;

  for (l = rv->nlines; l >= 1; l--) {
    size_t i = rv->line_start[l - 1];
    while (i < rv->len && (rv->src[i] == ' ' || rv->src[i] == '\t')) i++;
    if (rv->len - i >= 6 && memcmp(rv->src + i, "return", 6) == 0) return l;
  }
  return 1;
}

/* Reads t[key] raw: validation never runs a recipe's metamethods. */
static int
df_rv_get(lua_State *L, int idx, const char *key)
{
  idx = lua_absindex(L, idx);
  lua_pushstring(L, key);
  return lua_rawget(L, idx);
}

static bool
df_rv_in_list(const char *const *list, const char *s)
{
  int i;

  for (i = 0; list[i] != NULL; i++)
    if (strcmp(list[i], s) == 0) return true;
  return false;
}

static bool
df_rv_is_slug(const char *s, bool allow_slash)
{
  const char *p;

  if (*s == '\0') return false;
  for (p = s; *p != '\0'; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-') continue;
    if (allow_slash && *p == '/' && p != s && p[1] != '\0') continue;
    return false;
  }
  return true;
}

/* A parameter name: a lowercase word with digits and '_' (package_name). */
static bool
df_rv_is_param_name(const char *s)
{
  const char *p;

  if (!(*s >= 'a' && *s <= 'z') || strlen(s) > 64) return false;
  for (p = s; *p != '\0'; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return true;
}

static char *
df_rv_strdup(struct df_rv *rv, const char *s)
{
  char *copy = strdup(s);

  if (copy == NULL) {
    snprintf(rv->err, rv->errlen, "%s: out of memory", rv->name);
    rv->rc = DF_ENOMEM;
  }
  return copy;
}

/* Checks that every key of the table at idx is a string in allowed. */
static int
df_rv_known_keys(struct df_rv *rv, int idx, const char *const *allowed, const char *prefix,
                 int from, int to)
{
  char field[160];

  idx = lua_absindex(rv->L, idx);
  lua_pushnil(rv->L);
  while (lua_next(rv->L, idx) != 0) {
    lua_pop(rv->L, 1);
    if (lua_type(rv->L, -1) != LUA_TSTRING) {
      lua_pop(rv->L, 1);
      return df_rv_fail(rv, from, prefix[0] ? prefix : "recipe",
                        "has a key that is not a name (a list where a table of named fields "
                        "belongs?)");
    }
    if (!df_rv_in_list(allowed, lua_tostring(rv->L, -1))) {
      const char *key = lua_tostring(rv->L, -1);
      int line = df_rv_find_key(rv, key, from, to);
      snprintf(field, sizeof(field), "%s%s", prefix, key);
      lua_pop(rv->L, 1);
      return df_rv_fail(rv, line > 0 ? line : from, field, "unknown field");
    }
  }
  return 0;
}

/* A string field: required or optional, non-empty, at most max bytes.
 * Leaves nothing on the stack; *out NULL when absent. */
static int
df_rv_string(struct df_rv *rv, int idx, const char *key, const char *field, bool required,
             size_t max, int line, char **out)
{
  size_t len;
  int t;

  *out = NULL;
  t = df_rv_get(rv->L, idx, key); /* raw: the table's metatable was refused */
  if (t == LUA_TNIL) {
    lua_pop(rv->L, 1);
    return required ? df_rv_fail(rv, line, field, "missing (a string is required)") : 0;
  }
  if (t != LUA_TSTRING) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, line, field, "must be a string, not a %s", lua_typename(rv->L, t));
  }
  lua_tolstring(rv->L, -1, &len);
  if (len == 0 || len > max) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, line, field, "must be 1 to %zu characters long", max);
  }
  *out = df_rv_strdup(rv, lua_tostring(rv->L, -1));
  lua_pop(rv->L, 1);
  return *out == NULL ? rv->rc : 0;
}

/* A list of strings (field at idx.key): each checked by slug rules. */
static int
df_rv_string_list(struct df_rv *rv, int idx, const char *key, const char *field, int line,
                  const char *const *allowed, bool slash, char ***out, size_t *n)
{
  size_t count, i;

  *out = NULL;
  *n = 0;
  if (df_rv_get(rv->L, idx, key) == LUA_TNIL) {
    lua_pop(rv->L, 1);
    return 0;
  }
  if (!lua_istable(rv->L, -1)) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, line, field, "must be a list of strings");
  }
  count = (size_t)lua_rawlen(rv->L, -1);
  if (count == 0 || count > DF_RECIPE_MAX_LIST) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, line, field, "must list 1 to %d names", DF_RECIPE_MAX_LIST);
  }
  *out = calloc(count, sizeof(char *));
  if (*out == NULL) {
    lua_pop(rv->L, 1);
    return rv->rc = DF_ENOMEM;
  }
  for (i = 0; i < count; i++) {
    const char *s;
    lua_rawgeti(rv->L, -1, (lua_Integer)i + 1);
    s = lua_type(rv->L, -1) == LUA_TSTRING ? lua_tostring(rv->L, -1) : NULL;
    if (s == NULL) {
      lua_pop(rv->L, 2);
      return df_rv_fail(rv, line, field, "item %zu must be a string", i + 1);
    }
    if (allowed != NULL && !df_rv_in_list(allowed, s)) {
      int rc = df_rv_fail(rv, line, field,
                          "'%s' is not a mode (system, safe-mode, recovery, sideload, "
                          "bootloader, fastbootd, factory-mode, bootloop, download)",
                          s);
      lua_pop(rv->L, 2);
      return rc;
    }
    if (allowed == NULL && !df_rv_is_slug(s, slash)) {
      int rc = df_rv_fail(rv, line, field, "'%s' must be lowercase letters, digits and '-'%s", s,
                          slash ? " (a model id like xiaomi/redmi-k70)" : "");
      lua_pop(rv->L, 2);
      return rc;
    }
    (*out)[i] = df_rv_strdup(rv, s);
    *n = i + 1;
    lua_pop(rv->L, 1);
    if ((*out)[i] == NULL) {
      lua_pop(rv->L, 1);
      return rv->rc;
    }
  }
  lua_pop(rv->L, 1);
  return 0;
}

static int
df_rv_risk(struct df_rv *rv, int idx, const char *field, int line, bool required,
           enum df_risk *out, bool *present)
{
  int t = df_rv_get(rv->L, idx, "risk");
  int rc = 0;

  *present = t != LUA_TNIL;
  if (t == LUA_TNIL) {
    if (required) rc = df_rv_fail(rv, line, field, "missing (read-only, app-data, user-data or firmware)");
  } else if (t != LUA_TSTRING || df_risk_parse(lua_tostring(rv->L, -1), out) != 0) {
    rc = df_rv_fail(rv, line, field, "'%s' is not a risk (read-only, app-data, user-data or firmware)",
                    t == LUA_TSTRING ? lua_tostring(rv->L, -1) : lua_typename(rv->L, t));
  }
  lua_pop(rv->L, 1);
  return rc;
}

static int
df_rv_applies_to(struct df_rv *rv, int top, int ret_line)
{
  struct df_recipe *r = rv->r;
  int line = df_rv_find_key(rv, "applies_to", 1, rv->nlines);
  int t, rc, idx;

  if (line == 0) line = ret_line;
  t = df_rv_get(rv->L, top, "applies_to");
  if (t == LUA_TNIL) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, ret_line, "applies_to",
                      "missing (a table with modes, and vendors or models)");
  }
  if (t != LUA_TTABLE) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, line, "applies_to", "must be a table, not a %s", lua_typename(rv->L, t));
  }
  idx = lua_gettop(rv->L);
  rc = df_rv_known_keys(rv, idx, df_recipe_applies_keys, "applies_to.", line, rv->nlines);
  if (rc == 0)
    rc = df_rv_string_list(rv, idx, "modes", "applies_to.modes",
                           df_rv_find_path(rv, line, rv->nlines, line, "modes", NULL, NULL),
                           df_recipe_modes, false, &r->modes, &r->nmodes);
  if (rc == 0 && r->nmodes == 0)
    rc = df_rv_fail(rv, line, "applies_to.modes", "missing (the modes the phone may be in)");
  if (rc == 0)
    rc = df_rv_string_list(rv, idx, "vendors", "applies_to.vendors",
                           df_rv_find_path(rv, line, rv->nlines, line, "vendors", NULL, NULL),
                           NULL, false, &r->vendors, &r->nvendors);
  if (rc == 0)
    rc = df_rv_string_list(rv, idx, "models", "applies_to.models",
                           df_rv_find_path(rv, line, rv->nlines, line, "models", NULL, NULL),
                           NULL, true, &r->models, &r->nmodels);
  if (rc == 0 && r->nvendors > 0 && r->nmodels > 0)
    rc = df_rv_fail(rv, df_rv_find_path(rv, line, rv->nlines, line, "models", NULL, NULL),
                    "applies_to.models", "give vendors or models, not both");
  if (rc == 0) {
    int aline = df_rv_find_path(rv, line, rv->nlines, line, "android", NULL, NULL);
    t = df_rv_get(rv->L, idx, "android");
    if (t == LUA_TTABLE) {
      const char *keys[2] = {"min", "max"};
      int *vals[2] = {&r->android_min, &r->android_max};
      int k;
      lua_pushnil(rv->L);
      while (rc == 0 && lua_next(rv->L, -2) != 0) {
        lua_pop(rv->L, 1);
        if (lua_type(rv->L, -1) != LUA_TSTRING ||
            (strcmp(lua_tostring(rv->L, -1), "min") != 0 &&
             strcmp(lua_tostring(rv->L, -1), "max") != 0)) {
          rc = df_rv_fail(rv, aline, "applies_to.android", "takes only min and max");
          lua_pop(rv->L, 1);
          break;
        }
      }
      for (k = 0; rc == 0 && k < 2; k++) {
        int isnum;
        lua_Integer v;
        char field[64];
        snprintf(field, sizeof(field), "applies_to.android.%s", keys[k]);
        t = df_rv_get(rv->L, -1, keys[k]);
        v = lua_tointegerx(rv->L, -1, &isnum);
        lua_pop(rv->L, 1);
        if (t == LUA_TNIL) continue;
        if (!isnum || t != LUA_TNUMBER || v < 1 || v > 99)
          rc = df_rv_fail(rv, df_rv_find_path(rv, aline, rv->nlines, aline, keys[k], NULL, NULL),
                          field, "must be an Android release number (like 11)");
        else
          *vals[k] = (int)v;
      }
      if (rc == 0 && r->android_min && r->android_max && r->android_min > r->android_max)
        rc = df_rv_fail(rv, aline, "applies_to.android", "min %d is above max %d",
                        r->android_min, r->android_max);
    } else if (t != LUA_TNIL) {
      rc = df_rv_fail(rv, aline, "applies_to.android", "must be a table { min = N, max = N }");
    }
    lua_pop(rv->L, 1);
  }
  lua_pop(rv->L, 1);
  return rc;
}

static int
df_rv_params(struct df_rv *rv, int top)
{
  struct df_recipe *r = rv->r;
  int pline = df_rv_find_key(rv, "params", 1, rv->nlines);
  int t = df_rv_get(rv->L, top, "params");
  int rc = 0, idx;
  size_t n = 0;

  if (t == LUA_TNIL) {
    lua_pop(rv->L, 1);
    return 0;
  }
  if (t != LUA_TTABLE) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, pline, "params", "must be a table of name = { type = ... }");
  }
  idx = lua_gettop(rv->L);
  lua_pushnil(rv->L);
  while (lua_next(rv->L, idx) != 0) n++, lua_pop(rv->L, 1);
  if (n > DF_RECIPE_MAX_PARAMS) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, pline, "params", "at most %d parameters", DF_RECIPE_MAX_PARAMS);
  }
  r->params = calloc(n > 0 ? n : 1, sizeof(*r->params));
  if (r->params == NULL) {
    lua_pop(rv->L, 1);
    return rv->rc = DF_ENOMEM;
  }
  lua_pushnil(rv->L);
  while (rc == 0 && lua_next(rv->L, idx) != 0) {
    struct df_recipe_param *p = &r->params[r->nparams];
    char field[160];
    const char *name;
    int line, spec = lua_gettop(rv->L);

    if (lua_type(rv->L, -2) != LUA_TSTRING || !df_rv_is_param_name(lua_tostring(rv->L, -2))) {
      rc = df_rv_fail(rv, pline, "params",
                      "parameter names are lowercase words with '_' (like package_name)");
      lua_pop(rv->L, 2);
      break;
    }
    name = lua_tostring(rv->L, -2);
    line = df_rv_find_path(rv, pline, rv->nlines, pline, name, NULL, NULL);
    snprintf(field, sizeof(field), "params.%s", name);
    p->name = df_rv_strdup(rv, name);
    if (p->name == NULL) {
      rc = rv->rc;
      lua_pop(rv->L, 2);
      break;
    }
    r->nparams++;
    if (!lua_istable(rv->L, spec)) {
      rc = df_rv_fail(rv, line, field, "must be a table { type = ..., help = ... }");
    } else {
      snprintf(field, sizeof(field), "params.%s.", name);
      rc = df_rv_known_keys(rv, spec, df_recipe_param_keys, field, line, rv->nlines);
      snprintf(field, sizeof(field), "params.%s", name);
    }
    if (rc == 0) {
      char tfield[192];
      int tline = df_rv_find_path(rv, line, rv->nlines, line, "type", NULL, NULL);
      int i, found = -1;
      snprintf(tfield, sizeof(tfield), "%s.type", field);
      t = df_rv_get(rv->L, spec, "type");
      for (i = 0; t == LUA_TSTRING && i <= DF_PARAM_PATH; i++)
        if (strcmp(lua_tostring(rv->L, -1), df_param_type_names[i]) == 0) found = i;
      lua_pop(rv->L, 1);
      if (found < 0)
        rc = df_rv_fail(rv, tline, tfield, "missing or unknown (string, number, boolean or path)");
      else
        p->type = (enum df_param_type)found;
    }
    if (rc == 0) {
      char dfield[192];
      int dline = df_rv_find_path(rv, line, rv->nlines, line, "default", NULL, NULL);
      snprintf(dfield, sizeof(dfield), "%s.default", field);
      t = df_rv_get(rv->L, spec, "default");
      p->has_default = t != LUA_TNIL;
      if (t != LUA_TNIL) {
        int want = p->type == DF_PARAM_NUMBER ? LUA_TNUMBER
                   : p->type == DF_PARAM_BOOLEAN ? LUA_TBOOLEAN
                                                 : LUA_TSTRING;
        if (t != want)
          rc = df_rv_fail(rv, dline, dfield, "must be a %s like the parameter's type, not a %s",
                          lua_typename(rv->L, want), lua_typename(rv->L, t));
      }
      lua_pop(rv->L, 1);
    }
    if (rc == 0) {
      t = df_rv_get(rv->L, spec, "required");
      if (t == LUA_TBOOLEAN)
        p->required = lua_toboolean(rv->L, -1);
      else if (t != LUA_TNIL)
        rc = df_rv_fail(rv, df_rv_find_path(rv, line, rv->nlines, line, "required", NULL, NULL),
                        field, "required must be true or false");
      lua_pop(rv->L, 1);
      if (rc == 0 && p->required && p->has_default)
        rc = df_rv_fail(rv, line, field, "a required parameter cannot have a default");
    }
    if (rc == 0) {
      char *help = NULL;
      char hfield[192];
      snprintf(hfield, sizeof(hfield), "%s.help", field);
      rc = df_rv_string(rv, spec, "help", hfield, false, DF_RECIPE_MAX_TEXT,
                        df_rv_find_path(rv, line, rv->nlines, line, "help", NULL, NULL), &help);
      p->help = help != NULL ? help : strdup("");
      if (rc == 0 && p->help == NULL) rc = rv->rc = DF_ENOMEM;
    }
    lua_pop(rv->L, 1);
    if (rc != 0) lua_pop(rv->L, 1);
  }
  lua_pop(rv->L, 1);
  return rc;
}

/* The line span of a step's functions (0 when it has none). */
static void
df_rv_step_function_lines(lua_State *L, int step, int *first, int *last)
{
  static const char *const fns[] = {"check", "fix", "verify"};
  lua_Debug ar;
  int i;

  *first = *last = 0;
  if (!lua_istable(L, step)) return;
  for (i = 0; i < 3; i++) {
    if (df_rv_get(L, step, fns[i]) == LUA_TFUNCTION) {
      lua_getinfo(L, ">S", &ar);
      if (ar.linedefined > 0 && (*first == 0 || ar.linedefined < *first)) *first = ar.linedefined;
      if (ar.lastlinedefined > *last) *last = ar.lastlinedefined;
    } else {
      lua_pop(L, 1);
    }
  }
}

static int
df_rv_steps(struct df_rv *rv, int top, int ret_line)
{
  struct df_recipe *r = rv->r;
  int sline = df_rv_find_key(rv, "steps", 1, rv->nlines);
  int t = df_rv_get(rv->L, top, "steps");
  int idx, rc = 0, prev_end, lo, hi;
  int first[DF_RECIPE_MAX_STEPS], last[DF_RECIPE_MAX_STEPS];
  size_t n, i, j, keys = 0;

  if (t == LUA_TNIL) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, ret_line, "steps", "missing (a list of steps)");
  }
  if (t != LUA_TTABLE) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, sline, "steps", "must be a list of step tables");
  }
  idx = lua_gettop(rv->L);
  n = (size_t)lua_rawlen(rv->L, idx);
  lua_pushnil(rv->L);
  while (lua_next(rv->L, idx) != 0) keys++, lua_pop(rv->L, 1);
  if (n == 0 || n > DF_RECIPE_MAX_STEPS || keys != n) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, sline, "steps", "must be a list of 1 to %d steps { ... }, { ... }",
                      DF_RECIPE_MAX_STEPS);
  }
  r->steps = calloc(n, sizeof(*r->steps));
  if (r->steps == NULL) {
    lua_pop(rv->L, 1);
    return rv->rc = DF_ENOMEM;
  }
  for (i = 0; i < n; i++) {
    lua_rawgeti(rv->L, idx, (lua_Integer)i + 1);
    df_rv_step_function_lines(rv->L, lua_gettop(rv->L), &first[i], &last[i]);
    lua_pop(rv->L, 1);
  }
  prev_end = sline > 0 ? sline : 1;
  for (i = 0; rc == 0 && i < n; i++) {
    struct df_recipe_step *s = &r->steps[i];
    char field[96], sub[128];
    int step, anchor;
    bool has_risk = false;

    /* The step's keys are written between the previous step's functions
     * and the next step's. */
    lo = prev_end;
    hi = rv->nlines;
    for (j = i + 1; j < n; j++)
      if (first[j] > 0) {
        hi = first[j] - 1;
        break;
      }
    anchor = first[i] > 0 ? first[i] : lo;
    if (last[i] > 0) prev_end = last[i] + 1;
    snprintf(field, sizeof(field), "steps[%zu]", i + 1);
    lua_rawgeti(rv->L, idx, (lua_Integer)i + 1);
    step = lua_gettop(rv->L);
    r->nsteps = i + 1;
    s->line = anchor;
    if (!lua_istable(rv->L, step)) {
      rc = df_rv_fail(rv, anchor, field, "must be a table { id = ..., check = ..., fix = ... }");
      lua_pop(rv->L, 1);
      break;
    }
    snprintf(sub, sizeof(sub), "%s.", field);
    rc = df_rv_known_keys(rv, step, df_recipe_step_keys, sub, lo, hi);
    if (rc == 0) {
      int l = df_rv_find_key(rv, "id", lo, hi);
      snprintf(sub, sizeof(sub), "%s.id", field);
      rc = df_rv_string(rv, step, "id", sub, true, DF_RECIPE_MAX_ID, l > 0 ? l : anchor, &s->id);
      if (rc == 0 && !df_rv_is_slug(s->id, false))
        rc = df_rv_fail(rv, l > 0 ? l : anchor, sub,
                        "'%s' must be lowercase letters, digits and '-'", s->id);
      for (j = 0; rc == 0 && j < i; j++)
        if (strcmp(r->steps[j].id, s->id) == 0)
          rc = df_rv_fail(rv, l > 0 ? l : anchor, sub, "'%s' is also the id of steps[%zu]",
                          s->id, j + 1);
    }
    if (rc == 0) {
      int l = df_rv_find_key(rv, "title", lo, hi);
      snprintf(sub, sizeof(sub), "%s.title", field);
      rc = df_rv_string(rv, step, "title", sub, true, DF_RECIPE_MAX_TEXT, l > 0 ? l : anchor,
                        &s->title);
    }
    if (rc == 0) {
      int l = df_rv_find_key(rv, "risk", lo, hi);
      snprintf(sub, sizeof(sub), "%s.risk", field);
      s->risk = r->risk;
      rc = df_rv_risk(rv, step, sub, l > 0 ? l : anchor, false, &s->risk, &has_risk);
      if (rc == 0 && s->risk > r->risk)
        rc = df_rv_fail(rv, l > 0 ? l : anchor, sub,
                        "'%s' is above the recipe's risk '%s'; raise the recipe's risk",
                        df_risk_name(s->risk), df_risk_name(r->risk));
    }
    for (j = 0; rc == 0 && j < 3; j++) {
      static const char *const fns[] = {"check", "fix", "verify"};
      int l = df_rv_find_key(rv, fns[j], lo, hi);
      snprintf(sub, sizeof(sub), "%s.%s", field, fns[j]);
      t = df_rv_get(rv->L, step, fns[j]);
      lua_pop(rv->L, 1);
      if (t == LUA_TNIL && j < 2)
        rc = df_rv_fail(rv, anchor, sub, "missing (a function(ctx) ... end)");
      else if (t != LUA_TNIL && t != LUA_TFUNCTION)
        rc = df_rv_fail(rv, l > 0 ? l : anchor, sub, "must be a function(ctx), not a %s",
                        lua_typename(rv->L, t));
      if (j == 2) s->has_verify = t == LUA_TFUNCTION;
    }
    lua_pop(rv->L, 1);
  }
  lua_pop(rv->L, 1);
  return rc;
}

/* Validates the recipe table at top into rv->r. */
static int
df_rv_recipe(struct df_rv *rv, int top)
{
  struct df_recipe *r = rv->r;
  int ret_line = df_rv_return_line(rv);
  int steps_line = df_rv_find_key(rv, "steps", 1, rv->nlines);
  int head_end = steps_line > 0 ? steps_line : rv->nlines;
  int rc, line;
  bool present;

  /* Plain data is read raw: a metatable on the recipe could run code. */
  if (lua_getmetatable(rv->L, top)) {
    lua_pop(rv->L, 1);
    return df_rv_fail(rv, ret_line, "recipe", "the returned table must not have a metatable");
  }
  rc = df_rv_known_keys(rv, top, df_recipe_top_keys, "", 1, rv->nlines);
  if (rc != 0) return rc;

  /* Top-level keys are looked for before `steps` (a step has an id and a
   * title too); a missing one belongs to the `return` line. */
#define DF_RV_TOP_LINE(key) ((line = df_rv_find_key(rv, key, 1, head_end)) > 0 ? line : ret_line)

  rc = df_rv_string(rv, top, "id", "id", true, DF_RECIPE_MAX_ID, DF_RV_TOP_LINE("id"), &r->id);
  if (rc == 0 && !df_rv_is_slug(r->id, false))
    rc = df_rv_fail(rv, DF_RV_TOP_LINE("id"), "id",
                    "'%s' must be lowercase letters, digits and '-' (like play-store-stuck)",
                    r->id);
  if (rc == 0)
    rc = df_rv_string(rv, top, "title", "title", true, 200, DF_RV_TOP_LINE("title"), &r->title);
  if (rc == 0)
    rc = df_rv_string(rv, top, "summary", "summary", true, DF_RECIPE_MAX_TEXT,
                      DF_RV_TOP_LINE("summary"), &r->summary);
  if (rc == 0) rc = df_rv_risk(rv, top, "risk", DF_RV_TOP_LINE("risk"), true, &r->risk, &present);
  if (rc == 0) rc = df_rv_applies_to(rv, top, ret_line);
  if (rc == 0) rc = df_rv_params(rv, top);
  if (rc == 0) rc = df_rv_steps(rv, top, ret_line);
#undef DF_RV_TOP_LINE
  return rc;
}

/* ---- loading ---- */

static int
df_recipe_load_protected(lua_State *L)
{
  struct df_rv *rv = lua_touserdata(L, 1);
  char chunkname[512];
  int env, status;
  char *nl;

  snprintf(chunkname, sizeof(chunkname), "@%s", rv->name);
  df_sandbox_push_env(L);
  env = lua_gettop(L);
  rv->rc = df_sandbox_load(L, rv->src, rv->len, chunkname, env, rv->err, rv->errlen);
  if (rv->rc != 0) return 0;
  status = df_sandbox_pcall(L, 0, 1);
  if (status != LUA_OK) {
    snprintf(rv->err, rv->errlen, "%s", lua_tostring(L, -1));
    nl = strstr(rv->err, "\nstack traceback:");
    if (nl != NULL) *nl = '\0';
    rv->rc = status == LUA_ERRMEM ? DF_ENOMEM : DF_EINVAL;
    return 0;
  }
  if (!lua_istable(L, -1)) {
    df_rv_fail(rv, df_rv_return_line(rv), "recipe", "the file must return a table, not a %s",
               luaL_typename(L, -1));
    return 0;
  }
  if (df_rv_recipe(rv, lua_gettop(L)) != 0) return 0;
  lua_pushvalue(L, -1);
  rv->r->table_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

static void
df_recipe_free_lists(struct df_recipe *r)
{
  size_t i;

  for (i = 0; i < r->nmodes; i++) free(r->modes[i]);
  for (i = 0; i < r->nvendors; i++) free(r->vendors[i]);
  for (i = 0; i < r->nmodels; i++) free(r->models[i]);
  free(r->modes);
  free(r->vendors);
  free(r->models);
  for (i = 0; i < r->nparams; i++) {
    free(r->params[i].name);
    free(r->params[i].help);
  }
  free(r->params);
  for (i = 0; i < r->nsteps; i++) {
    free(r->steps[i].id);
    free(r->steps[i].title);
  }
  free(r->steps);
  free(r->id);
  free(r->title);
  free(r->summary);
  free(r->name);
}

void
df_recipe_free(struct df_recipe *r)
{
  if (r == NULL) return;
  if (r->L != NULL && r->table_ref != LUA_NOREF) luaL_unref(r->L, LUA_REGISTRYINDEX, r->table_ref);
  df_recipe_free_lists(r);
  free(r);
}

int
df_recipe_load_buffer(lua_State *L, const char *source, size_t len, const char *name,
                      struct df_recipe **out, char *err, size_t errlen)
{
  struct df_rv rv;
  int top = lua_gettop(L);
  int status;

  *out = NULL;
  if (err != NULL && errlen > 0) err[0] = '\0';
  memset(&rv, 0, sizeof(rv));
  rv.L = L;
  rv.src = source;
  rv.len = len;
  rv.name = name[0] == '@' ? name + 1 : name;
  rv.err = err;
  rv.errlen = errlen;
  rv.r = calloc(1, sizeof(*rv.r));
  if (rv.r == NULL || df_rv_index_lines(&rv) != 0 || (rv.r->name = strdup(rv.name)) == NULL) {
    snprintf(err, errlen, "%s: out of memory", rv.name);
    if (rv.r != NULL) df_recipe_free_lists(rv.r);
    free(rv.r);
    free(rv.line_start);
    return DF_ENOMEM;
  }
  rv.r->L = L;
  rv.r->table_ref = LUA_NOREF;
  lua_pushcfunction(L, df_recipe_load_protected);
  lua_pushlightuserdata(L, &rv);
  status = lua_pcall(L, 1, 0, 0);
  if (status != LUA_OK) {
    snprintf(err, errlen, "%s: %s", rv.name,
             lua_isstring(L, -1) ? lua_tostring(L, -1) : "cannot load");
    rv.rc = status == LUA_ERRMEM ? DF_ENOMEM : DF_EINVAL;
  }
  lua_settop(L, top);
  free(rv.line_start);
  if (rv.rc == 0 && rv.r->table_ref == LUA_NOREF) rv.rc = DF_EINVAL;
  if (rv.rc != 0) {
    df_recipe_free(rv.r);
    return rv.rc;
  }
  *out = rv.r;
  return 0;
}

int
df_recipe_load_file(lua_State *L, const char *path, struct df_recipe **out, char *err,
                    size_t errlen)
{
  char *source;
  size_t len;
  int rc;

  *out = NULL;
  rc = df_sandbox_read_file(NULL, path, DF_SANDBOX_MAX_CHUNK, &source, &len);
  if (rc != 0) {
    if (rc == DF_ETOOBIG)
      snprintf(err, errlen, "%s: over the limit of %d bytes for a recipe", path,
               DF_SANDBOX_MAX_CHUNK);
    else
      snprintf(err, errlen, "%s: cannot read the recipe: %s", path, df_strerror(rc));
    return rc;
  }
  rc = df_recipe_load_buffer(L, source, len, path, out, err, errlen);
  free(source);
  return rc;
}

int
df_recipe_check_file(const char *path, const char *lib_dir, char *err, size_t errlen)
{
  struct df_sandbox *sb;
  struct df_recipe *r;
  int rc;

  rc = df_sandbox_new(NULL, lib_dir, &sb);
  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", path, df_strerror(rc));
    return rc;
  }
  df_sandbox_add_global(sb, "df", df_module_push);
  rc = df_recipe_load_file(df_sandbox_state(sb), path, &r, err, errlen);
  if (rc == 0) df_recipe_free(r);
  df_sandbox_free(sb);
  return rc;
}

void
df_recipe_push_step_function(const struct df_recipe *r, size_t index, const char *which)
{
  lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->table_ref);
  df_rv_get(r->L, -1, "steps");
  lua_rawgeti(r->L, -1, (lua_Integer)index + 1);
  df_rv_get(r->L, -1, which);
  lua_replace(r->L, -4);
  lua_pop(r->L, 2);
}

void
df_recipe_push_param_default(const struct df_recipe *r, size_t index)
{
  lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->table_ref);
  df_rv_get(r->L, -1, "params");
  df_rv_get(r->L, -1, r->params[index].name);
  df_rv_get(r->L, -1, "default");
  lua_replace(r->L, -4);
  lua_pop(r->L, 2);
}

bool
df_recipe_applies_to_mode(const struct df_recipe *r, const char *mode)
{
  size_t i;

  for (i = 0; i < r->nmodes; i++)
    if (strcmp(r->modes[i], mode) == 0) return true;
  return false;
}
