/* droidfix push LOCAL REMOTE and droidfix pull REMOTE LOCAL: files to and
 * from the phone over ADB sync, streamed with progress. A pull lands in
 * LOCAL.partial first and takes its name only when complete. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"
#include "core/progress.h"
#include "plugins/adb/adb_sync.h"

struct df_cli_transfer {
  struct df_cli *cli;
  struct df_cli_session s;
  struct df_adb_sync *sync;
  bool push;
  char local[4096];
  char remote[1100];
  struct df_progress progress;
  bool done;
  int status;
  char message[300];
  struct df_sync_stat remote_stat;
};

static void
df_cli_transfer_wake(void *userdata, int status)
{
  struct df_cli_transfer *t = userdata;
  t->status = status;
  t->done = true;
}

static void
df_cli_transfer_stat_done(void *userdata, int status, const struct df_sync_stat *st)
{
  struct df_cli_transfer *t = userdata;
  t->status = status;
  if (st != NULL) t->remote_stat = *st;
  t->done = true;
}

static void
df_cli_transfer_done(void *userdata, int status, const char *message)
{
  struct df_cli_transfer *t = userdata;
  t->status = status;
  snprintf(t->message, sizeof(t->message), "%s", message);
  t->done = true;
}

static int
df_cli_transfer_wait(struct df_cli_transfer *t)
{
  df_cli_session_run_until(&t->s, &t->done);
  t->done = false;
  return t->status;
}

/* adb's rule: a destination that is a folder gets the source's name. */
static void
df_cli_append_basename(char *dst, size_t dstlen, const char *src)
{
  char copy[4096];
  size_t len = strlen(dst);

  snprintf(copy, sizeof(copy), "%s", src);
  snprintf(dst + len, dstlen - len, "%s%s", len > 0 && dst[len - 1] == '/' ? "" : "/",
           basename(copy));
}

