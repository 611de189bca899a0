/* Talking with the user: df.say, df.step, df.log, df.progress (events the
 * runner forwards), and df.confirm / df.choose (questions that wait on the
 * bridge until the CLI answers, or fail at once without a terminal). */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "lua-api/bridge.h"
#include "lua-api/df_module.h"

#define DF_UI_MAX_OPTIONS 64

static int
df_lua_say(lua_State *L)
{
  void *ud;
  const struct df_host_callbacks *h = df_module_host(L, &ud);
  const char *text;

  luaL_checkany(L, 1);
  text = df_module_format(L, 1);
  if (h->say != NULL) h->say(ud, text);
  return 0;
}

static int
df_lua_step(lua_State *L)
{
  void *ud;
  const struct df_host_callbacks *h = df_module_host(L, &ud);
  const char *text;

  luaL_checkany(L, 1);
  text = df_module_format(L, 1);
  if (h->step != NULL) h->step(ud, text);
  return 0;
}

static int
df_lua_log(lua_State *L)
{
  static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
  static const enum df_log_level values[] = {DF_LOG_ERROR, DF_LOG_WARN, DF_LOG_INFO,
                                             DF_LOG_DEBUG};
  void *ud;
  const struct df_host_callbacks *h = df_module_host(L, &ud);
  int level = luaL_checkoption(L, 1, NULL, levels);
  const char *text;

  luaL_checkany(L, 2);
  text = df_module_format(L, 2);
  if (h->log != NULL) h->log(ud, values[level], text);
  return 0;
}

static int
df_lua_progress(lua_State *L)
{
  void *ud;
  const struct df_host_callbacks *h = df_module_host(L, &ud);
  const char *label = luaL_checkstring(L, 1);
  lua_Number done = luaL_checknumber(L, 2);
  lua_Number total = luaL_optnumber(L, 3, 0);

  luaL_argcheck(L, done >= 0, 2, "must be 0 or more");
  luaL_argcheck(L, total >= 0, 3, "must be 0 (unknown) or more");
  if (h->progress != NULL) h->progress(ud, label, done, total);
  return 0;
}

/* One question waiting for its answer. Freed by the answer (or, after a
 * cancel, by the late answer: the host must answer every question). */
struct df_ui_ask {
  struct df_bridge_task *task;
  enum df_question_kind kind;
  const char *options[DF_UI_MAX_OPTIONS]; /* strings on the task's stack */
  size_t noptions;
  int answer;
  bool canceled;
};

static int
df_ui_push_answer(lua_State *L, void *ctx)
{
  struct df_ui_ask *a = ctx;

  if (a->answer < 0)
    return df_bridge_push_error(L, a->answer,
                                a->answer == DF_ECANCELED ? "the user gave no answer" : NULL);
  if (a->kind == DF_QUESTION_CONFIRM) {
    lua_pushboolean(L, a->answer != 0);
    return 1;
  }
  if (a->answer < 1 || (size_t)a->answer > a->noptions)
    return df_bridge_push_error(L, DF_EINVAL, "the answer is not one of the options");
  lua_pushinteger(L, a->answer);
  lua_pushstring(L, a->options[a->answer - 1]);
  return 2;
}

static void
df_ui_on_answer(void *ctx, int answer)
{
  struct df_ui_ask *a = ctx;

  if (!a->canceled) {
    a->answer = answer;
    df_bridge_complete(a->task, df_ui_push_answer, a);
  }
  free(a);
}

static void
df_ui_cancel(void *ctx)
{
  struct df_ui_ask *a = ctx;

  a->canceled = true; /* freed by the answer that still comes */
}

static int
df_ui_ask(lua_State *L, enum df_question_kind kind, bool typed, const char *what)
{
  void *ud;
  const struct df_host_callbacks *h = df_module_host(L, &ud);
  const char *options[DF_UI_MAX_OPTIONS];
  size_t noptions = 0, i;
  struct df_question q;
  struct df_bridge_task *task;
  struct df_ui_ask *a;
  int rc;

  /* Arguments first: nothing is allocated or pending if they raise. */
  memset(&q, 0, sizeof(q));
  q.kind = kind;
  q.text = luaL_checkstring(L, 1);
  if (typed) {
    size_t n;
    q.typed = luaL_checklstring(L, 2, &n);
    luaL_argcheck(L, n >= 1 && n <= 32, 2, "a code of 1 to 32 characters");
    for (i = 0; i < n; i++)
      luaL_argcheck(L, q.typed[i] > 0x20 && q.typed[i] < 0x7f, 2,
                    "printable ASCII without spaces, so it can be typed");
  }
  if (kind == DF_QUESTION_CHOOSE) {
    luaL_checktype(L, 2, LUA_TTABLE);
    noptions = (size_t)lua_rawlen(L, 2);
    luaL_argcheck(L, noptions >= 1 && noptions <= DF_UI_MAX_OPTIONS, 2, "give 1 to 64 options");
    for (i = 0; i < noptions; i++) {
      lua_rawgeti(L, 2, (lua_Integer)i + 1);
      options[i] = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
      lua_pop(L, 1); /* still anchored by the options table (argument 2) */
      luaL_argcheck(L, options[i] != NULL, 2, "every option must be a string");
    }
  }
  if (h->ask == NULL)
    return df_bridge_push_error(L, DF_EUNSUPPORTED,
                                "nobody can answer: droidfix runs without a terminal");
  task = df_bridge_begin(L, what);
  a = calloc(1, sizeof(*a));
  if (a == NULL) return df_bridge_fail(L, task, DF_ENOMEM);
  a->task = task;
  a->kind = kind;
  a->noptions = noptions;
  for (i = 0; i < noptions; i++) a->options[i] = options[i];
  q.options = a->options;
  q.noptions = noptions;
  df_bridge_set_cancel(task, df_ui_cancel, a);
  rc = h->ask(ud, &q, df_ui_on_answer, a);
  if (rc != 0) {
    free(a);
    df_bridge_fail(L, task, rc);
    lua_pop(L, 3);
    return df_bridge_push_error(L, rc,
                                rc == DF_EUNSUPPORTED
                                  ? "nobody can answer: droidfix runs without a terminal "
                                    "(--yes accepts confirmations)"
                                  : NULL);
  }
  return df_bridge_wait(L, task);
}

static int
df_lua_confirm(lua_State *L)
{
  return df_ui_ask(L, DF_QUESTION_CONFIRM, false, "df.confirm");
}

static int
df_lua_choose(lua_State *L)
{
  return df_ui_ask(L, DF_QUESTION_CHOOSE, false, "df.choose");
}

/* A confirmation the user must type a code for (before flashing firmware,
 * wiping data): a reflex "y" is not enough. */
static int
df_lua_confirm_typed(lua_State *L)
{
  return df_ui_ask(L, DF_QUESTION_CONFIRM, true, "df.confirm_typed");
}

void
df_ui_register(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"say", df_lua_say},         {"step", df_lua_step},         {"log", df_lua_log},
    {"progress", df_lua_progress}, {"confirm", df_lua_confirm},
    {"confirm_typed", df_lua_confirm_typed}, {"choose", df_lua_choose},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
