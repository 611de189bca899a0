/* Loading a device file and the files it extends: a private lua_State with
 * a memory cap, an empty guarded _ENV, text chunks only and an instruction
 * budget; each file checked against the schema, then merged (maps key by
 * key, lists replace) and the merged table checked as a model. */
#include "lua-api/device_file_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/device_file_schema.h"

#define DF_HOOK_EVERY 1000

static void *
limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  struct df_device_mem *m = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    m->used -= old;
    return NULL;
  }
  if (nsize > old && m->used + (nsize - old) > m->limit)
    return NULL;
  void *np = realloc(ptr, nsize);
  if (!np)
    return NULL;
  m->used = m->used - old + nsize;
  return np;
}

static struct df_device_load *
load_of(lua_State *P)
{
  struct df_device_load *ld;
  memcpy(&ld, lua_getextraspace(P), sizeof(ld));
  return ld;
}

/* Counts instructions (the budget) and remembers the line reached, so a
 * memory error, which carries no position, can still name one. */
static void
count_hook(lua_State *P, lua_Debug *ar)
{
  struct df_device_load *ld = load_of(P);
  if (ar->event == LUA_HOOKLINE) {
    ld->last_line = ar->currentline;
    return;
  }
  ld->instructions += DF_HOOK_EVERY;
  if (ld->instructions > DF_DEVICE_FILE_MAX_INSTRUCTIONS) {
    int line = 0;
    if (lua_getinfo(P, "l", ar))
      line = ar->currentline;
    /* Not luaL_error: its position prefix would name the hook, not the line. */
    lua_pushfstring(P, "x:%d: ran more than %d instructions (a loop?)", line,
                    DF_DEVICE_FILE_MAX_INSTRUCTIONS);
    lua_error(P);
  }
}

static int
env_index(lua_State *P)
{
  const char *name = lua_tostring(P, 2);
  return luaL_error(P, "'%s' is not defined: device files are data only (no functions, "
                       "no globals)", name ? name : "?");
}

static int
env_newindex(lua_State *P)
{
  const char *name = lua_tostring(P, 2);
  return luaL_error(P, "cannot set global '%s': device files are data only",
                    name ? name : "?");
}

#define DF_ENV_META "df.device_file_env"

/* Merging: maps merge key by key, lists (and empty tables) replace. */
static void
deep_copy(lua_State *P, int src, int depth)
{
  luaL_checkstack(P, 4, "device file");
  if (lua_type(P, src) != LUA_TTABLE || depth > DF_FIELD_DEPTH_MAX) {
    lua_pushvalue(P, src);
    return;
  }
  lua_newtable(P);
  int dst = lua_gettop(P);
  lua_pushnil(P);
  while (lua_next(P, src)) {
    lua_pushvalue(P, -2);
    deep_copy(P, lua_gettop(P) - 1, depth + 1);
    lua_rawset(P, dst);
    lua_pop(P, 1);
  }
}

static void
merge_into(lua_State *P, int dst, int src, bool top, int depth)
{
  luaL_checkstack(P, 6, "device file");
  lua_pushnil(P);
  while (lua_next(P, src)) {
    int v = lua_gettop(P);
    if (top && lua_type(P, -2) == LUA_TSTRING &&
        (strcmp(lua_tostring(P, -2), "extends") == 0 ||
         strcmp(lua_tostring(P, -2), "abstract") == 0)) {
      lua_pop(P, 1);
      continue;
    }
    lua_pushvalue(P, -2);
    lua_rawget(P, dst);
    int old = lua_gettop(P);
    if (lua_type(P, v) == LUA_TTABLE && lua_type(P, old) == LUA_TTABLE && !df_lua_is_list(P, v) &&
        !df_lua_is_list(P, old) && depth < DF_FIELD_DEPTH_MAX) {
      merge_into(P, old, v, false, depth + 1);
      lua_pop(P, 1);
    } else {
      lua_pop(P, 1);
      lua_pushvalue(P, -2);
      deep_copy(P, v, depth + 1);
      lua_rawset(P, dst);
    }
    lua_pop(P, 1);
  }
}

static int
read_source(const char *path, char **out, size_t *outlen)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return df_error_from_errno(errno);
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return DF_EINVAL;
  }
  if (st.st_size > DF_DEVICE_FILE_MAX_BYTES) {
    fclose(f);
    return DF_ETOOBIG;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    fclose(f);
    return DF_ENOMEM;
  }
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  fclose(f);
  buf[n] = '\0';
  *out = buf;
  *outlen = n;
  return 0;
}

static char *
display_path(const char *dir, const char *id)
{
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/')
    dl--;
  size_t n = dl + strlen(id) + 6;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%.*s/%s.lua", (int)dl, dir, id);
  return s;
}

/* Loads, runs and checks file number fi (ld->files[fi].id set). Leaves
 * nothing on the stack; the table is in the registry at files[fi].ref. */
