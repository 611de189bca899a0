/* The coroutine bridge: recipe code runs in Lua coroutines ("tasks") driven
 * by the libuv loop. A df function that waits starts an operation on the
 * loop and yields its task; the operation's completion (a callback on the
 * loop thread) pushes the results and resumes the task. Recipe code reads
 * top to bottom, and many recipes are many tasks on one loop.
 *
 * An async df function is a few lines (see df_sleep.c):
 *
 *   static int
 *   df_lua_thing(lua_State *L)
 *   {
 *     struct df_bridge_task *task = df_bridge_begin(L, "dev:thing");
 *     struct op *op = ...;
 *     int rc = start_thing(df_bridge_loop(task), ..., on_thing_done, op);
 *     if (rc != 0) return df_bridge_fail(L, task, rc);   // nil, msg, code
 *     df_bridge_set_cancel(task, cancel_thing, op);
 *     return df_bridge_wait(L, task);
 *   }
 *   static void
 *   on_thing_done(void *op, int status, ...)
 *   {
 *     ... keep what push_thing needs in op ...
 *     df_bridge_complete(op->task, push_thing, op);
 *   }
 *
 * A call that fails to start returns nil, message, code at once and never
 * leaves the task waiting (lit's coro-fs hangs there). A completion may
 * arrive before df_bridge_wait (a synchronous answer): wait then returns
 * the results without yielding. */
#ifndef DF_LUA_BRIDGE_H
#define DF_LUA_BRIDGE_H

#include <lua.h>

#include "core/loop.h"

struct df_bridge_task;

/* Called once when a task's function returns or raises, from a loop
 * callback, never from df_bridge_task_start. On LUA_OK the function's
 * results are the top nvalues of thread V; on an error V's top (nvalues 1)
 * is a string: the message with a traceback, or the sandbox's kill message.
 * Read them inside the callback: the task is freed when it returns. The
 * callback may start new tasks. */
typedef void (*df_bridge_done_fn)(void *userdata, lua_State *V, int status, int nvalues);

/* Pops a function and nargs arguments from L (the state's main thread) and
 * runs them as a new task; the first resume happens on the next loop
 * iteration. Returns 0, or DF_ENOMEM with done never called. *out (may be
 * NULL) is valid until done returns or df_bridge_task_cancel. */
int
df_bridge_task_start(lua_State *L, struct df_loop *loop, int nargs, df_bridge_done_fn done,
                     void *userdata, struct df_bridge_task **out);

/* Stops a task that has not finished: its pending operation is canceled
 * and done is never called. Cancel every task before closing the state. */
void
df_bridge_task_cancel(struct df_bridge_task *task);

/* ---- for lua_CFunctions that wait ---- */

/* The task running L. Raises (naming what, e.g. "df.sleep") when L is not
 * a task's own thread (a coroutine the recipe made, the loading of the
 * recipe file) or when it cannot yield here (inside table.sort, gsub ...),
 * or when an operation is already pending. */
struct df_bridge_task *
df_bridge_begin(lua_State *L, const char *what);

struct df_loop *
df_bridge_loop(struct df_bridge_task *task);

/* The operation's cancel: called by df_bridge_task_cancel while waiting.
 * It must make sure df_bridge_complete is never called afterwards. */
void
df_bridge_set_cancel(struct df_bridge_task *task, void (*cancel)(void *op), void *op);

/* The starting function's return: `return df_bridge_wait(L, task);`. */
int
df_bridge_wait(lua_State *L, struct df_bridge_task *task);

/* The operation could not start: pushes nil, message, code (the DF_E name)
 * and returns 3; the task is no longer waiting. */
int
df_bridge_fail(lua_State *L, struct df_bridge_task *task, int err);

/* Pushes nil, message, code onto L and returns 3: the shape of every I/O
 * failure in the df API (also for completions' push functions). */
int
df_bridge_push_error(lua_State *L, int err, const char *message);

/* Pushes an operation's results; returns how many. Runs protected: it may
 * raise (out of memory), and the task then gets nil, message, code. */
typedef int (*df_bridge_push_fn)(lua_State *L, void *ctx);

/* The operation finished (loop thread): push(L, ctx) gives the results of
 * the waiting call, and the task resumes. push may be NULL (no results). */
void
df_bridge_complete(struct df_bridge_task *task, df_bridge_push_fn push, void *ctx);

#endif
