/* The fastboot commands a person may need by hand, one verb each: oem,
 * flashing, erase, set-active, and in fastbootd the logical partitions
 * (create-, resize-, delete-logical-partition) and update-super. They share
 * one way to run: find the phone, check its mode, ask before what cannot be
 * undone, send the command, show INFO lines as they arrive, and report OKAY
 * or FAIL with the phone's own words (exit 1 on FAIL). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"
#include "core/json.h"
#include "core/log.h"
#include "plugins/fastboot/fastboot_protocol.h"

#define DF_CLI_FB_MAX_INFO 256

/* Which fastboot a verb needs. */
enum df_cli_fb_where {
  DF_CLI_FB_ANY,        /* bootloader or fastbootd */
  DF_CLI_FB_BOOTLOADER, /* flashing: the bootloader's command */
  DF_CLI_FB_FASTBOOTD,  /* logical partitions live in fastbootd */
};

static const struct df_cli_option df_cli_fb_confirm_options[] = {
  {"yes", 'y', NULL, "do it without asking"},
  {NULL, 0, NULL, NULL},
};

static const struct df_cli_option df_cli_fb_update_super_options[] = {
  {"yes", 'y', NULL, "do it without asking"},
  {"wipe", 0, NULL, "drop the logical partitions' contents (update-super:NAME:wipe)"},
  {NULL, 0, NULL, NULL},
};

struct df_cli_fb_state {
  struct df_cli *cli;
  bool done;
  int status;
  char message[DF_FASTBOOT_RESPONSE_MAX + 1];
  char *info[DF_CLI_FB_MAX_INFO];
  int ninfo;
};

/* Text from the phone for a terminal: control bytes escaped, tabs kept (ABL
 * starts some FAIL texts with one). */
static void
df_cli_fb_print_phone_text(FILE *f, const char *text)
{
  char piece[DF_FASTBOOT_RESPONSE_MAX + 1], safe[4 * DF_FASTBOOT_RESPONSE_MAX + 8];
  const char *p = text;

  for (;;) {
    size_t n = strcspn(p, "\t");
    if (n >= sizeof(piece)) n = sizeof(piece) - 1;
    memcpy(piece, p, n);
    piece[n] = '\0';
    df_cli_safe_text(piece, safe, sizeof(safe));
    fputs(safe, f);
    p += n;
    if (*p != '\t') break;
    fputc('\t', f);
    p++;
  }
}

static void
df_cli_fb_on_info(void *userdata, const char *text)
{
  struct df_cli_fb_state *st = userdata;
  /* Shown as it arrives: a long oem command prints while it works. With
   * --json stdout holds one object, so the lines go to stderr meanwhile. */
  FILE *f = st->cli->json ? st->cli->err : st->cli->out;

  if (!st->cli->json || !st->cli->quiet) {
    fputs("(bootloader) ", f);
    df_cli_fb_print_phone_text(f, text);
    fputc('\n', f);
    fflush(f);
  }
  if (st->ninfo < DF_CLI_FB_MAX_INFO) st->info[st->ninfo++] = strdup(text);
}

static void
df_cli_fb_on_done(void *userdata, int status, const char *message)
{
  struct df_cli_fb_state *st = userdata;

  st->status = status;
  snprintf(st->message, sizeof(st->message), "%s", message != NULL ? message : "");
  st->done = true;
}

static void
df_cli_fb_state_clear(struct df_cli_fb_state *st)
{
  for (int i = 0; i < st->ninfo; i++) free(st->info[i]);
  st->ninfo = 0;
  st->done = false;
  st->status = 0;
  st->message[0] = '\0';
}

/* Sends one command and runs the loop until the phone answered. */
static void
df_cli_fb_exec(struct df_cli_session *s, const char *command, struct df_cli_fb_state *st)
{
  int rc = df_fastboot_command(s->dev->fastboot, command, df_cli_fb_on_info, df_cli_fb_on_done, st);

  if (rc != DF_OK) {
    st->status = rc;
    return;
  }
  df_cli_session_run_until(s, &st->done);
}

