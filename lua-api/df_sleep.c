/* df.sleep(ms): the smallest real async operation (a uv_timer), and the
 * model every waiting df call follows (see bridge.h). */
#include <stdlib.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/bridge.h"
#include "lua-api/df_module.h"

#define DF_SLEEP_MAX_MS (24 * 3600 * 1000)

struct df_sleep_op {
  uv_timer_t timer; /* freed in its close callback */
  struct df_bridge_task *task;
};

static void
df_sleep_on_close(uv_handle_t *handle)
{
  free(handle->data);
}

static int
df_sleep_push(lua_State *L, void *ctx)
{
  (void)ctx;
  lua_pushboolean(L, 1);
  return 1;
}

static void
df_sleep_on_timer(uv_timer_t *timer)
{
  struct df_sleep_op *op = timer->data;
  struct df_bridge_task *task = op->task;

  uv_close((uv_handle_t *)&op->timer, df_sleep_on_close);
  df_bridge_complete(task, df_sleep_push, NULL);
}

static void
df_sleep_cancel(void *data)
{
  struct df_sleep_op *op = data;

  uv_timer_stop(&op->timer);
  uv_close((uv_handle_t *)&op->timer, df_sleep_on_close);
}

static int
df_lua_sleep(lua_State *L)
{
  lua_Integer ms = luaL_checkinteger(L, 1);
  struct df_bridge_task *task;
  struct df_sleep_op *op;
  int rc;

  luaL_argcheck(L, ms >= 0 && ms <= DF_SLEEP_MAX_MS, 1, "milliseconds must be 0..86400000");
  task = df_bridge_begin(L, "df.sleep");
  op = malloc(sizeof(*op));
  if (op == NULL) return df_bridge_fail(L, task, DF_ENOMEM);
  op->task = task;
  rc = uv_timer_init(&df_bridge_loop(task)->uv, &op->timer);
  if (rc != 0) {
    free(op);
    return df_bridge_fail(L, task, df_error_from_uv(rc));
  }
  op->timer.data = op;
  rc = uv_timer_start(&op->timer, df_sleep_on_timer, (uint64_t)ms, 0);
  if (rc != 0) {
    uv_close((uv_handle_t *)&op->timer, df_sleep_on_close);
    return df_bridge_fail(L, task, df_error_from_uv(rc));
  }
  df_bridge_set_cancel(task, df_sleep_cancel, op);
  return df_bridge_wait(L, task);
}

void
df_sleep_register(lua_State *L)
{
  lua_pushcfunction(L, df_lua_sleep);
  lua_setfield(L, -2, "sleep");
}
