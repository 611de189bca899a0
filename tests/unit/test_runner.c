/* The step runner and the coroutine bridge under it: skipping, dry-run,
 * verify, confirmation, backup, errors with tracebacks, kills, params,
 * events, cancel, and many recipes on one loop interleaving on df.sleep.
 * Also the bridge's contract for future device calls: a call that fails to
 * start returns nil, message, code at once; a completion that comes before
 * the yield is returned without yielding; a completion later resumes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "core/error.h"
#include "core/loop.h"
#include "lua-api/bridge.h"
#include "lua-api/runner.h"

struct probe {
  struct df_loop *loop;
  bool finished;
  int finished_calls;
  enum df_run_status status;
  int asks;
  int answer;       /* what on_ask answers */
  bool answer_later; /* answer from a timer instead of at once */
  uv_timer_t answer_timer;
  df_answer_fn pending_answer;
  void *pending_ctx;
  int backups;
  int backup_status;
  /* with backup_path: the backup says where it is and what it lacks */
  const char *backup_path;
  const char *not_covered;
  bool rooted;
  char log[16384]; /* one line per event: "name step message" */
};

static void
logf_(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
logf_(struct probe *p, const char *fmt, ...)
{
  size_t len = strlen(p->log);
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(p->log + len, sizeof(p->log) - len, fmt, ap);
  va_end(ap);
}

static void
on_event(void *ud, const struct df_run_event *ev)
{
  struct probe *p = ud;

  logf_(p, "%s %s %s\n", df_run_event_name(ev->type), ev->step_id ? ev->step_id : "-",
        ev->message ? ev->message : "-");
  if (ev->backup != NULL)
    logf_(p, "event-backup %s lacks=%zu\n", ev->backup->backup_path, ev->backup->nbackup_lacks);
}

static void
on_finished(void *ud, const struct df_run_report *report)
{
  struct probe *p = ud;

  p->finished = true;
  p->finished_calls++;
  p->status = report->status;
}

static void
on_answer_timer(uv_timer_t *t)
{
  struct probe *p = t->data;
  df_answer_fn fn = p->pending_answer;

  p->pending_answer = NULL;
  fn(p->pending_ctx, p->answer);
}

static int
on_ask(void *ud, const struct df_question *q, df_answer_fn answer, void *actx)
{
  struct probe *p = ud;

  p->asks++;
  logf_(p, "ask %s\n", q->text);
  if (p->answer_later) {
    p->pending_answer = answer;
    p->pending_ctx = actx;
    uv_timer_start(&p->answer_timer, on_answer_timer, 1, 0);
  } else {
    answer(actx, p->answer);
  }
  return 0;
}

static int
on_backup(void *ud, const struct df_backup_request *req, df_backup_done_fn done, void *dctx)
{
  struct probe *p = ud;

  p->backups++;
  logf_(p, "backup %s\n", req->step_id);
  if (p->backup_status != 0) {
    done(dctx, p->backup_status, "disk full", NULL);
  } else if (p->backup_path != NULL) {
    struct df_backup_taken taken = {p->backup_path, "/sdcard, the apps and the settings",
                                    p->not_covered, p->rooted};
    char msg[512];
    snprintf(msg, sizeof(msg), "%s (3 files, 10 bytes)", p->backup_path);
    done(dctx, 0, msg, &taken);
  } else {
    done(dctx, 0, NULL, NULL);
  }
  return 0;
}

static const struct df_runner_callbacks all_callbacks = {
  .event = on_event, .ask = on_ask, .backup = on_backup, .finished = on_finished};
/* No terminal: nobody to ask. */
static const struct df_runner_callbacks no_terminal = {
  .event = on_event, .backup = on_backup, .finished = on_finished};

static const struct df_sandbox_limits test_limits = {32u * 1024 * 1024, 20000000, 60000};

/* A recipe of one step with the given risk and bodies. */
static char *
one_step(const char *risk, const char *check, const char *fix, const char *verify)
{
  char *out = NULL;

  assert_true(asprintf(&out,
                       "return {\n"
                       "  id = \"t\", title = \"T\", summary = \"t\", risk = \"%s\",\n"
                       "  applies_to = { modes = { \"system\" } },\n"
                       "  params = { name = { type = \"string\", default = \"x\" } },\n"
                       "  steps = {\n"
                       "    { id = \"s1\", title = \"Step one\",\n"
                       "      check = function(ctx) %s end,\n"
                       "      fix = function(ctx) %s end,\n"
                       "%s%s%s"
                       "    },\n"
                       "  },\n"
                       "}\n",
                       risk, check, fix, verify ? "      verify = function(ctx) " : "",
                       verify ? verify : "", verify ? " end,\n" : "") > 0);
  return out;
}

struct fixture {
  struct df_loop loop;
  struct probe probe;
  struct df_runner *runner;
};

static int
setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));

  if (df_loop_init(&f->loop) != 0) return -1;
  f->probe.loop = &f->loop;
  uv_timer_init(&f->loop.uv, &f->probe.answer_timer);
  f->probe.answer_timer.data = &f->probe;
  *state = f;
  return 0;
}

