/* The step runner's state machine: check -> (backup) -> (confirm) -> fix ->
 * verify per step (confirm -> no-backup question when no backup can be
 * taken), each Lua call a bridge task, each answer (confirmation, backup) a
 * callback that may come at once or later. */
#include "lua-api/runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/error.h"
#include "core/log.h"
#include "lua-api/bridge.h"
#include "lua-api/df_device.h"
#include "lua-api/risk_gate.h"

enum df_runner_phase {
  DF_RUNNER_IDLE = 0,
  DF_RUNNER_CHECK,
  DF_RUNNER_CONFIRM,
  DF_RUNNER_BACKUP,
  DF_RUNNER_FIX,
  DF_RUNNER_VERIFY,
  DF_RUNNER_DONE,
};

struct df_runner {
  struct df_loop *loop;
  struct df_runner_options opts;
  struct df_runner_callbacks cbs;
  void *ud;
  struct df_sandbox *sb;
  lua_State *L;
  struct df_recipe *recipe;
  int ctx_ref;
  struct df_run_report report;
  size_t cur;
  enum df_runner_phase phase;
  struct df_bridge_task *task;
  struct df_lua_device *device; /* ctx.device, held by ctx */
  struct df_risk_gate gate;     /* what the running step function may do */
  uv_timer_t finish_kick; /* finishes a canceled run from the loop; the
                             runner is freed in its close callback */
  bool confirmed; /* the current step's confirmation was given */
  bool started;
  bool finished;
};

static const char *const df_step_outcome_names[] = {
  "not-run", "nothing-found", "planned", "fixed", "not-fixed", "refused", "declined", "failed"};

const char *
df_step_outcome_name(enum df_step_outcome outcome)
{
  return (unsigned)outcome <= DF_STEP_FAILED ? df_step_outcome_names[outcome] : "unknown";
}

static const char *const df_run_event_names[] = {
  "started", "step-started", "step-checked", "waiting", "step-backed-up", "step-fixed",
  "step-verified", "step-done", "say", "headline", "log", "progress", "finished"};

const char *
df_run_event_name(enum df_run_event_type type)
{
  return (unsigned)type <= DF_RUN_EVENT_FINISHED ? df_run_event_names[type] : "unknown";
}

static struct df_step_report *
df_runner_step(struct df_runner *r)
{
  return r->cur < r->report.nsteps ? &r->report.steps[r->cur] : NULL;
}

/* An event about the current step (none while idle or done); backup, when
 * not NULL, is the step whose backup the event carries (--json lists what
 * it lacks). */
static void
df_runner_emit_about(struct df_runner *r, enum df_run_event_type type, const char *message,
                     const struct df_step_report *backup)
{
  struct df_run_event ev;
  struct df_step_report *s = df_runner_step(r);

  if (r->cbs.event == NULL) return;
  memset(&ev, 0, sizeof(ev));
  ev.type = type;
  ev.recipe_id = r->report.recipe_id;
  ev.step_id = s != NULL && r->phase != DF_RUNNER_IDLE && r->phase != DF_RUNNER_DONE ? s->id
                                                                                        : NULL;
  ev.message = message;
  if (s != NULL) {
    ev.found = s->found;
    ev.ok = s->verified;
    ev.outcome = s->outcome;
  }
  ev.status = r->report.status;
  ev.backup = backup;
  r->cbs.event(r->ud, &ev);
}

static void
df_runner_emit(struct df_runner *r, enum df_run_event_type type, const char *message)
{
  df_runner_emit_about(r, type, message, NULL);
}

static char *
df_runner_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
df_runner_strdup_printf(const char *fmt, ...)
{
  va_list ap;
  char *out = NULL;

  va_start(ap, fmt);
  if (vasprintf(&out, fmt, ap) < 0) out = NULL;
  va_end(ap);
  return out;
}

/* ---- the host df functions talk through ---- */

static void
df_runner_host_say(void *ud, const char *text)
{
  df_runner_emit(ud, DF_RUN_EVENT_SAY, text);
}

static void
df_runner_host_step(void *ud, const char *text)
{
  df_runner_emit(ud, DF_RUN_EVENT_HEADLINE, text);
}

static void
df_runner_host_log(void *ud, enum df_log_level level, const char *text)
{
  struct df_runner *r = ud;
  struct df_run_event ev;
  struct df_step_report *s = df_runner_step(r);

  df_log(level, "%s: %s", r->report.recipe_id, text);
  if (r->cbs.event == NULL) return;
  memset(&ev, 0, sizeof(ev));
  ev.type = DF_RUN_EVENT_LOG;
  ev.recipe_id = r->report.recipe_id;
  ev.step_id = s != NULL ? s->id : NULL;
  ev.message = text;
  ev.level = level;
  r->cbs.event(r->ud, &ev);
}

static void
df_runner_host_progress(void *ud, const char *label, double done, double total)
{
  struct df_runner *r = ud;
  struct df_run_event ev;
  struct df_step_report *s = df_runner_step(r);

  if (r->cbs.event == NULL) return;
  memset(&ev, 0, sizeof(ev));
  ev.type = DF_RUN_EVENT_PROGRESS;
  ev.recipe_id = r->report.recipe_id;
  ev.step_id = s != NULL ? s->id : NULL;
  ev.message = label;
  ev.done = done;
  ev.total = total;
  r->cbs.event(r->ud, &ev);
}

static int
df_runner_host_ask(void *ud, const struct df_question *q, df_answer_fn answer, void *actx)
{
  struct df_runner *r = ud;

  if (q->kind == DF_QUESTION_CONFIRM && r->opts.yes) {
    /* said, so the report shows what --yes agreed to */
    char *said = df_runner_strdup_printf("%s (yes: --yes)", q->text);
    df_runner_emit(r, DF_RUN_EVENT_SAY, said != NULL ? said : q->text);
    free(said);
    answer(actx, 1);
    return 0;
  }
  if (r->cbs.ask == NULL) return DF_EUNSUPPORTED;
  df_runner_emit(r, DF_RUN_EVENT_WAITING, q->text);
  return r->cbs.ask(r->ud, q, answer, actx);
}

