/* One operation on a df.Device that a task waits for (df_device_op.h). */
#include "lua-api/df_device_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/df_module.h"

void
df_device_op_detach(void *p)
{
  struct df_device_op *op = p;

  op->canceled = true;
  if (op->d != NULL) op->d->busy = false;
  op->d = NULL;
  op->task = NULL;
}

void *
df_device_op_begin(lua_State *L, struct df_lua_device *d, const char *what, size_t size)
{
  struct df_device_op *op;
  struct df_bridge_task *task;

  df_lua_device_live(L, d, what);
  task = df_bridge_begin(L, what);
  op = calloc(1, size);
  if (op == NULL) {
    df_bridge_fail(L, task, DF_ENOMEM);
    luaL_error(L, "%s: out of memory", what);
  }
  op->task = task;
  op->d = d;
  d->busy = true;
  df_bridge_set_cancel(task, df_device_op_detach, op);
  return op;
}

int
df_device_op_fail(lua_State *L, void *p, int err, const char *message)
{
  struct df_device_op *op = p;
  struct df_bridge_task *task = op->task;

  if (op->d != NULL) op->d->busy = false;
  free(op);
  df_bridge_fail(L, task, err);
  lua_pop(L, 2); /* df_bridge_fail's message and code: say ours */
  lua_pushstring(L, message != NULL ? message : df_strerror(err));
  lua_pushstring(L, df_error_name(err));
  return 3;
}

int
df_device_op_wait(lua_State *L, struct df_bridge_task *task)
{
  return df_bridge_wait(L, task);
}

bool
df_device_op_alive(void *p)
{
  struct df_device_op *op = p;

  if (!op->canceled) return true;
  free(op);
  return false;
}

void
df_device_op_complete(void *p, df_bridge_push_fn push, void (*free_fn)(void *op))
{
  struct df_device_op *op = p;

  if (op->d != NULL) op->d->busy = false;
  df_bridge_complete(op->task, push, op);
  if (free_fn != NULL) free_fn(op);
  free(op);
}

int
df_device_op_push_error(lua_State *L, struct df_device_op *op)
{
  return df_bridge_push_error(L, op->status, op->message[0] ? op->message : NULL);
}

const char *
df_device_opt_slot(lua_State *L, int idx)
{
  const char *slot = NULL;

  if (lua_isnoneornil(L, idx)) return NULL;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "slot") != LUA_TNIL) {
    slot = luaL_checkstring(L, -1);
    luaL_argcheck(L, strcmp(slot, "a") == 0 || strcmp(slot, "b") == 0, idx,
                  "opts.slot: \"a\" or \"b\"");
  }
  lua_pop(L, 1); /* the string stays alive in the opts table */
  return slot;
}

void
df_device_say_phone(lua_State *L, const char *text)
{
  void *hud;
  const struct df_host_callbacks *h = df_module_host(L, &hud);
  char line[600];

  snprintf(line, sizeof(line), "(phone) %s", text);
  if (h->say != NULL) h->say(hud, line);
}