/* Before a command that cannot be undone: --yes, or a "y" on the terminal.
 * Without a terminal (or with --json) and without --yes it is refused,
 * never waited for. Returns true to go on. */
static bool
df_cli_fb_confirm(struct df_cli *cli, const struct df_cli_args *args, const struct df_device *dev,
                  const char *what)
{
  char line[16];

  if (df_cli_option_count(args, "yes") > 0) return true;
  fprintf(cli->err, "droidfix: %s on %s (%s)?\n", what, dev->serial,
          dev->codename[0] ? dev->codename : "?");
  fprintf(cli->err, "Type y to go on, anything else to stop: ");
  fflush(cli->err);
  if (fgets(line, sizeof(line), stdin) == NULL) return false;
  return line[0] == 'y' || line[0] == 'Y';
}

static bool
df_cli_fb_can_ask(const struct df_cli *cli, const struct df_cli_args *args)
{
  return df_cli_option_count(args, "yes") > 0 ||
         (!cli->json && isatty(STDIN_FILENO) && isatty(STDERR_FILENO));
}

static void
df_cli_fb_json_info(struct df_json *j, const struct df_cli_fb_state *st)
{
  df_json_key(j, "info");
  df_json_array_begin(j);
  for (int i = 0; i < st->ninfo; i++)
    if (st->info[i] != NULL) df_json_string(j, st->info[i]);
  df_json_array_end(j);
}

/* The verb's result: OKAY (exit 0), FAIL in the phone's words, or another
 * error (exit 1). */
static int
df_cli_fb_report(struct df_cli *cli, const struct df_device *dev, const char *verb,
                 const char *command, const struct df_cli_fb_state *st)
{
  struct df_json j;

  if (st->status == DF_OK) {
    if (cli->json) {
      df_json_init(&j, cli->out);
      df_json_object_begin(&j);
      df_json_kv_bool(&j, "ok", true);
      df_json_kv_string(&j, "serial", dev->serial);
      df_json_kv_string(&j, "command", command);
      df_json_kv_string(&j, "message", st->message);
      df_cli_fb_json_info(&j, st);
      df_json_object_end(&j);
      return DF_CLI_EXIT_OK;
    }
    if (st->message[0] != '\0') {
      fputs("OKAY ", cli->out);
      df_cli_fb_print_phone_text(cli->out, st->message);
      fputc('\n', cli->out);
    }
    if (!cli->quiet) fprintf(cli->err, "droidfix: %s: done on %s\n", verb, dev->serial);
    return DF_CLI_EXIT_OK;
  }
  if (st->status == DF_EDEVFAIL) {
    df_log_error("%s: the phone answered FAIL to '%s'", verb, command);
    if (cli->json) {
      df_json_init(&j, cli->out);
      df_json_object_begin(&j);
      df_json_kv_bool(&j, "ok", false);
      df_json_kv_string(&j, "serial", dev->serial);
      df_json_kv_string(&j, "command", command);
      df_cli_fb_json_info(&j, st);
      df_json_key(&j, "error");
      df_json_object_begin(&j);
      df_json_kv_string(&j, "name", df_error_name(DF_EDEVFAIL));
      df_json_kv_int(&j, "code", DF_EDEVFAIL);
      df_json_kv_string(&j, "message", st->message); /* as the phone wrote it */
      df_json_object_end(&j);
      df_json_object_end(&j);
    } else {
      fputs("FAIL ", cli->err);
      df_cli_fb_print_phone_text(cli->err, st->message);
      fputc('\n', cli->err);
    }
    return DF_CLI_EXIT_FAILED;
  }
  return df_cli_fail(cli, NULL, st->status, "%s: '%s' failed: %s", verb, command,
                     df_strerror(st->status));
}

/* Opens the phone and checks it is in the fastboot `where` says. Returns
 * DF_CLI_EXIT_OK with the session open, or an exit code (session closed). */
