/* A new phone's content (from phone_default.lua and the model's device
 * file), its partitions' first images, and the factory reset that a wipe of
 * userdata performs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/sim_internal.h"

/* Deterministic bytes for a file of a given size (FNV-1a seed, xorshift). */
static char *
seeded_bytes(const char *seed, size_t size)
{
  uint64_t h = 1469598103934665603ull;
  for (const char *p = seed; *p; p++) {
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  }
  char *buf = df_sim_xrealloc(NULL, size ? size : 1);
  for (size_t i = 0; i < size; i++) {
    h ^= h << 13;
    h ^= h >> 7;
    h ^= h << 17;
    buf[i] = (char)(h >> 24);
  }
  return buf;
}

/* A value of a files table: a string, or {size=N, seed=S} / {content=S}. */
static char *
file_value(lua_State *L, int idx, const char *dflt_seed, size_t *len)
{
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, idx, len);
    char *d = df_sim_xrealloc(NULL, *len + 1);
    memcpy(d, s, *len);
    return d;
  }
  if (!lua_istable(L, idx)) {
    *len = 0;
    return df_sim_strdup("");
  }
  lua_getfield(L, idx, "content");
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, len);
    char *d = df_sim_xrealloc(NULL, *len + 1);
    memcpy(d, s, *len);
    lua_pop(L, 1);
    return d;
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "size");
  *len = lua_isinteger(L, -1) ? (size_t)lua_tointeger(L, -1) : 0;
  lua_getfield(L, idx, "seed");
  const char *seed = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : dflt_seed;
  char *d = seeded_bytes(seed, *len);
  lua_pop(L, 2);
  return d;
}

static const char *
opt_str(lua_State *L, int t, const char *k)
{
  lua_getfield(L, t, k);
  const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1);
  return s;
}

static int64_t
opt_int(lua_State *L, int t, const char *k, int64_t dflt)
{
  lua_getfield(L, t, k);
  int64_t v = lua_isinteger(L, -1) ? (int64_t)lua_tointeger(L, -1) : dflt;
  lua_pop(L, 1);
  return v;
}

static void
code_path_for_user_app(const char *name, char *out, size_t outlen)
{
  /* Android 11+ installs into /data/app/~~<random>==/<pkg>-<random>==. */
  char *a = seeded_bytes(name, 16);
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char r1[23], r2[23];
  for (int i = 0; i < 22; i++) {
    r1[i] = b64[(unsigned char)a[i % 16] % 64];
    r2[i] = b64[(unsigned char)(a[(i + 5) % 16] ^ (char)i) % 64];
  }
  r1[22] = r2[22] = '\0';
  free(a);
  snprintf(out, outlen, "/data/app/~~%s==/%s-%s==", r1, name, r2);
}

static void
write_data_files(struct df_sim_phone *phone, lua_State *L, int t, const struct df_sim_package *p)
{
  char canon[PATH_MAX];
  snprintf(canon, sizeof(canon), "/data/data/%s", p->name);
  df_sim_vfs_mkdir_p(phone, canon, (uint32_t)p->uid, (uint32_t)p->uid, 0700);
  lua_getfield(L, t, "data_files");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        size_t len;
        char seed[256];
        snprintf(seed, sizeof(seed), "%s/%s", p->name, lua_tostring(L, -2));
        char *data = file_value(L, -1, seed, &len);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "/data/data/%s/%s", p->name, lua_tostring(L, -2));
        df_sim_vfs_write_file(phone, path, data, len, (uint32_t)p->uid, (uint32_t)p->uid, 0600,
                              false);
        free(data);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static void
