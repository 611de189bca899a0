/* The step runner: one run is one recipe on one phone, in its own sandbox
 * (one lua_State), driven on the loop. For each step: check (a truthy first
 * result: the problem is there; falsy: the step is skipped); with dry-run
 * nothing more; else a confirmation for a step above app-data risk (--yes
 * answers it; no terminal and no --yes refuses the step, never hangs), a
 * backup before a step that can lose user data (unless --no-backup, which
 * the report says; when the phone does not answer over ADB no backup can be
 * taken: the runner says so and what is at risk, and goes on only with
 * --no-backup or the user's yes on a terminal, never on --yes alone), fix,
 * and verify (truthy: fixed; without a verify
 * function, check runs again and must find nothing). When a step's backup
 * can be taken it comes BEFORE its confirmation (a backup only reads), so
 * the question names the archive and what it does not hold (no root: the
 * apps' data, the accounts); a no keeps the archive and changes nothing.
 * The confirmation cannot be given (no terminal, no --yes): refused before
 * any backup. The report says per
 * step what was checked, found, changed and verified; the run's status is
 * healthy (0), not fixed (1) or could not proceed (2). Events (for --json)
 * go to a callback. Many runs share one loop: --all is many runners.
 * Each run keeps a risk gate (lua-api/risk_gate.h): check may only read the
 * phone, fix may go up to its step's declared risk and reboot, verify may
 * read, reboot and wait; a device call above that raises, and the step
 * fails (status 2) even when the recipe caught the error. */
#ifndef DF_LUA_RUNNER_H
#define DF_LUA_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "core/loop.h"
#include "lua-api/df_module.h"
#include "lua-api/recipe.h"
#include "lua-api/sandbox.h"

enum df_run_status {
  DF_RUN_HEALTHY = 0,   /* nothing wrong, or everything found was fixed */
  DF_RUN_NOT_FIXED = 1, /* a problem remains (or dry-run found one) */
  DF_RUN_FAILED = 2,    /* could not proceed: error, refusal, bad input */
};

enum df_step_outcome {
  DF_STEP_NOT_RUN = 0, /* the run stopped before it */
  DF_STEP_NOTHING_FOUND,
  DF_STEP_PLANNED,   /* dry-run: found, fix would run */
  DF_STEP_FIXED,     /* found, fixed, verified */
  DF_STEP_NOT_FIXED, /* verify said no */
  DF_STEP_REFUSED,   /* needed a confirmation nobody could give */
  DF_STEP_DECLINED,  /* the user said no */
  DF_STEP_FAILED,    /* an error in the step, or the backup failed */
};

/* "not-run", "nothing-found", "planned", "fixed", "not-fixed", "refused",
 * "declined", "failed". */
const char *
df_step_outcome_name(enum df_step_outcome outcome);

struct df_step_report {
  const char *id;    /* the recipe's strings: valid while the runner is */
  const char *title;
  enum df_risk risk;
  enum df_step_outcome outcome;
  bool checked;
  bool found;
  bool changed; /* fix ran to its end */
  bool verified;
  bool backed_up;
  /* The backup taken before the step (NULL: none): its archive, what it
   * does not hold as the lines of its meta/not-backed-up.txt ("app-data
   * PKG", "account TYPE NAME"; none: it lacks nothing it could list), and
   * both in words, as the confirmation said them. */
  char *backup_path;
  char **backup_lacks;
  size_t nbackup_lacks;
  char *backup_note;
  char *found_message; /* check's description, or NULL */
  char *fix_message;   /* what fix returned as a string, or NULL */
  char *message;       /* refusal, error with traceback, verify's reason */
};

struct df_run_report {
  const char *recipe_id;
  enum df_run_status status;
  char *message; /* one sentence on the run's status */
  bool dry_run;
  bool backup_skipped; /* --no-backup was given and a backup was due */
  /* a backup was due and none could be taken (the phone did not answer
   * over ADB: it does not boot, or is in fastboot); the user went on */
  bool backup_unavailable;
  size_t nsteps;
  struct df_step_report *steps;
};

enum df_run_event_type {
  DF_RUN_EVENT_STARTED = 0,
  DF_RUN_EVENT_STEP_STARTED,
  DF_RUN_EVENT_STEP_CHECKED, /* found = whether check found the problem */
  DF_RUN_EVENT_WAITING,      /* for a confirmation, a backup, an answer */
  DF_RUN_EVENT_STEP_BACKED_UP,
  DF_RUN_EVENT_STEP_FIXED,
  DF_RUN_EVENT_STEP_VERIFIED, /* ok = verified */
  DF_RUN_EVENT_STEP_DONE,     /* outcome set */
  DF_RUN_EVENT_SAY,
  DF_RUN_EVENT_HEADLINE, /* df.step */
  DF_RUN_EVENT_LOG,
  DF_RUN_EVENT_PROGRESS,
  DF_RUN_EVENT_FINISHED,
};

/* "started", "step-started", "step-checked", "waiting", "step-backed-up",
 * "step-fixed", "step-verified", "step-done", "say", "headline", "log",
 * "progress", "finished". */
const char *
df_run_event_name(enum df_run_event_type type);

struct df_run_event {
  enum df_run_event_type type;
  const char *recipe_id;
  const char *step_id; /* NULL outside a step */
  const char *message; /* may be NULL */
  bool found;
  bool ok;
  enum df_step_outcome outcome;
  enum df_log_level level;
  double done, total; /* progress */
  enum df_run_status status; /* finished */
  const struct df_wait_info *wait; /* waiting for a phone: what for; else NULL */
  /* A confirmation (asked, or answered by --yes) after the step's backup:
   * the step report with backup_path and backup_lacks; else NULL. */
  const struct df_step_report *backup;
};