static int
df_cli_fb_open(struct df_cli *cli, struct df_cli_session *s, const char *verb,
               enum df_cli_fb_where where)
{
  int rc = df_cli_session_open(cli, s);

  if (rc != DF_CLI_EXIT_OK) return rc;
  if (s->dev->fastboot == NULL)
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED,
                     "the phone is in %s mode; %s needs fastboot: run 'droidfix reboot %s' first",
                     df_device_mode_name(s->dev->mode), verb,
                     where == DF_CLI_FB_FASTBOOTD ? "fastboot" : "bootloader");
  else if (where == DF_CLI_FB_FASTBOOTD && s->dev->mode != DF_DEVICE_FASTBOOTD)
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED,
                     "the phone is in the bootloader; %s needs fastbootd (logical partitions "
                     "live there): run 'droidfix reboot fastboot' first",
                     verb);
  else if (where == DF_CLI_FB_BOOTLOADER && s->dev->mode != DF_DEVICE_BOOTLOADER)
    rc = df_cli_fail(cli, NULL, DF_EUNSUPPORTED,
                     "the phone is in fastbootd; %s is the bootloader's command: run 'droidfix "
                     "reboot bootloader' first",
                     verb);
  if (rc != DF_CLI_EXIT_OK) df_cli_session_close(s);
  return rc;
}

/* The common path: one command, maybe confirmed first (confirm names what
 * is at stake, NULL for a harmless command). */
static int
df_cli_fb_run_command(struct df_cli *cli, const struct df_cli_args *args, const char *verb,
                      const char *command, enum df_cli_fb_where where, const char *confirm)
{
  struct df_cli_session s;
  struct df_cli_fb_state st = {.cli = cli};
  int rc;

  if (strlen(command) > DF_FASTBOOT_COMMAND_MAX)
    return df_cli_usage_error(cli, args->verb, "'%s' is longer than the %d bytes fastboot allows",
                              command, DF_FASTBOOT_COMMAND_MAX);
  if (confirm != NULL && !df_cli_fb_can_ask(cli, args))
    return df_cli_fail(cli, NULL, DF_EPERM,
                       "%s: refused without a yes (%s): run it on a terminal, or add --yes",
                       verb, confirm);
  rc = df_cli_fb_open(cli, &s, verb, where);
  if (rc != DF_CLI_EXIT_OK) return rc;
  if (confirm != NULL && !df_cli_fb_confirm(cli, args, s.dev, confirm)) {
    df_cli_session_close(&s);
    return df_cli_fail(cli, NULL, DF_ECANCELED, "%s: stopped, nothing was sent", verb);
  }
  df_cli_fb_exec(&s, command, &st);
  rc = df_cli_fb_report(cli, s.dev, verb, command, &st);
  df_cli_fb_state_clear(&st);
  df_cli_session_close(&s);
  return rc;
}

/* A size as fastbootd reads it (ParseUint): decimal, or hex after 0x. */
static bool
df_cli_fb_size_ok(const char *text)
{
  char *end;

  if (text[0] == '\0' || text[0] == '-' || text[0] == '+') return false;
  errno = 0;
  strtoull(text, &end, strncmp(text, "0x", 2) == 0 || strncmp(text, "0X", 2) == 0 ? 16 : 10);
  return errno == 0 && *end == '\0';
}

/* A partition name: what a fastboot command can carry (no ':' or space). */
static bool
df_cli_fb_name_ok(const char *name)
{
  return name[0] != '\0' && strcspn(name, ": \t\r\n") == strlen(name);
}

/* ---- oem ---- */

