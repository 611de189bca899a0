/* dev:shell, dev:getprop and dev:reboot: commands to the phone over ADB
 * (reboot also from fastboot). */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/df_device_op.h"
#include "lua-api/risk_gate.h"
#include "plugins/adb/adb_shell.h"

#define DF_SHELL_MAX_OUTPUT (16u * 1024 * 1024) /* per stream */

struct df_shell_buf {
  char *data;
  size_t len, cap;
  bool truncated;
};

struct df_shell_op {
  struct df_device_op base;
  struct df_shell_buf out, err;
  int exit_code;
  bool getprop;
};

static void
df_shell_buf_add(struct df_shell_buf *b, const uint8_t *data, size_t len)
{
  if (b->len + len > DF_SHELL_MAX_OUTPUT) {
    b->truncated = true;
    len = DF_SHELL_MAX_OUTPUT - b->len;
  }
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap < b->len + len) cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) {
      b->truncated = true;
      return;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void
df_shell_free(void *p)
{
  struct df_shell_op *op = p;
  free(op->out.data);
  free(op->err.data);
}

static void
df_shell_on_stdout(void *ud, const uint8_t *data, size_t len)
{
  struct df_shell_op *op = ud;
  df_shell_buf_add(&op->out, data, len);
}

static void
df_shell_on_stderr(void *ud, const uint8_t *data, size_t len)
{
  struct df_shell_op *op = ud;
  df_shell_buf_add(&op->err, data, len);
}

static int
df_shell_push(lua_State *L, void *ctx)
{
  struct df_shell_op *op = ctx;

  if (op->base.status != 0) return df_device_op_push_error(L, &op->base);
  if (op->getprop) {
    size_t n = op->out.len;
    while (n > 0 && (op->out.data[n - 1] == '\n' || op->out.data[n - 1] == '\r')) n--;
    lua_pushlstring(L, op->out.data != NULL ? op->out.data : "", n);
    return 1;
  }
  lua_createtable(L, 0, 4);
  lua_pushlstring(L, op->out.data != NULL ? op->out.data : "", op->out.len);
  lua_setfield(L, -2, "stdout");
  lua_pushlstring(L, op->err.data != NULL ? op->err.data : "", op->err.len);
  lua_setfield(L, -2, "stderr");
  if (op->exit_code >= 0) {
    lua_pushinteger(L, op->exit_code);
    lua_setfield(L, -2, "exit");
  }
  if (op->out.truncated || op->err.truncated) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "truncated");
  }
  return 1;
}

static void
df_shell_on_done(void *ud, int status, int exit_code)
{
  struct df_shell_op *op = ud;

  if (!df_device_op_alive(op)) return;
  op->base.status = status;
  op->exit_code = exit_code;
  if (status != 0)
    snprintf(op->base.message, sizeof(op->base.message), "the shell command failed: %s",
             df_strerror(status));
  df_device_op_complete(op, df_shell_push, df_shell_free);
}

static const struct df_adb_shell_callbacks df_shell_cbs = {
  .on_stdout = df_shell_on_stdout,
  .on_stderr = df_shell_on_stderr,
  .on_done = df_shell_on_done,
};

static int
df_shell_start(lua_State *L, struct df_lua_device *d, const char *what, const char *cmd,
               bool getprop)
{
  struct df_shell_op *op = df_device_op_begin(L, d, what, sizeof(*op));
  struct df_bridge_task *task = op->base.task;
  struct df_adb_shell *sh;
  int rc;

  op->getprop = getprop;
  op->exit_code = -1;
  if (d->dev->adb == NULL) {
    char msg[200];
    snprintf(msg, sizeof(msg), "%s needs ADB; the phone is in %s mode", what,
             df_device_mode_name(d->mode));
    return df_device_op_fail(L, op, DF_EUNSUPPORTED, msg);
  }
  rc = df_adb_shell_start(d->dev->adb, cmd, &df_shell_cbs, op, &sh);
  if (rc != 0) return df_device_op_fail(L, op, rc, NULL);
  return df_device_op_wait(L, task);
}

static int
df_lua_dev_shell(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *cmd = luaL_checkstring(L, 2);

  df_risk_gate_check_shell(L, "dev:shell", cmd);
  return df_shell_start(L, d, "dev:shell", cmd, false);
}

