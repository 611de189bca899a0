/* The coroutine bridge: tasks (one Lua thread each) resumed from loop
 * callbacks, the begin/wait/fail/complete protocol of async df functions,
 * and the one place a task's error becomes a message with a traceback. */
#include "lua-api/bridge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/sandbox.h"

enum df_bridge_state {
  DF_BRIDGE_STARTING = 0, /* kick timer armed, never resumed */
  DF_BRIDGE_RUNNING,      /* inside lua_resume */
  DF_BRIDGE_WAITING,      /* yielded on an operation */
  DF_BRIDGE_FINISHED,     /* done called or canceled; freed on close */
};

struct df_bridge_task {
  lua_State *L;  /* the state's main thread */
  lua_State *co; /* the task's thread, anchored by ref */
  int ref;
  int start_nargs;
  struct df_loop *loop;
  uv_timer_t kick; /* first resume on the next iteration; freed on close */
  df_bridge_done_fn done;
  void *userdata;
  enum df_bridge_state state;
  bool op_pending;
  bool completed_early; /* the completion came before df_bridge_wait */
  int early_nresults;
  bool cancel_requested;
  void (*cancel)(void *op);
  void *op;
};

static struct df_bridge_task **
df_bridge_slot(lua_State *L)
{
  return (struct df_bridge_task **)lua_getextraspace(L);
}

static void
df_bridge_on_close(uv_handle_t *handle)
{
  free(handle->data);
}

/* Frees the task: releases the thread's ref (the pair of the one taken at
 * start) and closes the kick timer, whose close callback frees the memory. */
static void
df_bridge_release(struct df_bridge_task *t)
{
  t->state = DF_BRIDGE_FINISHED;
  if (t->op_pending && t->cancel != NULL) t->cancel(t->op);
  t->op_pending = false;
  t->cancel = NULL;
  if (t->ref != LUA_NOREF) {
    *df_bridge_slot(t->co) = NULL;
    luaL_unref(t->L, LUA_REGISTRYINDEX, t->ref);
    t->ref = LUA_NOREF;
  }
  uv_close((uv_handle_t *)&t->kick, df_bridge_on_close);
}

struct df_bridge_message_args {
  lua_State *co;
  int status;
  const char *text; /* a message of ours, or NULL: the thread's error */
};

static int
df_bridge_message_protected(lua_State *L)
{
  struct df_bridge_message_args *a = lua_touserdata(L, 1);
  struct df_sandbox *sb = df_sandbox_from_state(L);

  if (sb != NULL && df_sandbox_killed(sb) != DF_SANDBOX_ALIVE)
    lua_pushstring(L, df_sandbox_kill_message(sb));
  else if (a->text != NULL)
    lua_pushstring(L, a->text);
  else
    df_sandbox_push_traceback(L, a->co, 0);
  return 1;
}

/* Calls done with an error message on the main thread. The message is built
 * under a pcall: a state at its memory cap must not abort the process. */
static void
df_bridge_finish_error(struct df_bridge_task *t, int status, const char *text)
{
  struct df_bridge_message_args a = {t->co, status, text};
  int top = lua_gettop(t->L);

  lua_pushcfunction(t->L, df_bridge_message_protected);
  lua_pushlightuserdata(t->L, &a);
  if (lua_pcall(t->L, 1, 1, 0) != LUA_OK && !lua_isstring(t->L, -1)) {
    lua_pop(t->L, 1);
    lua_pushliteral(t->L, "recipe failed (no message: out of memory)");
  }
  t->state = DF_BRIDGE_FINISHED;
  t->done(t->userdata, t->L, status == LUA_OK ? LUA_ERRRUN : status, 1);
  lua_settop(t->L, top);
  df_bridge_release(t);
}

static void
df_bridge_run(struct df_bridge_task *t, int nargs)
{
  struct df_sandbox *sb = df_sandbox_from_state(t->co);
  int nres = 0;
  int status;

  if (sb != NULL) df_sandbox_slice_begin(sb);
  t->state = DF_BRIDGE_RUNNING;
  status = lua_resume(t->co, NULL, nargs, &nres);
  if (t->cancel_requested) {
    df_bridge_release(t);
    return;
  }
  if (sb != NULL && df_sandbox_killed(sb) != DF_SANDBOX_ALIVE) {
    df_bridge_finish_error(t, LUA_ERRRUN, NULL);
    return;
  }
  if (status == LUA_YIELD) {
    lua_pop(t->co, nres);
    if (t->op_pending) {
      t->state = DF_BRIDGE_WAITING;
      return;
    }
    df_bridge_finish_error(t, LUA_ERRRUN,
                           "coroutine.yield() was called outside a coroutine the recipe "
                           "created; a step waits only through df functions");
    return;
  }
  if (status != LUA_OK) {
    df_bridge_finish_error(t, status, NULL);
    return;
  }
  t->state = DF_BRIDGE_FINISHED;
  t->done(t->userdata, t->co, LUA_OK, nres);
  df_bridge_release(t);
}

static void
df_bridge_on_kick(uv_timer_t *timer)
{
  struct df_bridge_task *t = timer->data;

  df_bridge_run(t, t->start_nargs);
}

/* Protected part of task_start: (task, fn, args...) -> thread, ref, move. */
static int
df_bridge_setup_protected(lua_State *L)
{
  struct df_bridge_task *t = lua_touserdata(L, 1);
  int nmove = lua_gettop(L) - 1;

  t->co = lua_newthread(L);
  if (!lua_checkstack(t->co, nmove + LUA_MINSTACK)) return luaL_error(L, "not enough memory");
  lua_pushvalue(L, -1);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  lua_xmove(L, t->co, nmove);
  return 0;
}