static void
df_runner_host_waiting(void *ud, const struct df_wait_info *w)
{
  struct df_runner *r = ud;
  struct df_run_event ev;
  struct df_step_report *s = df_runner_step(r);

  if (r->cbs.event == NULL) return;
  memset(&ev, 0, sizeof(ev));
  ev.type = DF_RUN_EVENT_WAITING;
  ev.recipe_id = r->report.recipe_id;
  ev.step_id = s != NULL ? s->id : NULL;
  ev.message = w->message;
  ev.wait = w;
  r->cbs.event(r->ud, &ev);
}

static const struct df_host_callbacks df_runner_host = {
  .waiting = df_runner_host_waiting,
  .say = df_runner_host_say,
  .step = df_runner_host_step,
  .log = df_runner_host_log,
  .progress = df_runner_host_progress,
  .ask = df_runner_host_ask,
};

/* ---- lifecycle ---- */

static void
df_runner_on_close(uv_handle_t *handle)
{
  free(handle->data);
}

static void df_runner_finish(struct df_runner *r);

static void
df_runner_on_finish_kick(uv_timer_t *timer)
{
  df_runner_finish(timer->data);
}

int
df_runner_new(struct df_loop *loop, const struct df_runner_options *opts,
              const struct df_runner_callbacks *cbs, void *ud, struct df_runner **out)
{
  struct df_runner *r;
  int rc;

  *out = NULL;
  r = calloc(1, sizeof(*r));
  if (r == NULL) return DF_ENOMEM;
  r->loop = loop;
  if (opts != NULL) r->opts = *opts;
  if (cbs != NULL) r->cbs = *cbs;
  r->ud = ud;
  r->ctx_ref = LUA_NOREF;
  rc = df_sandbox_new(&r->opts.limits, r->opts.lib_dir, &r->sb);
  if (rc != 0) {
    free(r);
    return rc;
  }
  r->L = df_sandbox_state(r->sb);
  df_sandbox_add_global(r->sb, "df", df_module_push);
  df_module_set_host(r->L, &df_runner_host, r);
  r->gate.dry_run = r->opts.dry_run;
  rc = df_risk_gate_install(r->L, &r->gate);
  if (rc != 0) {
    df_sandbox_free(r->sb);
    free(r);
    return rc;
  }
  uv_timer_init(&loop->uv, &r->finish_kick);
  r->finish_kick.data = r;
  *out = r;
  return 0;
}

/* Converts "value" to the parameter's type and pushes it; 0 or DF_EINVAL. */
static int
df_runner_push_param(lua_State *L, const struct df_recipe_param *p, const char *value)
{
  switch (p->type) {
  case DF_PARAM_NUMBER:
    if (lua_stringtonumber(L, value) == 0) return DF_EINVAL;
    return 0;
  case DF_PARAM_BOOLEAN:
    if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0 ||
        strcmp(value, "on") == 0)
      lua_pushboolean(L, 1);
    else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
             strcmp(value, "0") == 0 || strcmp(value, "off") == 0)
      lua_pushboolean(L, 0);
    else
      return DF_EINVAL;
    return 0;
  case DF_PARAM_PATH:
    if (value[0] == '\0') return DF_EINVAL;
    lua_pushstring(L, value);
    return 0;
  case DF_PARAM_STRING:
    lua_pushstring(L, value);
    return 0;
  }
  return DF_EINVAL;
}

struct df_runner_ctx_args {
  struct df_runner *r;
  char *err;
  size_t errlen;
  int rc;
};

/* Builds ctx = { params, scratch, dry_run, recipe } (protected). */
static int
df_runner_build_ctx(lua_State *L)
{
  struct df_runner_ctx_args *a = lua_touserdata(L, 1);
  struct df_runner *r = a->r;
  const struct df_recipe *rec = r->recipe;
  size_t i, j;
  int ctx, params;

  lua_newtable(L);
  ctx = lua_gettop(L);
  lua_newtable(L);
  params = lua_gettop(L);
  for (i = 0; i < rec->nparams; i++) {
    df_recipe_push_param_default(rec, i);
    lua_setfield(L, params, rec->params[i].name);
  }
  for (j = 0; j < r->opts.nparams; j++) {
    const char *kv = r->opts.params[j];
    const char *eq = strchr(kv, '=');
    size_t klen = eq != NULL ? (size_t)(eq - kv) : strlen(kv);
    const struct df_recipe_param *p = NULL;
    for (i = 0; i < rec->nparams; i++)
      if (strlen(rec->params[i].name) == klen && memcmp(rec->params[i].name, kv, klen) == 0)
        p = &rec->params[i];
    if (eq == NULL) {
      snprintf(a->err, a->errlen, "--param %s: write it as name=value", kv);
      a->rc = DF_EINVAL;
      return 0;
    }
    if (p == NULL) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (i = 0; i < rec->nparams; i++) {
        if (i > 0) luaL_addstring(&b, ", ");
        luaL_addstring(&b, rec->params[i].name);
      }
      luaL_pushresult(&b);
      snprintf(a->err, a->errlen, "--param %.*s: recipe '%s' has no such parameter (%s%s)",
               (int)klen, kv, rec->id, rec->nparams > 0 ? "it takes: " : "it takes none",
               lua_tostring(L, -1));
      a->rc = DF_EINVAL;
      return 0;
    }
    if (df_runner_push_param(L, p, eq + 1) != 0) {
      snprintf(a->err, a->errlen, "--param %s: '%s' is not a %s%s", p->name, eq + 1,
               df_param_type_name(p->type),
               p->type == DF_PARAM_BOOLEAN ? " (true/false, yes/no, 1/0)" : "");
      a->rc = DF_EINVAL;
      return 0;
    }
    lua_setfield(L, params, p->name);
  }
  for (i = 0; i < rec->nparams; i++) {
    if (!rec->params[i].required) continue;
    if (lua_getfield(L, params, rec->params[i].name) == LUA_TNIL) {
      snprintf(a->err, a->errlen, "recipe '%s' needs --param %s=VALUE (%s%s%s)", rec->id,
               rec->params[i].name, df_param_type_name(rec->params[i].type),
               rec->params[i].help[0] ? ": " : "", rec->params[i].help);
      a->rc = DF_EINVAL;
      return 0;
    }
    lua_pop(L, 1);
  }
  lua_setfield(L, ctx, "params");
  lua_newtable(L);
  lua_setfield(L, ctx, "scratch");
  lua_pushboolean(L, r->opts.dry_run);
  lua_setfield(L, ctx, "dry_run");
  lua_newtable(L);
  lua_pushstring(L, rec->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, rec->title);
  lua_setfield(L, -2, "title");
  lua_pushstring(L, df_risk_name(rec->risk));
  lua_setfield(L, -2, "risk");
  lua_setfield(L, ctx, "recipe");
  r->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