static int
teardown(void **state)
{
  struct fixture *f = *state;

  df_runner_free(f->runner);
  uv_close((uv_handle_t *)&f->probe.answer_timer, NULL);
  df_loop_close(&f->loop);
  free(f);
  return 0;
}

/* Loads source into a new runner and runs it to the end. */
static const struct df_run_report *
run(struct fixture *f, const char *source, const struct df_runner_options *opts,
    const struct df_runner_callbacks *cbs)
{
  struct df_runner_options o = {0};
  char err[1024];
  int rc;

  if (opts != NULL) o = *opts;
  o.limits = test_limits;
  assert_int_equal(df_runner_new(&f->loop, &o, cbs, &f->probe, &f->runner), 0);
  rc = df_runner_load_buffer(f->runner, source, strlen(source), "t.lua", err, sizeof(err));
  if (rc != 0) fail_msg("load: %s", err);
  assert_int_equal(df_runner_start(f->runner), 0);
  assert_false(f->probe.finished); /* never from start */
  df_loop_run(&f->loop);
  assert_true(f->probe.finished);
  assert_int_equal(f->probe.finished_calls, 1);
  return df_runner_report(f->runner);
}

static void
test_skip_when_nothing_found(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("app-data", "return false", "error('fix ran')", NULL);
  const struct df_run_report *rep = run(f, src, NULL, &all_callbacks);

  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_NOTHING_FOUND);
  assert_true(rep->steps[0].checked);
  assert_false(rep->steps[0].found);
  assert_false(rep->steps[0].changed);
  assert_null(strstr(f->probe.log, "fix ran"));
  assert_string_equal(rep->message, "nothing wrong was found");
  free(src);
}

static void
test_found_fixed_verified(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("app-data",
                       "if ctx.scratch.fixed then return false end return true, 'cache is "
                       "full of ' .. ctx.params.name",
                       "ctx.scratch.fixed = true df.say('clearing %s', ctx.step.id) "
                       "return 'cleared'",
                       "return ctx.scratch.fixed == true");
  const struct df_run_report *rep = run(f, src, NULL, &all_callbacks);

  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FIXED);
  assert_true(rep->steps[0].found && rep->steps[0].changed && rep->steps[0].verified);
  assert_string_equal(rep->steps[0].found_message, "cache is full of x");
  assert_string_equal(rep->steps[0].fix_message, "cleared");
  /* The events a --json run prints, in order. */
  assert_string_equal(f->probe.log,
                      "started - T\n"
                      "step-started s1 Step one\n"
                      "step-checked s1 cache is full of x\n"
                      "say s1 clearing s1\n"
                      "step-fixed s1 cleared\n"
                      "step-verified s1 -\n"
                      "step-done s1 -\n"
                      "finished - fixed 1 problem\n");
  free(src);
}

static void
test_dry_run_never_fixes(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {.dry_run = true};
  char *src = one_step("firmware", "return true, 'broken'", "error('fix ran')", NULL);
  const struct df_run_report *rep = run(f, src, &o, &no_terminal);

  assert_int_equal(rep->status, DF_RUN_NOT_FIXED);
  assert_true(rep->dry_run);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_PLANNED);
  assert_false(rep->steps[0].changed);
  assert_int_equal(f->probe.backups, 0);
  assert_null(strstr(f->probe.log, "fix ran"));
  assert_non_null(strstr(rep->message, "dry run: 1 problem found, nothing changed"));
  free(src);
}

static void
test_verify_false_is_not_fixed(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("app-data", "return true", "return nil",
                       "return false, 'the app still crashes'");
  const struct df_run_report *rep = run(f, src, NULL, &all_callbacks);

  assert_int_equal(rep->status, DF_RUN_NOT_FIXED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_NOT_FIXED);
  assert_true(rep->steps[0].changed);
  assert_false(rep->steps[0].verified);
  assert_string_equal(rep->steps[0].message, "the app still crashes");
  free(src);
}

