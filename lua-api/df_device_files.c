/* dev:push, dev:pull, dev:stat, dev:list: files over ADB's sync service.
 * The device keeps one sync session for its file calls (opened on the
 * first one); a failed call leaves it to be reopened by the next, because
 * adbd ends the service after a FAIL. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/df_device_op.h"
#include "lua-api/risk_gate.h"

enum df_files_kind { DF_FILES_PUSH, DF_FILES_PULL, DF_FILES_STAT, DF_FILES_LIST };

struct df_files_entry {
  char *name;
  struct df_sync_stat st;
};

struct df_files_op {
  struct df_device_op base;
  enum df_files_kind kind;
  char *local, *remote;
  struct df_sync_stat st;
  struct df_files_entry *entries;
  size_t nentries, cap;
  bool entries_overflow;
};

#define DF_FILES_MAX_ENTRIES 100000

static void
df_files_free(void *p)
{
  struct df_files_op *op = p;
  free(op->local);
  free(op->remote);
  for (size_t i = 0; i < op->nentries; i++) free(op->entries[i].name);
  free(op->entries);
}

static const char *
df_files_type(uint32_t mode)
{
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISLNK(mode)) return "link";
  return "other";
}

static void
df_files_push_stat(lua_State *L, const struct df_sync_stat *st)
{
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)st->mode);
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)st->size);
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, (lua_Integer)st->mtime);
  lua_setfield(L, -2, "mtime");
  lua_pushstring(L, df_files_type(st->mode));
  lua_setfield(L, -2, "type");
}

static int
df_files_push(lua_State *L, void *ctx)
{
  struct df_files_op *op = ctx;

  if (op->base.status != 0) return df_device_op_push_error(L, &op->base);
  switch (op->kind) {
  case DF_FILES_PUSH:
  case DF_FILES_PULL:
    lua_pushboolean(L, 1);
    return 1;
  case DF_FILES_STAT:
    /* STAT v1 answers all zeros for a missing file; STA2 says its errno */
    if (!op->st.exists || op->st.mode == 0 || op->st.error != 0) {
      lua_pushboolean(L, 0);
      return 1;
    }
    df_files_push_stat(L, &op->st);
    return 1;
  case DF_FILES_LIST:
    lua_createtable(L, (int)op->nentries, 0);
    for (size_t i = 0; i < op->nentries; i++) {
      df_files_push_stat(L, &op->entries[i].st);
      lua_pushstring(L, op->entries[i].name);
      lua_setfield(L, -2, "name");
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
  }
  return 0;
}

static void
df_files_finish(struct df_files_op *op, int status, const char *message)
{
  op->base.status = status;
  if (status != 0) {
    if (op->base.d != NULL) op->base.d->sync_broken = true;
    snprintf(op->base.message, sizeof(op->base.message), "%s%s%s", df_strerror(status),
             message != NULL && message[0] ? ": " : "", message != NULL ? message : "");
  }
  df_device_op_complete(op, df_files_push, df_files_free);
}

static void
df_files_on_done(void *ud, int status, const char *message)
{
  struct df_files_op *op = ud;

  if (!df_device_op_alive(op)) return;
  if (op->kind == DF_FILES_LIST && status == 0 && op->entries_overflow) {
    df_files_finish(op, DF_ETOOBIG, "more than 100000 entries");
    return;
  }
  df_files_finish(op, status, message);
}

static void
df_files_on_stat(void *ud, int status, const struct df_sync_stat *st)
{
  struct df_files_op *op = ud;

  if (!df_device_op_alive(op)) return;
  if (status == 0) op->st = *st;
  df_files_finish(op, status, NULL);
}

static void
df_files_on_entry(void *ud, const char *name, const struct df_sync_stat *st)
{
  struct df_files_op *op = ud;
  char *copy;

  if (op->base.canceled) return;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return;
  if (op->nentries >= DF_FILES_MAX_ENTRIES) {
    op->entries_overflow = true;
    return;
  }
  if (op->nentries == op->cap) {
    size_t cap = op->cap ? op->cap * 2 : 64;
    struct df_files_entry *p = realloc(op->entries, cap * sizeof(*p));
    if (p == NULL) {
      op->entries_overflow = true;
      return;
    }
    op->entries = p;
    op->cap = cap;
  }
  copy = strdup(name);
  if (copy == NULL) {
    op->entries_overflow = true;
    return;
  }
  op->entries[op->nentries].name = copy;
  op->entries[op->nentries].st = *st;
  op->nentries++;
}

