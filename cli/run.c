/* droidfix run RECIPE: validates the recipe before touching a phone, finds
 * the phone (or every phone with --all), checks that the recipe applies to
 * it (modes, vendor or model, Android release), and runs it: one runner per
 * phone, all on the one loop. Events go to stderr as lines (or to stdout as
 * JSON objects, one a line, with --json); the report of each phone ends
 * the run. Confirmations are asked on the terminal; without one (or with
 * --json) and without --yes a risky step is refused, never waited for.
 * The backup before a step that can lose user data is taken before its
 * confirmation, which names the archive and what it does not hold. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "cli/ask.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/recipes.h"
#include "cli/session.h"
#include "core/error.h"
#include "core/json.h"
#include "core/log.h"
#include "core/progress.h"
#include "lua-api/device_file.h"
#include "lua-api/df_device.h"
#include "lua-api/recipe.h"
#include "lua-api/runner.h"
#include "lua-api/sandbox.h"
#include "plugins/adb/adb_shell.h"
#include "plugins/adb/backup.h"

#define DF_CLI_RUN_MAX_PARAMS 64

static const struct df_cli_option df_cli_run_options[] = {
  {"dry-run", 'n', NULL, "run the checks only and print the plan; nothing changes"},
  {"yes", 'y', NULL, "answer yes to every confirmation"},
  {"param", 'p', "NAME=VALUE", "a recipe parameter; repeatable"},
  {"no-backup", 0, NULL, "do not take a backup before steps that can lose user data"},
  {"all", 'a', NULL, "run on every phone found, each with its own report"},
  {"model", 'm', "ID",
   "the phone's model ('droidfix models' lists the ids), for a phone that does not boot"},
  {NULL, 0, NULL, NULL},
};

struct df_cli_run;

/* One phone's run. */
struct df_cli_run_one {
  struct df_cli_run *run;
  struct df_device *dev; /* until the runner owns it */
  struct df_runner *runner;
  char serial[272];
  char mode[32];
  char model_id[DF_DEVICE_ID_MAX];
  char vendor[64];
  int android;
  bool facts_done;
  bool started;
  bool finished;
  bool offline;        /* started without a phone (--model): none answered */
  int status;          /* enum df_run_status, or 2 for a run that never started */
  char why[600];       /* why it did not start */
  char workdir[1100];
  /* a backup under way */
  struct df_backup *backup;
  df_backup_done_fn backup_done;
  void *backup_ctx;
  struct df_progress backup_progress;
};

struct df_cli_run {
  struct df_cli *cli;
  struct df_cli_session s;
  const char *recipe_path;
  const char *recipe_id;
  struct df_runner_options opts;
  const char *params[DF_CLI_RUN_MAX_PARAMS];
  bool can_ask;
  struct df_cli_asker *asker; /* the terminal, when can_ask */
  bool several; /* --all: lines name the phone */
  const char *model; /* --model ID, or NULL */
  char model_vendor[64];
  struct df_cli_run_one *ones;
  int nones;
  int pending;
};

/* ---- events ---- */

static const char *
df_cli_run_level(enum df_log_level level)
{
  switch (level) {
  case DF_LOG_ERROR: return "error";
  case DF_LOG_WARN: return "warn";
  case DF_LOG_INFO: return "info";
  default: return "debug";
  }
}

static void
df_cli_run_event_name(const struct df_run_event *ev, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s", df_run_event_name(ev->type));
  for (char *p = out; *p; p++)
    if (*p == '-') *p = '_';
}

static const char *
df_cli_run_wait_for(const struct df_run_event *ev)
{
  if (ev->wait != NULL) return ev->wait->for_what;
  if (ev->message != NULL &&
      (strcmp(ev->message, "backup") == 0 || strncmp(ev->message, "no backup", 9) == 0))
    return "backup";
  return "confirmation";
}

/* "backup": PATH, "backup_lacks": [meta/not-backed-up.txt's lines]. */
static void
df_cli_run_json_backup(struct df_json *j, const struct df_step_report *s)
{
  df_json_kv_string(j, "backup", s->backup_path);
  df_json_key(j, "backup_lacks");
  df_json_array_begin(j);
  for (size_t i = 0; i < s->nbackup_lacks; i++) df_json_string(j, s->backup_lacks[i]);
  df_json_array_end(j);
}

