/* droidfix reboot [system|bootloader|recovery|fastboot|sideload]: reboots
 * the phone into a mode, from ADB or from fastboot, and with --wait follows
 * it until it answers there (same serial). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"
#include "core/log.h"

struct df_cli_reboot_target {
  const char *name;
  const char *adb_service;      /* NULL: not reachable from ADB */
  const char *fastboot_command; /* NULL: not reachable from fastboot */
  enum df_device_mode mode;     /* where the phone shows up afterwards */
};

/* adb/daemon/services.cpp reboot targets; fastboot/fastboot.cpp commands. */
static const struct df_cli_reboot_target df_cli_reboot_targets[] = {
  {"system", "reboot:", "reboot", DF_DEVICE_SYSTEM},
  {"bootloader", "reboot:bootloader", "reboot-bootloader", DF_DEVICE_BOOTLOADER},
  {"recovery", "reboot:recovery", "reboot-recovery", DF_DEVICE_RECOVERY},
  {"fastboot", "reboot:fastboot", "reboot-fastboot", DF_DEVICE_FASTBOOTD},
  {"sideload", "reboot:sideload", NULL, DF_DEVICE_SIDELOAD},
};

static const struct df_cli_option df_cli_reboot_options[] = {
  {"wait", 'w', NULL, "wait until the phone answers in the new mode"},
  {"timeout", 0, "SECONDS", "how long --wait waits (default 120)"},
  {NULL, 0, NULL, NULL},
};

struct df_cli_reboot_state {
  bool done;
  int status;
  char message[300];
};

static void
df_cli_reboot_stream_open(void *userdata, int status)
{
  struct df_cli_reboot_state *st = userdata;
  /* adbd accepted the reboot; it drops the connection as it goes down */
  st->status = status;
  st->done = true;
}

static void
df_cli_reboot_stream_data(void *userdata, const uint8_t *data, size_t len)
{
}

static void
df_cli_reboot_stream_close(void *userdata, int status)
{
}

static const struct df_adb_stream_callbacks df_cli_reboot_stream_cbs = {
  .on_open = df_cli_reboot_stream_open,
  .on_data = df_cli_reboot_stream_data,
  .on_close = df_cli_reboot_stream_close,
};

static void
df_cli_reboot_fastboot_done(void *userdata, int status, const char *message)
{
  struct df_cli_reboot_state *st = userdata;
  st->status = status;
  snprintf(st->message, sizeof(st->message), "%s", message);
  st->done = true;
}

static int
df_cli_reboot_run(struct df_cli *cli, const struct df_cli_args *args)
{
  const struct df_cli_reboot_target *target = NULL;
  const char *name = args->positional_count > 0 ? args->positional[0] : "system";
  const char *timeout_text = df_cli_option(args, "timeout");
  unsigned timeout_s = 120;
  struct df_cli_session s;
  struct df_cli_reboot_state st = {0};
  struct df_adb_stream *stream;
  int rc;

  if (args->positional_count > 1) return df_cli_usage_error(cli, args->verb, "reboot takes one target");
  for (size_t i = 0; i < sizeof(df_cli_reboot_targets) / sizeof(*df_cli_reboot_targets); i++)
    if (strcmp(df_cli_reboot_targets[i].name, name) == 0) target = &df_cli_reboot_targets[i];
  if (target == NULL)
    return df_cli_usage_error(cli, args->verb, "unknown target '%s': use system, bootloader, "
                              "recovery, fastboot or sideload", name);
  if (timeout_text != NULL) {
    char *end;
    long v = strtol(timeout_text, &end, 10);
    if (*end != '\0' || v <= 0 || v > 3600)
      return df_cli_usage_error(cli, args->verb, "--timeout takes seconds (1-3600)");
    timeout_s = (unsigned)v;
  }
  rc = df_cli_session_open(cli, &s);
  if (rc != DF_CLI_EXIT_OK) return rc;
  if (s.dev->adb != NULL) {
    rc = df_adb_stream_open(s.dev->adb, target->adb_service, &df_cli_reboot_stream_cbs, &st, &stream);
  } else if (target->fastboot_command != NULL) {
    rc = df_fastboot_command(s.dev->fastboot, target->fastboot_command, NULL,
                             df_cli_reboot_fastboot_done, &st);
  } else {
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED, "fastboot cannot reboot into %s; reboot to "
                     "system or recovery first", name);
    df_cli_session_close(&s);
    return rc;
  }
  if (rc == DF_OK) df_cli_session_run_until(&s, &st.done);
  else st.status = rc;
  if (st.status != DF_OK) {
    rc = df_cli_fail(cli, NULL, st.status, "the phone refused to reboot into %s%s%s", name,
                     st.message[0] ? ": " : "", st.message);
    df_cli_session_close(&s);
    return rc;
  }
  if (!cli->quiet && !cli->json)
    fprintf(cli->err, "droidfix: %s is rebooting into %s\n", s.dev->serial, name);
  if (df_cli_option_count(args, "wait") > 0) {
    if (!cli->quiet && !cli->json)
      fprintf(cli->err, "droidfix: waiting up to %u s for %s in %s mode...\n", timeout_s,
              s.dev->serial, name);
    rc = df_cli_session_wait_for(&s, DF_DEVICE_MODE_BIT(target->mode), timeout_s * 1000);
    if (rc == DF_EUNSUPPORTED) {
      rc = df_cli_fail(cli, NULL, rc, "--wait cannot follow the phone: USB is not available "
                       "here (libusb did not start) and no --connect endpoint was given");
      df_cli_session_close(&s);
      return rc;
    }
    if (rc != DF_OK) {
      rc = df_cli_fail(cli, NULL, rc, "the phone did not come back in %s mode within %u s", name,
                       timeout_s);
      df_cli_session_close(&s);
      return rc;
    }
    if (!cli->quiet && !cli->json)
      fprintf(cli->err, "droidfix: %s is in %s mode\n", s.dev->serial,
              df_device_mode_name(s.dev->mode));
  }
  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", true);
    df_json_kv_string(&j, "target", name);
    if (s.dev != NULL) {
      df_json_kv_string(&j, "serial", s.dev->serial);
      if (df_cli_option_count(args, "wait") > 0)
        df_json_kv_string(&j, "mode", df_device_mode_name(s.dev->mode));
    }
    df_json_object_end(&j);
  }
  df_cli_session_close(&s);
  return DF_CLI_EXIT_OK;
}

const struct df_cli_verb df_cli_verb_reboot = {
  .name = "reboot",
  .summary = "reboot the phone into system, bootloader, recovery, fastboot or sideload",
  .usage = "reboot [system|bootloader|recovery|fastboot|sideload] [--wait] [--timeout S]",
  .help = "Reboots the phone from ADB (any target) or from fastboot (system,\n"
          "bootloader, recovery, fastboot). \"fastboot\" is fastbootd, the userspace\n"
          "fastboot of phones with dynamic partitions. With --wait, droidfix follows\n"
          "the same phone (by serial) until it answers in the new mode.",
  .options = df_cli_reboot_options,
  .run = df_cli_reboot_run,
};