/* Without verify, check runs again and must find nothing. */
static void
test_no_verify_rechecks(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("app-data", "return true, 'still broken'", "", NULL);
  const struct df_run_report *rep = run(f, src, NULL, &all_callbacks);

  assert_int_equal(rep->status, DF_RUN_NOT_FIXED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_NOT_FIXED);
  assert_non_null(strstr(rep->steps[0].message,
                         "the check still finds the problem after the fix: still broken"));
  free(src);
}

static void
test_confirmation_refused_without_terminal(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("user-data", "return true", "error('fix ran')", NULL);
  const struct df_run_report *rep = run(f, src, NULL, &no_terminal);

  assert_int_equal(rep->status, DF_RUN_FAILED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_REFUSED);
  assert_non_null(strstr(rep->steps[0].message, "needs a confirmation"));
  assert_non_null(strstr(rep->steps[0].message, "--yes"));
  assert_false(rep->steps[0].changed);
  assert_int_equal(f->probe.backups, 0);
  assert_null(strstr(f->probe.log, "fix ran"));
  free(src);
}

static void
test_confirmation_by_yes(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {.yes = true};
  char *src = one_step("user-data", "return not ctx.scratch.done", "ctx.scratch.done = true", NULL);
  const struct df_run_report *rep = run(f, src, &o, &no_terminal);

  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FIXED);
  assert_int_equal(f->probe.asks, 0);
  assert_int_equal(f->probe.backups, 1);
  free(src);
}

static void
test_confirmation_asked_and_declined(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("firmware", "return true", "error('fix ran')", NULL);
  const struct df_run_report *rep;

  f->probe.answer = 0;
  f->probe.answer_later = true;
  rep = run(f, src, NULL, &all_callbacks);
  assert_int_equal(f->probe.asks, 1);
  assert_int_equal(rep->status, DF_RUN_FAILED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_DECLINED);
  assert_non_null(strstr(f->probe.log, "ask Step 's1' (Step one) has risk firmware"));
  assert_null(strstr(f->probe.log, "fix ran"));
  free(src);
}

static void
test_confirmation_asked_and_accepted_later(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("user-data", "return not ctx.scratch.done", "ctx.scratch.done = true", NULL);
  const struct df_run_report *rep;

  f->probe.answer = 1;
  f->probe.answer_later = true;
  rep = run(f, src, NULL, &all_callbacks);
  assert_int_equal(f->probe.asks, 1);
  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FIXED);
  free(src);
}

static void
test_backup_before_user_data_step(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {.yes = true};
  char *src = one_step("user-data", "return not ctx.scratch.done",
                       "df.say('fixing') ctx.scratch.done = true", NULL);
  const struct df_run_report *rep = run(f, src, &o, &all_callbacks);
  const char *backup = strstr(f->probe.log, "backup s1");
  const char *yes = strstr(f->probe.log, "waiting s1 confirmed by --yes");
  const char *fixing = strstr(f->probe.log, "say s1 fixing");

  assert_int_equal(f->probe.backups, 1);
  assert_non_null(backup);
  assert_non_null(yes);
  assert_non_null(fixing);
  assert_true(backup < yes); /* a backup only reads: it comes first */
  assert_true(yes < fixing);
  assert_true(rep->steps[0].backed_up);
  assert_false(rep->backup_skipped);
  free(src);
}

static void
test_no_backup_is_reported(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {.yes = true, .no_backup = true};
  char *src = one_step("user-data", "return not ctx.scratch.done", "ctx.scratch.done = true", NULL);
  const struct df_run_report *rep = run(f, src, &o, &all_callbacks);

  assert_int_equal(f->probe.backups, 0);
  assert_true(rep->backup_skipped);
  assert_false(rep->steps[0].backed_up);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FIXED);
  free(src);
}

static void
test_backup_failure_stops_before_fix(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {.yes = true};
  char *src = one_step("user-data", "return true", "error('fix ran')", NULL);
  const struct df_run_report *rep;

  f->probe.backup_status = DF_ENOSPC;
  rep = run(f, src, &o, &all_callbacks);
  assert_int_equal(rep->status, DF_RUN_FAILED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FAILED);
  assert_non_null(strstr(rep->steps[0].message, "the backup failed (disk full)"));
  assert_null(strstr(f->probe.log, "fix ran"));
  free(src);
}

#define GAPS "app-data com.whatsapp\napp-data org.telegram.messenger\n" \
             "account com.google alex@example.com\n"

/* A user-data step on a terminal: the backup first, then the question,
 * which names the archive and exactly what it lacks; the fix sees
 * ctx.backup as the path; the report keeps the lacks. */
