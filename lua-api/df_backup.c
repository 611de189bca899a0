/* df.backup.create(dev, out_path, spec), df.backup.verify(path) and
 * df.backup.restore(dev, path, opts): async on the bridge, the streaming
 * in plugins/adb/backup.c. Also the backup the runner takes before a
 * user-data step (df_backup_create_for_run). */
#include "lua-api/df_backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/bridge.h"
#include "lua-api/df_device.h"
#include "lua-api/df_device_op.h"
#include "lua-api/risk_gate.h"

#define DF_BACKUP_MAX_FOLDERS 64

/* ---- df.backup.create ---- */

struct df_backup_lua_op {
  struct df_device_op head; /* first: df_device_op_* see this */
  struct df_backup *b;
  struct df_progress progress;
  struct df_backup_result r;
  char *not_covered; /* a copy of r.not_covered */
};

static void df_backup_lua_push_lines(lua_State *L, const char *text);

/* "app-data PKG" / "account TYPE NAME" lines -> the lists recipes show. */
static void
df_backup_lua_push_not_covered(lua_State *L, const char *text)
{
  lua_Integer na = 0, nc = 0;

  df_backup_lua_push_lines(L, text);
  lua_setfield(L, -2, "not_backed_up");
  lua_newtable(L); /* lost_app_data */
  lua_newtable(L); /* lost_accounts */
  while (text != NULL && *text != '\0') {
    const char *nl = strchr(text, '\n');
    size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);
    if (len > 9 && strncmp(text, "app-data ", 9) == 0) {
      lua_pushlstring(L, text + 9, len - 9);
      lua_rawseti(L, -3, ++na);
    } else if (len > 8 && strncmp(text, "account ", 8) == 0) {
      lua_pushlstring(L, text + 8, len - 8);
      lua_rawseti(L, -2, ++nc);
    }
    text = nl != NULL ? nl + 1 : NULL;
  }
  lua_setfield(L, -3, "lost_accounts");
  lua_setfield(L, -2, "lost_app_data");
}

static int
df_backup_lua_push_created(lua_State *L, void *ctx)
{
  struct df_backup_lua_op *op = ctx;

  if (op->head.status != DF_OK)
    return df_bridge_push_error(L, op->head.status, op->r.message[0] ? op->r.message : NULL);
  lua_createtable(L, 0, 6);
  lua_pushstring(L, op->r.path);
  lua_setfield(L, -2, "path");
  lua_pushinteger(L, (lua_Integer)op->r.files);
  lua_setfield(L, -2, "files");
  lua_pushinteger(L, (lua_Integer)op->r.bytes);
  lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, (lua_Integer)op->r.dirs);
  lua_setfield(L, -2, "dirs");
  lua_pushinteger(L, (lua_Integer)op->r.skipped);
  lua_setfield(L, -2, "skipped");
  lua_pushstring(L, op->r.manifest_sha256);
  lua_setfield(L, -2, "manifest_sha256");
  lua_pushboolean(L, op->r.rooted);
  lua_setfield(L, -2, "rooted");
  lua_pushinteger(L, (lua_Integer)op->r.apps);
  lua_setfield(L, -2, "apps");
  lua_pushinteger(L, (lua_Integer)op->r.apps_with_data);
  lua_setfield(L, -2, "apps_with_data");
  lua_pushboolean(L, op->r.accounts_saved);
  lua_setfield(L, -2, "accounts");
  df_backup_lua_push_not_covered(L, op->not_covered);
  return 1;
}

static void
df_backup_lua_free_created(void *p)
{
  struct df_backup_lua_op *op = p;
  free(op->not_covered);
}

static void
df_backup_lua_created(void *ud, int status, const struct df_backup_result *r)
{
  struct df_backup_lua_op *op = ud;

  if (!df_device_op_alive(op)) return;
  op->head.status = status;
  op->r = *r;
  op->r.not_covered = NULL;
  op->not_covered = strdup(r->not_covered != NULL ? r->not_covered : "");
  df_device_op_complete(op, df_backup_lua_push_created, df_backup_lua_free_created);
}

/* The run stopped: the backup stops too (its partial is removed), and no
 * completion will come, so the op is freed here. */
static void
df_backup_lua_cancel_create(void *p)
{
  struct df_backup_lua_op *op = p;

  df_device_op_detach(op);
  df_backup_cancel(op->b);
  free(op);
}