static int
df_runner_after_load(struct df_runner *r, char *err, size_t errlen)
{
  struct df_runner_ctx_args a = {r, err, errlen, 0};
  size_t i;

  lua_pushcfunction(r->L, df_runner_build_ctx);
  lua_pushlightuserdata(r->L, &a);
  if (lua_pcall(r->L, 1, 0, 0) != LUA_OK) {
    snprintf(err, errlen, "%s: out of memory", r->recipe->name);
    lua_pop(r->L, 1);
    return DF_ENOMEM;
  }
  if (a.rc != 0) return a.rc;
  r->report.steps = calloc(r->recipe->nsteps, sizeof(*r->report.steps));
  if (r->report.steps == NULL) return DF_ENOMEM;
  r->report.nsteps = r->recipe->nsteps;
  r->report.recipe_id = r->recipe->id;
  r->report.dry_run = r->opts.dry_run;
  r->gate.recipe_id = r->recipe->id;
  for (i = 0; i < r->report.nsteps; i++) {
    r->report.steps[i].id = r->recipe->steps[i].id;
    r->report.steps[i].title = r->recipe->steps[i].title;
    r->report.steps[i].risk = r->recipe->steps[i].risk;
  }
  return 0;
}

int
df_runner_load_buffer(struct df_runner *r, const char *source, size_t len, const char *name,
                      char *err, size_t errlen)
{
  int rc;

  if (r->recipe != NULL) return DF_EINVAL;
  rc = df_recipe_load_buffer(r->L, source, len, name, &r->recipe, err, errlen);
  if (rc != 0) return rc;
  return df_runner_after_load(r, err, errlen);
}

int
df_runner_load_file(struct df_runner *r, const char *path, char *err, size_t errlen)
{
  int rc;

  if (r->recipe != NULL) return DF_EINVAL;
  rc = df_recipe_load_file(r->L, path, &r->recipe, err, errlen);
  if (rc != 0) return rc;
  return df_runner_after_load(r, err, errlen);
}

/* ---- the state machine ---- */

static void df_runner_next_step(struct df_runner *r);
static void df_runner_confirm_stage(struct df_runner *r);
static void df_runner_guard_stage(struct df_runner *r);
static void df_runner_backup_stage(struct df_runner *r);
static void df_runner_call(struct df_runner *r, enum df_runner_phase phase, const char *which);

static enum df_run_status
df_runner_overall(const struct df_runner *r)
{
  enum df_run_status st = DF_RUN_HEALTHY;
  size_t i;

  for (i = 0; i < r->report.nsteps; i++) {
    switch (r->report.steps[i].outcome) {
    case DF_STEP_REFUSED:
    case DF_STEP_DECLINED:
    case DF_STEP_FAILED:
      return DF_RUN_FAILED;
    case DF_STEP_NOT_FIXED:
    case DF_STEP_PLANNED:
      st = DF_RUN_NOT_FIXED;
      break;
    default:
      break;
    }
  }
  return st;
}

static void
df_runner_finish(struct df_runner *r)
{
  size_t i, fixed = 0, found = 0;

  if (r->finished) return;
  r->finished = true;
  r->phase = DF_RUNNER_DONE;
  uv_timer_stop(&r->finish_kick);
  if (r->report.status != DF_RUN_FAILED) r->report.status = df_runner_overall(r);
  for (i = 0; i < r->report.nsteps; i++) {
    if (r->report.steps[i].found) found++;
    if (r->report.steps[i].outcome == DF_STEP_FIXED) fixed++;
  }
  if (r->report.message == NULL) {
    switch (r->report.status) {
    case DF_RUN_HEALTHY:
      r->report.message = found == 0 ? strdup("nothing wrong was found")
                                     : df_runner_strdup_printf("fixed %zu problem%s", fixed,
                                                               fixed == 1 ? "" : "s");
      break;
    case DF_RUN_NOT_FIXED:
      r->report.message =
        r->opts.dry_run
          ? df_runner_strdup_printf("dry run: %zu problem%s found, nothing changed", found,
                                    found == 1 ? "" : "s")
          : strdup("a problem remains: see the steps not fixed");
      break;
    case DF_RUN_FAILED:
      r->report.message = strdup("the run could not proceed");
      break;
    }
  }
  df_runner_emit(r, DF_RUN_EVENT_FINISHED, r->report.message);
  if (r->cbs.finished != NULL) r->cbs.finished(r->ud, &r->report);
}

/* Ends the current step with outcome and message (ownership taken), and
 * stops the run when the outcome means it cannot go on. */
static void
df_runner_end_step(struct df_runner *r, enum df_step_outcome outcome, char *message)
{
  struct df_step_report *s = df_runner_step(r);

  s->outcome = outcome;
  if (message != NULL) {
    free(s->message);
    s->message = message;
  }
  df_runner_emit(r, DF_RUN_EVENT_STEP_DONE, s->message);
  if (outcome == DF_STEP_REFUSED || outcome == DF_STEP_DECLINED || outcome == DF_STEP_FAILED) {
    r->report.status = DF_RUN_FAILED;
    r->report.message = df_runner_strdup_printf("stopped at step '%s': %s", s->id,
                                                s->message != NULL ? s->message : "failed");
    df_runner_finish(r);
    return;
  }
  r->cur++;
  df_runner_next_step(r);
}

