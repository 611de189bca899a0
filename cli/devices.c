/* droidfix devices: every phone droidfix can reach, with its mode. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"

static void
df_cli_devices_print(struct df_cli *cli, const struct df_device_list *list)
{
  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", true);
    df_json_key(&j, "devices");
    df_json_array_begin(&j);
    for (int i = 0; i < list->count; i++) {
      const struct df_device *d = list->devices[i];
      df_json_object_begin(&j);
      df_json_kv_string(&j, "serial", d->serial);
      df_json_kv_string(&j, "mode", df_device_mode_name(d->mode));
      df_json_kv_string(&j, "model", d->model);
      df_json_kv_string(&j, "codename", d->codename);
      df_json_kv_string(&j, "transport", d->transport);
      df_json_object_end(&j);
    }
    df_json_array_end(&j);
    df_json_object_end(&j);
    return;
  }
  if (list->count == 0) {
    fprintf(cli->err, "droidfix: no phone found\n");
    return;
  }
  fprintf(cli->out, "%-24s %-12s %-16s %-12s %s\n", "SERIAL", "MODE", "MODEL", "CODENAME",
          "TRANSPORT");
  for (int i = 0; i < list->count; i++) {
    const struct df_device *d = list->devices[i];
    char serial[300], model[200], codename[200];
    df_cli_safe_text(d->serial, serial, sizeof(serial));
    df_cli_safe_text(d->model, model, sizeof(model));
    df_cli_safe_text(d->codename, codename, sizeof(codename));
    fprintf(cli->out, "%-24s %-12s %-16s %-12s %s\n", serial, df_device_mode_name(d->mode),
            model[0] ? model : "-", codename[0] ? codename : "-", d->transport);
  }
}

static int
df_cli_devices_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_session s;
  struct df_device_list *list;
  int rc;

  rc = df_cli_session_start(cli, &s);
  if (rc != DF_CLI_EXIT_OK) return rc;
  list = df_cli_session_find(&s);
  if (list == NULL) {
    df_cli_session_close(&s);
    return df_cli_fail(cli, NULL, DF_ENOMEM, "cannot look for phones");
  }
  df_cli_devices_print(cli, list);
  df_device_list_free(list);
  df_cli_session_close(&s);
  return DF_CLI_EXIT_OK;
}

const struct df_cli_verb df_cli_verb_devices = {
  .name = "devices",
  .summary = "list the phones droidfix can reach, with their mode",
  .usage = "devices [--connect HOST:PORT]...",
  .help = "Looks for phones over USB, or at each --connect endpoint (an adb or a\n"
          "fastboot TCP port: droidfix tells them apart by the handshake), and lists\n"
          "serial, mode (system, recovery, sideload, bootloader, fastbootd,\n"
          "unauthorized), model, codename and transport. A phone seen on two\n"
          "endpoints is listed once.",
  .run = df_cli_devices_run,
};