static int
df_cli_oem_run(struct df_cli *cli, const struct df_cli_args *args)
{
  char command[DF_FASTBOOT_COMMAND_MAX * 2] = "oem";
  const char *confirm = NULL;

  if (args->positional_count == 0)
    return df_cli_usage_error(cli, args->verb, "oem takes the command to send, e.g. device-info");
  for (size_t i = 0; i < args->positional_count; i++) {
    size_t len = strlen(command);
    if (len + 1 + strlen(args->positional[i]) >= sizeof(command))
      return df_cli_usage_error(cli, args->verb, "the oem command is longer than the %d bytes "
                                "fastboot allows", DF_FASTBOOT_COMMAND_MAX);
    snprintf(command + len, sizeof(command) - len, " %s", args->positional[i]);
  }
  /* Older bootloaders lock and unlock with oem; unlocking wipes the phone. */
  if (strcmp(command, "oem unlock") == 0 || strcmp(command, "oem lock") == 0)
    confirm = strcmp(command, "oem unlock") == 0
                ? "unlocking the bootloader wipes all user data on the phone"
                : "locking the bootloader of a phone with modified software can stop it booting";
  return df_cli_fb_run_command(cli, args, "oem", command, DF_CLI_FB_ANY, confirm);
}

const struct df_cli_verb df_cli_verb_oem = {
  .name = "oem",
  .summary = "send a vendor's fastboot oem command",
  .usage = "oem ARGS... [--yes]",
  .help = "Sends \"oem ARGS\" to a phone in fastboot, as `fastboot oem` does, e.g.\n"
          "`droidfix oem device-info`. What oem commands exist is up to the phone's\n"
          "vendor. INFO lines are printed as they arrive, \"(bootloader) TEXT\"; a\n"
          "FAIL is printed as the phone wrote it and gives exit status 1. `oem\n"
          "unlock` and `oem lock` ask first (--yes answers; without a terminal and\n"
          "without --yes they are refused).\n",
  .options = df_cli_fb_confirm_options,
  .run = df_cli_oem_run,
};

/* ---- flashing ---- */

struct df_cli_flashing_action {
  const char *name;
  const char *confirm; /* NULL: harmless */
};

static const struct df_cli_flashing_action df_cli_flashing_actions[] = {
  {"unlock", "unlocking the bootloader wipes all user data on the phone"},
  {"lock", "locking the bootloader wipes all user data, and a phone with modified software "
           "may stop booting"},
  {"unlock_critical", "unlocking critical partitions (bootloader firmware) wipes all user data "
                      "on the phone"},
  {"lock_critical", "locking critical partitions wipes all user data on the phone"},
  {"get_unlock_ability", NULL},
};

static int
df_cli_flashing_run(struct df_cli *cli, const struct df_cli_args *args)
{
  const struct df_cli_flashing_action *action = NULL;
  char command[64];

  if (args->positional_count != 1)
    return df_cli_usage_error(cli, args->verb, "flashing takes one of lock, unlock, "
                              "lock_critical, unlock_critical, get_unlock_ability");
  for (size_t i = 0; i < sizeof(df_cli_flashing_actions) / sizeof(*df_cli_flashing_actions); i++)
    if (strcmp(df_cli_flashing_actions[i].name, args->positional[0]) == 0)
      action = &df_cli_flashing_actions[i];
  if (action == NULL)
    return df_cli_usage_error(cli, args->verb, "unknown 'flashing %s': use lock, unlock, "
                              "lock_critical, unlock_critical or get_unlock_ability",
                              args->positional[0]);
  snprintf(command, sizeof(command), "flashing %s", action->name);
  return df_cli_fb_run_command(cli, args, "flashing", command, DF_CLI_FB_BOOTLOADER,
                               action->confirm);
}

const struct df_cli_verb df_cli_verb_flashing = {
  .name = "flashing",
  .summary = "lock or unlock the bootloader (asks first)",
  .usage = "flashing lock|unlock|lock_critical|unlock_critical|get_unlock_ability [--yes]",
  .help = "Sends \"flashing ACTION\" to a phone in the bootloader, as `fastboot\n"
          "flashing` does. Locking and unlocking wipe the phone's user data (and\n"
          "most phones show a screen where their user has to agree with the volume\n"
          "and power keys), so droidfix asks first: --yes answers; without a\n"
          "terminal and without --yes it refuses. get_unlock_ability only asks. A\n"
          "phone that refuses (\"Device already : locked!\", \"Flashing Unlock is not\n"
          "allowed\") is shown in its own words, with exit status 1.\n",
  .options = df_cli_fb_confirm_options,
  .run = df_cli_flashing_run,
};