static void
test_backup_before_confirm_names_what_it_lacks(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("user-data", "return not ctx.scratch.done",
                       "df.say('ctx.backup=' .. tostring(ctx.backup)) ctx.scratch.done = true",
                       NULL);
  const struct df_run_report *rep;
  const char *backup, *ask;

  f->probe.answer = 1;
  f->probe.answer_later = true;
  f->probe.backup_path = "/tmp/bk/SER-1.tar";
  f->probe.not_covered = GAPS;
  rep = run(f, src, NULL, &all_callbacks);
  backup = strstr(f->probe.log, "backup s1");
  ask = strstr(f->probe.log, "ask Step 's1'");
  assert_non_null(backup);
  assert_non_null(ask);
  assert_true(backup < ask);
  assert_int_equal(f->probe.backups, 1);
  assert_int_equal(f->probe.asks, 1);
  assert_non_null(strstr(
    f->probe.log,
    "ask Step 's1' (Step one) has risk user-data: it can lose data on the phone. The backup at "
    "/tmp/bk/SER-1.tar holds /sdcard, the apps and the settings; it does NOT hold: the data of "
    "com.whatsapp, org.telegram.messenger; the account com.google alex@example.com (no root: "
    "ADB cannot read apps' data or the accounts without it). Go on?\n"));
  /* the waiting event carries the backup for --json */
  assert_non_null(strstr(f->probe.log, "event-backup /tmp/bk/SER-1.tar lacks=3"));
  assert_non_null(strstr(f->probe.log, "say s1 ctx.backup=/tmp/bk/SER-1.tar\n"));
  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FIXED);
  assert_true(rep->steps[0].backed_up);
  assert_string_equal(rep->steps[0].backup_path, "/tmp/bk/SER-1.tar");
  assert_int_equal(rep->steps[0].nbackup_lacks, 3);
  assert_string_equal(rep->steps[0].backup_lacks[0], "app-data com.whatsapp");
  assert_string_equal(rep->steps[0].backup_lacks[1], "app-data org.telegram.messenger");
  assert_string_equal(rep->steps[0].backup_lacks[2], "account com.google alex@example.com");
  assert_non_null(strstr(rep->steps[0].backup_note, "it does NOT hold: the data of com.whatsapp"));
  free(src);
}

/* No: the step ends declined, the fix never runs, the backup stays and
 * the message says where. */
static void
test_decline_after_backup_keeps_it(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("user-data", "return true", "error('fix ran')", NULL);
  const struct df_run_report *rep;

  f->probe.answer = 0;
  f->probe.backup_path = "/tmp/bk/SER-2.tar";
  f->probe.not_covered = "app-data com.whatsapp\n";
  rep = run(f, src, NULL, &all_callbacks);
  assert_int_equal(f->probe.backups, 1);
  assert_int_equal(f->probe.asks, 1);
  assert_true(strstr(f->probe.log, "backup s1") < strstr(f->probe.log, "ask Step 's1'"));
  assert_int_equal(rep->status, DF_RUN_FAILED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_DECLINED);
  assert_false(rep->steps[0].changed);
  assert_true(rep->steps[0].backed_up);
  assert_string_equal(rep->steps[0].message, "declined by the user; nothing was changed; the "
                                             "backup at /tmp/bk/SER-2.tar stays");
  assert_null(strstr(f->probe.log, "fix ran"));
  assert_null(strstr(f->probe.log, "step-fixed"));
  free(src);
}

/* --yes: the backup first, then the same facts as an event (no question),
 * and in the report. */
static void
test_yes_says_what_backup_lacks(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {.yes = true};
  char *src = one_step("firmware", "return not ctx.scratch.done", "ctx.scratch.done = true", NULL);
  const struct df_run_report *rep;
  const char *backup, *yes;

  f->probe.backup_path = "/tmp/bk/SER-3.tar";
  f->probe.not_covered = GAPS;
  rep = run(f, src, &o, &no_terminal);
  backup = strstr(f->probe.log, "backup s1");
  yes = strstr(f->probe.log, "waiting s1 confirmed by --yes: Step 's1' (Step one) has risk "
                             "firmware: it can lose data on the phone. The backup at "
                             "/tmp/bk/SER-3.tar holds /sdcard, the apps and the settings; it "
                             "does NOT hold: the data of com.whatsapp, org.telegram.messenger; "
                             "the account com.google alex@example.com (no root");
  assert_non_null(backup);
  assert_non_null(yes);
  assert_true(backup < yes);
  assert_int_equal(f->probe.asks, 0);
  assert_non_null(strstr(f->probe.log, "event-backup /tmp/bk/SER-3.tar lacks=3"));
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FIXED);
  assert_int_equal(rep->steps[0].nbackup_lacks, 3);
  assert_string_equal(rep->steps[0].backup_path, "/tmp/bk/SER-3.tar");
  free(src);
}