static void
df_cli_run_json_event(struct df_cli_run_one *one, const struct df_run_event *ev)
{
  struct df_json j;
  char name[32];

  df_cli_run_event_name(ev, name, sizeof(name));
  df_json_init(&j, one->run->cli->out);
  df_json_object_begin(&j);
  df_json_kv_string(&j, "event", name);
  df_json_kv_string(&j, "serial", one->serial);
  df_json_kv_string(&j, "recipe", ev->recipe_id);
  if (ev->step_id != NULL) df_json_kv_string(&j, "step", ev->step_id);
  if (ev->message != NULL) df_json_kv_string(&j, "message", ev->message);
  switch (ev->type) {
  case DF_RUN_EVENT_STEP_CHECKED:
    df_json_kv_bool(&j, "found", ev->found);
    break;
  case DF_RUN_EVENT_STEP_VERIFIED:
    df_json_kv_bool(&j, "ok", ev->ok);
    break;
  case DF_RUN_EVENT_STEP_DONE:
    df_json_kv_string(&j, "outcome", df_step_outcome_name(ev->outcome));
    break;
  case DF_RUN_EVENT_LOG:
    df_json_kv_string(&j, "level", df_cli_run_level(ev->level));
    break;
  case DF_RUN_EVENT_PROGRESS:
    df_json_kv_uint(&j, "done", ev->done > 0 ? (uint64_t)ev->done : 0);
    df_json_kv_uint(&j, "total", ev->total > 0 ? (uint64_t)ev->total : 0);
    break;
  case DF_RUN_EVENT_WAITING:
    df_json_kv_string(&j, "for", df_cli_run_wait_for(ev));
    if (ev->backup != NULL) df_cli_run_json_backup(&j, ev->backup);
    if (ev->wait != NULL) {
      if (ev->wait->combo != NULL) df_json_kv_string(&j, "combo", ev->wait->combo);
      if (ev->wait->mode != NULL) df_json_kv_string(&j, "mode", ev->wait->mode);
      if (ev->wait->steps != NULL) {
        df_json_key(&j, "steps");
        df_json_array_begin(&j);
        for (size_t i = 0; i < ev->wait->nsteps; i++) df_json_string(&j, ev->wait->steps[i]);
        df_json_array_end(&j);
      }
      if (ev->wait->buttons != NULL) {
        /* the same steps as the device file writes them */
        df_json_key(&j, "buttons");
        df_json_array_begin(&j);
        for (size_t i = 0; i < ev->wait->nbuttons; i++) {
          const struct df_wait_button *b = &ev->wait->buttons[i];
          df_json_object_begin(&j);
          df_json_kv_string(&j, "action", b->action);
          df_json_key(&j, "keys");
          df_json_array_begin(&j);
          for (size_t k = 0; k < b->nkeys; k++) df_json_string(&j, b->keys[k]);
          df_json_array_end(&j);
          if (b->until != NULL) df_json_kv_string(&j, "until", b->until);
          if (b->seconds > 0) df_json_kv_uint(&j, "seconds", (uint64_t)b->seconds);
          df_json_object_end(&j);
        }
        df_json_array_end(&j);
      }
      df_json_kv_uint(&j, "timeout", ev->wait->timeout_s);
    }
    break;
  default:
    break;
  }
  df_json_object_end(&j);
  fflush(j.out);
}

static void
df_cli_run_text_event(struct df_cli_run_one *one, const struct df_run_event *ev)
{
  FILE *err = one->run->cli->err;
  char safe[4200], prefix[300] = "";

  if (one->run->cli->quiet) return;
  if (one->run->several) snprintf(prefix, sizeof(prefix), "[%s] ", one->serial);
  df_cli_safe_text(ev->message != NULL ? ev->message : "", safe, sizeof(safe));
  switch (ev->type) {
  case DF_RUN_EVENT_STARTED:
    fprintf(err, "%s%s: %s\n", prefix, ev->recipe_id, safe);
    break;
  case DF_RUN_EVENT_STEP_STARTED:
    fprintf(err, "%s- %s: %s\n", prefix, ev->step_id != NULL ? ev->step_id : "?", safe);
    break;
  case DF_RUN_EVENT_STEP_CHECKED:
    fprintf(err, "%s  checked: %s%s%s\n", prefix, ev->found ? "found a problem" : "nothing wrong",
            ev->found && safe[0] ? ": " : "", ev->found ? safe : "");
    break;
  case DF_RUN_EVENT_WAITING:
    if (ev->wait != NULL && ev->wait->steps != NULL) {
      fprintf(err, "%s  %s\n", prefix, safe);
      for (size_t i = 0; i < ev->wait->nsteps; i++) {
        df_cli_safe_text(ev->wait->steps[i], safe, sizeof(safe));
        fprintf(err, "%s     %s\n", prefix, safe);
      }
    } else if (strcmp(df_cli_run_wait_for(ev), "confirmation") != 0 || ev->wait != NULL ||
               strncmp(safe, "confirmed by --yes", 18) == 0) {
      fprintf(err, "%s  %s\n", prefix, safe);
    }
    break;
  case DF_RUN_EVENT_STEP_BACKED_UP:
    fprintf(err, "%s  backed up%s%s\n", prefix, safe[0] ? ": " : "", safe);
    break;
  case DF_RUN_EVENT_STEP_FIXED:
    fprintf(err, "%s  changed%s%s\n", prefix, safe[0] ? ": " : "", safe);
    break;
  case DF_RUN_EVENT_STEP_VERIFIED:
    fprintf(err, "%s  verified: %s%s%s\n", prefix, ev->ok ? "yes" : "no", safe[0] ? ": " : "",
            safe);
    break;
  case DF_RUN_EVENT_STEP_DONE:
    if (ev->outcome == DF_STEP_FAILED || ev->outcome == DF_STEP_REFUSED)
      fprintf(err, "%s  %s: %s\n", prefix, df_step_outcome_name(ev->outcome), safe);
    break;
  case DF_RUN_EVENT_SAY:
  case DF_RUN_EVENT_HEADLINE:
    fprintf(err, "%s  %s\n", prefix, safe);
    break;
  case DF_RUN_EVENT_LOG:
    if (ev->level <= DF_LOG_WARN) fprintf(err, "%s  %s: %s\n", prefix, df_cli_run_level(ev->level), safe);
    break;
  default:
    break;
  }
}

/* A run started without a phone learns its serial when the phone shows
 * up (df.instruct): from then on the lines and the report name it. */