static char *
df_runner_result_string(lua_State *V, int idx)
{
  return lua_type(V, idx) == LUA_TSTRING ? strdup(lua_tostring(V, idx)) : NULL;
}

static void
df_runner_on_task_done(void *ud, lua_State *V, int status, int n)
{
  struct df_runner *r = ud;
  struct df_step_report *s = df_runner_step(r);
  static const char *const phase_names[] = {"", "check", "", "", "fix", "verify", ""};
  int first = lua_gettop(V) - n + 1;

  r->task = NULL;
  r->gate.phase = DF_RISK_PHASE_NONE;
  if (r->gate.violation != NULL) {
    /* a refused call fails the step even when the recipe caught the error */
    char *why = r->gate.violation;
    r->gate.violation = NULL;
    df_runner_end_step(r, DF_STEP_FAILED, why);
    return;
  }
  if (status != LUA_OK) {
    df_runner_end_step(r, DF_STEP_FAILED,
                       df_runner_strdup_printf("error in %s of step '%s': %s",
                                               r->phase == DF_RUNNER_VERIFY &&
                                                   !r->recipe->steps[r->cur].has_verify
                                                 ? "check (run again to verify)"
                                                 : phase_names[r->phase],
                                               s->id, lua_tostring(V, -1)));
    return;
  }
  switch (r->phase) {
  case DF_RUNNER_CHECK:
    s->checked = true;
    s->found = n >= 1 && lua_toboolean(V, first);
    if (s->found) {
      s->found_message = n >= 2 ? df_runner_result_string(V, first + 1) : NULL;
      if (s->found_message == NULL) s->found_message = df_runner_result_string(V, first);
    }
    df_runner_emit(r, DF_RUN_EVENT_STEP_CHECKED, s->found_message);
    if (!s->found) {
      df_runner_end_step(r, DF_STEP_NOTHING_FOUND, NULL);
    } else if (r->opts.dry_run) {
      df_runner_end_step(r, DF_STEP_PLANNED, NULL);
    } else {
      df_runner_guard_stage(r);
    }
    break;
  case DF_RUNNER_FIX:
    s->changed = true;
    s->fix_message = n >= 1 ? df_runner_result_string(V, first) : NULL;
    df_runner_emit(r, DF_RUN_EVENT_STEP_FIXED, s->fix_message);
    df_runner_call(r, DF_RUNNER_VERIFY, r->recipe->steps[r->cur].has_verify ? "verify" : "check");
    break;
  case DF_RUNNER_VERIFY:
    if (r->recipe->steps[r->cur].has_verify) {
      s->verified = n >= 1 && lua_toboolean(V, first);
      if (!s->verified)
        s->message = n >= 2 && lua_type(V, first + 1) == LUA_TSTRING
                       ? strdup(lua_tostring(V, first + 1))
                       : strdup("verify did not confirm the fix");
    } else {
      s->verified = !(n >= 1 && lua_toboolean(V, first));
      if (!s->verified) {
        const char *why = n >= 2 && lua_type(V, first + 1) == LUA_TSTRING
                            ? lua_tostring(V, first + 1)
                            : n >= 1 && lua_type(V, first) == LUA_TSTRING ? lua_tostring(V, first)
                                                                           : NULL;
        s->message = df_runner_strdup_printf("the check still finds the problem after the fix%s%s",
                                             why != NULL ? ": " : "", why != NULL ? why : "");
      }
    }
    df_runner_emit(r, DF_RUN_EVENT_STEP_VERIFIED, s->message);
    df_runner_end_step(r, s->verified ? DF_STEP_FIXED : DF_STEP_NOT_FIXED, NULL);
    break;
  default:
    break;
  }
}

struct df_runner_call_args {
  struct df_runner *r;
  const char *which;
};

/* Pushes the step function and ctx, with ctx.step naming the step
 * (protected: pushing strings may raise at the memory cap). */
static int
df_runner_push_call(lua_State *L)
{
  struct df_runner_call_args *a = lua_touserdata(L, 1);
  struct df_runner *r = a->r;
  const struct df_recipe_step *step = &r->recipe->steps[r->cur];

  lua_settop(L, 0);
  df_recipe_push_step_function(r->recipe, r->cur, a->which);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, step->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, step->title);
  lua_setfield(L, -2, "title");
  lua_pushstring(L, df_risk_name(step->risk));
  lua_setfield(L, -2, "risk");
  lua_setfield(L, -2, "step");
  return 2;
}

/* Starts the step function `which` with ctx as a task. Returns 0 or a
 * DF_E* (nothing started). */
static int
df_runner_start_task(struct df_runner *r, const char *which)
{
  struct df_runner_call_args a = {r, which};
  const struct df_recipe_step *step = &r->recipe->steps[r->cur];
  enum df_risk_phase phase = r->phase == DF_RUNNER_FIX      ? DF_RISK_PHASE_FIX
                             : r->phase == DF_RUNNER_VERIFY ? DF_RISK_PHASE_VERIFY
                                                            : DF_RISK_PHASE_CHECK;

  df_risk_gate_enter(&r->gate, phase, step->id, step->risk,
                     phase == DF_RISK_PHASE_VERIFY && strcmp(which, "check") == 0);

  lua_pushcfunction(r->L, df_runner_push_call);
  lua_pushlightuserdata(r->L, &a);
  if (lua_pcall(r->L, 1, 2, 0) != LUA_OK) {
    lua_pop(r->L, 1);
    r->gate.phase = DF_RISK_PHASE_NONE;
    return DF_ENOMEM;
  }
  return df_bridge_task_start(r->L, r->loop, 1, df_runner_on_task_done, r, &r->task);
}

static void
df_runner_call(struct df_runner *r, enum df_runner_phase phase, const char *which)
{
  int rc;

  r->phase = phase;
  rc = df_runner_start_task(r, which);
  if (rc != 0)
    df_runner_end_step(r, DF_STEP_FAILED,
                       df_runner_strdup_printf("cannot run %s: %s", which, df_strerror(rc)));
}