/* --no-backup keeps the old order and words: confirmation, no backup. */
static void
test_no_backup_confirms_as_before(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {.no_backup = true};
  char *src = one_step("user-data", "return not ctx.scratch.done", "ctx.scratch.done = true", NULL);
  const struct df_run_report *rep;

  f->probe.answer = 1;
  f->probe.backup_path = "/tmp/bk/SER-4.tar";
  rep = run(f, src, &o, &all_callbacks);
  assert_int_equal(f->probe.backups, 0);
  assert_non_null(strstr(f->probe.log, "ask Step 's1' (Step one) has risk user-data: it can lose "
                                       "data on the phone. Go on?\n"));
  assert_true(strstr(f->probe.log, "ask Step 's1'") <
              strstr(f->probe.log, "waiting s1 no backup taken (--no-backup)"));
  assert_null(strstr(f->probe.log, "event-backup"));
  assert_true(rep->backup_skipped);
  assert_null(rep->steps[0].backup_path);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FIXED);
  free(src);
}

/* The words: lists cut to a few with a count and where the full list is;
 * rooted and complete says only what it holds. */
static void
test_backup_words(void **state)
{
  char *w;

  (void)state;
  w = df_runner_backup_words("/b.tar", "/sdcard and the settings", NULL, false);
  assert_string_equal(w, "the backup at /b.tar holds /sdcard and the settings");
  free(w);
  w = df_runner_backup_words("/b.tar", NULL, "", true);
  assert_string_equal(w, "the backup at /b.tar");
  free(w);
  w = df_runner_backup_words("/b.tar", "X",
                             "app-data a1\r\napp-data a2\napp-data a3\napp-data a4\n\n"
                             "app-data a5\napp-data a6\napp-data a7\naccount t n\n",
                             false);
  assert_string_equal(w, "the backup at /b.tar holds X; it does NOT hold: the data of 7 apps "
                         "(a1, a2, a3, a4, a5 and 2 more); the account t n (no root: ADB cannot "
                         "read apps' data or the accounts without it); the full list is "
                         "meta/not-backed-up.txt in the backup");
  free(w);
  w = df_runner_backup_words("/b.tar", "X", "account g a\naccount g b\nsomething odd", true);
  assert_string_equal(w, "the backup at /b.tar holds X; it does NOT hold: the accounts g a, g b; "
                         "also something odd");
  free(w);
}

static void
test_error_in_step_has_id_and_traceback(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("app-data", "return true",
                       "local function deeper() error('pm clear failed') end deeper()", NULL);
  const struct df_run_report *rep = run(f, src, NULL, &all_callbacks);

  assert_int_equal(rep->status, DF_RUN_FAILED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FAILED);
  assert_non_null(strstr(rep->steps[0].message, "error in fix of step 's1': t.lua:8: pm clear failed"));
  assert_non_null(strstr(rep->steps[0].message, "stack traceback:"));
  assert_non_null(strstr(rep->steps[0].message, "in local 'deeper'"));
  assert_non_null(strstr(rep->message, "stopped at step 's1'"));
  free(src);
}

static void
test_kill_in_step(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("app-data", "while true do pcall(function() while true do end end) end",
                       "", NULL);
  const struct df_run_report *rep = run(f, src, NULL, &all_callbacks);

  assert_int_equal(rep->status, DF_RUN_FAILED);
  assert_int_equal(rep->steps[0].outcome, DF_STEP_FAILED);
  assert_non_null(strstr(rep->steps[0].message, "instruction budget"));
  free(src);
}