/* What a backup before a step is for. */
struct df_backup_request {
  const char *recipe_id;
  const char *step_id;
  const char *step_title;
  enum df_risk risk;
};

/* What a finished backup holds (strings valid during the done call). */
struct df_backup_taken {
  const char *path;        /* the archive; becomes ctx.backup */
  const char *holds;       /* in words, e.g. "/sdcard, the apps and the
                            * settings"; may be NULL */
  /* meta/not-backed-up.txt: "app-data PKG\n" and "account TYPE NAME\n"
   * lines, what a factory reset would lose although backed up; NULL or ""
   * when nothing */
  const char *not_covered;
  bool rooted;             /* the phone gave root (su) */
};

/* The backup's result: 0 with taken (may be NULL: then message, "PATH
 * (...)", gives the path), or a negative DF_E* with message (may be NULL)
 * and taken NULL. */
typedef void (*df_backup_done_fn)(void *done_ctx, int status, const char *message,
                                  const struct df_backup_taken *taken);

/* In words, what the backup at path lacks, for the confirmation before a
 * step that can lose data: "the backup at PATH holds HOLDS; it does NOT
 * hold: the data of A, B; the account TYPE NAME (no root: ...)", each kind
 * listed as a count and its first few names when long, with where the
 * full list is. not_covered as in df_backup_taken (NULL or "": the first
 * part only). Pure; returns a malloc'd string or NULL (out of memory). */
char *
df_runner_backup_words(const char *path, const char *holds, const char *not_covered,
                       bool rooted);

struct df_runner_callbacks {
  /* Every event; optional. Strings are valid during the call. */
  void (*event)(void *ud, const struct df_run_event *ev);
  /* Asks the user (a terminal is there); NULL: nobody can be asked. Used
   * for step confirmations and df.confirm/df.choose. Same contract as
   * df_host_callbacks.ask. */
  int (*ask)(void *ud, const struct df_question *q, df_answer_fn answer, void *answer_ctx);
  /* Takes a backup; returns 0 (done will be called, maybe before it
   * returns) or a negative DF_E* (done never called). NULL: no backup can
   * be taken, so such a step refuses unless no_backup. */
  int (*backup)(void *ud, const struct df_backup_request *req, df_backup_done_fn done,
                void *done_ctx);
  /* The run is over; df_runner_report has the report. Called once, from a
   * loop callback, never from df_runner_start. */
  void (*finished)(void *ud, const struct df_run_report *report);
};

struct df_runner_options {
  bool dry_run;
  bool yes;       /* answers step confirmations and df.confirm with yes */
  bool no_backup;
  const char *const *params; /* "name=value" strings */
  size_t nparams;
  struct df_sandbox_limits limits; /* zeros: defaults */
  const char *lib_dir;             /* recipes/lib; NULL: no require */
};

struct df_runner;

/* Creates a run with its own sandbox. opts and cbs are copied (the strings
 * they point to must outlive the runner). Returns 0 or DF_ENOMEM. */
int
df_runner_new(struct df_loop *loop, const struct df_runner_options *opts,
              const struct df_runner_callbacks *cbs, void *ud, struct df_runner **out);

/* Loads and validates the recipe, then its parameters against opts.params.
 * Returns 0, or DF_EINVAL / DF_ENOENT / DF_ETOOBIG / DF_ENOMEM with err
 * naming file, line and field (or the parameter and the fix). */
int
df_runner_load_file(struct df_runner *r, const char *path, char *err, size_t errlen);

int
df_runner_load_buffer(struct df_runner *r, const char *source, size_t len, const char *name,
                      char *err, size_t errlen);

/* Starts the steps. Returns 0 (finished will be called) or a negative DF_E*
 * (finished never called): DF_EINVAL when no recipe is loaded or the run
 * already started. */
int
df_runner_start(struct df_runner *r);

/* Stops a run: the waiting step is canceled and finished is called (from
 * the loop) with status 2. A question or backup still pending must still
 * be answered before df_runner_free. */
void
df_runner_cancel(struct df_runner *r);

/* The report so far (final after finished). */
const struct df_run_report *
df_runner_report(const struct df_runner *r);

const struct df_recipe *
df_runner_recipe(const struct df_runner *r);

/* The run's state, to add device functions or ctx fields before start. */
lua_State *
df_runner_state(struct df_runner *r);

struct df_sandbox *
df_runner_sandbox(struct df_runner *r);

/* Gives the run its phone: ctx.device (a df.Device owning dev, closed with
 * the run's state) and ctx.workdir (env->workdir, which must exist). The
 * values of the recipe's "path" parameters become local paths the device
 * may use. After a successful load, before start. Returns 0, DF_EINVAL, or
 * DF_ENOMEM (dev is closed then too). */
struct df_device;
struct df_lua_device_env;
int
df_runner_set_device(struct df_runner *r, struct df_device *dev,
                     const struct df_lua_device_env *env);

/* The device df_runner_set_device gave (valid while the runner is), or
 * NULL. Its ->dev is the live session (NULL while the phone is away). */
struct df_lua_device *
df_runner_device(struct df_runner *r);

/* Frees the run, its sandbox and report. Not while running: after finished
 * or before start. */
void
df_runner_free(struct df_runner *r);

#endif
