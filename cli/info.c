/* droidfix info: what matters for a repair, read from the phone (system
 * properties over ADB, variables in fastboot) and the device file that
 * describes it (or the generic fallback, said as such). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "cli/session.h"
#include "core/error.h"
#include "lua-api/device_file.h"
#include "plugins/adb/adb_shell.h"

/* Properties a repair looks at. */
static const char *const df_cli_info_props[] = {
  "ro.product.manufacturer", "ro.product.brand", "ro.product.model", "ro.product.device",
  "ro.product.name", "ro.build.version.release", "ro.build.version.sdk",
  "ro.build.version.incremental", "ro.build.fingerprint", "ro.serialno",
  "ro.boot.slot_suffix", "ro.boot.verifiedbootstate", "ro.boot.flash.locked",
  "ro.debuggable", "sys.boot_completed", "persist.sys.safemode",
};

/* Fastboot variables a repair looks at. */
static const char *const df_cli_info_vars[] = {
  "product", "serialno", "version-bootloader", "version-baseband", "secure", "unlocked",
  "current-slot", "slot-count", "max-download-size", "is-userspace", "anti",
};

#define DF_CLI_INFO_MAX 32

struct df_cli_info {
  bool done;
  int status;
  const char *names[DF_CLI_INFO_MAX];
  char values[DF_CLI_INFO_MAX][256];
  int count;
  int next;
  struct df_device *dev;
};

const char *df_cli_devices_dir(void);

const char *
df_cli_devices_dir(void)
{
  const char *env = getenv("DROIDFIX_DEVICES");
  return env != NULL && *env != '\0' ? env : DF_SOURCE_DIR "/devices";
}

/* "[ro.product.model]: [23113RKC6C]" lines of getprop. */
static void
df_cli_info_on_getprop(void *userdata, int status, int exit_code, const char *out,
                       size_t out_len, const char *err, size_t err_len)
{
  struct df_cli_info *info = userdata;
  size_t n = sizeof(df_cli_info_props) / sizeof(*df_cli_info_props);

  info->status = status;
  for (size_t i = 0; i < n && status == DF_OK; i++) {
    char key[128];
    snprintf(key, sizeof(key), "[%s]: [", df_cli_info_props[i]);
    info->names[info->count] = df_cli_info_props[i];
    info->values[info->count][0] = '\0';
    const char *at = strstr(out, key);
    if (at != NULL) {
      at += strlen(key);
      const char *end = strchr(at, ']');
      size_t len = end != NULL ? (size_t)(end - at) : 0;
      if (len >= sizeof(info->values[0])) len = sizeof(info->values[0]) - 1;
      memcpy(info->values[info->count], at, len);
      info->values[info->count][len] = '\0';
    }
    info->count++;
  }
  info->done = true;
}

static void df_cli_info_next_var(struct df_cli_info *info);

static void
df_cli_info_on_var(void *userdata, int status, const char *message)
{
  struct df_cli_info *info = userdata;

  info->names[info->count] = df_cli_info_vars[info->next];
  snprintf(info->values[info->count], sizeof(info->values[0]), "%s",
           status == DF_OK ? message : "");
  info->count++;
  info->next++;
  if (status != DF_OK && status != DF_EDEVFAIL) {
    info->status = status;
    info->done = true;
    return;
  }
  df_cli_info_next_var(info);
}

static void
df_cli_info_next_var(struct df_cli_info *info)
{
  char cmd[80];

  if ((size_t)info->next >= sizeof(df_cli_info_vars) / sizeof(*df_cli_info_vars)) {
    info->done = true;
    return;
  }
  snprintf(cmd, sizeof(cmd), "getvar:%s", df_cli_info_vars[info->next]);
  int rc = df_fastboot_command(info->dev->fastboot, cmd, NULL, df_cli_info_on_var, info);
  if (rc != DF_OK) {
    info->status = rc;
    info->done = true;
  }
}

static const char *
df_cli_info_value(const struct df_cli_info *info, const char *name)
{
  for (int i = 0; i < info->count; i++)
    if (strcmp(info->names[i], name) == 0) return info->values[i];
  return "";
}