static void
test_params(void **state)
{
  struct fixture *f = *state;
  const char *params[] = {"package=com.example", "limit_mb=5", "force=yes"};
  struct df_runner_options o = {.params = params, .nparams = 3};
  const char *src_dir = getenv("DF_SOURCE_DIR") ? getenv("DF_SOURCE_DIR") : DF_SOURCE_DIR;
  char path[1024], err[1024];
  const struct df_run_report *rep;

  o.limits = test_limits;
  snprintf(path, sizeof(path), "%s/tests/fixtures/recipes/clear-app-cache.lua", src_dir);
  assert_int_equal(df_runner_new(&f->loop, &o, &all_callbacks, &f->probe, &f->runner), 0);
  if (df_runner_load_file(f->runner, path, err, sizeof(err)) != 0) fail_msg("%s", err);
  assert_int_equal(df_runner_start(f->runner), 0);
  df_loop_run(&f->loop);
  rep = df_runner_report(f->runner);
  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_string_equal(rep->steps[0].found_message, "com.example holds 250 MB of cache");
  assert_non_null(strstr(f->probe.log, "say cache-size clearing the cache of com.example"));
  df_runner_free(f->runner);
  f->runner = NULL;

  {
    const char *bad[] = {"limit_mb=lots"};
    o.params = bad;
    o.nparams = 1;
    assert_int_equal(df_runner_new(&f->loop, &o, &all_callbacks, &f->probe, &f->runner), 0);
    assert_int_equal(df_runner_load_file(f->runner, path, err, sizeof(err)), DF_EINVAL);
    assert_string_equal(err, "--param limit_mb: 'lots' is not a number");
    df_runner_free(f->runner);
  }
  {
    const char *bad[] = {"pakage=x"};
    o.params = bad;
    assert_int_equal(df_runner_new(&f->loop, &o, &all_callbacks, &f->probe, &f->runner), 0);
    assert_int_equal(df_runner_load_file(f->runner, path, err, sizeof(err)), DF_EINVAL);
    assert_non_null(strstr(err, "--param pakage: recipe 'clear-app-cache' has no such parameter"));
    df_runner_free(f->runner);
  }
  {
    const char *src = "return { id = 'r', title = 'R', summary = 'r', risk = 'read-only',\n"
                      " applies_to = { modes = { 'system' } },\n"
                      " params = { serial = { type = 'string', required = true, help = 'which "
                      "phone' } },\n"
                      " steps = { { id = 'a', title = 'A', check = function() end, fix = "
                      "function() end } } }\n";
    o.params = NULL;
    o.nparams = 0;
    assert_int_equal(df_runner_new(&f->loop, &o, &all_callbacks, &f->probe, &f->runner), 0);
    assert_int_equal(df_runner_load_buffer(f->runner, src, strlen(src), "r.lua", err, sizeof(err)),
                     DF_EINVAL);
    assert_string_equal(err, "recipe 'r' needs --param serial=VALUE (string: which phone)");
  }
}

/* df.confirm inside a step: no terminal gives nil, message, code at once. */
static void
test_df_confirm(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("read-only",
                       "local ok, msg, code = df.confirm('Clear it?') "
                       "df.say('%s|%s|%s', tostring(ok), tostring(msg), tostring(code)) "
                       "local i, v = df.choose('Which?', { 'a', 'b' }) "
                       "df.say('%s|%s', tostring(i), tostring(v)) return false",
                       "", NULL);
  const struct df_run_report *rep = run(f, src, NULL, &no_terminal);

  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_non_null(strstr(f->probe.log, "say s1 nil|nobody can answer: droidfix runs without a "
                                       "terminal (--yes accepts confirmations)|EUNSUPPORTED"));
  assert_non_null(strstr(f->probe.log, "say s1 nil|nobody can answer"));
  df_runner_free(f->runner);
  f->runner = NULL;

  /* With a terminal: answered at once (before the yield) and later. */
  memset(f->probe.log, 0, sizeof(f->probe.log));
  f->probe.finished = false;
  f->probe.finished_calls = 0;
  f->probe.answer = 2;
  f->probe.answer_later = false;
  run(f, src, NULL, &all_callbacks);
  assert_non_null(strstr(f->probe.log, "say s1 true|nil|nil"));
  assert_non_null(strstr(f->probe.log, "say s1 2|b"));
  df_runner_free(f->runner);
  f->runner = NULL;

  memset(f->probe.log, 0, sizeof(f->probe.log));
  f->probe.finished = false;
  f->probe.finished_calls = 0;
  f->probe.answer = 1;
  f->probe.answer_later = true;
  run(f, src, NULL, &all_callbacks);
  assert_non_null(strstr(f->probe.log, "say s1 true|nil|nil"));
  assert_non_null(strstr(f->probe.log, "say s1 1|a"));
  free(src);
}

/* ---- the bridge's contract, through test-only async functions ---- */

struct later_op {
  uv_timer_t timer;
  struct df_bridge_task *task;
  lua_Integer value;
};

static int
push_value(lua_State *L, void *ctx)
{
  struct later_op *op = ctx;

  lua_pushinteger(L, op->value);
  lua_pushliteral(L, "done");
  return 2;
}

static void
later_close(uv_handle_t *h)
{
  free(h->data);
}

static void
later_fire(uv_timer_t *t)
{
  struct later_op *op = t->data;

  df_bridge_complete(op->task, push_value, op);
  uv_close((uv_handle_t *)&op->timer, later_close);
}

/* test.fail(): an operation that cannot start (no such device). */
static int
lua_test_fail(lua_State *L)
{
  struct df_bridge_task *task = df_bridge_begin(L, "test.fail");
  return df_bridge_fail(L, task, DF_ENODEV);
}