/* ---- erase ---- */

static int
df_cli_erase_run(struct df_cli *cli, const struct df_cli_args *args)
{
  char command[DF_FASTBOOT_COMMAND_MAX * 2], confirm[300];

  if (args->positional_count != 1 || !df_cli_fb_name_ok(args->positional[0]))
    return df_cli_usage_error(cli, args->verb, "erase takes one PARTITION (e.g. cache)");
  snprintf(command, sizeof(command), "erase:%s", args->positional[0]);
  snprintf(confirm, sizeof(confirm), "erasing %s deletes everything on that partition%s",
           args->positional[0],
           strncmp(args->positional[0], "userdata", 8) == 0 ? ": the phone's apps, photos "
                                                             "and files"
                                                           : "");
  return df_cli_fb_run_command(cli, args, "erase", command, DF_CLI_FB_ANY, confirm);
}

const struct df_cli_verb df_cli_verb_erase = {
  .name = "erase",
  .summary = "erase a partition (asks first)",
  .usage = "erase PARTITION [--yes]",
  .help = "Sends \"erase:PARTITION\" to a phone in fastboot, as `fastboot erase`\n"
          "does. The partition's name goes as given: add the slot suffix yourself\n"
          "(boot_a) where the phone has slots. droidfix asks first (--yes answers;\n"
          "without a terminal and without --yes it refuses). A locked phone refuses\n"
          "in its own words, with exit status 1.\n",
  .options = df_cli_fb_confirm_options,
  .run = df_cli_erase_run,
};

/* ---- set-active ---- */

static int
df_cli_set_active_run(struct df_cli *cli, const struct df_cli_args *args)
{
  char command[32];
  const char *slot;

  if (args->positional_count != 1)
    return df_cli_usage_error(cli, args->verb, "set-active takes one slot: a or b");
  slot = args->positional[0];
  if (slot[0] == '_') slot++; /* fastboot takes "_a" too */
  if (strcmp(slot, "a") != 0 && strcmp(slot, "b") != 0)
    return df_cli_usage_error(cli, args->verb, "unknown slot '%s': use a or b",
                              args->positional[0]);
  snprintf(command, sizeof(command), "set_active:%s", slot);
  return df_cli_fb_run_command(cli, args, "set-active", command, DF_CLI_FB_ANY, NULL);
}

const struct df_cli_verb df_cli_verb_set_active = {
  .name = "set-active",
  .summary = "make slot a or b the one the phone boots",
  .usage = "set-active a|b",
  .help = "Sends \"set_active:SLOT\" to a phone in fastboot, as `fastboot\n"
          "--set-active` does, on phones with A/B slots. `droidfix getvar\n"
          "current-slot` shows the slot in use.\n",
  .run = df_cli_set_active_run,
};

/* ---- logical partitions (fastbootd) ---- */

static int
df_cli_logical_run(struct df_cli *cli, const struct df_cli_args *args, const char *verb,
                   bool with_size, const char *confirm_fmt)
{
  char command[DF_FASTBOOT_COMMAND_MAX * 2], confirm[300];
  const char *name;

  if (args->positional_count != (with_size ? 2u : 1u))
    return df_cli_usage_error(cli, args->verb, "%s takes %s", verb,
                              with_size ? "NAME and SIZE (bytes)" : "one NAME");
  name = args->positional[0];
  if (!df_cli_fb_name_ok(name))
    return df_cli_usage_error(cli, args->verb, "bad partition name '%s'", name);
  if (with_size && !df_cli_fb_size_ok(args->positional[1]))
    return df_cli_usage_error(cli, args->verb, "SIZE is bytes, in decimal or 0x hex: got '%s'",
                              args->positional[1]);
  if (with_size)
    snprintf(command, sizeof(command), "%s:%s:%s", verb, name, args->positional[1]);
  else
    snprintf(command, sizeof(command), "%s:%s", verb, name);
  if (confirm_fmt != NULL) snprintf(confirm, sizeof(confirm), confirm_fmt, name);
  return df_cli_fb_run_command(cli, args, verb, command, DF_CLI_FB_FASTBOOTD,
                               confirm_fmt != NULL ? confirm : NULL);
}