static void
df_cli_run_refresh_serial(struct df_cli_run_one *one)
{
  struct df_lua_device *d;

  if (!one->offline || one->runner == NULL) return;
  d = df_runner_device(one->runner);
  if (d != NULL && d->serial[0] && strcmp(d->serial, one->serial) != 0)
    snprintf(one->serial, sizeof(one->serial), "%s", d->serial);
}

static void
df_cli_run_on_event(void *ud, const struct df_run_event *ev)
{
  struct df_cli_run_one *one = ud;

  if (ev->type == DF_RUN_EVENT_FINISHED) return; /* said with the report */
  df_cli_run_refresh_serial(one);
  if (one->run->cli->json)
    df_cli_run_json_event(one, ev);
  else
    df_cli_run_text_event(one, ev);
}

/* ---- questions, on the terminal ---- */

static int
df_cli_run_ask(void *ud, const struct df_question *q, df_answer_fn answer, void *actx)
{
  struct df_cli_run_one *one = ud;

  /* Asked from the loop (cli/ask.c): other phones go on meanwhile. */
  return df_cli_asker_ask(one->run->asker, one->serial, q, answer, actx);
}

/* ---- the backup before a step that can lose user data ---- */

static int
df_cli_mkdirs(const char *path)
{
  char buf[1100];

  snprintf(buf, sizeof(buf), "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) return df_error_from_errno(errno);
    *p = '/';
  }
  if (mkdir(buf, 0700) != 0 && errno != EEXIST) return df_error_from_errno(errno);
  return 0;
}

static void
df_cli_run_backup_done(void *ud, int status, const struct df_backup_result *r)
{
  struct df_cli_run_one *one = ud;
  struct df_backup_taken taken;
  char msg[4300], holds[128];

  one->backup = NULL;
  df_progress_finish(&one->backup_progress, status);
  if (status != 0) {
    snprintf(msg, sizeof(msg), "%s", r->message[0] ? r->message : df_strerror(status));
    one->backup_done(one->backup_ctx, status, msg, NULL);
    return;
  }
  snprintf(msg, sizeof(msg), "%s (%llu files, %llu bytes)", r->path,
           (unsigned long long)r->files, (unsigned long long)r->bytes);
  /* what df_cli_run_backup's spec asked for, as far as the phone gave it;
   * not_covered names what it did not */
  snprintf(holds, sizeof(holds), "/sdcard, the apps%s%s and the settings",
           r->apps_with_data > 0 ? " with their data" : "",
           r->accounts_saved ? ", the accounts" : "");
  memset(&taken, 0, sizeof(taken));
  taken.path = r->path;
  taken.holds = holds;
  taken.not_covered = r->not_covered;
  taken.rooted = r->rooted;
  one->backup_done(one->backup_ctx, status, msg, &taken);
}

static int
df_cli_run_backup(void *ud, const struct df_backup_request *req, df_backup_done_fn done,
                  void *done_ctx)
{
  struct df_cli_run_one *one = ud;
  struct df_lua_device *d = df_runner_device(one->runner);
  static const char *const folders[] = {"/sdcard"};
  struct df_backup_spec spec = {folders, 1, true, true, one->serial, one->model_id};
  const char *env = getenv("DROIDFIX_BACKUP_DIR");
  const char *home = getenv("HOME");
  char dir[1024], path[1400], stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  int rc;

  if (d == NULL || d->dev == NULL || d->dev->adb == NULL) {
    done(done_ctx, DF_EUNSUPPORTED, "a backup needs the phone over ADB (system or recovery)",
         NULL);
    return 0;
  }
  if (env != NULL && env[0])
    snprintf(dir, sizeof(dir), "%s", env);
  else
    snprintf(dir, sizeof(dir), "%s/.local/share/droidfix/backups", home != NULL ? home : ".");
  rc = df_cli_mkdirs(dir);
  if (rc != 0) return rc;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  /* Two runs on one phone within a second (a rerun, run --all twice) get
   * -2, -3, ...: a backup is never overwritten, and one under way (its
   * .partial) is left alone. */
  for (int n = 1; n <= 100; n++) {
    char partial[1500];
    struct stat st;
    if (n == 1)
      snprintf(path, sizeof(path), "%s/%s-%s.tar", dir, one->serial, stamp);
    else
      snprintf(path, sizeof(path), "%s/%s-%s-%d.tar", dir, one->serial, stamp, n);
    for (char *p = path + strlen(dir) + 1; *p; p++)
      if (*p == '/' || *p == ':') *p = '_';
    snprintf(partial, sizeof(partial), "%s.partial", path);
    if (stat(path, &st) != 0 && stat(partial, &st) != 0) break;
  }
  one->backup_done = done;
  one->backup_ctx = done_ctx;
  df_progress_start(&one->backup_progress, "backup", 0);
  rc = df_backup_create(&one->run->s.loop, d->dev->adb, path, &spec, &one->backup_progress,
                        df_cli_run_backup_done, one, &one->backup);
  if (rc != 0) df_progress_finish(&one->backup_progress, rc);
  (void)req;
  return rc;
}

/* ---- the report ---- */

static const char *
df_cli_run_status_name(int status)
{
  return status == DF_RUN_HEALTHY ? "healthy" : status == DF_RUN_NOT_FIXED ? "not-fixed" : "failed";
}