static void
df_runner_fix_stage(struct df_runner *r)
{
  df_runner_call(r, DF_RUNNER_FIX, "fix");
}

/* ---- what a backup lacks, in words ---- */

#define DF_RUNNER_WORDS_SHOWN 5 /* names listed per kind; the rest counted */

struct df_runner_words_list {
  const char *const *items;
  size_t n;
};

/* Appends the list: "ONE name", "FEW a, b, c", or, past the few shown,
 * "MANY N KIND (a, b, c, d, e and M more)". */
static void
df_runner_words_list(FILE *f, const char *one, const char *few, const char *many,
                     const char *kind, const struct df_runner_words_list *l, bool *cut)
{
  size_t shown = l->n > DF_RUNNER_WORDS_SHOWN ? DF_RUNNER_WORDS_SHOWN : l->n;

  if (l->n == 1)
    fprintf(f, "%s", one);
  else if (l->n <= DF_RUNNER_WORDS_SHOWN)
    fprintf(f, "%s", few);
  else
    fprintf(f, "%s%zu %s (", many, l->n, kind);
  for (size_t i = 0; i < shown; i++) fprintf(f, "%s%.160s", i > 0 ? ", " : "", l->items[i]);
  if (l->n > DF_RUNNER_WORDS_SHOWN) {
    fprintf(f, " and %zu more)", l->n - DF_RUNNER_WORDS_SHOWN);
    *cut = true;
  }
}

char *
df_runner_backup_words(const char *path, const char *holds, const char *not_covered,
                       bool rooted)
{
  const char **apps = NULL, **accounts = NULL, **others = NULL;
  size_t napps = 0, naccounts = 0, nothers = 0, nlines = 0;
  char *copy = NULL, *out = NULL, *save = NULL;
  size_t outlen = 0;
  bool cut = false;
  FILE *f;

  if (not_covered != NULL && not_covered[0] != '\0') {
    for (const char *p = not_covered; *p; p++)
      if (*p == '\n') nlines++;
    nlines++;
    copy = strdup(not_covered);
    apps = calloc(nlines, sizeof(*apps));
    accounts = calloc(nlines, sizeof(*accounts));
    others = calloc(nlines, sizeof(*others));
    if (copy == NULL || apps == NULL || accounts == NULL || others == NULL) goto done;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
      size_t len = strlen(line);
      if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
      if (len == 0) continue;
      if (strncmp(line, "app-data ", 9) == 0 && line[9] != '\0')
        apps[napps++] = line + 9;
      else if (strncmp(line, "account ", 8) == 0 && line[8] != '\0')
        accounts[naccounts++] = line + 8;
      else
        others[nothers++] = line;
    }
  }
  f = open_memstream(&out, &outlen);
  if (f == NULL) goto done;
  fprintf(f, "the backup at %s", path);
  if (holds != NULL && holds[0] != '\0') fprintf(f, " holds %s", holds);
  if (napps + naccounts + nothers > 0) {
    /* each kind: its lines, and the words before one, a few, many */
    const struct {
      struct df_runner_words_list l;
      const char *one, *few, *many, *kind;
    } kinds[] = {
      {{apps, napps}, "the data of ", "the data of ", "the data of ", "apps"},
      {{accounts, naccounts}, "the account ", "the accounts ", "", "accounts"},
      {{others, nothers}, "also ", "also ", "also ", "other entries"},
    };
    const char *sep = "";
    fprintf(f, "; it does NOT hold: ");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
      if (kinds[k].l.n == 0) continue;
      fprintf(f, "%s", sep);
      df_runner_words_list(f, kinds[k].one, kinds[k].few, kinds[k].many, kinds[k].kind,
                           &kinds[k].l, &cut);
      sep = "; ";
    }
    if (!rooted && napps + naccounts > 0)
      fprintf(f, " (no root: ADB cannot read apps' data or the accounts without it)");
    if (cut) fprintf(f, "; the full list is meta/not-backed-up.txt in the backup");
  }
  if (fclose(f) != 0) {
    free(out);
    out = NULL;
  }
done:
  free(apps);
  free(accounts);
  free(others);
  free(copy);
  return out;
}

/* ctx.backup = the archive's path, so a step that erases user data can
 * tell a backup was taken (nil with --no-backup). Protected: pushing a
 * string may raise at the memory cap. */
static int
df_runner_set_ctx_backup(lua_State *L)
{
  struct df_runner *r = lua_touserdata(L, 1);
  const char *path = lua_touserdata(L, 2);

  lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
  lua_pushstring(L, path);
  lua_setfield(L, -2, "backup");
  return 0;
}

/* Keeps what the backup before the current step holds and lacks in its
 * report. Returns 0 or DF_ENOMEM. */
static int
df_runner_keep_backup(struct df_step_report *s, const char *message,
                      const struct df_backup_taken *taken)
{
  const char *nc = taken != NULL ? taken->not_covered : NULL;

  if (taken != NULL && taken->path != NULL) {
    s->backup_path = strdup(taken->path);
  } else {
    /* "PATH (N files, M bytes)": the path is before the last " (" */
    const char *end = NULL;
    for (const char *p = strstr(message, " ("); p != NULL; p = strstr(p + 1, " (")) end = p;
    s->backup_path = strndup(message, end != NULL ? (size_t)(end - message) : strlen(message));
  }
  if (s->backup_path == NULL) return DF_ENOMEM;
  if (nc != NULL && nc[0] != '\0') {
    size_t n = 1;
    const char *p = nc;
    for (const char *q = nc; *q; q++)
      if (*q == '\n') n++;
    s->backup_lacks = calloc(n, sizeof(*s->backup_lacks));
    if (s->backup_lacks == NULL) return DF_ENOMEM;
    while (*p) {
      size_t len = strcspn(p, "\n");
      size_t keep = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
      if (keep > 0) {
        char *line = strndup(p, keep);
        if (line == NULL) return DF_ENOMEM;
        s->backup_lacks[s->nbackup_lacks++] = line;
      }
      p += len;
      if (*p == '\n') p++;
    }
  }
  s->backup_note = df_runner_backup_words(s->backup_path, taken != NULL ? taken->holds : NULL,
                                          nc, taken != NULL && taken->rooted);
  return s->backup_note != NULL ? 0 : DF_ENOMEM;
}