add_packages(struct df_sim_phone *phone, lua_State *L, int list, bool user, bool data_only)
{
  if (!lua_istable(L, list)) {
    return;
  }
  int64_t now = df_sim_phone_now_ms(phone);
  lua_Integer n = luaL_len(L, list);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    int t = lua_gettop(L);
    const char *name = opt_str(L, t, "name");
    if (name == NULL) {
      lua_pop(L, 1);
      continue;
    }
    struct df_sim_package *p = df_sim_pkg_find(phone, name);
    if (data_only) {
      if (p) {
        p->data_bytes = (uint64_t)opt_int(L, t, "data_bytes", 0);
        p->cache_bytes = (uint64_t)opt_int(L, t, "cache_bytes", 0);
        write_data_files(phone, L, t, p);
      }
      lua_pop(L, 1);
      continue;
    }
    p = df_sim_pkg_add(phone, name);
    free(p->version_name);
    const char *vn = opt_str(L, t, "version_name");
    p->version_name = df_sim_strdup(vn ? vn : "1.0");
    p->version_code = opt_int(L, t, "version_code", 1);
    p->uid = (int)opt_int(L, t, "uid", 10000 + (int)phone->npkgs);
    p->system = !user;
    p->target_sdk = (int)opt_int(L, t, "target_sdk", 34);
    p->data_bytes = (uint64_t)opt_int(L, t, "data_bytes", 0);
    p->cache_bytes = (uint64_t)opt_int(L, t, "cache_bytes", 0);
    int64_t days = opt_int(L, t, "installed_days_ago", 400);
    p->first_install_ms = now - days * 86400000;
    p->last_update_ms = p->first_install_ms;
    free(p->code_path);
    free(p->apk);
    if (user) {
      char cp[PATH_MAX];
      code_path_for_user_app(name, cp, sizeof(cp));
      p->code_path = df_sim_strdup(cp);
      p->apk = df_sim_strdup("base.apk");
    } else {
      const char *cp = opt_str(L, t, "code_path");
      const char *apk = opt_str(L, t, "apk");
      p->code_path = df_sim_strdup(cp ? cp : "/system/app/Unknown");
      p->apk = df_sim_strdup(apk ? apk : "base.apk");
    }
    const char *launcher = opt_str(L, t, "launcher");
    if (launcher && phone->foreground == NULL) {
      phone->foreground = df_sim_strdup(launcher);
    }
    write_data_files(phone, L, t, p);
    lua_pop(L, 1);
  }
}

static void
add_files(struct df_sim_phone *phone, lua_State *L, int list)
{
  if (!lua_istable(L, list)) {
    return;
  }
  lua_Integer n = luaL_len(L, list);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    int t = lua_gettop(L);
    const char *path = opt_str(L, t, "path");
    if (path) {
      char canon[PATH_MAX];
      df_sim_vfs_canon(path, canon, sizeof(canon));
      uint32_t uid = (uint32_t)opt_int(L, t, "uid", 0);
      uint32_t gid = (uint32_t)opt_int(L, t, "gid", 0);
      const char *mode = opt_str(L, t, "mode");
      uint32_t perm = mode ? (uint32_t)strtoul(mode, NULL, 8) : 0644;
      lua_getfield(L, t, "dir");
      bool dir = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (dir) {
        df_sim_vfs_mkdir_p(phone, canon, uid, gid, perm);
        df_sim_vfs_meta_set(phone, canon, uid, gid, perm);
      } else {
        size_t len;
        char *data = file_value(L, t, path, &len);
        df_sim_vfs_write_file(phone, canon, data, len, uid, gid, perm, false);
        df_sim_vfs_meta_set(phone, canon, uid, gid, perm);
        free(data);
      }
    }
    lua_pop(L, 1);
  }
}

static void
add_accounts(struct df_sim_phone *phone, lua_State *L, int list)
{
  if (!lua_istable(L, list)) {
    return;
  }
  lua_Integer n = luaL_len(L, list);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    const char *name = opt_str(L, -1, "name");
    const char *type = opt_str(L, -1, "type");
    if (name && type) {
      phone->accounts = df_sim_xrealloc(phone->accounts,
                                        (phone->naccounts + 1) * sizeof(*phone->accounts));
      phone->accounts[phone->naccounts].name = df_sim_strdup(name);
      phone->accounts[phone->naccounts].type = df_sim_strdup(type);
      phone->naccounts++;
    }
    lua_pop(L, 1);
  }
}

static void
copy_map(lua_State *L, int t, struct df_sim_kvs *out)
{
  if (!lua_istable(L, t)) {
    return;
  }
  t = lua_absindex(L, t);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_type(L, -2) == LUA_TSTRING &&
        (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
      df_sim_kvs_set(out, lua_tostring(L, -2), lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
}

static void
add_settings(struct df_sim_phone *phone, lua_State *L, int root)
{
  static const char *const ns[3] = {"system", "secure", "global"};
  lua_getfield(L, root, "settings");
  for (int i = 0; i < 3; i++) {
    df_sim_kvs_free(&phone->settings[i]);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, ns[i]);
      copy_map(L, -1, &phone->settings[i]);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  /* Settings.Secure.ANDROID_ID: 16 hex digits, per phone. */
  char *b = seeded_bytes(phone->serial, 8);
  char id[17];
  for (int i = 0; i < 8; i++) {
    snprintf(id + 2 * i, 3, "%02x", (unsigned char)b[i]);
  }
  free(b);
  df_sim_kvs_set(&phone->settings[DF_SIM_NS_SECURE], "android_id", id);
}

static void
vendor_list(lua_State *L, int root, const char *field, const char *vendor)
{
  lua_getfield(L, root, field);
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, vendor);
    lua_remove(L, -2);
  }
}