/* spec.folders (default {"/sdcard"}) into folders; raises on misuse. */
static size_t
df_backup_lua_folders(lua_State *L, int idx, const char *field, const char **folders,
                      const char *fallback)
{
  size_t n = 0;

  if (lua_isnoneornil(L, idx) || lua_getfield(L, idx, field) == LUA_TNIL) {
    if (!lua_isnoneornil(L, idx)) lua_pop(L, 1);
    if (fallback != NULL) folders[n++] = fallback;
    return n;
  }
  luaL_argcheck(L, lua_istable(L, -1), idx, "folders must be a list of phone paths");
  lua_Integer len = luaL_len(L, -1);
  luaL_argcheck(L, len >= 0 && len <= DF_BACKUP_MAX_FOLDERS, idx, "too many folders (64 at most)");
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, -1, i);
    const char *f = lua_tostring(L, -1);
    luaL_argcheck(L, f != NULL && f[0] == '/' && strstr(f, "/../") == NULL, idx,
                  "each folder must be an absolute phone path such as \"/sdcard\"");
    folders[n++] = f; /* kept alive by the table, which stays on the stack */
    lua_pop(L, 1);
  }
  /* The folders table stays on the stack until the call returns. */
  return n;
}

static bool
df_backup_lua_flag(lua_State *L, int idx, const char *field, bool fallback)
{
  bool v = fallback;

  if (lua_isnoneornil(L, idx)) return v;
  if (lua_getfield(L, idx, field) != LUA_TNIL) v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static int
df_backup_lua_create(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *out = luaL_checkstring(L, 2);
  const char *folders[DF_BACKUP_MAX_FOLDERS];
  struct df_backup_spec spec = {0};
  struct df_backup_lua_op *op;
  struct df_device *dev;
  int rc;

  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  df_risk_gate_check(L, "df.backup.create", DF_RISK_CALL_READ, NULL); /* writes the computer only */
  df_lua_device_check_local(L, d, 2, out, true);
  spec.packages = df_backup_lua_flag(L, 3, "packages", true);
  spec.settings = df_backup_lua_flag(L, 3, "settings", true);
  spec.folders = folders;
  spec.nfolders = df_backup_lua_folders(L, 3, "folders", folders, "/sdcard");
  dev = df_lua_device_live(L, d, "df.backup.create");
  spec.serial = d->serial;
  spec.model = dev->model;
  op = df_device_op_begin(L, d, "df.backup.create", sizeof(*op));
  if (dev->adb == NULL) {
    return df_device_op_fail(L, op, DF_EUNSUPPORTED,
                             "a backup needs the phone booted (adb in system or recovery); it is in "
                             "a fastboot mode");
  }
  rc = df_backup_create(df_bridge_loop(op->head.task), dev->adb, out, &spec, &op->progress,
                        df_backup_lua_created, op, &op->b);
  if (rc != DF_OK) {
    char msg[600];
    if (rc == DF_EEXIST)
      snprintf(msg, sizeof(msg), "%s already exists: a backup is never written over; pick another name", out);
    else if (rc == DF_EINVAL)
      snprintf(msg, sizeof(msg), "nothing to back up: give folders, or packages/settings");
    else
      snprintf(msg, sizeof(msg), "cannot write %s.partial: %s", out, df_strerror(rc));
    return df_device_op_fail(L, op, rc, msg);
  }
  if (!df_backup_lua_flag(L, 3, "apps", true)) df_backup_skip_apps(op->b);
  df_bridge_set_cancel(op->head.task, df_backup_lua_cancel_create, op);
  return df_device_op_wait(L, op->head.task);
}

/* ---- df.backup.verify ---- */

struct df_backup_verify_op {
  struct df_bridge_task *task;
  bool canceled;
  int status;
  char message[1600];
};

static int
df_backup_lua_push_verified(lua_State *L, void *ctx)
{
  struct df_backup_verify_op *op = ctx;

  if (op->status != DF_OK) return df_bridge_push_error(L, op->status, op->message);
  lua_pushboolean(L, 1);
  return 1;
}

static void
df_backup_lua_verified(void *ud, int status, const struct df_backup_check *c)
{
  struct df_backup_verify_op *op = ud;
  (void)c;

  if (!op->canceled) {
    op->status = status;
    if (status != DF_OK) df_backup_check_message("the backup", status, c, op->message, sizeof(op->message));
    df_bridge_complete(op->task, df_backup_lua_push_verified, op);
  }
  free(op);
}

static void
df_backup_lua_cancel_flag(void *p)
{
  ((struct df_backup_verify_op *)p)->canceled = true;
}

static int
df_backup_lua_verify(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct df_bridge_task *task = df_bridge_begin(L, "df.backup.verify");
  struct df_backup_verify_op *op = calloc(1, sizeof(*op));
  int rc;

  if (op == NULL) return df_bridge_fail(L, task, DF_ENOMEM);
  op->task = task;
  rc = df_backup_verify(df_bridge_loop(task), path, df_backup_lua_verified, op);
  if (rc != DF_OK) {
    free(op);
    return df_bridge_fail(L, task, rc);
  }
  df_bridge_set_cancel(task, df_backup_lua_cancel_flag, op);
  return df_bridge_wait(L, task);
}

/* ---- df.backup.restore ---- */

struct df_restore_lua_op {
  struct df_device_op head;
  struct df_restore *r;
  struct df_progress progress;
  uint64_t files, bytes, dirs, settings_restored;
  char *settings_failed;
  char *missing_apps;
  char *apps_installed, *apps_data_restored, *apps_failed;
  bool accounts_restored, reboot_needed;
};

/* "a\nb\n" -> { "a", "b" } */
static void
df_backup_lua_push_lines(lua_State *L, const char *text)
{
  lua_Integer i = 0;

  lua_newtable(L);
  while (text != NULL && *text != '\0') {
    const char *nl = strchr(text, '\n');
    size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);
    if (len > 0) {
      lua_pushlstring(L, text, len);
      lua_rawseti(L, -2, ++i);
    }
    text = nl != NULL ? nl + 1 : NULL;
  }
}