static void
df_runner_on_backup_done(void *ctx, int status, const char *message,
                         const struct df_backup_taken *taken)
{
  struct df_runner *r = ctx;
  struct df_step_report *s = df_runner_step(r);

  if (r->finished || r->phase != DF_RUNNER_BACKUP) return;
  if (status != 0) {
    df_runner_end_step(r, DF_STEP_FAILED,
                       df_runner_strdup_printf("the backup failed (%s); nothing was changed",
                                               message != NULL ? message : df_strerror(status)));
    return;
  }
  s->backed_up = true;
  if ((message != NULL || (taken != NULL && taken->path != NULL)) &&
      df_runner_keep_backup(s, message, taken) != 0) {
    df_runner_end_step(r, DF_STEP_FAILED, strdup("out of memory after the backup; nothing was "
                                                 "changed"));
    return;
  }
  if (s->backup_path != NULL && r->ctx_ref != LUA_NOREF) {
    lua_pushcfunction(r->L, df_runner_set_ctx_backup);
    lua_pushlightuserdata(r->L, r);
    lua_pushlightuserdata(r->L, s->backup_path);
    if (lua_pcall(r->L, 2, 0, 0) != LUA_OK) lua_pop(r->L, 1);
  }
  df_runner_emit(r, DF_RUN_EVENT_STEP_BACKED_UP, message != NULL ? message : s->backup_path);
  /* the confirmation, now able to name the archive and what it lacks */
  df_runner_confirm_stage(r);
}

static void
df_runner_on_no_backup_answer(void *ctx, int answer)
{
  struct df_runner *r = ctx;
  struct df_step_report *s = df_runner_step(r);

  if (r->finished || r->phase != DF_RUNNER_BACKUP) return;
  if (answer == 1) {
    r->report.backup_skipped = true;
    r->report.backup_unavailable = true;
    df_runner_fix_stage(r);
  } else if (answer == 0) {
    df_runner_end_step(r, DF_STEP_DECLINED,
                       strdup("declined: no backup could be taken; nothing was changed"));
  } else {
    df_runner_end_step(r, DF_STEP_REFUSED,
                       df_runner_strdup_printf("step '%s' needs a yes to go on without a backup "
                                               "and got none (%s); nothing was changed",
                                               s->id, df_strerror(answer)));
  }
}

/* A backup was due and the phone does not answer over ADB (it does not
 * boot, or it is in fastboot, which cannot read the phone's files): say
 * so and what is at risk; go on only when the user says yes on a terminal.
 * --yes does not answer this: going on without a backup is said with
 * --no-backup (handled before). */
static void
df_runner_no_backup_possible(struct df_runner *r)
{
  struct df_step_report *s = df_runner_step(r);
  struct df_question q;
  char *text;
  int rc;

  text = df_runner_strdup_printf(
    "no backup can be taken before step '%s' (%s): the phone %s, and a backup needs it "
    "running Android or recovery with ADB; fastboot cannot read the phone's files. At risk: %s%s%s",
    s->id, s->title,
    r->device->dev == NULL ? "does not answer (it does not boot, or is restarting)"
    : r->device->dev->fastboot != NULL ? "is in fastboot"
                                       : "does not answer over ADB",
    s->risk >= DF_RISK_FIRMWARE
      ? "this step writes the phone's firmware, which can erase the apps, photos and files on "
        "it, or leave them unreadable if it goes wrong"
      : "this step can erase the apps, photos and files on the phone",
    s->found_message != NULL ? "; the check says: " : "",
    s->found_message != NULL ? s->found_message : "");
  if (text == NULL) {
    df_runner_end_step(r, DF_STEP_FAILED, strdup("out of memory"));
    return;
  }
  r->phase = DF_RUNNER_BACKUP;
  df_runner_emit(r, DF_RUN_EVENT_WAITING, text);
  if (r->opts.yes || r->cbs.ask == NULL) {
    char *why = df_runner_strdup_printf(
      "%s. %s, so droidfix stops here; nothing was changed. To go on without a backup pass "
      "--no-backup%s",
      text,
      r->opts.yes ? "--yes does not answer for a missing backup"
                  : "Nobody can be asked (no terminal, or --json)",
      r->opts.yes ? " as well" : " (or run from a terminal to be asked)");
    free(text);
    df_runner_end_step(r, DF_STEP_REFUSED, why);
    return;
  }
  memset(&q, 0, sizeof(q));
  q.kind = DF_QUESTION_CONFIRM;
  q.text = text;
  {
    /* the event above said why and what is at risk */
    char *ask = df_runner_strdup_printf("Go on with step '%s' without a backup?", s->id);
    if (ask != NULL) q.text = ask;
    rc = r->cbs.ask(r->ud, &q, df_runner_on_no_backup_answer, r);
    free(ask);
  }
  free(text);
  if (rc != 0 && !r->finished && r->phase == DF_RUNNER_BACKUP)
    df_runner_end_step(r, DF_STEP_REFUSED,
                       df_runner_strdup_printf("step '%s' needs a backup that cannot be taken "
                                               "and the question could not be asked (%s): "
                                               "pass --no-backup to go on without one",
                                               s->id, df_strerror(rc)));
}

