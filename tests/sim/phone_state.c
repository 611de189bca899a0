/* The phone's state file, STATE_DIR/state.lua: a Lua table written by C and
 * read back in an empty environment. Written whole on every change to a
 * temporary file, then renamed over the old one, so a reader (status, a
 * restarted sim) never sees half a state. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

static const char *const ns_names[3] = {"system", "secure", "global"};

int
df_sim_settings_ns_parse(const char *name)
{
  for (int i = 0; i < 3; i++) {
    if (strcmp(name, ns_names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

/* ---- writing ---- */

static void
put_str(struct df_sim_buf *b, const char *s)
{
  if (s == NULL) {
    df_sim_buf_append(b, "nil", 3);
    return;
  }
  df_sim_buf_append(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      df_sim_buf_printf(b, "\\%c", *p);
    } else if (*p == '\n') {
      df_sim_buf_append(b, "\\n", 2);
    } else if (*p < 0x20 || *p >= 0x7f) {
      df_sim_buf_printf(b, "\\%03u", *p);
    } else {
      df_sim_buf_append(b, p, 1);
    }
  }
  df_sim_buf_append(b, "\"", 1);
}

static void
put_kv_str(struct df_sim_buf *b, const char *key, const char *value)
{
  df_sim_buf_printf(b, "%s = ", key);
  put_str(b, value);
  df_sim_buf_append(b, ", ", 2);
}

static void
put_map(struct df_sim_buf *b, const struct df_sim_kvs *m, const char *indent)
{
  df_sim_buf_append(b, "{\n", 2);
  for (size_t i = 0; i < m->n; i++) {
    df_sim_buf_printf(b, "%s  [", indent);
    put_str(b, m->v[i].key);
    df_sim_buf_append(b, "] = ", 4);
    put_str(b, m->v[i].value);
    df_sim_buf_append(b, ",\n", 2);
  }
  df_sim_buf_printf(b, "%s}", indent);
}

static void
put_events(struct df_sim_buf *b, const struct df_sim_events *ev)
{
  df_sim_buf_append(b, "{\n", 2);
  for (size_t i = 0; i < ev->n; i++) {
    const struct df_sim_event *e = &ev->v[i];
    df_sim_buf_printf(b, "    { time_ms = %" PRId64 ", boot = %d, pid = %d, uid = %d, prio = \"%c\", ",
                      e->time_ms, e->boot, e->pid, e->uid, e->prio ? e->prio : 'I');
    put_kv_str(b, "tag", e->tag);
    put_kv_str(b, "process", e->process);
    put_kv_str(b, "package", e->package);
    put_kv_str(b, "text", e->text);
    df_sim_buf_append(b, "},\n", 3);
  }
  df_sim_buf_append(b, "  }", 3);
}