static int
df_backup_lua_push_restored(lua_State *L, void *ctx)
{
  struct df_restore_lua_op *op = ctx;

  if (op->head.status != DF_OK) return df_device_op_push_error(L, &op->head);
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, (lua_Integer)op->files);
  lua_setfield(L, -2, "files");
  lua_pushinteger(L, (lua_Integer)op->bytes);
  lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, (lua_Integer)op->dirs);
  lua_setfield(L, -2, "dirs");
  lua_pushinteger(L, (lua_Integer)op->settings_restored);
  lua_setfield(L, -2, "settings_restored");
  df_backup_lua_push_lines(L, op->settings_failed);
  lua_setfield(L, -2, "settings_failed");
  df_backup_lua_push_lines(L, op->missing_apps);
  lua_setfield(L, -2, "missing_apps");
  lua_pushboolean(L, op->apps_installed != NULL && op->apps_installed[0] != '\0');
  lua_setfield(L, -2, "apps_reinstalled");
  df_backup_lua_push_lines(L, op->apps_installed);
  lua_setfield(L, -2, "apps_installed");
  df_backup_lua_push_lines(L, op->apps_data_restored);
  lua_setfield(L, -2, "apps_data_restored");
  df_backup_lua_push_lines(L, op->apps_failed);
  lua_setfield(L, -2, "apps_failed");
  lua_pushboolean(L, op->accounts_restored);
  lua_setfield(L, -2, "accounts_restored");
  lua_pushboolean(L, op->reboot_needed);
  lua_setfield(L, -2, "reboot_needed");
  return 1;
}

static void
df_backup_lua_free_restore(void *p)
{
  struct df_restore_lua_op *op = p;
  free(op->settings_failed);
  free(op->missing_apps);
  free(op->apps_installed);
  free(op->apps_data_restored);
  free(op->apps_failed);
}

static void
df_backup_lua_restored(void *ud, int status, const struct df_restore_result *r)
{
  struct df_restore_lua_op *op = ud;

  if (!df_device_op_alive(op)) return;
  op->head.status = status;
  snprintf(op->head.message, sizeof(op->head.message), "%.500s", r->message);
  op->files = r->files;
  op->bytes = r->bytes;
  op->dirs = r->dirs;
  op->settings_restored = r->settings_restored;
  op->settings_failed = strdup(r->settings_failed != NULL ? r->settings_failed : "");
  op->missing_apps = strdup(r->missing_apps != NULL ? r->missing_apps : "");
  op->apps_installed = strdup(r->apps_installed != NULL ? r->apps_installed : "");
  op->apps_data_restored = strdup(r->apps_data_restored != NULL ? r->apps_data_restored : "");
  op->apps_failed = strdup(r->apps_failed != NULL ? r->apps_failed : "");
  op->accounts_restored = r->accounts_restored;
  op->reboot_needed = r->reboot_needed;
  df_device_op_complete(op, df_backup_lua_push_restored, df_backup_lua_free_restore);
}