static int
df_cli_transfer_run(struct df_cli *cli, const struct df_cli_args *args, bool push)
{
  struct df_cli_transfer *t;
  char label[220], safe[200];
  struct stat lst;
  int rc;

  if (args->positional_count != 2)
    return df_cli_usage_error(cli, args->verb, push ? "push takes LOCAL and REMOTE"
                                                    : "pull takes REMOTE and LOCAL");
  t = calloc(1, sizeof(*t));
  if (t == NULL) return df_cli_fail(cli, NULL, DF_ENOMEM, "out of memory");
  t->cli = cli;
  t->push = push;
  snprintf(t->local, sizeof(t->local), "%s", args->positional[push ? 0 : 1]);
  snprintf(t->remote, sizeof(t->remote), "%s", args->positional[push ? 1 : 0]);
  if (push && (stat(t->local, &lst) != 0 || !S_ISREG(lst.st_mode))) {
    rc = df_cli_fail(cli, t->local, DF_ENOENT, "cannot push '%s': not a readable file "
                     "(folders are not pushed yet)", t->local);
    free(t);
    return rc;
  }
  if (!push && stat(t->local, &lst) == 0 && S_ISDIR(lst.st_mode))
    df_cli_append_basename(t->local, sizeof(t->local), t->remote);

  rc = df_cli_session_open(cli, &t->s);
  if (rc != DF_CLI_EXIT_OK) {
    free(t);
    return rc;
  }
  if (t->s.dev->adb == NULL && t->s.dev->mode == DF_DEVICE_OFFLINE) {
    /* Its ADB connection broke while droidfix was identifying it. */
    rc = df_cli_fail(cli, NULL, DF_ECONNRESET, "%s failed: the phone's connection dropped while "
                     "droidfix identified it; check the cable, then run the same command again",
                     push ? "push" : "pull");
    goto out;
  }
  if (t->s.dev->adb == NULL) {
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED, "the phone is in %s mode; files need ADB: run "
                     "'droidfix reboot system' first", df_device_mode_name(t->s.dev->mode));
    goto out;
  }
  rc = df_adb_sync_open(t->s.dev->adb, df_cli_transfer_wake, t, &t->sync);
  if (rc == DF_OK) rc = df_cli_transfer_wait(t);
  /* A phone that stops answering mid-transfer fails it instead of hanging. */
  if (rc == DF_OK) rc = df_adb_sync_watch(t->sync, &t->s.loop, 0);
  if (rc != DF_OK) {
    rc = df_cli_fail(cli, NULL, rc, "%s failed: %s", push ? "push" : "pull",
                     rc == DF_EUNSUPPORTED ? "the phone refused file transfer (sync service)"
                     : "the connection dropped as the transfer began; check the cable, then run "
                       "the same command again");
    goto out;
  }
  if (push) {
    /* A folder on the phone gets the file's own name, as with adb push. */
    rc = df_adb_sync_stat(t->sync, t->remote, df_cli_transfer_stat_done, t);
    if (rc == DF_OK) rc = df_cli_transfer_wait(t);
    if (rc == DF_OK && t->remote_stat.exists && (t->remote_stat.mode & S_IFMT) == S_IFDIR)
      df_cli_append_basename(t->remote, sizeof(t->remote), t->local);
  }
  df_cli_safe_text(push ? t->local : t->remote, safe, sizeof(safe));
  snprintf(label, sizeof(label), "%s %s", push ? "push" : "pull", safe);
  df_progress_start(&t->progress, label, push ? (uint64_t)lst.st_size : 0);
  if (push)
    rc = df_adb_sync_push(t->sync, t->local, t->remote, &t->progress, df_cli_transfer_done, t);
  else
    rc = df_adb_sync_pull(t->sync, t->remote, t->local, &t->progress, df_cli_transfer_done, t);
  if (rc == DF_OK) rc = df_cli_transfer_wait(t);
  else df_progress_finish(&t->progress, rc);
  if (rc != DF_OK) {
    char msg[300];
    df_cli_safe_text(t->message, msg, sizeof(msg));
    rc = df_cli_fail(cli, push ? t->local : t->local, rc, "%s failed%s%s", push ? "push" : "pull",
                     msg[0] ? ": " : "", msg);
    goto out;
  }
  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", true);
    df_json_kv_string(&j, "local", t->local);
    df_json_kv_string(&j, "remote", t->remote);
    df_json_kv_uint(&j, "bytes", t->progress.done);
    df_json_object_end(&j);
  }
  rc = DF_CLI_EXIT_OK;
out:
  if (t->sync != NULL) df_adb_sync_close(t->sync);
  df_cli_session_close(&t->s);
  free(t);
  return rc;
}

static int
df_cli_push_run(struct df_cli *cli, const struct df_cli_args *args)
{
  return df_cli_transfer_run(cli, args, true);
}

static int
df_cli_pull_run(struct df_cli *cli, const struct df_cli_args *args)
{
  return df_cli_transfer_run(cli, args, false);
}

const struct df_cli_verb df_cli_verb_push = {
  .name = "push",
  .summary = "copy a file to the phone",
  .usage = "push LOCAL REMOTE",
  .help = "Sends LOCAL to REMOTE on the phone over ADB sync, keeping its mode and\n"
          "time. A REMOTE that is a folder gets LOCAL's name. The phone keeps a file\n"
          "only once it is whole: an interrupted push leaves nothing there.",
  .run = df_cli_push_run,
};

const struct df_cli_verb df_cli_verb_pull = {
  .name = "pull",
  .summary = "copy a file from the phone",
  .usage = "pull REMOTE LOCAL",
  .help = "Fetches REMOTE from the phone into LOCAL (a folder gets REMOTE's name).\n"
          "The data lands in LOCAL.partial and takes its name only when the phone\n"
          "said the file is complete, so an interrupted pull never looks finished.",
  .run = df_cli_pull_run,
};