static int
df_cli_create_logical_run(struct df_cli *cli, const struct df_cli_args *args)
{
  return df_cli_logical_run(cli, args, "create-logical-partition", true, NULL);
}

static int
df_cli_resize_logical_run(struct df_cli *cli, const struct df_cli_args *args)
{
  return df_cli_logical_run(cli, args, "resize-logical-partition", true,
                            "resizing %s can cut off what it holds");
}

static int
df_cli_delete_logical_run(struct df_cli *cli, const struct df_cli_args *args)
{
  return df_cli_logical_run(cli, args, "delete-logical-partition", false,
                            "deleting %s loses what it holds");
}

#define DF_CLI_LOGICAL_HELP_TAIL                                                          \
  "Only fastbootd (the userspace fastboot of phones with dynamic partitions)\n"          \
  "has logical partitions: `droidfix reboot fastboot --wait` gets there. The\n"          \
  "name goes as given: add the slot suffix (system_a) where the phone has\n"             \
  "slots. SIZE is in bytes, decimal or 0x hex. `droidfix getvar\n"                       \
  "partition-size:NAME` shows the size afterwards. A FAIL is shown as the\n"             \
  "phone wrote it, with exit status 1.\n"

const struct df_cli_verb df_cli_verb_create_logical_partition = {
  .name = "create-logical-partition",
  .summary = "create a logical partition (fastbootd)",
  .usage = "create-logical-partition NAME SIZE",
  .help = "Sends \"create-logical-partition:NAME:SIZE\" to a phone in fastbootd.\n"
          DF_CLI_LOGICAL_HELP_TAIL,
  .run = df_cli_create_logical_run,
};

const struct df_cli_verb df_cli_verb_resize_logical_partition = {
  .name = "resize-logical-partition",
  .summary = "resize a logical partition (fastbootd; asks first)",
  .usage = "resize-logical-partition NAME SIZE [--yes]",
  .help = "Sends \"resize-logical-partition:NAME:SIZE\" to a phone in fastbootd.\n"
          "Shrinking cuts off what is beyond the new size, so droidfix asks first\n"
          "(--yes answers; without a terminal and without --yes it refuses).\n"
          DF_CLI_LOGICAL_HELP_TAIL,
  .options = df_cli_fb_confirm_options,
  .run = df_cli_resize_logical_run,
};

const struct df_cli_verb df_cli_verb_delete_logical_partition = {
  .name = "delete-logical-partition",
  .summary = "delete a logical partition (fastbootd; asks first)",
  .usage = "delete-logical-partition NAME [--yes]",
  .help = "Sends \"delete-logical-partition:NAME\" to a phone in fastbootd. droidfix\n"
          "asks first (--yes answers; without a terminal and without --yes it\n"
          "refuses).\n" DF_CLI_LOGICAL_HELP_TAIL,
  .options = df_cli_fb_confirm_options,
  .run = df_cli_delete_logical_run,
};

/* ---- update-super ---- */

struct df_cli_fb_file {
  FILE *f;
};

static long
df_cli_fb_file_read(void *ctx, uint8_t *buf, size_t len)
{
  struct df_cli_fb_file *file = ctx;
  size_t n = fread(buf, 1, len, file->f);

  if (n == 0 && ferror(file->f)) return DF_EIO;
  return (long)n;
}

