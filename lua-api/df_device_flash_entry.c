/* dev:flash_entry(partition, archive_path, entry_path, opts): one entry of a
 * firmware archive flashed straight out of the archive, with no temporary
 * file (plugins/fastboot/archive_source.h): the entry is opened (and a
 * sparse one validated) on the thread pool, then streamed to the phone in
 * downloads that fit its max-download-size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "core/progress.h"
#include "lua-api/df_device_op.h"
#include "lua-api/df_module.h"
#include "lua-api/risk_gate.h"
#include "plugins/fastboot/archive_source.h"
#include "plugins/fastboot/flash.h"

struct df_entry_op {
  struct df_device_op base;
  lua_State *L; /* the task's thread, for the host (INFO lines, progress) */
  uv_work_t work;
  struct df_fastboot *fb;
  struct df_image *img;
  char *archive, *entry, *slot;
  char partition[64];
  int open_status;
  char open_message[256];
  struct df_fastboot_flash_report report;
  struct df_progress progress;
  bool has_progress;
};

static void
df_entry_op_free(void *p)
{
  struct df_entry_op *op = p;

  df_image_free(op->img);
  free(op->archive);
  free(op->entry);
  free(op->slot);
}

static int
df_entry_op_push(lua_State *L, void *ctx)
{
  struct df_entry_op *op = ctx;

  if (op->base.status != 0) return df_device_op_push_error(L, &op->base);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, op->report.partition);
  lua_setfield(L, -2, "partition");
  lua_pushinteger(L, op->report.pieces);
  lua_setfield(L, -2, "pieces");
  lua_pushinteger(L, (lua_Integer)op->report.bytes);
  lua_setfield(L, -2, "bytes");
  return 1;
}

static void
df_entry_op_info(void *ud, const char *text)
{
  struct df_entry_op *op = ud;

  if (op->base.canceled) return;
  df_device_say_phone(op->L, text);
}

static void
df_entry_op_flashed(void *ud, int status, const char *message,
                    const struct df_fastboot_flash_report *report)
{
  struct df_entry_op *op = ud;

  if (op->has_progress) df_progress_finish(&op->progress, status);
  if (op->base.canceled) {
    df_entry_op_free(op);         /* what it holds */
    (void)df_device_op_alive(op); /* and the op itself */
    return;
  }
  op->base.status = status;
  op->report = *report;
  if (status == DF_EDEVFAIL)
    snprintf(op->base.message, sizeof(op->base.message), "the phone refused at %s: %s",
             report->step, message);
  else if (status != 0)
    snprintf(op->base.message, sizeof(op->base.message), "flashing %s stopped at %s: %s%s%s",
             op->entry, report->step, df_strerror(status), message[0] ? ": " : "", message);
  df_device_op_complete(op, df_entry_op_push, df_entry_op_free);
}

static void
df_entry_op_open_work(uv_work_t *w)
{
  struct df_entry_op *op = w->data;

  op->open_status = df_image_open_archive_entry(op->archive, op->entry, &op->img,
                                                op->open_message, sizeof(op->open_message));
}

static void
df_entry_op_opened(uv_work_t *w, int status)
{
  struct df_entry_op *op = w->data;
  char label[160];
  int rc;

  if (op->base.canceled) {
    df_entry_op_free(op);         /* the image and strings */
    (void)df_device_op_alive(op); /* and the op itself */
    return;
  }
  rc = status != 0 ? df_error_from_uv(status) : op->open_status;
  /* The phone must still be the session the flash was asked on. */
  if (rc == 0 && (op->base.d == NULL || op->base.d->dev == NULL ||
                  op->base.d->dev->fastboot != op->fb)) {
    rc = DF_ECONNRESET;
    snprintf(op->open_message, sizeof(op->open_message), "the phone left fastboot meanwhile");
  }
  if (rc == 0) {
    snprintf(label, sizeof(label), "flash %s", op->partition);
    df_progress_start(&op->progress, label, 0);
    op->has_progress = true;
    rc = df_fastboot_flash_image(op->fb, op->partition, op->img, op->slot, &op->progress,
                                 df_entry_op_info, df_entry_op_flashed, op);
    if (rc == 0) {
      op->img = NULL; /* the flash owns it now; done comes */
      return;
    }
    df_progress_finish(&op->progress, rc);
    snprintf(op->open_message, sizeof(op->open_message), "%s", df_strerror(rc));
  }
  op->base.status = rc;
  snprintf(op->base.message, sizeof(op->base.message), "cannot flash %s from %s: %s", op->entry,
           op->archive, op->open_message[0] ? op->open_message : df_strerror(rc));
  df_device_op_complete(op, df_entry_op_push, df_entry_op_free);
}

static int
df_lua_dev_flash_entry(lua_State *L)
{
  struct df_lua_device *d = df_lua_device_check(L, 1);
  const char *partition = luaL_checkstring(L, 2);
  const char *archive = luaL_checkstring(L, 3);
  const char *entry = luaL_checkstring(L, 4);
  const char *slot = df_device_opt_slot(L, 5);
  struct df_entry_op *op;
  struct df_bridge_task *task;
  int rc;

  luaL_argcheck(L, partition[0] != '\0' && strlen(partition) <= 40, 2,
                "a partition name of 1 to 40 characters");
  for (const char *p = partition; *p; p++)
    luaL_argcheck(L, *p > 0x20 && *p < 0x7f && *p != ':', 2, "printable ASCII, no ':'");
  luaL_argcheck(L, entry[0] != '\0', 4, "the entry's path inside the archive");
  df_risk_gate_check(L, "dev:flash_entry", DF_RISK_CALL_FIRMWARE, NULL);
  df_lua_device_check_local(L, d, 3, archive, false);
  op = df_device_op_begin(L, d, "dev:flash_entry", sizeof(*op));
  task = op->base.task;
  op->L = L;
  if (d->dev->fastboot == NULL) {
    char msg[200];
    snprintf(msg, sizeof(msg), "dev:flash_entry needs the bootloader or fastbootd; the phone is "
             "in %s mode", df_device_mode_name(d->mode));
    return df_device_op_fail(L, op, DF_EUNSUPPORTED, msg);
  }
  op->fb = d->dev->fastboot;
  snprintf(op->partition, sizeof(op->partition), "%s", partition);
  op->archive = strdup(archive);
  op->entry = strdup(entry);
  op->slot = slot != NULL ? strdup(slot) : NULL;
  if (op->archive == NULL || op->entry == NULL || (slot != NULL && op->slot == NULL)) {
    df_entry_op_free(op);
    return df_device_op_fail(L, op, DF_ENOMEM, NULL);
  }
  op->work.data = op;
  rc = uv_queue_work(&d->env.loop->uv, &op->work, df_entry_op_open_work, df_entry_op_opened);
  if (rc != 0) {
    df_entry_op_free(op);
    return df_device_op_fail(L, op, df_error_from_uv(rc), NULL);
  }
  return df_device_op_wait(L, task);
}

void
df_device_flash_entry_methods(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"flash_entry", df_lua_dev_flash_entry},
    {NULL, NULL},
  };
  luaL_setfuncs(L, methods, 0);
}