/* test.now(v): an operation whose completion comes before the yield. */
static int
lua_test_now(lua_State *L)
{
  struct later_op op;
  struct df_bridge_task *task;

  op.value = luaL_checkinteger(L, 1);
  task = df_bridge_begin(L, "test.now");
  op.task = task;
  df_bridge_complete(task, push_value, &op);
  return df_bridge_wait(L, task);
}

/* test.later(v): completes from a timer on the loop. */
static int
lua_test_later(lua_State *L)
{
  lua_Integer v = luaL_checkinteger(L, 1);
  struct df_bridge_task *task = df_bridge_begin(L, "test.later");
  struct later_op *op = malloc(sizeof(*op));

  op->task = task;
  op->value = v;
  uv_timer_init(&df_bridge_loop(task)->uv, &op->timer);
  op->timer.data = op;
  uv_timer_start(&op->timer, later_fire, 1, 0);
  return df_bridge_wait(L, task);
}

static void
push_test_table(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"fail", lua_test_fail}, {"now", lua_test_now}, {"later", lua_test_later}, {NULL, NULL}};
  luaL_newlib(L, fns);
}

static const struct df_run_report *
run_with_test_table(struct fixture *f, const char *source)
{
  struct df_runner_options o = {0};
  char err[1024];

  o.limits = test_limits;
  assert_int_equal(df_runner_new(&f->loop, &o, &all_callbacks, &f->probe, &f->runner), 0);
  df_sandbox_add_global(df_runner_sandbox(f->runner), "test", push_test_table);
  if (df_runner_load_buffer(f->runner, source, strlen(source), "t.lua", err, sizeof(err)) != 0)
    fail_msg("%s", err);
  assert_int_equal(df_runner_start(f->runner), 0);
  df_loop_run(&f->loop);
  assert_true(f->probe.finished);
  return df_runner_report(f->runner);
}

static void
test_bridge_contract(void **state)
{
  struct fixture *f = *state;
  char *src = one_step(
    "read-only",
    "local a, msg, code = test.fail() "
    "df.say('fail: %s|%s|%s', tostring(a), msg, code) "
    "local v, w = test.now(7) df.say('now: %d %s', v, w) "
    "local x, y = test.later(9) df.say('later: %d %s', x, y) "
    "local ok, z = pcall(test.later, 11) df.say('pcall: %s %d', tostring(ok), z) "
    "return false",
    "", NULL);
  const struct df_run_report *rep = run_with_test_table(f, src);

  assert_int_equal(rep->status, DF_RUN_HEALTHY);
  assert_non_null(strstr(f->probe.log, "say s1 fail: nil|no such device|ENODEV"));
  assert_non_null(strstr(f->probe.log, "say s1 now: 7 done"));
  assert_non_null(strstr(f->probe.log, "say s1 later: 9 done"));
  assert_non_null(strstr(f->probe.log, "say s1 pcall: true 11"));
  free(src);
}

static void
test_waiting_outside_a_step_is_refused(void **state)
{
  struct fixture *f = *state;
  char *src = one_step("read-only",
                       "local ok, err = pcall(coroutine.wrap(function() df.sleep(1) end)) "
                       "df.say('%s', err) "
                       "local ok2, err2 = pcall(table.sort, {3, 2, 1}, function(a, b) "
                       "df.sleep(1) return a < b end) "
                       "df.say('%s', err2) coroutine.yield() return false",
                       "", NULL);
  const struct df_run_report *rep = run(f, src, NULL, &all_callbacks);

  assert_non_null(strstr(f->probe.log, "df.sleep can only be called from a recipe step (not "
                                       "while the recipe file loads, nor inside a coroutine"));
  assert_non_null(strstr(f->probe.log, "df.sleep cannot wait here"));
  assert_int_equal(rep->status, DF_RUN_FAILED);
  assert_non_null(strstr(rep->steps[0].message, "coroutine.yield() was called outside a "
                                                "coroutine the recipe created"));
  free(src);
}

static void
test_cancel(void **state)
{
  struct fixture *f = *state;
  struct df_runner_options o = {0};
  char *src = one_step("read-only", "df.sleep(3600000) return false", "", NULL);
  char err[512];

  o.limits = test_limits;
  assert_int_equal(df_runner_new(&f->loop, &o, &all_callbacks, &f->probe, &f->runner), 0);
  assert_int_equal(df_runner_load_buffer(f->runner, src, strlen(src), "t.lua", err, sizeof(err)),
                   0);
  assert_int_equal(df_runner_start(f->runner), 0);
  df_loop_run_nowait(&f->loop); /* the check runs and waits on its timer */
  assert_false(f->probe.finished);
  df_runner_cancel(f->runner);
  df_loop_run(&f->loop); /* returns: the canceled timer no longer holds the loop */
  assert_true(f->probe.finished);
  assert_int_equal(f->probe.status, DF_RUN_FAILED);
  assert_string_equal(df_runner_report(f->runner)->message, "canceled");
  free(src);
}