static int
df_cli_update_super_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_session s;
  struct df_cli_fb_state st = {.cli = cli};
  struct df_cli_fb_file file = {NULL};
  struct df_fastboot_source src = {df_cli_fb_file_read, &file, 0};
  char super_name[DF_FASTBOOT_RESPONSE_MAX + 1] = "super";
  char command[DF_FASTBOOT_RESPONSE_MAX + 32];
  const char *path;
  bool wipe = df_cli_option_count(args, "wipe") > 0;
  long size;
  int rc;

  if (args->positional_count != 1)
    return df_cli_usage_error(cli, args->verb, "update-super takes one IMAGE (super_empty.img)");
  path = args->positional[0];
  file.f = fopen(path, "rb");
  if (file.f == NULL)
    return df_cli_fail(cli, path, errno == ENOENT ? DF_ENOENT : DF_EIO, "cannot read %s: %s",
                       path, strerror(errno));
  if (fseek(file.f, 0, SEEK_END) != 0 || (size = ftell(file.f)) <= 0 ||
      fseek(file.f, 0, SEEK_SET) != 0) {
    fclose(file.f);
    return df_cli_fail(cli, path, DF_EINVAL, "%s is empty or cannot be read", path);
  }
  src.size = (uint64_t)size;
  if (!df_cli_fb_can_ask(cli, args)) {
    fclose(file.f);
    return df_cli_fail(cli, NULL, DF_EPERM, "update-super: replacing the phone's partition table "
                       "needs a yes: run it on a terminal, or add --yes");
  }
  rc = df_cli_fb_open(cli, &s, "update-super", DF_CLI_FB_FASTBOOTD);
  if (rc != DF_CLI_EXIT_OK) {
    fclose(file.f);
    return rc;
  }
  if (!df_cli_fb_confirm(cli, args, s.dev,
                         wipe ? "replacing the partition table and wiping every logical partition"
                              : "replacing the phone's partition table of logical partitions")) {
    fclose(file.f);
    df_cli_session_close(&s);
    return df_cli_fail(cli, NULL, DF_ECANCELED, "update-super: stopped, nothing was sent");
  }
  /* The super partition's name, as fastboot's FlashAllTool asks it. */
  df_cli_fb_exec(&s, "getvar:super-partition-name", &st);
  if (st.status == DF_OK && st.message[0] != '\0' && df_cli_fb_name_ok(st.message))
    snprintf(super_name, sizeof(super_name), "%s", st.message);
  df_cli_fb_state_clear(&st);
  rc = df_fastboot_download(s.dev->fastboot, &src, NULL, df_cli_fb_on_info, df_cli_fb_on_done, &st);
  if (rc != DF_OK) st.status = rc;
  else df_cli_session_run_until(&s, &st.done);
  fclose(file.f);
  if (st.status != DF_OK) {
    snprintf(command, sizeof(command), "download:%08lx", size);
    rc = df_cli_fb_report(cli, s.dev, "update-super", command, &st);
    df_cli_fb_state_clear(&st);
    df_cli_session_close(&s);
    return rc;
  }
  df_cli_fb_state_clear(&st);
  snprintf(command, sizeof(command), "update-super:%s%s", super_name, wipe ? ":wipe" : "");
  df_cli_fb_exec(&s, command, &st);
  rc = df_cli_fb_report(cli, s.dev, "update-super", command, &st);
  df_cli_fb_state_clear(&st);
  df_cli_session_close(&s);
  return rc;
}

const struct df_cli_verb df_cli_verb_update_super = {
  .name = "update-super",
  .summary = "replace the logical partition table (fastbootd; asks first)",
  .usage = "update-super IMAGE [--wipe] [--yes]",
  .help = "Downloads IMAGE (a factory image's super_empty.img) to a phone in\n"
          "fastbootd and sends \"update-super:NAME\" (NAME from getvar\n"
          "super-partition-name), as fastboot's flashall does; --wipe adds \":wipe\",\n"
          "which drops the contents of every logical partition. droidfix asks first\n"
          "(--yes answers; without a terminal and without --yes it refuses).\n",
  .options = df_cli_fb_update_super_options,
  .run = df_cli_update_super_run,
};