static void
serialize(const struct df_sim_phone *phone, struct df_sim_buf *b)
{
  df_sim_buf_printf(b, "-- droidfix-sim phone state: written by the sim, read back as Lua data.\n"
                       "return {\n  version = 1,\n  ");
  put_kv_str(b, "model", phone->model.id);
  put_kv_str(b, "serial", phone->serial);
  put_kv_str(b, "mode", df_sim_mode_name(phone->mode));
  put_kv_str(b, "boot_target", df_sim_mode_name(phone->boot_target));
  df_sim_buf_printf(b, "\n  boot_count = %d, boot_time_ms = %" PRId64 ", next_pid = %d,\n",
                    phone->boot_count, phone->boot_time_ms, phone->next_pid);
  df_sim_buf_printf(b, "  rooted = %s, unlocked = %s, critical_unlocked = %s, slot = \"%s\",\n",
                    phone->rooted ? "true" : "false", phone->unlocked ? "true" : "false",
                    phone->critical_unlocked ? "true" : "false", phone->slot[0] ? phone->slot : "a");
  df_sim_buf_printf(b, "  anti_rollback = %d, clock_offset_s = %" PRId64 ",\n", phone->anti_rollback,
                    phone->clock_offset_s);
  df_sim_buf_printf(b, "  storage_total = %" PRIu64 ", storage_other = %" PRIu64 ",\n",
                    phone->storage_total, phone->storage_other);
  df_sim_buf_printf(b, "  master_sync = %s, ", phone->master_sync ? "true" : "false");
  put_kv_str(b, "foreground", phone->foreground);
  df_sim_buf_append(b, "\n  props = ", 11);
  put_map(b, &phone->props, "  ");
  df_sim_buf_append(b, ",\n  settings = {\n", 17);
  for (int i = 0; i < 3; i++) {
    df_sim_buf_printf(b, "    %s = ", ns_names[i]);
    put_map(b, &phone->settings[i], "    ");
    df_sim_buf_append(b, ",\n", 2);
  }
  df_sim_buf_append(b, "  },\n  meta = ", 14);
  put_map(b, &phone->meta, "  ");
  df_sim_buf_append(b, ",\n  packages = {\n", 17);
  for (size_t i = 0; i < phone->npkgs; i++) {
    const struct df_sim_package *p = &phone->pkgs[i];
    df_sim_buf_append(b, "    { ", 6);
    put_kv_str(b, "name", p->name);
    put_kv_str(b, "version_name", p->version_name);
    df_sim_buf_printf(b, "version_code = %" PRId64 ", uid = %d, system = %s, enabled = %d, "
                         "stopped = %s, appops_changed = %s, ",
                      p->version_code, p->uid, p->system ? "true" : "false", p->enabled,
                      p->stopped ? "true" : "false", p->appops_changed ? "true" : "false");
    put_kv_str(b, "code_path", p->code_path);
    put_kv_str(b, "apk", p->apk);
    df_sim_buf_printf(b, "first_install_ms = %" PRId64 ", last_update_ms = %" PRId64
                         ", target_sdk = %d, data_bytes = %" PRIu64 ", cache_bytes = %" PRIu64 " },\n",
                      p->first_install_ms, p->last_update_ms, p->target_sdk, p->data_bytes,
                      p->cache_bytes);
  }
  df_sim_buf_append(b, "  },\n  accounts = {\n", 20);
  for (size_t i = 0; i < phone->naccounts; i++) {
    df_sim_buf_append(b, "    { ", 6);
    put_kv_str(b, "name", phone->accounts[i].name);
    put_kv_str(b, "type", phone->accounts[i].type);
    df_sim_buf_append(b, "},\n", 3);
  }
  df_sim_buf_append(b, "  },\n  crashes = ", 17);
  put_events(b, &phone->crashes);
  df_sim_buf_append(b, ",\n  logs = ", 11);
  put_events(b, &phone->logs);
  df_sim_buf_append(b, ",\n  logical = {\n", 16);
  for (size_t i = 0; i < phone->nlogical; i++) {
    df_sim_buf_printf(b, "    { name = \"%s\", size = %" PRIu64 " },\n", phone->logical[i].full_name,
                      phone->logical[i].part.size);
  }
  df_sim_buf_append(b, "  },\n  faults = {\n", 18);
  for (size_t i = 0; i < phone->nfaults; i++) {
    df_sim_buf_append(b, "    { ", 6);
    put_kv_str(b, "name", phone->faults[i].name);
    put_kv_str(b, "causes", phone->faults[i].causes);
    df_sim_buf_printf(b, "active = %s },\n", phone->faults[i].active ? "true" : "false");
  }
  df_sim_buf_append(b, "  },\n}\n", 7);
}

int
df_sim_state_save(struct df_sim_phone *phone)
{
  struct df_sim_buf b = {0};
  serialize(phone, &b);
  char path[PATH_MAX], tmp[PATH_MAX + 16];
  df_sim_phone_state_path(phone, "state.lua", path, sizeof(path));
  snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  if (f == NULL) {
    df_sim_buf_free(&b);
    return df_error_from_errno(errno);
  }
  size_t want = b.len;
  size_t w = fwrite(b.data, 1, want, f);
  int closed = fclose(f);
  df_sim_buf_free(&b);
  if (w != want || closed != 0) {
    unlink(tmp);
    return DF_EIO;
  }
  if (rename(tmp, path) < 0) {
    int r = df_error_from_errno(errno);
    unlink(tmp);
    return r;
  }
  return 0;
}