/* ---- partitions ---- */

static int
write_image(const struct df_sim_phone *phone, const char *full_name, const char *base)
{
  char path[PATH_MAX];
  df_sim_phone_partition_path(phone, full_name, path, sizeof(path));
  size_t len = 4096;
  char *img;
  if (strcmp(base, "userdata") == 0 || strcmp(base, "metadata") == 0 ||
      strcmp(base, "cache") == 0 || strcmp(base, "misc") == 0) {
    /* Formatted by the phone itself: no image was ever flashed. */
    len = 0;
    img = df_sim_strdup("");
  } else {
    char seed[128];
    snprintf(seed, sizeof(seed), "%s:%s:factory", phone->model.codename, full_name);
    img = seeded_bytes(seed, len);
    if (strcmp(base, "boot") == 0) {
      /* A v4 boot image header (AOSP mkbootimg bootimg.h): magic, then
       * header_version at offset 40. */
      memcpy(img, "ANDROID!", 8);
      memset(img + 8, 0, 40);
      img[40] = 4;
    } else if (strcmp(base, "vbmeta") == 0 || strcmp(base, "vbmeta_system") == 0) {
      memcpy(img, "AVB0", 4);
      memset(img + 120, 0, 4);
    }
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    free(img);
    return df_error_from_errno(errno);
  }
  ssize_t w = len ? write(fd, img, len) : 0;
  close(fd);
  free(img);
  return w == (ssize_t)len ? 0 : DF_EIO;
}

static int
create_partitions(struct df_sim_phone *phone)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/partitions", phone->state_dir);
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
    return df_error_from_errno(errno);
  }
  for (size_t i = 0; i < phone->model.nparts; i++) {
    const struct df_sim_partition *p = &phone->model.parts[i];
    for (int s = 0; s < (p->has_slot ? 2 : 1); s++) {
      char full[80];
      if (p->has_slot) {
        snprintf(full, sizeof(full), "%s_%c", p->name, s ? 'b' : 'a');
      } else {
        snprintf(full, sizeof(full), "%s", p->name);
      }
      if (p->logical) {
        /* Virtual A/B: the running slot's partitions fill super; the other
         * slot's exist empty until an update. */
        bool current = !p->has_slot || s == 0;
        phone->logical = df_sim_xrealloc(phone->logical,
                                         (phone->nlogical + 1) * sizeof(*phone->logical));
        struct df_sim_logical *l = &phone->logical[phone->nlogical++];
        memset(l, 0, sizeof(*l));
        snprintf(l->full_name, sizeof(l->full_name), "%s", full);
        l->part = *p;
        l->part.size = current ? p->size : 0;
        if (!current) {
          char path[PATH_MAX];
          df_sim_phone_partition_path(phone, full, path, sizeof(path));
          int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
          if (fd >= 0) {
            close(fd);
          }
          continue;
        }
      }
      int r = write_image(phone, full, p->name);
      if (r < 0) {
        return r;
      }
    }
  }
  return 0;
}

/* ---- populate and wipe ---- */

static int
load_defaults(struct df_sim_phone *phone, lua_State *L, char *err, size_t errlen)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/phone_default.lua", phone->sim_dir);
  return df_sim_lua_load_data(L, path, err, errlen);
}

/* The user's part of a phone: user apps, app data, files, accounts. */
static void
fill_user_part(struct df_sim_phone *phone, lua_State *L, int root, bool fresh_setup)
{
  const char *vendor = phone->model.vendor;
  lua_getfield(L, root, "packages");
  add_packages(phone, L, lua_gettop(L), false, !fresh_setup);
  lua_pop(L, 1);
  vendor_list(L, root, "vendor_packages", vendor);
  add_packages(phone, L, lua_gettop(L), false, !fresh_setup);
  lua_pop(L, 1);
  if (fresh_setup) {
    lua_getfield(L, root, "user_packages");
    add_packages(phone, L, lua_gettop(L), true, false);
    lua_pop(L, 1);
    lua_getfield(L, root, "files");
    add_files(phone, L, lua_gettop(L));
    lua_pop(L, 1);
    lua_getfield(L, root, "accounts");
    add_accounts(phone, L, lua_gettop(L));
    lua_pop(L, 1);
    vendor_list(L, root, "vendor_accounts", vendor);
    add_accounts(phone, L, lua_gettop(L));
    lua_pop(L, 1);
  }
}