static void
df_backup_lua_cancel_restore(void *p)
{
  struct df_restore_lua_op *op = p;

  df_device_op_detach(op);
  df_restore_cancel(op->r);
  free(op);
}

static int
df_backup_lua_restore(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *path = luaL_checkstring(L, 2);
  const char *folders[DF_BACKUP_MAX_FOLDERS];
  struct df_restore_options opts = {0};
  struct df_restore_lua_op *op;
  struct df_device *dev;
  int rc;

  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  df_risk_gate_check(L, "df.backup.restore", DF_RISK_CALL_USER_DATA, NULL);
  df_lua_device_check_local(L, d, 2, path, false);
  opts.folders = folders;
  opts.nfolders = df_backup_lua_folders(L, 3, "folders", folders, NULL);
  opts.settings = df_backup_lua_flag(L, 3, "settings", true);
  opts.no_apps = !df_backup_lua_flag(L, 3, "apps", true);
  dev = df_lua_device_live(L, d, "df.backup.restore");
  op = df_device_op_begin(L, d, "df.backup.restore", sizeof(*op));
  if (dev->adb == NULL)
    return df_device_op_fail(L, op, DF_EUNSUPPORTED,
                             "a restore needs the phone booted (adb); it is in a fastboot mode");
  rc = df_restore_start(df_bridge_loop(op->head.task), dev->adb, path, &opts, &op->progress,
                        df_backup_lua_restored, op, &op->r);
  if (rc != DF_OK) return df_device_op_fail(L, op, rc, NULL);
  df_bridge_set_cancel(op->head.task, df_backup_lua_cancel_restore, op);
  return df_device_op_wait(L, op->head.task);
}

void
df_backup_register(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"create", df_backup_lua_create},
    {"verify", df_backup_lua_verify},
    {"restore", df_backup_lua_restore},
    {NULL, NULL},
  };
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "backup");
}

/* ---- the runner's backup ---- */

static int
df_backup_mkdirs(char *path)
{
  for (char *p = path + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      int err = df_error_from_errno(errno);
      *p = '/';
      return err;
    }
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST) return df_error_from_errno(errno);
  return DF_OK;
}

int
df_backup_default_dir(char *out, size_t outlen)
{
  const char *env = getenv("DROIDFIX_BACKUP_DIR");
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *home = getenv("HOME");
  int n;

  if (env != NULL && env[0] != '\0')
    n = snprintf(out, outlen, "%s", env);
  else if (xdg != NULL && xdg[0] == '/')
    n = snprintf(out, outlen, "%s/droidfix/backups", xdg);
  else if (home != NULL && home[0] != '\0')
    n = snprintf(out, outlen, "%s/.local/share/droidfix/backups", home);
  else
    return DF_ENOENT;
  if (n < 0 || (size_t)n >= outlen) return DF_ETOOBIG;
  return df_backup_mkdirs(out);
}

int
df_backup_create_for_run(struct df_loop *loop, struct df_device *dev, const char *dir,
                         df_backup_done_cb done, void *userdata, struct df_backup **out)
{
  static const char *const folders[] = {"/sdcard"};
  struct df_backup_spec spec = {folders, 1, true, true, dev->serial, dev->model};
  char folder[3000], serial[128], date[32], path[4096];
  time_t now = time(NULL);
  struct tm tm;
  size_t i;
  int rc;

  if (dev->adb == NULL) return DF_EUNSUPPORTED;
  if (dir == NULL) {
    rc = df_backup_default_dir(folder, sizeof(folder));
    if (rc != DF_OK) return rc;
  } else {
    snprintf(folder, sizeof(folder), "%s", dir);
  }
  /* The serial as a file name: anything unusual becomes '_'. */
  for (i = 0; dev->serial[i] != '\0' && i + 1 < sizeof(serial); i++) {
    char ch = dev->serial[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.';
    serial[i] = ok && !(i == 0 && ch == '.') ? ch : '_';
  }
  serial[i] = '\0';
  localtime_r(&now, &tm);
  strftime(date, sizeof(date), "%Y%m%d-%H%M%S", &tm);
  snprintf(path, sizeof(path), "%s/%s-%s.tar", folder, serial[0] ? serial : "phone", date);
  return df_backup_create(loop, dev->adb, path, &spec, NULL, done, userdata, out);
}