static void
df_runner_backup_stage(struct df_runner *r)
{
  struct df_step_report *s = df_runner_step(r);
  struct df_backup_request req;
  int rc;

  if (s->risk < DF_RISK_USER_DATA || s->backed_up) { /* taken before the confirmation */
    df_runner_fix_stage(r);
    return;
  }
  if (r->opts.no_backup) {
    r->report.backup_skipped = true;
    df_runner_emit(r, DF_RUN_EVENT_WAITING, "no backup taken (--no-backup)");
    df_runner_fix_stage(r);
    return;
  }
  if (r->device != NULL && (r->device->dev == NULL || r->device->dev->adb == NULL)) {
    df_runner_no_backup_possible(r);
    return;
  }
  if (r->cbs.backup == NULL) {
    df_runner_end_step(r, DF_STEP_REFUSED,
                       df_runner_strdup_printf("step '%s' can lose user data and no backup can "
                                               "be taken here; pass --no-backup to go on "
                                               "without one",
                                               s->id));
    return;
  }
  r->phase = DF_RUNNER_BACKUP;
  df_runner_emit(r, DF_RUN_EVENT_WAITING, "backup");
  req.recipe_id = r->report.recipe_id;
  req.step_id = s->id;
  req.step_title = s->title;
  req.risk = s->risk;
  rc = r->cbs.backup(r->ud, &req, df_runner_on_backup_done, r);
  if (rc != 0)
    df_runner_end_step(r, DF_STEP_FAILED,
                       df_runner_strdup_printf("the backup could not start (%s); nothing was "
                                               "changed",
                                               df_strerror(rc)));
}

/* "; the backup at PATH stays" when the step has one, else "". */
static const char *
df_runner_backup_stays(const struct df_step_report *s, char *buf, size_t buflen)
{
  if (s->backup_path == NULL) return "";
  snprintf(buf, buflen, "; the backup at %s stays", s->backup_path);
  return buf;
}

static void
df_runner_on_confirm(void *ctx, int answer)
{
  struct df_runner *r = ctx;
  struct df_step_report *s = df_runner_step(r);
  char stays[4200];

  if (r->finished || r->phase != DF_RUNNER_CONFIRM) return;
  if (answer == 1) {
    r->confirmed = true;
    df_runner_backup_stage(r);
  } else if (answer == 0) {
    df_runner_end_step(r, DF_STEP_DECLINED,
                       df_runner_strdup_printf("declined by the user; nothing was changed%s",
                                               df_runner_backup_stays(s, stays, sizeof(stays))));
  } else {
    df_runner_end_step(r, DF_STEP_REFUSED,
                       df_runner_strdup_printf("step '%s' (risk %s) got no confirmation (%s); "
                                               "nothing was changed%s",
                                               s->id, df_risk_name(s->risk), df_strerror(answer),
                                               df_runner_backup_stays(s, stays, sizeof(stays))));
  }
}

/* What the step puts at stake: "Step 'ID' (TITLE) has risk R[: it can lose
 * data on the phone][. The backup at PATH holds ...; it does NOT hold:
 * ...]". malloc'd, or NULL. */
static char *
df_runner_stake(const struct df_step_report *s)
{
  char *note = NULL;

  if (s->backup_note != NULL) {
    note = strdup(s->backup_note);
    if (note == NULL) return NULL;
    if (note[0] >= 'a' && note[0] <= 'z') note[0] = (char)(note[0] - 'a' + 'A');
  }
  {
    char *out = df_runner_strdup_printf("Step '%s' (%s) has risk %s%s%s%s", s->id, s->title,
                                        df_risk_name(s->risk),
                                        s->risk >= DF_RISK_USER_DATA
                                          ? ": it can lose data on the phone"
                                          : "",
                                        note != NULL ? ". " : "", note != NULL ? note : "");
    free(note);
    return out;
  }
}

/* Emits a confirmation's waiting event; with the step's backup attached
 * when there is one (--json lists what it lacks). */
static void
df_runner_emit_confirmation(struct df_runner *r, const char *text)
{
  struct df_step_report *s = df_runner_step(r);

  df_runner_emit_about(r, DF_RUN_EVENT_WAITING, text, s->backup_path != NULL ? s : NULL);
}

static void
df_runner_confirm_stage(struct df_runner *r)
{
  struct df_step_report *s = df_runner_step(r);
  struct df_question q;
  char *stake, *text;
  int rc;

  if (s->risk <= DF_RISK_APP_DATA || r->confirmed) {
    df_runner_backup_stage(r);
    return;
  }
  if (r->opts.yes) {
    r->confirmed = true;
    if (s->backup_path != NULL) {
      /* the same facts a terminal would have shown, for the report */
      stake = df_runner_stake(s);
      text = stake != NULL ? df_runner_strdup_printf("confirmed by --yes: %s", stake) : NULL;
      df_runner_emit_confirmation(r, text != NULL ? text : "confirmed by --yes");
      free(text);
      free(stake);
    } else {
      df_runner_emit(r, DF_RUN_EVENT_WAITING, "confirmed by --yes");
    }
    df_runner_backup_stage(r);
    return;
  }
  if (r->cbs.ask == NULL) {
    char stays[4200];
    df_runner_end_step(r, DF_STEP_REFUSED,
                       df_runner_strdup_printf("step '%s' has risk %s and needs a confirmation: "
                                               "run droidfix from a terminal, or pass --yes%s",
                                               s->id, df_risk_name(s->risk),
                                               df_runner_backup_stays(s, stays, sizeof(stays))));
    return;
  }
  stake = df_runner_stake(s);
  text = stake != NULL ? df_runner_strdup_printf("%s. Go on?", stake) : NULL;
  free(stake);
  if (text == NULL) {
    df_runner_end_step(r, DF_STEP_FAILED, strdup("out of memory"));
    return;
  }
  r->phase = DF_RUNNER_CONFIRM;
  memset(&q, 0, sizeof(q));
  q.kind = DF_QUESTION_CONFIRM;
  q.text = text;
  df_runner_emit_confirmation(r, text);
  rc = r->cbs.ask(r->ud, &q, df_runner_on_confirm, r);
  free(text);
  if (rc != 0 && !r->finished && r->phase == DF_RUNNER_CONFIRM) {
    char stays[4200];
    df_runner_end_step(r, DF_STEP_REFUSED,
                       df_runner_strdup_printf("step '%s' has risk %s and the confirmation could "
                                               "not be asked (%s): pass --yes%s",
                                               s->id, df_risk_name(s->risk), df_strerror(rc),
                                               df_runner_backup_stays(s, stays, sizeof(stays))));
  }
}

/* After a check that found the problem: a step above app-data risk whose
 * confirmation nobody can give is refused before anything (no backup
 * either); a step that can lose user data, when its backup can be taken,
 * is backed up first (it only reads) so that its confirmation can say what
 * the backup holds and lacks; otherwise the confirmation comes first and
 * then what stands for the backup (--no-backup, or none possible). */