static void
df_cli_run_json_report(struct df_cli_run_one *one, const struct df_run_report *rep)
{
  struct df_json j;

  df_json_init(&j, one->run->cli->out);
  df_json_object_begin(&j);
  df_json_kv_string(&j, "event", "finished");
  df_json_kv_string(&j, "serial", one->serial);
  df_json_kv_string(&j, "recipe", rep != NULL ? rep->recipe_id : one->run->recipe_id);
  df_json_kv_string(&j, "status", df_cli_run_status_name(one->status));
  df_json_kv_int(&j, "exit", one->status);
  df_json_kv_string(&j, "message", rep != NULL ? rep->message : one->why);
  df_json_key(&j, "report");
  df_json_object_begin(&j);
  df_json_kv_string(&j, "mode", one->mode);
  df_json_kv_string(&j, "model", one->model_id);
  df_json_kv_bool(&j, "dry_run", one->run->opts.dry_run);
  df_json_kv_bool(&j, "backup_skipped", rep != NULL && rep->backup_skipped);
  df_json_kv_bool(&j, "backup_unavailable", rep != NULL && rep->backup_unavailable);
  df_json_kv_bool(&j, "offline_start", one->offline);
  if (one->workdir[0]) df_json_kv_string(&j, "workdir", one->workdir);
  df_json_key(&j, "steps");
  df_json_array_begin(&j);
  for (size_t i = 0; rep != NULL && i < rep->nsteps; i++) {
    const struct df_step_report *s = &rep->steps[i];
    df_json_object_begin(&j);
    df_json_kv_string(&j, "id", s->id);
    df_json_kv_string(&j, "title", s->title);
    df_json_kv_string(&j, "risk", df_risk_name(s->risk));
    df_json_kv_string(&j, "outcome", df_step_outcome_name(s->outcome));
    df_json_kv_bool(&j, "checked", s->checked);
    df_json_kv_bool(&j, "found", s->found);
    df_json_kv_bool(&j, "changed", s->changed);
    df_json_kv_bool(&j, "verified", s->verified);
    df_json_kv_bool(&j, "backed_up", s->backed_up);
    if (s->backup_path != NULL) {
      df_cli_run_json_backup(&j, s);
      if (s->backup_note != NULL) df_json_kv_string(&j, "backup_note", s->backup_note);
    }
    if (s->found_message) df_json_kv_string(&j, "found_message", s->found_message);
    if (s->fix_message) df_json_kv_string(&j, "fix_message", s->fix_message);
    if (s->message) df_json_kv_string(&j, "message", s->message);
    df_json_object_end(&j);
  }
  df_json_array_end(&j);
  df_json_object_end(&j);
  df_json_object_end(&j);
  fflush(j.out);
}

static const char *
df_cli_yn(bool b)
{
  return b ? "yes" : "no";
}

static void
df_cli_run_text_report(struct df_cli_run_one *one, const struct df_run_report *rep)
{
  FILE *out = one->run->cli->out;
  char safe[4200];

  fprintf(out, "%s on %s (%s, %s)%s\n", rep != NULL ? rep->recipe_id : one->run->recipe_id,
          one->serial[0] ? one->serial : "a phone not seen", one->mode, one->model_id[0] ? one->model_id : "unknown model",
          one->run->opts.dry_run ? ": dry run" : "");
  if (rep != NULL && rep->nsteps > 0) {
    fprintf(out, "  %-28s %-8s %-6s %-8s %-9s %s\n", "STEP", "CHECKED", "FOUND", "CHANGED",
            "VERIFIED", "OUTCOME");
    for (size_t i = 0; i < rep->nsteps; i++) {
      const struct df_step_report *s = &rep->steps[i];
      fprintf(out, "  %-28s %-8s %-6s %-8s %-9s %s\n", s->id, df_cli_yn(s->checked),
              df_cli_yn(s->found), df_cli_yn(s->changed),
              s->changed ? df_cli_yn(s->verified) : "-", df_step_outcome_name(s->outcome));
      if (s->found_message != NULL) {
        df_cli_safe_text(s->found_message, safe, sizeof(safe));
        fprintf(out, "      found: %s\n", safe);
      }
      if (s->backup_note != NULL) {
        df_cli_safe_text(s->backup_note, safe, sizeof(safe));
        fprintf(out, "      backup: %s\n", safe);
      }
      if (s->fix_message != NULL) {
        df_cli_safe_text(s->fix_message, safe, sizeof(safe));
        fprintf(out, "      changed: %s\n", safe);
      }
      if (s->message != NULL) {
        df_cli_safe_text(s->message, safe, sizeof(safe));
        fprintf(out, "      %s\n", safe);
      }
    }
  }
  if (rep != NULL && rep->backup_unavailable)
    fprintf(out, "  no backup was taken: none could be (no ADB), and you chose to go on\n");
  else if (rep != NULL && rep->backup_skipped)
    fprintf(out, "  no backup was taken (--no-backup)\n");
  df_cli_safe_text(rep != NULL ? rep->message : one->why, safe, sizeof(safe));
  fprintf(out, "status: %s (%d): %s\n", df_cli_run_status_name(one->status), one->status, safe);
}

static void
df_cli_run_report(struct df_cli_run_one *one, const struct df_run_report *rep)
{
  if (one->run->cli->json)
    df_cli_run_json_report(one, rep);
  else
    df_cli_run_text_report(one, rep);
}

static void
df_cli_run_on_finished(void *ud, const struct df_run_report *rep)
{
  struct df_cli_run_one *one = ud;

  one->finished = true;
  one->status = (int)rep->status;
  df_cli_run_refresh_serial(one);
  df_cli_run_report(one, rep);
  one->run->pending--;
}