/* ---- many recipes on one loop ---- */

#define MANY 24

static char many_log[MANY * 8 * 16];

static void
many_event(void *ud, const struct df_run_event *ev)
{
  size_t len = strlen(many_log);

  (void)ud;
  if (ev->type == DF_RUN_EVENT_SAY)
    snprintf(many_log + len, sizeof(many_log) - len, "%s ", ev->message);
}

static void
many_finished(void *ud, const struct df_run_report *report)
{
  int *done = ud;

  if (report->status == DF_RUN_HEALTHY) (*done)++;
}

static void
test_many_recipes_interleave_on_one_loop(void **state)
{
  struct fixture *f = *state;
  static const struct df_runner_callbacks cbs = {.event = many_event, .finished = many_finished};
  struct df_runner *runners[MANY];
  char expect[MANY * 8];
  char err[512];
  char *src = one_step("read-only",
                       "for i = 1, 5 do df.say('%s.%d', ctx.params.name, i) df.sleep(1) end "
                       "return false",
                       "", NULL);
  int done = 0, i, count = 0;
  const char *p;

  (void)f;
  many_log[0] = '\0';
  for (i = 0; i < MANY; i++) {
    char kv[32];
    const char *params[1] = {kv};
    struct df_runner_options o = {.params = params, .nparams = 1};
    o.limits = test_limits;
    snprintf(kv, sizeof(kv), "name=r%02d", i);
    assert_int_equal(df_runner_new(&f->loop, &o, &cbs, &done, &runners[i]), 0);
    assert_int_equal(
      df_runner_load_buffer(runners[i], src, strlen(src), "t.lua", err, sizeof(err)), 0);
  }
  for (i = 0; i < MANY; i++) assert_int_equal(df_runner_start(runners[i]), 0);
  df_loop_run(&f->loop);
  assert_int_equal(done, MANY);
  for (p = many_log; (p = strstr(p, ".5 ")) != NULL; p += 3) count++;
  assert_int_equal(count, MANY);
  /* Interleaved: every run said its first line before any run said its
   * second, since each waits on df.sleep between the two. */
  expect[0] = '\0';
  for (i = 0; i < MANY; i++) {
    char one[16];
    snprintf(one, sizeof(one), "r%02d.1 ", i);
    strcat(expect, one);
  }
  assert_memory_equal(many_log, expect, strlen(expect));
  for (i = 0; i < MANY; i++) df_runner_free(runners[i]);
  free(src);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_skip_when_nothing_found, setup, teardown),
    cmocka_unit_test_setup_teardown(test_found_fixed_verified, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dry_run_never_fixes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_verify_false_is_not_fixed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_verify_rechecks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_confirmation_refused_without_terminal, setup, teardown),
    cmocka_unit_test_setup_teardown(test_confirmation_by_yes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_confirmation_asked_and_declined, setup, teardown),
    cmocka_unit_test_setup_teardown(test_confirmation_asked_and_accepted_later, setup, teardown),
    cmocka_unit_test_setup_teardown(test_backup_before_user_data_step, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_backup_is_reported, setup, teardown),
    cmocka_unit_test_setup_teardown(test_backup_failure_stops_before_fix, setup, teardown),
    cmocka_unit_test_setup_teardown(test_backup_before_confirm_names_what_it_lacks, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_decline_after_backup_keeps_it, setup, teardown),
    cmocka_unit_test_setup_teardown(test_yes_says_what_backup_lacks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_backup_confirms_as_before, setup, teardown),
    cmocka_unit_test(test_backup_words),
    cmocka_unit_test_setup_teardown(test_error_in_step_has_id_and_traceback, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill_in_step, setup, teardown),
    cmocka_unit_test_setup_teardown(test_params, setup, teardown),
    cmocka_unit_test_setup_teardown(test_df_confirm, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bridge_contract, setup, teardown),
    cmocka_unit_test_setup_teardown(test_waiting_outside_a_step_is_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
    cmocka_unit_test_setup_teardown(test_many_recipes_interleave_on_one_loop, setup, teardown),
  };
  return cmocka_run_group_tests_name("runner", tests, NULL, NULL);
}