static void
df_runner_guard_stage(struct df_runner *r)
{
  struct df_step_report *s = df_runner_step(r);
  bool phone_away = r->device != NULL && (r->device->dev == NULL || r->device->dev->adb == NULL);

  r->confirmed = false;
  if (s->risk > DF_RISK_APP_DATA && !r->opts.yes && r->cbs.ask == NULL) {
    df_runner_confirm_stage(r); /* refuses, naming --yes */
    return;
  }
  if (s->risk >= DF_RISK_USER_DATA && !r->opts.no_backup && !phone_away) {
    df_runner_backup_stage(r);
    return;
  }
  df_runner_confirm_stage(r);
}

static void
df_runner_next_step(struct df_runner *r)
{
  if (r->cur >= r->report.nsteps) {
    df_runner_finish(r);
    return;
  }
  r->phase = DF_RUNNER_CHECK;
  df_runner_emit(r, DF_RUN_EVENT_STEP_STARTED, r->report.steps[r->cur].title);
  df_runner_call(r, DF_RUNNER_CHECK, "check");
}

int
df_runner_start(struct df_runner *r)
{
  int rc;

  if (r->recipe == NULL || r->started) return DF_EINVAL;
  r->started = true;
  r->cur = 0;
  df_runner_emit(r, DF_RUN_EVENT_STARTED, r->recipe->title);
  /* The first call starts here, so that a failure to start is returned
   * (finished never called) rather than reported. */
  r->phase = DF_RUNNER_CHECK;
  df_runner_emit(r, DF_RUN_EVENT_STEP_STARTED, r->report.steps[0].title);
  rc = df_runner_start_task(r, "check");
  if (rc != 0) {
    r->started = false;
    r->phase = DF_RUNNER_IDLE;
    return rc;
  }
  return 0;
}

void
df_runner_cancel(struct df_runner *r)
{
  struct df_step_report *s;

  if (!r->started || r->finished) return;
  if (r->task != NULL) {
    df_bridge_task_cancel(r->task);
    r->task = NULL;
  }
  s = df_runner_step(r);
  if (s != NULL && s->outcome == DF_STEP_NOT_RUN) {
    s->outcome = DF_STEP_FAILED;
    s->message = strdup("canceled");
  }
  r->report.status = DF_RUN_FAILED;
  free(r->report.message);
  r->report.message = strdup("canceled");
  r->phase = DF_RUNNER_DONE;
  uv_timer_start(&r->finish_kick, df_runner_on_finish_kick, 0, 0);
}

struct df_runner_device_args {
  struct df_runner *r;
  struct df_device *dev;
  const struct df_lua_device_env *env;
};

static int
df_runner_push_device(lua_State *L)
{
  struct df_runner_device_args *a = lua_touserdata(L, 1);
  struct df_runner *r = a->r;
  struct df_lua_device *d;
  int ctx;

  lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx_ref);
  ctx = lua_gettop(L);
  df_lua_device_push(L, a->dev, a->env); /* owns dev from here, even on a raise */
  a->dev = NULL;
  d = lua_touserdata(L, -1);
  r->device = d;
  lua_setfield(L, ctx, "device");
  if (a->env->workdir != NULL) {
    lua_pushstring(L, a->env->workdir);
    lua_setfield(L, ctx, "workdir");
  }
  lua_getfield(L, ctx, "params");
  for (size_t i = 0; i < r->recipe->nparams; i++) {
    if (r->recipe->params[i].type != DF_PARAM_PATH) continue;
    if (lua_getfield(L, -1, r->recipe->params[i].name) == LUA_TSTRING)
      df_lua_device_allow_path(d, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return 0;
}

int
df_runner_set_device(struct df_runner *r, struct df_device *dev,
                     const struct df_lua_device_env *env)
{
  struct df_runner_device_args a = {r, dev, env};

  if (r->recipe == NULL || r->started || r->ctx_ref == LUA_NOREF) {
    df_device_close(dev);
    return DF_EINVAL;
  }
  lua_pushcfunction(r->L, df_runner_push_device);
  lua_pushlightuserdata(r->L, &a);
  if (lua_pcall(r->L, 1, 0, 0) != LUA_OK) {
    lua_pop(r->L, 1);
    if (a.dev != NULL) df_device_close(a.dev);
    return DF_ENOMEM;
  }
  return 0;
}

struct df_lua_device *
df_runner_device(struct df_runner *r)
{
  return r->device;
}

const struct df_run_report *
df_runner_report(const struct df_runner *r)
{
  return &r->report;
}

const struct df_recipe *
df_runner_recipe(const struct df_runner *r)
{
  return r->recipe;
}

lua_State *
df_runner_state(struct df_runner *r)
{
  return r->L;
}

struct df_sandbox *
df_runner_sandbox(struct df_runner *r)
{
  return r->sb;
}

void
df_runner_free(struct df_runner *r)
{
  size_t i;

  if (r == NULL) return;
  if (r->task != NULL) df_bridge_task_cancel(r->task);
  for (i = 0; i < r->report.nsteps; i++) {
    for (size_t k = 0; k < r->report.steps[i].nbackup_lacks; k++)
      free(r->report.steps[i].backup_lacks[k]);
    free(r->report.steps[i].backup_lacks);
    free(r->report.steps[i].backup_path);
    free(r->report.steps[i].backup_note);
    free(r->report.steps[i].found_message);
    free(r->report.steps[i].fix_message);
    free(r->report.steps[i].message);
  }
  free(r->report.steps);
  free(r->report.message);
  df_risk_gate_clear(&r->gate);
  if (r->ctx_ref != LUA_NOREF) luaL_unref(r->L, LUA_REGISTRYINDEX, r->ctx_ref);
  df_recipe_free(r->recipe);
  df_sandbox_free(r->sb);
  uv_timer_stop(&r->finish_kick);
  uv_close((uv_handle_t *)&r->finish_kick, df_runner_on_close);
}
