/* droidfix getvar NAME: a fastboot variable of a phone in the bootloader or
 * fastbootd ("all" lists every one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"
#include "plugins/fastboot/fastboot_protocol.h"

#define DF_CLI_GETVAR_MAX_LINES 512

struct df_cli_getvar_state {
  bool done;
  int status;
  char message[DF_FASTBOOT_RESPONSE_MAX + 1];
  char *lines[DF_CLI_GETVAR_MAX_LINES]; /* INFO lines, as getvar:all sends them */
  int nlines;
};

static void
df_cli_getvar_info(void *userdata, const char *text)
{
  struct df_cli_getvar_state *st = userdata;
  if (st->nlines < DF_CLI_GETVAR_MAX_LINES) st->lines[st->nlines++] = strdup(text);
}

static void
df_cli_getvar_done(void *userdata, int status, const char *message)
{
  struct df_cli_getvar_state *st = userdata;
  st->status = status;
  snprintf(st->message, sizeof(st->message), "%s", message);
  st->done = true;
}

/* "name:value" (partition variables: "partition-size:boot_a:0x..."): the
 * value is after the last colon. */
static void
df_cli_getvar_print_line(struct df_cli *cli, struct df_json *j, const char *line)
{
  const char *colon = strrchr(line, ':');
  char key[256], safe[600];

  if (!cli->json) {
    df_cli_safe_text(line, safe, sizeof(safe));
    fprintf(cli->out, "%s\n", safe);
    return;
  }
  if (colon == NULL) return;
  size_t klen = (size_t)(colon - line);
  if (klen >= sizeof(key)) klen = sizeof(key) - 1;
  memcpy(key, line, klen);
  key[klen] = '\0';
  const char *value = colon + 1;
  while (*value == ' ') value++;
  df_json_kv_string(j, key, value);
}

static void
df_cli_getvar_report(struct df_cli *cli, const char *serial, const char *name, bool all,
                     const struct df_cli_getvar_state *st)
{
  struct df_json j;
  char safe[600];

  if (cli->json) {
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", true);
    df_json_kv_string(&j, "serial", serial);
    df_json_key(&j, "variables");
    df_json_object_begin(&j);
  }
  for (int i = 0; i < st->nlines; i++)
    if (st->lines[i] != NULL) df_cli_getvar_print_line(cli, &j, st->lines[i]);
  if (!all) {
    if (cli->json) {
      df_json_kv_string(&j, name, st->message);
    } else {
      df_cli_safe_text(st->message, safe, sizeof(safe));
      fprintf(cli->out, "%s: %s\n", name, safe);
    }
  }
  if (cli->json) {
    df_json_object_end(&j);
    df_json_object_end(&j);
  }
}

static int
df_cli_getvar_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_session s;
  struct df_cli_getvar_state st = {0};
  char cmd[DF_FASTBOOT_COMMAND_MAX + 1];
  const char *name;
  int rc;

  if (args->positional_count != 1)
    return df_cli_usage_error(cli, args->verb, "getvar takes one variable name");
  name = args->positional[0];
  if (df_fastboot_command_format(cmd, sizeof(cmd), "getvar:%s", name) != DF_OK)
    return df_cli_usage_error(cli, args->verb, "variable name too long (fastboot commands are 64 bytes at most)");
  rc = df_cli_session_open(cli, &s);
  if (rc != DF_CLI_EXIT_OK) return rc;
  if (s.dev->fastboot == NULL) {
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED,
                     "the phone is in %s mode; getvar needs fastboot: run "
                     "'droidfix reboot bootloader' first",
                     df_device_mode_name(s.dev->mode));
    df_cli_session_close(&s);
    return rc;
  }
  rc = df_fastboot_command(s.dev->fastboot, cmd, df_cli_getvar_info, df_cli_getvar_done, &st);
  if (rc == DF_OK) df_cli_session_run_until(&s, &st.done);
  else st.status = rc;
  if (st.status == DF_OK) {
    df_cli_getvar_report(cli, s.dev->serial, name, strcmp(name, "all") == 0, &st);
    rc = DF_CLI_EXIT_OK;
  } else if (st.status == DF_EDEVFAIL) {
    rc = df_cli_fail(cli, NULL, st.status, "the phone answered FAIL: %s", st.message);
  } else {
    rc = df_cli_fail(cli, NULL, st.status, "getvar %s failed", name);
  }
  for (int i = 0; i < st.nlines; i++) free(st.lines[i]);
  df_cli_session_close(&s);
  return rc;
}

const struct df_cli_verb df_cli_verb_getvar = {
  .name = "getvar",
  .summary = "read a fastboot variable (\"all\" for every one)",
  .usage = "getvar NAME",
  .help = "Asks a phone in the bootloader or fastbootd for a variable: product,\n"
          "serialno, unlocked, current-slot, max-download-size, anti, ... Prints\n"
          "\"NAME: VALUE\" on stdout (fastboot prints it on stderr). \"all\" prints\n"
          "every variable the phone lists. A FAIL answer is shown as the phone wrote\n"
          "it and gives exit status 1.",
  .run = df_cli_getvar_run,
};