/* Runs the op's sync call on the open session. */
static void
df_files_go(struct df_files_op *op)
{
  struct df_adb_sync *sync = op->base.d->sync;
  int rc = DF_EINVAL;

  switch (op->kind) {
  case DF_FILES_PUSH:
    rc = df_adb_sync_push(sync, op->local, op->remote, NULL, df_files_on_done, op);
    break;
  case DF_FILES_PULL:
    rc = df_adb_sync_pull(sync, op->remote, op->local, NULL, df_files_on_done, op);
    break;
  case DF_FILES_STAT:
    rc = df_adb_sync_stat(sync, op->remote, df_files_on_stat, op);
    break;
  case DF_FILES_LIST:
    rc = df_adb_sync_list(sync, op->remote, df_files_on_entry, df_files_on_done, op);
    break;
  }
  if (rc != 0) df_files_finish(op, rc, NULL);
}

static void
df_files_on_ready(void *ud, int status)
{
  struct df_files_op *op = ud;

  if (!df_device_op_alive(op)) return;
  if (status != 0) {
    df_files_finish(op, status, "the phone refused the file service");
    return;
  }
  df_files_go(op);
}

static int
df_files_start(lua_State *L, enum df_files_kind kind, const char *what, const char *local,
               const char *remote)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  struct df_files_op *op;
  struct df_bridge_task *task;
  int rc;

  /* push writes the phone's storage; pull, stat and list only read */
  df_risk_gate_check(L, what, kind == DF_FILES_PUSH ? DF_RISK_CALL_USER_DATA : DF_RISK_CALL_READ,
                     NULL);
  op = df_device_op_begin(L, d, what, sizeof(*op));
  task = op->base.task;

  op->kind = kind;
  op->local = local != NULL ? strdup(local) : NULL;
  op->remote = strdup(remote);
  if ((local != NULL && op->local == NULL) || op->remote == NULL) {
    df_files_free(op);
    return df_device_op_fail(L, op, DF_ENOMEM, NULL);
  }
  if (d->dev->adb == NULL) {
    char msg[200];
    snprintf(msg, sizeof(msg), "%s needs ADB; the phone is in %s mode", what,
             df_device_mode_name(d->mode));
    df_files_free(op);
    return df_device_op_fail(L, op, DF_EUNSUPPORTED, msg);
  }
  if (d->sync != NULL && d->sync_broken) {
    df_adb_sync_close(d->sync);
    d->sync = NULL;
  }
  d->sync_broken = false;
  if (d->sync == NULL) {
    rc = df_adb_sync_open(d->dev->adb, df_files_on_ready, op, &d->sync);
    if (rc != 0) {
      d->sync = NULL;
      df_files_free(op);
      return df_device_op_fail(L, op, rc, NULL);
    }
  } else {
    /* answers come from the loop, never from inside this call */
    df_files_go(op);
  }
  return df_device_op_wait(L, task);
}

static int
df_lua_dev_push(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *local = luaL_checkstring(L, 2);
  const char *remote = luaL_checkstring(L, 3);

  df_lua_device_check_local(L, d, 2, local, false);
  return df_files_start(L, DF_FILES_PUSH, "dev:push", local, remote);
}

static int
df_lua_dev_pull(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *remote = luaL_checkstring(L, 2);
  const char *local = luaL_checkstring(L, 3);

  df_lua_device_check_local(L, d, 3, local, true);
  return df_files_start(L, DF_FILES_PULL, "dev:pull", local, remote);
}

static int
df_lua_dev_stat(lua_State *L)
{
  return df_files_start(L, DF_FILES_STAT, "dev:stat", NULL, luaL_checkstring(L, 2));
}

static int
df_lua_dev_list(lua_State *L)
{
  return df_files_start(L, DF_FILES_LIST, "dev:list", NULL, luaL_checkstring(L, 2));
}

void
df_device_files_methods(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"push", df_lua_dev_push},
    {"pull", df_lua_dev_pull},
    {"stat", df_lua_dev_stat},
    {"list", df_lua_dev_list},
    {NULL, NULL},
  };
  luaL_setfuncs(L, methods, 0);
}