static int
df_lua_dev_getprop(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *name = luaL_checkstring(L, 2);
  char cmd[300];

  for (const char *p = name; *p; p++)
    luaL_argcheck(L, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-',
                  2, "a property name has letters, digits, '.', '_' and '-' only");
  luaL_argcheck(L, name[0] != '\0' && strlen(name) < 256, 2, "a property name is 1-255 bytes");
  snprintf(cmd, sizeof(cmd), "getprop %s", name);
  df_risk_gate_check(L, "dev:getprop", DF_RISK_CALL_READ, NULL);
  return df_shell_start(L, d, "dev:getprop", cmd, true);
}

/* ---- reboot ---- */

struct df_reboot_target {
  const char *name;
  const char *adb_service;      /* NULL: not reachable from ADB */
  const char *fastboot_command; /* NULL: not reachable from fastboot */
};

/* adb/daemon/services.cpp reboot targets; fastboot/fastboot.cpp commands
 * (the same table as cli/reboot.c). */
static const struct df_reboot_target df_reboot_targets[] = {
  {"system", "reboot:", "reboot"},
  {"bootloader", "reboot:bootloader", "reboot-bootloader"},
  {"recovery", "reboot:recovery", "reboot-recovery"},
  {"fastboot", "reboot:fastboot", "reboot-fastboot"},
  {"sideload", "reboot:sideload", NULL},
};

struct df_reboot_op {
  struct df_device_op base;
};

static int
df_reboot_push(lua_State *L, void *ctx)
{
  struct df_reboot_op *op = ctx;

  if (op->base.status != 0) return df_device_op_push_error(L, &op->base);
  lua_pushboolean(L, 1);
  return 1;
}

static void
df_reboot_stream_open(void *ud, int status)
{
  struct df_reboot_op *op = ud;

  if (!df_device_op_alive(op)) return;
  op->base.status = status;
  if (status != 0) snprintf(op->base.message, sizeof(op->base.message), "the phone refused to reboot");
  df_device_op_complete(op, df_reboot_push, NULL);
}

static void
df_reboot_stream_data(void *ud, const uint8_t *data, size_t len)
{
}

static void
df_reboot_stream_close(void *ud, int status)
{
}

static const struct df_adb_stream_callbacks df_reboot_stream_cbs = {
  .on_open = df_reboot_stream_open,
  .on_data = df_reboot_stream_data,
  .on_close = df_reboot_stream_close,
};

static void
df_reboot_fastboot_done(void *ud, int status, const char *message)
{
  struct df_reboot_op *op = ud;

  if (!df_device_op_alive(op)) return;
  op->base.status = status;
  if (status != 0)
    snprintf(op->base.message, sizeof(op->base.message), "the phone refused to reboot%s%s",
             message[0] ? ": " : "", message);
  df_device_op_complete(op, df_reboot_push, NULL);
}

static int
df_lua_dev_reboot(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *name = luaL_optstring(L, 2, "system");
  const struct df_reboot_target *t = NULL;
  struct df_reboot_op *op;
  struct df_adb_stream *stream;
  struct df_bridge_task *task;
  int rc;

  for (size_t i = 0; i < sizeof(df_reboot_targets) / sizeof(*df_reboot_targets); i++)
    if (strcmp(df_reboot_targets[i].name, name) == 0) t = &df_reboot_targets[i];
  luaL_argcheck(L, t != NULL, 2, "target: system, bootloader, recovery, fastboot or sideload");
  {
    char what[64];
    snprintf(what, sizeof(what), "dev:reboot(\"%s\")", name);
    df_risk_gate_check(L, what, DF_RISK_CALL_REBOOT, NULL);
  }
  op = df_device_op_begin(L, d, "dev:reboot", sizeof(*op));
  task = op->base.task;
  if (d->dev->adb != NULL) {
    rc = df_adb_stream_open(d->dev->adb, t->adb_service, &df_reboot_stream_cbs, op, &stream);
  } else if (d->dev->fastboot != NULL && t->fastboot_command != NULL) {
    rc = df_fastboot_command(d->dev->fastboot, t->fastboot_command, NULL,
                             df_reboot_fastboot_done, op);
  } else {
    char msg[200];
    snprintf(msg, sizeof(msg), "cannot reboot into %s from %s mode", name,
             df_device_mode_name(d->mode));
    return df_device_op_fail(L, op, DF_EUNSUPPORTED, msg);
  }
  if (rc != 0) return df_device_op_fail(L, op, rc, NULL);
  return df_device_op_wait(L, task);
}

void
df_device_shell_methods(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"shell", df_lua_dev_shell},
    {"getprop", df_lua_dev_getprop},
    {"reboot", df_lua_dev_reboot},
    {NULL, NULL},
  };
  luaL_setfuncs(L, methods, 0);
}
