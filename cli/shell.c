/* droidfix shell CMD...: runs a command on the phone; its exit code
 * becomes droidfix's, its stdout and stderr stay apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"
#include "plugins/adb/adb_shell.h"

struct df_cli_shell_state {
  struct df_cli *cli;
  bool done;
  int status;
  int exit_code;
  char *out;      /* gathered for --json */
  size_t out_len;
  char *err;
  size_t err_len;
};

static void
df_cli_shell_keep(char **buf, size_t *len, const uint8_t *data, size_t n)
{
  char *grown = realloc(*buf, *len + n + 1);
  if (grown == NULL) return;
  memcpy(grown + *len, data, n);
  *len += n;
  grown[*len] = '\0';
  *buf = grown;
}

static void
df_cli_shell_stdout(void *userdata, const uint8_t *data, size_t len)
{
  struct df_cli_shell_state *st = userdata;
  if (st->cli->json)
    df_cli_shell_keep(&st->out, &st->out_len, data, len);
  else
    fwrite(data, 1, len, st->cli->out);
}

static void
df_cli_shell_stderr(void *userdata, const uint8_t *data, size_t len)
{
  struct df_cli_shell_state *st = userdata;
  if (st->cli->json)
    df_cli_shell_keep(&st->err, &st->err_len, data, len);
  else
    fwrite(data, 1, len, st->cli->err);
}

static void
df_cli_shell_done(void *userdata, int status, int exit_code)
{
  struct df_cli_shell_state *st = userdata;
  st->status = status;
  st->exit_code = exit_code;
  st->done = true;
}

static const struct df_adb_shell_callbacks df_cli_shell_cbs = {
  .on_stdout = df_cli_shell_stdout,
  .on_stderr = df_cli_shell_stderr,
  .on_done = df_cli_shell_done,
};

/* The command line as adb builds it: the words joined by spaces, for the
 * phone's shell to split again. */
static char *
df_cli_shell_join(const struct df_cli_args *args)
{
  size_t len = 1;
  char *cmd;

  for (size_t i = 0; i < args->positional_count; i++) len += strlen(args->positional[i]) + 1;
  cmd = calloc(1, len);
  if (cmd == NULL) return NULL;
  for (size_t i = 0; i < args->positional_count; i++) {
    if (i > 0) strcat(cmd, " ");
    strcat(cmd, args->positional[i]);
  }
  return cmd;
}

static int
df_cli_shell_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_session s;
  struct df_cli_shell_state st = {.cli = cli};
  char *cmd;
  int rc;

  if (args->positional_count == 0)
    return df_cli_usage_error(cli, args->verb, "shell needs a command (interactive shells are not supported)");
  cmd = df_cli_shell_join(args);
  if (cmd == NULL) return df_cli_fail(cli, NULL, DF_ENOMEM, "out of memory");
  rc = df_cli_session_open(cli, &s);
  if (rc != DF_CLI_EXIT_OK) {
    free(cmd);
    return rc;
  }
  if (s.dev->adb == NULL) {
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED,
                     "the phone is in %s mode, where there is no shell; "
                     "run 'droidfix reboot system' first",
                     df_device_mode_name(s.dev->mode));
    goto out;
  }
  rc = df_adb_shell_start(s.dev->adb, cmd, &df_cli_shell_cbs, &st, NULL);
  if (rc != DF_OK) {
    rc = df_cli_fail(cli, NULL, rc, "cannot start the command on the phone");
    goto out;
  }
  df_cli_session_run_until(&s, &st.done);
  fflush(cli->out);
  if (st.status != DF_OK) {
    rc = df_cli_fail(cli, NULL, st.status, "the command did not finish: %s",
                     df_strerror(st.status));
    goto out;
  }
  if (st.exit_code < 0)
    fprintf(cli->err, "droidfix: warning: this phone has no shell_v2: its exit code is unknown\n");
  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", true);
    df_json_kv_string(&j, "serial", s.dev->serial);
    df_json_kv_string(&j, "command", cmd);
    df_json_key(&j, "exit_code");
    if (st.exit_code < 0) df_json_null(&j); else df_json_int(&j, st.exit_code);
    df_json_key(&j, "stdout");
    df_json_string_len(&j, st.out != NULL ? st.out : "", st.out_len);
    df_json_key(&j, "stderr");
    df_json_string_len(&j, st.err != NULL ? st.err : "", st.err_len);
    df_json_object_end(&j);
  }
  rc = st.exit_code < 0 ? 0 : st.exit_code;
out:
  free(st.out);
  free(st.err);
  free(cmd);
  df_cli_session_close(&s);
  return rc;
}

const struct df_cli_verb df_cli_verb_shell = {
  .name = "shell",
  .summary = "run a command on the phone (its exit code becomes droidfix's)",
  .usage = "shell CMD [ARG]...",
  .help = "Runs CMD through the phone's /system/bin/sh, as `adb shell` does: the\n"
          "words are joined by spaces, so quote what the phone's shell must see as\n"
          "one word. stdout and stderr stay apart, and the command's exit code is\n"
          "droidfix's (phones without shell_v2 lose it: droidfix says so).\n"
          "With --json: one object with exit_code, stdout and stderr.",
  .run = df_cli_shell_run,
};