int
df_bridge_task_start(lua_State *L, struct df_loop *loop, int nargs, df_bridge_done_fn done,
                     void *userdata, struct df_bridge_task **out)
{
  struct df_bridge_task *t;
  int rc;

  if (out != NULL) *out = NULL;
  t = calloc(1, sizeof(*t));
  if (t == NULL) {
    lua_pop(L, nargs + 1);
    return DF_ENOMEM;
  }
  t->L = L;
  t->ref = LUA_NOREF;
  t->loop = loop;
  t->done = done;
  t->userdata = userdata;
  t->start_nargs = nargs;
  /* New threads copy the main thread's extra space: keep it NULL so a
   * coroutine the recipe makes is never taken for a task. */
  *df_bridge_slot(L) = NULL;

  lua_pushcfunction(L, df_bridge_setup_protected);
  lua_insert(L, -(nargs + 2));
  lua_pushlightuserdata(L, t);
  lua_insert(L, -(nargs + 2));
  if (lua_pcall(L, nargs + 2, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    if (t->ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
    free(t);
    return DF_ENOMEM;
  }
  *df_bridge_slot(t->co) = t;

  rc = uv_timer_init(&loop->uv, &t->kick);
  if (rc == 0) {
    t->kick.data = t;
    rc = uv_timer_start(&t->kick, df_bridge_on_kick, 0, 0);
    if (rc != 0) {
      df_bridge_release(t);
      return df_error_from_uv(rc);
    }
  } else {
    *df_bridge_slot(t->co) = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
    free(t);
    return df_error_from_uv(rc);
  }
  if (out != NULL) *out = t;
  return 0;
}

void
df_bridge_task_cancel(struct df_bridge_task *task)
{
  switch (task->state) {
  case DF_BRIDGE_STARTING:
  case DF_BRIDGE_WAITING:
    uv_timer_stop(&task->kick);
    df_bridge_release(task);
    break;
  case DF_BRIDGE_RUNNING:
    task->cancel_requested = true; /* released when lua_resume returns */
    break;
  case DF_BRIDGE_FINISHED:
    break;
  }
}

struct df_bridge_task *
df_bridge_begin(lua_State *L, const char *what)
{
  struct df_bridge_task *t = *df_bridge_slot(L);

  if (t == NULL || t->co != L)
    luaL_error(L, "%s can only be called from a recipe step (not while the recipe file "
                  "loads, nor inside a coroutine the recipe created)",
               what);
  if (!lua_isyieldable(L))
    luaL_error(L, "%s cannot wait here: it was called from inside a C function such as "
                  "table.sort, string.gsub or a metamethod",
               what);
  if (t->op_pending) luaL_error(L, "%s: another operation of this step is still waiting", what);
  t->op_pending = true;
  t->completed_early = false;
  t->cancel = NULL;
  t->op = NULL;
  return t;
}

struct df_loop *
df_bridge_loop(struct df_bridge_task *task)
{
  return task->loop;
}

void
df_bridge_set_cancel(struct df_bridge_task *task, void (*cancel)(void *op), void *op)
{
  if (!task->op_pending || task->completed_early) return;
  task->cancel = cancel;
  task->op = op;
}

int
df_bridge_wait(lua_State *L, struct df_bridge_task *task)
{
  if (task->completed_early) {
    task->completed_early = false;
    task->op_pending = false;
    return task->early_nresults;
  }
  return lua_yield(L, 0);
}

int
df_bridge_push_error(lua_State *L, int err, const char *message)
{
  lua_pushnil(L);
  lua_pushstring(L, message != NULL ? message : df_strerror(err));
  lua_pushstring(L, df_error_name(err));
  return 3;
}

int
df_bridge_fail(lua_State *L, struct df_bridge_task *task, int err)
{
  task->op_pending = false;
  task->completed_early = false;
  task->cancel = NULL;
  task->op = NULL;
  return df_bridge_push_error(L, err, NULL);
}

struct df_bridge_push_args {
  df_bridge_push_fn push;
  void *ctx;
};

static int
df_bridge_push_protected(lua_State *L)
{
  struct df_bridge_push_args *a = lua_touserdata(L, 1);

  lua_settop(L, 0);
  return a->push != NULL ? a->push(L, a->ctx) : 0;
}

/* Runs push on the main thread under a pcall and moves the values to the
 * task's thread; a failure becomes nil, message, code. */
static int
df_bridge_push_results(struct df_bridge_task *t, df_bridge_push_fn push, void *ctx)
{
  struct df_bridge_push_args a = {push, ctx};
  int top = lua_gettop(t->L);
  int n;

  lua_pushcfunction(t->L, df_bridge_push_protected);
  lua_pushlightuserdata(t->L, &a);
  if (lua_pcall(t->L, 1, LUA_MULTRET, 0) != LUA_OK) {
    lua_settop(t->L, top);
    lua_pushnil(t->L);
    n = 1;
  } else {
    n = lua_gettop(t->L) - top;
  }
  if (!lua_checkstack(t->co, n + 1)) {
    lua_settop(t->L, top);
    return 0;
  }
  lua_xmove(t->L, t->co, n);
  return n;
}

void
df_bridge_complete(struct df_bridge_task *task, df_bridge_push_fn push, void *ctx)
{
  int n;

  if (!task->op_pending || task->state == DF_BRIDGE_FINISHED) return;
  task->cancel = NULL;
  task->op = NULL;
  n = df_bridge_push_results(task, push, ctx);
  if (task->state == DF_BRIDGE_RUNNING) {
    /* Answered before df_bridge_wait: it returns these values. */
    task->completed_early = true;
    task->early_nresults = n;
    return;
  }
  task->op_pending = false;
  df_bridge_run(task, n);
}
