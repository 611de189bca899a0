/* droidfix flash PARTITION IMAGE: writes an image to a partition of a phone
 * in the bootloader or fastbootd, as fastboot does (slot suffix from
 * current-slot, sparse pieces when the image is bigger than the phone takes
 * at once), with the phone's INFO lines shown as they come and its FAIL text
 * shown as it wrote it. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"
#include "plugins/fastboot/flash.h"

static const struct df_cli_option df_cli_flash_options[] = {
  {"slot", 0, "SLOT", "flash slot a or b (default: the phone's current slot)"},
  {NULL, 0, NULL, NULL},
};

struct df_cli_flash_state {
  struct df_cli *cli;
  bool done;
  int status;
  char message[300];
  struct df_fastboot_flash_report report;
};

static void
df_cli_flash_info(void *userdata, const char *text)
{
  struct df_cli_flash_state *st = userdata;
  char safe[600];

  if (st->cli->quiet) return;
  df_cli_safe_text(text, safe, sizeof(safe));
  fprintf(st->cli->err, "(phone) %s\n", safe);
}

static void
df_cli_flash_done(void *userdata, int status, const char *message,
                  const struct df_fastboot_flash_report *report)
{
  struct df_cli_flash_state *st = userdata;
  st->status = status;
  snprintf(st->message, sizeof(st->message), "%s", message);
  st->report = *report;
  st->done = true;
}

static int
df_cli_flash_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_session s;
  struct df_cli_flash_state st = {.cli = cli};
  struct df_progress progress;
  const char *slot = df_cli_option(args, "slot");
  const char *partition, *image;
  char label[200], safe[160];
  int rc;

  if (args->positional_count != 2)
    return df_cli_usage_error(cli, args->verb, "flash takes PARTITION and IMAGE");
  partition = args->positional[0];
  image = args->positional[1];
  if (slot != NULL && strcmp(slot, "a") != 0 && strcmp(slot, "b") != 0)
    return df_cli_usage_error(cli, args->verb, "--slot takes a or b");
  rc = df_cli_session_open(cli, &s);
  if (rc != DF_CLI_EXIT_OK) return rc;
  if (s.dev->fastboot == NULL) {
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED, "the phone is in %s mode; flashing needs the "
                     "bootloader: run 'droidfix reboot bootloader' first",
                     df_device_mode_name(s.dev->mode));
    df_cli_session_close(&s);
    return rc;
  }
  df_cli_safe_text(partition, safe, sizeof(safe));
  snprintf(label, sizeof(label), "flash %s", safe);
  df_progress_start(&progress, label, 0);
  rc = df_fastboot_flash(s.dev->fastboot, partition, image, slot, &progress, df_cli_flash_info,
                         df_cli_flash_done, &st);
  if (rc != DF_OK) {
    df_progress_finish(&progress, rc);
    rc = df_cli_fail(cli, image, rc, rc == DF_ECORRUPT ? "'%s' is not a valid sparse image"
                                                       : "cannot flash '%s'", image);
    df_cli_session_close(&s);
    return rc;
  }
  df_cli_session_run_until(&s, &st.done);
  if (st.status == DF_EDEVFAIL) {
    rc = df_cli_fail(cli, image, st.status, "the phone refused at %s: %s", st.report.step,
                     st.message);
  } else if (st.status != DF_OK) {
    rc = df_cli_fail(cli, image, st.status, "flashing stopped at %s%s%s", st.report.step,
                     st.message[0] ? ": " : "", st.message);
  } else {
    if (cli->json) {
      struct df_json j;
      df_json_init(&j, cli->out);
      df_json_object_begin(&j);
      df_json_kv_bool(&j, "ok", true);
      df_json_kv_string(&j, "serial", s.dev->serial);
      df_json_kv_string(&j, "partition", st.report.partition);
      df_json_kv_int(&j, "pieces", st.report.pieces);
      df_json_kv_uint(&j, "bytes", st.report.bytes);
      df_json_object_end(&j);
    } else if (!cli->quiet) {
      fprintf(cli->err, "droidfix: flashed %s (%ld download%s)\n", st.report.partition,
              st.report.pieces, st.report.pieces == 1 ? "" : "s");
    }
    rc = DF_CLI_EXIT_OK;
  }
  df_cli_session_close(&s);
  return rc;
}

const struct df_cli_verb df_cli_verb_flash = {
  .name = "flash",
  .summary = "write an image (raw or sparse) to a partition",
  .usage = "flash PARTITION IMAGE [--slot a|b]",
  .help = "Writes IMAGE to PARTITION of a phone in the bootloader or fastbootd. On\n"
          "A/B phones the current slot's partition is written (PARTITION_a or _b)\n"
          "unless --slot says which. An image bigger than the phone's\n"
          "max-download-size goes as several sparse pieces, read straight from the\n"
          "file (no temporary copy). The phone's own messages are shown as they\n"
          "arrive; a refusal is shown in the phone's words, with exit status 1.",
  .options = df_cli_flash_options,
  .run = df_cli_flash_run,
};
