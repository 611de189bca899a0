/* What the df_device_*.c files share: one operation on a df.Device that a
 * task waits for. The op marks the device busy while under way; a cancel
 * (the run stopped) detaches it from the device and task, and the late
 * completion only frees it. */
#ifndef DF_LUA_DF_DEVICE_OP_H
#define DF_LUA_DF_DEVICE_OP_H

#include <stdbool.h>

#include <lua.h>

#include "lua-api/bridge.h"
#include "lua-api/df_device.h"

struct df_device_op {
  struct df_bridge_task *task;
  struct df_lua_device *d; /* NULL once canceled */
  bool canceled;
  int status;
  char message[512];
};

/* Begins an op of `size` bytes (zeroed, first member a df_device_op) on d:
 * raises when d is busy or away. */
void *
df_device_op_begin(lua_State *L, struct df_lua_device *d, const char *what, size_t size);

/* The op could not start: frees it, returns nil, msg, code. */
int
df_device_op_fail(lua_State *L, void *op, int err, const char *message);

/* Waits for the op begun on task (take op->task before starting: a
 * completion that comes at once frees the op). */
int
df_device_op_wait(lua_State *L, struct df_bridge_task *task);

/* From a completion: false when the op was canceled (then it was freed and
 * must not be touched); true: go on, then df_device_op_complete. */
bool
df_device_op_alive(void *op);

/* Delivers push(L, op) to the task and frees the op (with free_fn when not
 * NULL, for what the op holds, then free). */
void
df_device_op_complete(void *op, df_bridge_push_fn push, void (*free_fn)(void *op));

/* The cancel every op gets: detaches it from task and device; its late
 * completion only frees it. */
void
df_device_op_detach(void *op);

/* Pushes nil, message (op->message or the error's), code. */
int
df_device_op_push_error(lua_State *L, struct df_device_op *op);

/* opts.slot of the options table at idx (none or nil: no options): "a",
 * "b", or NULL when not given; raises on anything else. The string lives
 * as long as the table. */
const char *
df_device_opt_slot(lua_State *L, int idx);

/* Shows the user a line the phone sent on its own (fastboot INFO) as
 * "(phone) TEXT", through the host of the run L belongs to. */
void
df_device_say_phone(lua_State *L, const char *text);

#endif