static void
df_cli_info_print(struct df_cli *cli, const struct df_cli_info *info,
                  const struct df_device_match *m)
{
  const struct df_device *dev = info->dev;
  char safe[600];

  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", true);
    df_json_kv_string(&j, "serial", dev->serial);
    df_json_kv_string(&j, "mode", df_device_mode_name(dev->mode));
    df_json_kv_string(&j, "transport", dev->transport);
    df_json_kv_string(&j, "model_file", m->id);
    df_json_kv_bool(&j, "model_fallback", m->fallback);
    df_json_kv_string(&j, "model_reason", m->reason);
    df_json_key(&j, dev->adb != NULL ? "properties" : "variables");
    df_json_object_begin(&j);
    for (int i = 0; i < info->count; i++) df_json_kv_string(&j, info->names[i], info->values[i]);
    df_json_object_end(&j);
    df_json_object_end(&j);
    return;
  }
  fprintf(cli->out, "serial: %s\nmode: %s\ntransport: %s\n", dev->serial,
          df_device_mode_name(dev->mode), dev->transport);
  df_cli_safe_text(m->reason, safe, sizeof(safe));
  fprintf(cli->out, "device file: devices/%s.lua%s\n  (%s)\n", m->id,
          m->fallback ? " (fallback)" : "", safe);
  for (int i = 0; i < info->count; i++) {
    df_cli_safe_text(info->values[i], safe, sizeof(safe));
    fprintf(cli->out, "%s: %s\n", info->names[i], safe[0] ? safe : "-");
  }
}

static int
df_cli_info_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_session s;
  struct df_cli_info *info;
  struct df_device_query q = {NULL, NULL, -1, -1};
  struct df_device_match m;
  char err[512];
  int rc;

  rc = df_cli_session_open(cli, &s);
  if (rc != DF_CLI_EXIT_OK) return rc;
  info = calloc(1, sizeof(*info));
  if (info == NULL) {
    df_cli_session_close(&s);
    return df_cli_fail(cli, NULL, DF_ENOMEM, "out of memory");
  }
  info->dev = s.dev;
  if (s.dev->adb != NULL)
    rc = df_adb_shell_capture(s.dev->adb, "getprop", 1 << 20, df_cli_info_on_getprop, info);
  else
    rc = DF_OK, df_cli_info_next_var(info);
  if (rc == DF_OK) df_cli_session_run_until(&s, &info->done);
  else info->status = rc;
  if (info->status != DF_OK) {
    rc = df_cli_fail(cli, NULL, info->status, "cannot read the phone's %s",
                     s.dev->adb != NULL ? "properties" : "variables");
    goto out;
  }
  q.device = s.dev->adb != NULL ? df_cli_info_value(info, "ro.product.device")
                                : df_cli_info_value(info, "product");
  q.model = s.dev->adb != NULL ? df_cli_info_value(info, "ro.product.model") : NULL;
  memset(&m, 0, sizeof(m));
  if (df_device_match(df_cli_devices_dir(), &q, &m, err, sizeof(err)) != DF_OK) {
    snprintf(m.id, sizeof(m.id), "%s", DF_DEVICE_FALLBACK_ID);
    m.fallback = true;
    snprintf(m.reason, sizeof(m.reason), "the device files could not be read");
  }
  df_cli_info_print(cli, info, &m);
  rc = DF_CLI_EXIT_OK;
out:
  free(info);
  df_cli_session_close(&s);
  return rc;
}

const struct df_cli_verb df_cli_verb_info = {
  .name = "info",
  .summary = "what matters for a repair: properties, fastboot variables, device file",
  .usage = "info",
  .help = "In Android or recovery: the system properties a repair looks at (model,\n"
          "codename, Android version, build, slot, verified boot state, boot\n"
          "completed, safe mode). In the bootloader or fastbootd: the fastboot\n"
          "variables (product, unlocked, current slot, max download size,\n"
          "anti-rollback, ...). Also which devices/ file describes the phone, or that\n"
          "droidfix falls back to the generic one and why.",
  .run = df_cli_info_run,
};