static int
load_one(struct df_device_load *ld, int fi)
{
  lua_State *P = ld->P;
  struct df_device_source *df = &ld->files[fi];
  df->ref = LUA_NOREF;
  df->display = display_path(ld->dir, df->id);
  if (!df->display) {
    df_device_load_error(ld, DF_ENOMEM, "out of memory");
    return -1;
  }
  int rc = read_source(df->display, &df->src, &df->len);
  if (rc != 0) {
    if (fi > 0) {
      struct df_field_path p;
      df_field_path_init(&p);
      df_field_path_push_key(&p, "extends");
      ld->cur = fi - 1;
      if (rc == DF_ENOENT)
        return df_device_fail(ld, &p,
                              "extends '%s', but %s does not exist; fix the id or add the file",
                              df->id, df->display);
      return df_device_fail(ld, &p, "extends '%s', but %s cannot be read: %s", df->id, df->display,
                            df_strerror(rc));
    }
    if (rc == DF_ETOOBIG)
      df_device_load_error(ld, DF_EINVAL,
                           "%s: larger than %d bytes; a device file is a small table", df->display,
                           DF_DEVICE_FILE_MAX_BYTES);
    else if (rc == DF_ENOENT)
      df_device_load_error(ld, DF_ENOENT,
                           "%s: no such device file (a model id is its path under the "
                           "devices folder, without .lua)",
                           df->display);
    else
      df_device_load_error(ld, rc, "%s: cannot read: %s", df->display, df_strerror(rc));
    return -1;
  }
  df_locator_build(&df->loc, df->src, df->len);

  char chunkname[DF_DEVICE_ID_MAX + 8];
  snprintf(chunkname, sizeof(chunkname), "=%s.lua", df->id);
  int status = luaL_loadbufferx(P, df->src, df->len, chunkname, "t");
  if (status != LUA_OK) {
    if (status == LUA_ERRMEM)
      df_device_load_error(ld, DF_EINVAL, "%s: memory limit reached while reading it", df->display);
    else
      df_device_fail_lua(ld, fi, lua_tostring(P, -1), 0, NULL);
    lua_pop(P, 1);
    return -1;
  }
  lua_newtable(P);
  luaL_setmetatable(P, DF_ENV_META);
  if (!lua_setupvalue(P, -2, 1))
    lua_pop(P, 1);
  ld->instructions = 0;
  ld->last_line = 0;
  lua_sethook(P, count_hook, LUA_MASKCOUNT | LUA_MASKLINE, DF_HOOK_EVERY);
  status = lua_pcall(P, 0, 1, 0);
  lua_sethook(P, NULL, 0, 0);
  if (status != LUA_OK) {
    if (status == LUA_ERRMEM) {
      char msg[160];
      snprintf(msg, sizeof(msg), "x:%d: running it needs more than %d MiB of memory",
               ld->last_line, DF_DEVICE_FILE_MAX_MEMORY / (1024 * 1024));
      df_device_fail_lua(ld, fi, msg, 0, "a device file is a small table");
    } else {
      const char *msg = lua_tostring(P, -1);
      bool runaway = msg && strstr(msg, "instructions (a loop?)");
      df_device_fail_lua(ld, fi, msg, 0,
                         runaway ? "device files are data: they cannot loop or compute"
                                 : "write values, not code");
    }
    lua_pop(P, 1);
    return -1;
  }
  if (lua_type(P, -1) != LUA_TTABLE) {
    struct df_field_path p;
    df_field_path_init(&p);
    ld->cur = fi;
    df_device_fail_type(ld, &p, lua_gettop(P), "the file to return a table: return { ... }");
    lua_pop(P, 1);
    return -1;
  }
  if (!df->loc.shape_ok) {
    struct df_field_path p;
    df_field_path_init(&p);
    ld->cur = fi;
    df_device_fail(ld, &p,
                   "a device file is one 'return { ... }' table and nothing else (no locals, no "
                   "statements)");
    lua_pop(P, 1);
    return -1;
  }
  ld->cur = fi;
  rc = df_schema_check_file(ld, lua_gettop(P));
  if (rc != 0) {
    lua_pop(P, 1);
    return -1;
  }
  df->ref = luaL_ref(P, LUA_REGISTRYINDEX);
  return 0;
}

/* Runs in P under lua_pcall: loads the chain, merges, checks; returns the
 * merged table, or nothing with ld->rc set. */