/* ---- reading ---- */

static const char *
get_s(lua_State *L, int t, const char *k)
{
  lua_getfield(L, t, k);
  const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1); /* the string stays alive: it is held by the table */
  return s;
}

static int64_t
get_i(lua_State *L, int t, const char *k, int64_t dflt)
{
  lua_getfield(L, t, k);
  int64_t v = lua_isinteger(L, -1) ? (int64_t)lua_tointeger(L, -1) : dflt;
  lua_pop(L, 1);
  return v;
}

static bool
get_b(lua_State *L, int t, const char *k)
{
  lua_getfield(L, t, k);
  bool v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static void
get_map(lua_State *L, int t, const char *k, struct df_sim_kvs *out)
{
  lua_getfield(L, t, k);
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
        df_sim_kvs_set(out, lua_tostring(L, -2), lua_tostring(L, -1));
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static enum df_sim_mode
mode_parse(const char *s)
{
  for (int m = DF_SIM_MODE_OFF; m <= DF_SIM_MODE_DOWNLOAD; m++) {
    if (s && strcmp(s, df_sim_mode_name((enum df_sim_mode)m)) == 0) {
      return (enum df_sim_mode)m;
    }
  }
  return DF_SIM_MODE_SYSTEM;
}

static void
get_events(lua_State *L, int t, const char *k, struct df_sim_events *ev)
{
  lua_getfield(L, t, k);
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      int e = lua_gettop(L);
      if (lua_istable(L, e)) {
        struct df_sim_event x = {0};
        x.time_ms = get_i(L, e, "time_ms", 0);
        x.boot = (int)get_i(L, e, "boot", 0);
        x.pid = (int)get_i(L, e, "pid", 0);
        x.uid = (int)get_i(L, e, "uid", 0);
        const char *prio = get_s(L, e, "prio");
        x.prio = prio ? prio[0] : 'I';
        x.tag = (char *)get_s(L, e, "tag");
        x.process = (char *)get_s(L, e, "process");
        x.package = (char *)get_s(L, e, "package");
        x.text = (char *)get_s(L, e, "text");
        df_sim_events_add(ev, &x);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

int
df_sim_state_load(struct df_sim_phone *phone, char *err, size_t errlen)
{
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    return DF_ENOMEM;
  }
  char path[PATH_MAX];
  df_sim_phone_state_path(phone, "state.lua", path, sizeof(path));
  int r = df_sim_lua_load_data(L, path, err, errlen);
  if (r < 0) {
    lua_close(L);
    return r;
  }
  int t = lua_gettop(L);
  const char *model = get_s(L, t, "model");
  if (model == NULL || get_i(L, t, "version", 0) != 1) {
    snprintf(err, errlen, "%s is not a droidfix-sim state (version 1)", path);
    lua_close(L);
    return DF_EINVAL;
  }
  r = df_sim_model_load(phone->devices_dir, phone->sim_dir, model, &phone->model, err, errlen);
  if (r < 0) {
    lua_close(L);
    return r;
  }
  const char *serial = get_s(L, t, "serial");
  phone->serial = df_sim_strdup(serial ? serial : "0000000");
  phone->mode = mode_parse(get_s(L, t, "mode"));
  phone->boot_target = mode_parse(get_s(L, t, "boot_target"));
  phone->boot_count = (int)get_i(L, t, "boot_count", 0);
  phone->boot_time_ms = get_i(L, t, "boot_time_ms", 0);
  phone->next_pid = (int)get_i(L, t, "next_pid", 4000);
  phone->rooted = get_b(L, t, "rooted");
  phone->unlocked = get_b(L, t, "unlocked");
  phone->critical_unlocked = get_b(L, t, "critical_unlocked");
  const char *slot = get_s(L, t, "slot");
  phone->slot[0] = (slot && slot[0] == 'b') ? 'b' : 'a';
  phone->anti_rollback = (int)get_i(L, t, "anti_rollback", 0);
  phone->clock_offset_s = get_i(L, t, "clock_offset_s", 0);
  phone->storage_total = (uint64_t)get_i(L, t, "storage_total", 0);
  phone->storage_other = (uint64_t)get_i(L, t, "storage_other", 0);
  phone->master_sync = get_b(L, t, "master_sync");
  phone->foreground = df_sim_strdup(get_s(L, t, "foreground"));
  get_map(L, t, "props", &phone->props);
  get_map(L, t, "meta", &phone->meta);
  lua_getfield(L, t, "settings");
  if (lua_istable(L, -1)) {
    for (int i = 0; i < 3; i++) {
      get_map(L, lua_gettop(L), ns_names[i], &phone->settings[i]);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "packages");
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      int e = lua_gettop(L);
      const char *name = lua_istable(L, e) ? get_s(L, e, "name") : NULL;
      if (name) {
        struct df_sim_package *p = df_sim_pkg_add(phone, name);
        free(p->version_name);
        p->version_name = df_sim_strdup(get_s(L, e, "version_name"));
        p->version_code = get_i(L, e, "version_code", 1);
        p->uid = (int)get_i(L, e, "uid", 10000);
        p->system = get_b(L, e, "system");
        p->enabled = (int)get_i(L, e, "enabled", 0);
        p->stopped = get_b(L, e, "stopped");
        p->appops_changed = get_b(L, e, "appops_changed");
        p->code_path = df_sim_strdup(get_s(L, e, "code_path"));
        p->apk = df_sim_strdup(get_s(L, e, "apk"));
        p->first_install_ms = get_i(L, e, "first_install_ms", 0);
        p->last_update_ms = get_i(L, e, "last_update_ms", 0);
        p->target_sdk = (int)get_i(L, e, "target_sdk", 34);
        p->data_bytes = (uint64_t)get_i(L, e, "data_bytes", 0);
        p->cache_bytes = (uint64_t)get_i(L, e, "cache_bytes", 0);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "accounts");
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      int e = lua_gettop(L);
      if (lua_istable(L, e) && get_s(L, e, "name") && get_s(L, e, "type")) {
        phone->accounts = df_sim_xrealloc(phone->accounts,
                                          (phone->naccounts + 1) * sizeof(*phone->accounts));
        phone->accounts[phone->naccounts].name = df_sim_strdup(get_s(L, e, "name"));
        phone->accounts[phone->naccounts].type = df_sim_strdup(get_s(L, e, "type"));
        phone->naccounts++;
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  get_events(L, t, "crashes", &phone->crashes);
  get_events(L, t, "logs", &phone->logs);
  lua_getfield(L, t, "logical");
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      int e = lua_gettop(L);
      const char *name = lua_istable(L, e) ? get_s(L, e, "name") : NULL;
      if (name && strlen(name) < 64) {
        phone->logical = df_sim_xrealloc(phone->logical,
                                         (phone->nlogical + 1) * sizeof(*phone->logical));
        struct df_sim_logical *l = &phone->logical[phone->nlogical++];
        memset(l, 0, sizeof(*l));
        snprintf(l->full_name, sizeof(l->full_name), "%s", name);
        size_t len = strlen(name);
        bool slotted = len > 2 && name[len - 2] == '_' && (name[len - 1] == 'a' || name[len - 1] == 'b');
        snprintf(l->part.name, sizeof(l->part.name), "%.*s", (int)(slotted ? len - 2 : len), name);
        l->part.has_slot = slotted;
        l->part.logical = true;
        l->part.size = (uint64_t)get_i(L, e, "size", 0);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, t, "faults");
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      int e = lua_gettop(L);
      const char *name = lua_istable(L, e) ? get_s(L, e, "name") : NULL;
      if (name) {
        phone->faults = df_sim_xrealloc(phone->faults, (phone->nfaults + 1) * sizeof(*phone->faults));
        struct df_sim_fault *f = &phone->faults[phone->nfaults++];
        f->name = df_sim_strdup(name);
        const char *c = get_s(L, e, "causes");
        f->causes = df_sim_strdup(c ? c : "");
        f->active = get_b(L, e, "active");
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_close(L);
  return 0;
}