/* ---- facts about each phone, before anything runs ---- */

static void
df_cli_run_on_release(void *ud, int status, int exit_code, const char *out, size_t out_len,
                      const char *err, size_t err_len)
{
  struct df_cli_run_one *one = ud;

  if (status == 0) one->android = atoi(out);
  one->facts_done = true;
  one->run->pending--;
}

static void
df_cli_run_facts(struct df_cli_run *run)
{
  char err[512];

  for (int i = 0; i < run->nones; i++) {
    struct df_cli_run_one *one = &run->ones[i];
    struct df_device_query q = {NULL, NULL, -1, -1};
    struct df_device_match m;

    if (one->offline) { /* nothing to ask: the model the user named */
      snprintf(one->model_id, sizeof(one->model_id), "%s", run->model);
      snprintf(one->vendor, sizeof(one->vendor), "%s", run->model_vendor);
      one->facts_done = true;
      continue;
    }
    q.device = one->dev->codename[0] ? one->dev->codename : NULL;
    q.model = one->dev->model[0] ? one->dev->model : NULL;
    if (df_device_match(df_cli_devices_dir(), &q, &m, err, sizeof(err)) == 0) {
      snprintf(one->model_id, sizeof(one->model_id), "%s", m.id);
      if (!m.fallback) {
        const char *slash = strchr(m.id, '/');
        snprintf(one->vendor, sizeof(one->vendor), "%.*s",
                 slash != NULL ? (int)(slash - m.id) : 0, m.id);
      } else {
        snprintf(one->vendor, sizeof(one->vendor), "%s", m.vendor);
      }
    }
    if (one->dev->adb != NULL &&
        df_adb_shell_capture(one->dev->adb, "getprop ro.build.version.release", 256,
                             df_cli_run_on_release, one) == 0)
      run->pending++;
    else
      one->facts_done = true;
  }
  while (run->pending > 0) uv_run(&run->s.loop.uv, UV_RUN_ONCE);
}

/* ---- starting one phone's run ---- */

static int
df_cli_run_workdir(struct df_cli_run_one *one)
{
  const char *env = getenv("DROIDFIX_WORK_DIR");
  const char *cache = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  char base[700], stamp[32];
  time_t now = time(NULL);
  struct tm tm;

  if (env != NULL && env[0])
    snprintf(base, sizeof(base), "%s", env);
  else if (cache != NULL && cache[0])
    snprintf(base, sizeof(base), "%s/droidfix/runs", cache);
  else
    snprintf(base, sizeof(base), "%s/.cache/droidfix/runs", home != NULL ? home : "/tmp");
  localtime_r(&now, &tm);
  strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  snprintf(one->workdir, sizeof(one->workdir), "%s/%s-%s-%s", base, one->run->recipe_id,
           one->serial[0] ? one->serial : "offline", stamp);
  for (char *p = one->workdir + strlen(base) + 1; *p; p++)
    if (*p == '/' || *p == ':') *p = '_';
  return df_cli_mkdirs(one->workdir);
}