static int
load_chain(lua_State *P)
{
  struct df_device_load *ld = lua_touserdata(P, 1);
  lua_settop(P, 0);
  if (luaL_newmetatable(P, DF_ENV_META)) {
    lua_pushcfunction(P, env_index);
    lua_setfield(P, -2, "__index");
    lua_pushcfunction(P, env_newindex);
    lua_setfield(P, -2, "__newindex");
    lua_pushboolean(P, 0);
    lua_setfield(P, -2, "__metatable");
  }
  lua_pop(P, 1);

  const char *id = ld->root_id;
  for (;;) {
    int fi = ld->nfiles;
    for (int i = 0; i < fi; i++) {
      if (strcmp(ld->files[i].id, id) == 0) {
        char chain[512];
        size_t k = 0;
        for (int j = 0; j < fi; j++) {
          int n = snprintf(chain + k, sizeof(chain) - k, "%s -> ", ld->files[j].id);
          if (n > 0 && (size_t)n < sizeof(chain) - k)
            k += (size_t)n;
        }
        snprintf(chain + k, sizeof(chain) - k, "%s", id);
        struct df_field_path p;
        df_field_path_init(&p);
        df_field_path_push_key(&p, "extends");
        ld->cur = fi - 1;
        df_device_fail(ld, &p,
                       "extends cycle: %s; a chain of extends must end at a file without extends",
                       chain);
        return 0;
      }
    }
    if (fi == DF_DEVICE_FILE_MAX_EXTENDS) {
      struct df_field_path p;
      df_field_path_init(&p);
      df_field_path_push_key(&p, "extends");
      ld->cur = fi - 1;
      df_device_fail(ld, &p, "more than %d files in one extends chain", DF_DEVICE_FILE_MAX_EXTENDS);
      return 0;
    }
    snprintf(ld->files[fi].id, sizeof(ld->files[fi].id), "%s", id);
    ld->files[fi].ref = LUA_NOREF;
    ld->nfiles++;
    if (load_one(ld, fi) != 0)
      return 0;
    lua_rawgeti(P, LUA_REGISTRYINDEX, ld->files[fi].ref);
    if (fi == 0) {
      lua_getfield(P, -1, "abstract");
      ld->abstract = lua_toboolean(P, -1);
      lua_pop(P, 1);
    }
    lua_getfield(P, -1, "extends");
    if (lua_type(P, -1) != LUA_TSTRING) {
      lua_pop(P, 2);
      break;
    }
    /* The id string stays alive: it is a value in the referenced table. */
    id = lua_tostring(P, -1);
    lua_pop(P, 2);
  }

  lua_newtable(P);
  int merged = lua_gettop(P);
  for (int f = ld->nfiles - 1; f >= 0; f--) {
    lua_rawgeti(P, LUA_REGISTRYINDEX, ld->files[f].ref);
    merge_into(P, merged, lua_gettop(P), true, 0);
    lua_pop(P, 1);
  }
  if (ld->abstract) {
    lua_pushboolean(P, 1);
    lua_setfield(P, merged, "abstract");
  }
  ld->cur = -1;
  if (df_schema_check_model(ld, merged) != 0)
    return 0;
  lua_settop(P, merged);
  return 1;
}

void
df_device_load_free(struct df_device_load *ld)
{
  for (int i = 0; i < ld->nfiles; i++) {
    free(ld->files[i].display);
    free(ld->files[i].src);
    df_locator_free(&ld->files[i].loc);
  }
  if (ld->P)
    lua_close(ld->P);
}

int
df_device_load_run(struct df_device_load *ld, const char *devices_dir, const char *id, char *err,
                   size_t errlen)
{
  memset(ld, 0, sizeof(*ld));
  ld->dir = devices_dir;
  ld->root_id = id;
  ld->err = err;
  ld->errlen = errlen;
  ld->cur = -1;
  if (err && errlen)
    err[0] = '\0';
  if (!devices_dir || !id) {
    df_device_load_error(ld, DF_EINVAL, "no devices folder or id given");
    return ld->rc;
  }
  if (!df_device_id_valid(id)) {
    df_device_load_error(ld, DF_EINVAL,
                         "'%s' is not a device id: ids are paths under the devices "
                         "folder without .lua, lowercase letters, digits, '-', '_' and "
                         "'/', e.g. xiaomi/redmi-k70",
                         id);
    return ld->rc;
  }
  ld->mem.limit = DF_DEVICE_FILE_MAX_MEMORY;
  ld->P = lua_newstate(limited_alloc, &ld->mem);
  if (!ld->P) {
    df_device_load_error(ld, DF_ENOMEM, "out of memory");
    return ld->rc;
  }
  memcpy(lua_getextraspace(ld->P), &ld, sizeof(ld));
  lua_pushcfunction(ld->P, load_chain);
  lua_pushlightuserdata(ld->P, ld);
  int status = lua_pcall(ld->P, 1, 1, 0);
  if (status != LUA_OK) {
    const char *who = ld->nfiles > 0 && ld->files[ld->nfiles - 1].display
                        ? ld->files[ld->nfiles - 1].display
                        : id;
    if (status == LUA_ERRMEM)
      df_device_load_error(ld, DF_EINVAL,
                           "%s: the %d MiB memory limit was reached while loading it", who,
                           DF_DEVICE_FILE_MAX_MEMORY / (1024 * 1024));
    else
      df_device_load_error(ld, DF_EINVAL, "%s: %s", who, lua_tostring(ld->P, -1));
    return ld->rc;
  }
  if (ld->rc == 0 && lua_type(ld->P, -1) != LUA_TTABLE)
    df_device_load_error(ld, DF_EINVAL, "%s: could not be loaded", id);
  return ld->rc;
}
