/* dev:getvar, dev:fastboot, dev:flash, dev:flash_entry, dev:erase,
 * dev:set_active: the bootloader and fastbootd side (dev:flash_entry is in
 * df_device_flash_entry.c). INFO lines reach the
 * user as they arrive (said through the run's host). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "core/error.h"
#include "core/progress.h"
#include "lua-api/df_device_op.h"
#include "lua-api/df_module.h"
#include "lua-api/risk_gate.h"
#include "plugins/fastboot/flash.h"

#define DF_FB_MAX_INFO 256

enum df_fb_kind { DF_FB_GETVAR, DF_FB_COMMAND, DF_FB_TRUE, DF_FB_FLASH };

struct df_fb_op {
  struct df_device_op base;
  enum df_fb_kind kind;
  lua_State *L; /* the task's thread, for the host (say INFO lines) */
  char text[512];
  char *info[DF_FB_MAX_INFO];
  size_t ninfo;
  struct df_fastboot_flash_report report;
  struct df_progress progress;
  bool has_progress;
};

static void
df_fb_free(void *p)
{
  struct df_fb_op *op = p;

  for (size_t i = 0; i < op->ninfo; i++) free(op->info[i]);
}

static int
df_fb_push(lua_State *L, void *ctx)
{
  struct df_fb_op *op = ctx;

  if (op->base.status != 0) return df_device_op_push_error(L, &op->base);
  switch (op->kind) {
  case DF_FB_GETVAR:
    lua_pushstring(L, op->text);
    return 1;
  case DF_FB_COMMAND:
    lua_pushstring(L, op->text);
    lua_createtable(L, (int)op->ninfo, 0);
    for (size_t i = 0; i < op->ninfo; i++) {
      lua_pushstring(L, op->info[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 2;
  case DF_FB_TRUE:
    lua_pushboolean(L, 1);
    return 1;
  case DF_FB_FLASH:
    lua_createtable(L, 0, 3);
    lua_pushstring(L, op->report.partition);
    lua_setfield(L, -2, "partition");
    lua_pushinteger(L, op->report.pieces);
    lua_setfield(L, -2, "pieces");
    lua_pushinteger(L, (lua_Integer)op->report.bytes);
    lua_setfield(L, -2, "bytes");
    return 1;
  }
  return 0;
}

static void
df_fb_on_info(void *ud, const char *text)
{
  struct df_fb_op *op = ud;

  if (op->base.canceled) return;
  if (op->ninfo < DF_FB_MAX_INFO) {
    char *copy = strdup(text);
    if (copy != NULL) op->info[op->ninfo++] = copy;
  }
  df_device_say_phone(op->L, text);
}

static void
df_fb_on_done(void *ud, int status, const char *message)
{
  struct df_fb_op *op = ud;

  if (!df_device_op_alive(op)) return;
  op->base.status = status;
  if (status == 0)
    snprintf(op->text, sizeof(op->text), "%s", message);
  else if (status == DF_EDEVFAIL)
    snprintf(op->base.message, sizeof(op->base.message), "%s", message);
  else
    snprintf(op->base.message, sizeof(op->base.message), "%s%s%s", df_strerror(status),
             message[0] ? ": " : "", message);
  df_device_op_complete(op, df_fb_push, df_fb_free);
}

static struct df_fb_op *
df_fb_begin(lua_State *L, const char *what, enum df_fb_kind kind, struct df_fastboot **fb)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  struct df_fb_op *op = df_device_op_begin(L, d, what, sizeof(*op));

  op->kind = kind;
  op->L = L;
  *fb = d->dev->fastboot;
  return op;
}

static int
df_fb_not_fastboot(lua_State *L, struct df_fb_op *op, const char *what)
{
  char msg[200];
  snprintf(msg, sizeof(msg), "%s needs the bootloader or fastbootd; the phone is in %s mode",
           what, df_device_mode_name(op->base.d->mode));
  return df_device_op_fail(L, op, DF_EUNSUPPORTED, msg);
}

/* Sends one command; the results as kind says. */
static int
df_fb_command(lua_State *L, const char *what, enum df_fb_kind kind, const char *command)
{
  struct df_fastboot *fb;
  struct df_fb_op *op = df_fb_begin(L, what, kind, &fb);
  struct df_bridge_task *task = op->base.task;
  int rc;

  if (fb == NULL) return df_fb_not_fastboot(L, op, what);
  rc = df_fastboot_command(fb, command, df_fb_on_info, df_fb_on_done, op);
  if (rc != 0) return df_device_op_fail(L, op, rc, NULL);
  return df_device_op_wait(L, task);
}

static const char *
df_fb_check_command(lua_State *L, int arg, const char *prefix, const char *value)
{
  const char *cmd = lua_pushfstring(L, "%s%s", prefix, value);
  luaL_argcheck(L, strlen(cmd) <= 64, arg, "a fastboot command is at most 64 bytes");
  for (const char *p = cmd; *p; p++)
    luaL_argcheck(L, *p >= 0x20 && *p < 0x7f, arg, "printable ASCII only");
  return cmd;
}

static int
df_lua_dev_getvar(lua_State *L)
{
  const char *name = luaL_checkstring(L, 2);
  df_risk_gate_check(L, "dev:getvar", DF_RISK_CALL_READ, NULL);
  return df_fb_command(L, "dev:getvar", DF_FB_GETVAR, df_fb_check_command(L, 2, "getvar:", name));
}

static int
df_lua_dev_fastboot(lua_State *L)
{
  const char *command = luaL_checkstring(L, 2);
  luaL_argcheck(L, command[0] != '\0', 2, "empty command");
  luaL_argcheck(L, strncmp(command, "download:", 9) != 0, 2,
                "download is not a command: use dev:flash");
  {
    char what[96];
    snprintf(what, sizeof(what), "dev:fastboot(\"%.64s\")", command);
    df_risk_gate_check(L, what, df_risk_gate_fastboot(command), NULL);
  }
  return df_fb_command(L, "dev:fastboot", DF_FB_COMMAND, df_fb_check_command(L, 2, "", command));
}

static int
df_lua_dev_erase(lua_State *L)
{
  const char *part = luaL_checkstring(L, 2);
  df_risk_gate_check(L, "dev:erase", DF_RISK_CALL_FIRMWARE, NULL);
  return df_fb_command(L, "dev:erase", DF_FB_TRUE, df_fb_check_command(L, 2, "erase:", part));
}

static int
df_lua_dev_set_active(lua_State *L)
{
  const char *slot = luaL_checkstring(L, 2);
  luaL_argcheck(L, strcmp(slot, "a") == 0 || strcmp(slot, "b") == 0, 2, "slot: \"a\" or \"b\"");
  df_risk_gate_check(L, "dev:set_active", DF_RISK_CALL_FIRMWARE, NULL);
  return df_fb_command(L, "dev:set_active", DF_FB_TRUE,
                       df_fb_check_command(L, 2, "set_active:", slot));
}

/* ---- flash ---- */

static void
df_fb_on_flash(void *ud, int status, const char *message,
               const struct df_fastboot_flash_report *report)
{
  struct df_fb_op *op = ud;

  if (op->has_progress) df_progress_finish(&op->progress, status);
  if (!df_device_op_alive(op)) return;
  op->base.status = status;
  op->report = *report;
  if (status == DF_EDEVFAIL)
    snprintf(op->base.message, sizeof(op->base.message), "the phone refused at %s: %s",
             report->step, message);
  else if (status != 0)
    snprintf(op->base.message, sizeof(op->base.message), "flashing stopped at %s: %s%s%s",
             report->step, df_strerror(status), message[0] ? ": " : "", message);
  else {
    void *hud;
    const struct df_host_callbacks *h = df_module_host(op->L, &hud);
    if (h->progress != NULL)
      h->progress(hud, op->progress.label, (double)report->bytes, (double)report->bytes);
  }
  df_device_op_complete(op, df_fb_push, df_fb_free);
}

static int
df_fb_start_flash(struct df_fb_op *op, struct df_fastboot *fb, const char *partition,
                  const char *path, const char *slot)
{
  char label[160];

  snprintf(label, sizeof(label), "flash %s", partition);
  df_progress_start(&op->progress, label, 0);
  op->has_progress = true;
  return df_fastboot_flash(fb, partition, path, slot, &op->progress, df_fb_on_info,
                           df_fb_on_flash, op);
}

static int
df_lua_dev_flash(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *partition = luaL_checkstring(L, 2);
  const char *image = luaL_checkstring(L, 3);
  const char *slot = df_device_opt_slot(L, 4);
  struct df_fastboot *fb;
  struct df_fb_op *op;
  struct df_bridge_task *task;
  int rc;

  df_fb_check_command(L, 2, "flash:", partition);
  df_risk_gate_check(L, "dev:flash", DF_RISK_CALL_FIRMWARE, NULL);
  df_lua_device_check_local(L, d, 3, image, false);
  op = df_fb_begin(L, "dev:flash", DF_FB_FLASH, &fb);
  task = op->base.task;
  if (fb == NULL) return df_fb_not_fastboot(L, op, "dev:flash");
  rc = df_fb_start_flash(op, fb, partition, image, slot);
  if (rc != 0) {
    df_progress_finish(&op->progress, rc);
    return df_device_op_fail(L, op, rc,
                             rc == DF_ECORRUPT ? "the image is not a valid sparse image" : NULL);
  }
  return df_device_op_wait(L, task);
}

void
df_device_fastboot_methods(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"getvar", df_lua_dev_getvar},
    {"fastboot", df_lua_dev_fastboot},
    {"flash", df_lua_dev_flash},
    {"erase", df_lua_dev_erase},
    {"set_active", df_lua_dev_set_active},
    {NULL, NULL},
  };
  luaL_setfuncs(L, methods, 0);
}