static void
df_cli_run_not_started(struct df_cli_run_one *one, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void
df_cli_run_not_started(struct df_cli_run_one *one, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(one->why, sizeof(one->why), fmt, ap);
  va_end(ap);
  one->status = DF_RUN_FAILED;
  one->finished = true;
  if (!one->run->cli->json) {
    char safe[1200];
    df_cli_safe_text(one->why, safe, sizeof(safe));
    fprintf(one->run->cli->err, "droidfix: %s%s%s\n", one->run->several ? one->serial : "",
            one->run->several ? ": " : "", safe);
  }
  df_cli_run_report(one, NULL);
}

static void
df_cli_run_start_one(struct df_cli_run_one *one)
{
  struct df_cli_run *run = one->run;
  struct df_runner_callbacks cbs = {
    .event = df_cli_run_on_event,
    .ask = run->can_ask ? df_cli_run_ask : NULL,
    .backup = df_cli_run_backup,
    .finished = df_cli_run_on_finished,
  };
  struct df_lua_device_env env = {
    .loop = &run->s.loop,
    .eps = run->s.eps,
    .neps = run->s.neps,
    .usb = run->s.usb,
    .keys = &run->s.keys,
    .owners = &run->s.owners,
    .devices_dir = df_cli_devices_dir(),
    .model_id = run->model,
  };
  struct df_device_facts facts;
  char err[1024];
  int rc;

  if (one->dev->mode == DF_DEVICE_UNAUTHORIZED) {
    df_cli_run_not_started(one, "the phone %s has not allowed this computer: tap \"Allow\" on "
                           "\"Allow USB debugging?\" and run again", one->serial);
    return;
  }
  rc = df_runner_new(&run->s.loop, &run->opts, &cbs, one, &one->runner);
  if (rc == 0) rc = df_runner_load_file(one->runner, run->recipe_path, err, sizeof(err));
  if (rc != 0) {
    df_cli_run_not_started(one, "%s", rc == DF_ENOMEM ? "out of memory" : err);
    return;
  }
  if (run->model != NULL && !one->offline && strcmp(one->model_id, run->model) != 0) {
    /* the phone answers and is another model than the user said */
    if (one->model_id[0] == '\0' || strcmp(one->model_id, DF_DEVICE_FALLBACK_ID) == 0)
      df_cli_run_not_started(one, "the phone %s (codename '%s') is not %s as --model says: "
                             "droidfix knows no model with that codename; refused, nothing was "
                             "done. Check the model ('droidfix models' lists them)",
                             one->serial, one->dev->codename[0] ? one->dev->codename : "?",
                             run->model);
    else
      df_cli_run_not_started(one, "the phone %s (codename '%s') is %s, not %s as --model "
                             "says: refused, nothing was done. Run again with --model %s (or "
                             "without --model: droidfix tells the model of a phone that answers)",
                             one->serial, one->dev->codename[0] ? one->dev->codename : "?",
                             one->model_id, run->model, one->model_id);
    return;
  }
  /* a phone that answers on neither ADB nor fastboot counts as in a boot
   * loop: only a recipe that lists "bootloop" starts without it */
  facts.mode = one->offline ? "bootloop" : one->mode;
  facts.vendor = one->vendor;
  facts.model_id = one->model_id;
  facts.android = one->android;
  if (!df_recipe_applies(df_runner_recipe(one->runner), &facts, err, sizeof(err))) {
    if (one->offline)
      df_cli_run_not_started(one, "no phone answers, and %s (a phone that answers on neither "
                             "ADB nor fastboot counts as in bootloop mode; --model %s)", err,
                             run->model);
    else
      df_cli_run_not_started(one, "%s", err);
    return;
  }
  rc = df_cli_run_workdir(one);
  if (rc != 0) {
    df_cli_run_not_started(one, "cannot make the work folder %s: %s", one->workdir,
                           df_strerror(rc));
    return;
  }
  env.workdir = one->workdir;
  rc = df_runner_set_device(one->runner, one->dev, &env);
  one->dev = NULL; /* the runner's now, even on an error */
  if (rc == 0 && one->offline) /* away until df.instruct finds it */
    df_lua_device_replace(df_runner_device(one->runner), NULL);
  if (rc == 0) rc = df_runner_start(one->runner);
  if (rc != 0) {
    df_cli_run_not_started(one, "the run could not start: %s", df_strerror(rc));
    return;
  }
  one->started = true;
  run->pending++;
}

/* ---- a run without a phone (--model) ---- */

/* Checks --model against the device files: a model, not a vendor base.
 * Fills run->model_vendor. Returns 0, or an exit code after saying why. */
static int
df_cli_run_check_model(struct df_cli_run *run, const struct df_cli_args *args)
{
  lua_State *L = luaL_newstate();
  char err[1024];
  int rc;

  if (L == NULL) return df_cli_fail(run->cli, NULL, DF_ENOMEM, "out of memory");
  rc = df_device_file_load(L, df_cli_devices_dir(), run->model, err, sizeof(err));
  if (rc != 0) {
    lua_close(L);
    return df_cli_usage_error(run->cli, args->verb,
                              "--model %s: %s. The ids are the device files' paths "
                              "('droidfix models' lists them), e.g. xiaomi/redmi-k70",
                              run->model, rc == DF_ENOENT ? "no such model" : err);
  }
  lua_getfield(L, -1, "abstract");
  lua_getfield(L, -2, "vendor");
  if (lua_toboolean(L, -2)) {
    lua_close(L);
    return df_cli_usage_error(run->cli, args->verb,
                              "--model %s is a vendor base, not a phone model: 'droidfix "
                              "models' lists the models", run->model);
  }
  snprintf(run->model_vendor, sizeof(run->model_vendor), "%s", luaL_optstring(L, -1, ""));
  lua_close(L);
  return 0;
}

/* Whether the recipe can start without a phone: it lists "bootloop". */
static bool
df_cli_run_recipe_offline_ok(const char *path, const char *lib_dir)
{
  struct df_sandbox *sb;
  struct df_recipe *r;
  char err[512];
  bool ok = false;

  if (df_sandbox_new(NULL, lib_dir, &sb) != 0) return false;
  df_sandbox_add_global(sb, "df", df_module_push);
  if (df_recipe_load_file(df_sandbox_state(sb), path, &r, err, sizeof(err)) == 0) {
    ok = df_recipe_applies_to_mode(r, "bootloop");
    df_recipe_free(r);
  }
  df_sandbox_free(sb);
  return ok;
}

/* Says that the run starts without a phone, and what comes next. */
static void
df_cli_run_say_offline(struct df_cli_run *run, const struct df_device_list *found)
{
  struct df_cli *cli = run->cli;
  char msg[1500], safe[1600];
  size_t n;

  if (run->s.neps == 0) {
    snprintf(msg, sizeof(msg), "no phone answers over USB");
  } else {
    snprintf(msg, sizeof(msg), "no phone answers at");
    for (int i = 0; i < found->failed_count; i++) {
      char name[320];
      df_endpoint_format(&found->failed[i], name, sizeof(name));
      n = strlen(msg);
      snprintf(msg + n, sizeof(msg) - n, "%s %s", i ? "," : "", name);
    }
  }
  n = strlen(msg);
  snprintf(msg + n, sizeof(msg) - n,
           "; starting without it, as %s (--model). The recipe says how to bring the phone into "
           "the mode it needs, and the phone must be that model when it answers",
           run->model);
  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_string(&j, "event", "offline");
    df_json_kv_string(&j, "serial", "");
    df_json_kv_string(&j, "recipe", run->recipe_id);
    df_json_kv_string(&j, "model", run->model);
    df_json_kv_string(&j, "message", msg);
    df_json_object_end(&j);
    fflush(j.out);
  } else if (!cli->quiet) {
    df_cli_safe_text(msg, safe, sizeof(safe));
    fprintf(cli->err, "droidfix: %s\n", safe);
  }
}