int
df_sim_phone_populate(struct df_sim_phone *phone, char *err, size_t errlen)
{
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    return DF_ENOMEM;
  }
  int r = load_defaults(phone, L, err, errlen);
  if (r < 0) {
    lua_close(L);
    return r;
  }
  int root = lua_gettop(L);
  phone->slot[0] = 'a';
  phone->master_sync = true;
  phone->anti_rollback = phone->model.anti_rollback > 0 ? phone->model.anti_rollback : 0;
  lua_getfield(L, root, "storage");
  phone->storage_total = (uint64_t)opt_int(L, -1, "total", 64LL << 30);
  phone->storage_other = (uint64_t)opt_int(L, -1, "other", 10LL << 30);
  lua_pop(L, 1);

  lua_getfield(L, root, "props");
  copy_map(L, -1, &phone->props);
  lua_pop(L, 1);
  vendor_list(L, root, "vendor_props", phone->model.vendor);
  copy_map(L, -1, &phone->props);
  lua_pop(L, 1);
  for (size_t i = 0; i < phone->model.props.n; i++) {
    df_sim_kvs_set(&phone->props, phone->model.props.v[i].key, phone->model.props.v[i].value);
  }
  if (!df_sim_kvs_get(&phone->props, "ro.product.device")) {
    df_sim_kvs_set(&phone->props, "ro.product.device", phone->model.codename);
  }
  if (!phone->model.dynamic) {
    df_sim_kvs_set(&phone->props, "ro.boot.dynamic_partitions", NULL);
  }

  r = df_sim_vfs_init_skeleton(phone);
  if (r == 0) {
    add_settings(phone, L, root);
    fill_user_part(phone, L, root, true);
    vendor_list(L, root, "vendor_files", phone->model.vendor);
    add_files(phone, L, lua_gettop(L));
    lua_pop(L, 1);
    if (phone->foreground == NULL) {
      phone->foreground = df_sim_strdup("com.android.launcher3/.uioverrides.QuickstepLauncher");
    }
    r = create_partitions(phone);
  }
  if (r < 0) {
    snprintf(err, errlen, "cannot create the phone in %s: %s", phone->state_dir, df_strerror(r));
  }
  lua_close(L);
  return r;
}

void
df_sim_phone_wipe_userdata(struct df_sim_phone *phone)
{
  /* User apps go; every app's data goes; shared storage and accounts go. */
  for (size_t i = phone->npkgs; i-- > 0;) {
    if (!phone->pkgs[i].system) {
      df_sim_pkg_remove(phone, phone->pkgs[i].name);
    }
  }
  df_sim_vfs_remove_tree(phone, "/data");
  df_sim_vfs_remove_tree(phone, "/storage/emulated/0");
  for (size_t i = 0; i < phone->naccounts; i++) {
    free(phone->accounts[i].name);
    free(phone->accounts[i].type);
  }
  phone->naccounts = 0;
  df_sim_events_free(&phone->crashes);
  df_sim_events_free(&phone->logs);
  phone->master_sync = true;
  df_sim_vfs_init_skeleton(phone);
  for (size_t i = 0; i < phone->npkgs; i++) {
    struct df_sim_package *p = &phone->pkgs[i];
    p->data_bytes = p->cache_bytes = 0;
    p->enabled = DF_SIM_ENABLED_DEFAULT;
    p->stopped = false;
    p->appops_changed = false;
    char canon[PATH_MAX];
    snprintf(canon, sizeof(canon), "/data/data/%s", p->name);
    df_sim_vfs_mkdir_p(phone, canon, (uint32_t)p->uid, (uint32_t)p->uid, 0700);
  }
  char err[256];
  lua_State *L = luaL_newstate();
  if (L && load_defaults(phone, L, err, sizeof(err)) == 0) {
    add_settings(phone, L, lua_gettop(L));
  }
  if (L) {
    lua_close(L);
  }
  df_log_info("droidfix-sim %s: userdata wiped (factory reset)", phone->serial);
}