/* The phone of a run that starts without one: no session; the runner's
 * device stays away until df.instruct finds the phone. */
static struct df_device *
df_cli_run_unseen_device(void)
{
  struct df_device *dev = calloc(1, sizeof(*dev));

  if (dev != NULL) dev->mode = DF_DEVICE_OFFLINE;
  return dev;
}

static int
df_cli_run_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_run run;
  struct df_device_list *list = NULL;
  char path[1100], err[1024];
  size_t nparams = 0;
  int rc, exit_code = DF_RUN_HEALTHY;

  memset(&run, 0, sizeof(run));
  run.cli = cli;
  if (args->positional_count != 1)
    return df_cli_usage_error(cli, args->verb, "run takes one RECIPE (a file or an id)");
  for (size_t i = 0; i < args->option_count; i++) {
    if (strcmp(args->options[i].option->name, "param") != 0) continue;
    if (nparams >= DF_CLI_RUN_MAX_PARAMS)
      return df_cli_usage_error(cli, args->verb, "at most %d --param", DF_CLI_RUN_MAX_PARAMS);
    if (strchr(args->options[i].value, '=') == NULL)
      return df_cli_usage_error(cli, args->verb, "--param %s: write it as NAME=VALUE",
                                args->options[i].value);
    run.params[nparams++] = args->options[i].value;
  }
  run.opts.dry_run = df_cli_option_count(args, "dry-run") > 0;
  run.opts.yes = df_cli_option_count(args, "yes") > 0;
  run.opts.no_backup = df_cli_option_count(args, "no-backup") > 0;
  run.opts.params = run.params;
  run.opts.nparams = nparams;
  run.opts.lib_dir = df_cli_recipe_lib_dir();
  run.can_ask = !cli->json && isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
  for (size_t i = 0; i < args->option_count; i++)
    if (strcmp(args->options[i].option->name, "model") == 0) run.model = args->options[i].value;
  if (run.model != NULL && df_cli_option_count(args, "all") > 0)
    return df_cli_usage_error(cli, args->verb, "--model names one phone: it does not go with --all");
  if (run.model != NULL) {
    rc = df_cli_run_check_model(&run, args);
    if (rc != 0) return rc;
  }
  if (cli->json) df_progress_set_default_style(DF_PROGRESS_QUIET);

  /* The recipe first: a bad one never reaches a phone. */
  if (df_cli_recipe_resolve(args->positional[0], path, sizeof(path)) != 0) {
    struct df_cli_recipe_path p;
    df_cli_recipe_path(&p);
    fprintf(cli->err, "droidfix: no recipe '%s'; looked for a file and for an id in:\n",
            args->positional[0]);
    for (size_t d = 0; d < p.count; d++) fprintf(cli->err, "  %s\n", p.dirs[d]);
    fprintf(cli->err, "  ('droidfix recipes' lists them)\n");
    return DF_CLI_EXIT_USAGE;
  }
  run.recipe_path = path;
  /* plugins (--plugin-dir, DROIDFIX_PLUGIN_PATH) were loaded by main */
  rc = df_recipe_check_file(path, run.opts.lib_dir, err, sizeof(err));
  if (rc != 0) {
    df_cli_fail(cli, path, rc, "the recipe is not valid: %s", err);
    return DF_CLI_EXIT_USAGE;
  }
  {
    /* its id, for messages before a runner has it */
    static char id[256];
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    snprintf(id, sizeof(id), "%.*s", (int)strcspn(base, "."), base);
    run.recipe_id = id;
  }

  /* The phones. */
  if (df_cli_option_count(args, "all") > 0) {
    rc = df_cli_session_start(cli, &run.s);
    if (rc != DF_CLI_EXIT_OK) return DF_CLI_EXIT_USAGE;
    list = df_cli_session_find(&run.s);
    if (list == NULL || list->count == 0) {
      fprintf(cli->err, "droidfix: no phone found%s\n",
              run.s.neps == 0 ? " over USB (or give --connect HOST:PORT)" : " at the endpoints");
      df_device_list_free(list);
      df_cli_session_close(&run.s);
      return DF_CLI_EXIT_USAGE;
    }
    run.several = list->count > 1;
    run.ones = calloc((size_t)list->count, sizeof(*run.ones));
    if (run.ones == NULL) {
      df_device_list_free(list);
      df_cli_session_close(&run.s);
      return df_cli_fail(cli, NULL, DF_ENOMEM, "out of memory");
    }
    for (int i = 0; i < list->count; i++) run.ones[run.nones++].dev = df_device_list_take(list, i);
    df_device_list_free(list);
  } else {
    bool offline = false;
    if (run.model != NULL) {
      /* a phone that does not boot answers nowhere: start without it */
      rc = df_cli_session_start(cli, &run.s);
      if (rc != DF_CLI_EXIT_OK) return DF_CLI_EXIT_USAGE;
      list = df_cli_session_find(&run.s);
      if (list != NULL && list->count == 0) {
        offline = true;
        df_cli_run_say_offline(&run, list);
      }
      df_device_list_free(list); /* before its loop closes */
      list = NULL;
      if (!offline) df_cli_session_close(&run.s);
    }
    if (!offline) {
      rc = df_cli_session_open(cli, &run.s);
      if (rc != DF_CLI_EXIT_OK) {
        if (rc == DF_CLI_EXIT_FAILED && run.model == NULL &&
            df_cli_run_recipe_offline_ok(path, run.opts.lib_dir))
          fprintf(cli->err,
                  "droidfix: if the phone does not start Android (it loops or stays dark), "
                  "%s can still repair it: pass --model ID, the phone's model, and droidfix "
                  "shows how to bring it into the mode the recipe needs and waits for it. "
                  "'droidfix models' lists the model ids (e.g. xiaomi/redmi-k70).\n",
                  run.recipe_id);
        return DF_CLI_EXIT_USAGE;
      }
    }
    run.ones = calloc(1, sizeof(*run.ones));
    if (run.ones == NULL) {
      df_cli_session_close(&run.s);
      return df_cli_fail(cli, NULL, DF_ENOMEM, "out of memory");
    }
    run.ones[0].offline = offline;
    run.ones[0].dev = offline ? df_cli_run_unseen_device() : run.s.dev;
    run.s.dev = NULL;
    run.nones = 1;
    if (run.ones[0].dev == NULL) {
      free(run.ones);
      df_cli_session_close(&run.s);
      return df_cli_fail(cli, NULL, DF_ENOMEM, "out of memory");
    }
  }
  for (int i = 0; i < run.nones; i++) {
    struct df_cli_run_one *one = &run.ones[i];
    one->run = &run;
    snprintf(one->serial, sizeof(one->serial), "%s", one->dev->serial);
    snprintf(one->mode, sizeof(one->mode), "%s", df_device_mode_name(one->dev->mode));
  }
  if (run.can_ask && df_cli_asker_new(&run.s.loop, cli->err, &run.asker) != 0) run.can_ask = false;
  df_cli_run_facts(&run);
  for (int i = 0; i < run.nones; i++) df_cli_run_start_one(&run.ones[i]);
  while (run.pending > 0) {
    if (uv_run(&run.s.loop.uv, UV_RUN_ONCE) == 0 && run.pending > 0) {
      df_log_error("internal: a run ended without its report");
      break;
    }
  }
  df_cli_asker_close(run.asker); /* before the runners its questions answer to */
  for (int i = 0; i < run.nones; i++) {
    struct df_cli_run_one *one = &run.ones[i];
    if (one->status > exit_code) exit_code = one->status;
    if (one->backup != NULL) df_backup_cancel(one->backup);
    df_runner_free(one->runner);
    if (one->dev != NULL) df_device_close(one->dev);
  }
  free(run.ones);
  df_cli_session_close(&run.s);
  return exit_code;
}

const struct df_cli_verb df_cli_verb_run = {
  .name = "run",
  .summary = "run a repair recipe on the phone (or on every phone with --all)",
  .usage = "run RECIPE [--dry-run] [--yes] [--param NAME=VALUE]... [--no-backup] [--all]\n"
           "       [--model ID]",
  .help = "RECIPE is a file or an id on the recipe path ('droidfix recipes' lists\n"
          "them). The recipe is validated before any phone is touched, then checked\n"
          "against the phone (its modes, vendors or models, Android releases): a\n"
          "recipe that does not apply says why and the exit status is 2.\n"
          "\n"
          "Each step's check runs; a step that finds nothing is skipped. With\n"
          "--dry-run only the checks run and the plan is printed. A step above\n"
          "app-data risk asks for confirmation on the terminal (--yes answers it;\n"
          "without a terminal, or with --json, and without --yes it is refused).\n"
          "Before a step that can lose user data a backup of /sdcard, the apps\n"
          "and settings is written to ~/.local/share/droidfix/backups (or\n"
          "DROIDFIX_BACKUP_DIR), unless --no-backup. The backup comes before the\n"
          "step's confirmation (a backup only reads the phone), so the question\n"
          "names the archive and what it does NOT hold (without root: the apps'\n"
          "own data and the accounts, from its meta/not-backed-up.txt); answering\n"
          "no changes nothing and keeps the backup. With --yes the same is\n"
          "printed, and the report lists it per step (--json: \"backup\" and\n"
          "\"backup_lacks\"). Without a terminal and without --yes such a step is\n"
          "refused before any backup. When the phone does not\n"
          "answer over ADB (it does not boot, or is in fastboot) no backup can be\n"
          "taken: droidfix says so and what is at risk, and asks on the terminal;\n"
          "--yes does not answer that, --no-backup does.\n"
          "\n"
          "A phone that does not boot answers on neither ADB nor fastboot. Give\n"
          "--model ID (its device file; 'droidfix models' lists the ids, e.g.\n"
          "xiaomi/redmi-k70) and a recipe for such phones (system-reflash) starts\n"
          "without it: the model's button combination is shown (with --json a\n"
          "{\"event\":\"waiting\",\"for\":\"instruct\",...} line), droidfix waits for the\n"
          "phone in that mode, and a phone that shows up as another model is\n"
          "refused. A phone that answers must be the --model given.\n"
          "\n"
          "The report lists each step as checked / found / changed / verified. Exit\n"
          "status: 0 the phone ended healthy, 1 a problem remains, 2 the run could\n"
          "not proceed. With --json every event is one JSON object on a line of\n"
          "stdout, the last one {\"event\":\"finished\",...} with the report.\n"
          "--all runs the recipe on every phone found at once, each with its own\n"
          "report; the exit status is the worst of them.",
  .options = df_cli_run_options,
  .run = df_cli_run_run,
};
