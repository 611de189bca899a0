/* settings (SettingsProvider's SettingsService shell command: get, put,
 * delete, list), getprop and setprop (system/core/toolbox getprop.cpp and
 * setprop.cpp formats). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

static int
settings_usage(struct df_sim_sh *sh)
{
  df_sim_buf_printf(&sh->o->out,
                    "Settings provider (settings) commands:\n"
                    "  help\n"
                    "      Print this help text.\n"
                    "  get [--user <USER_ID> | current] NAMESPACE KEY\n"
                    "      Retrieve the current value of KEY.\n"
                    "  put [--user <USER_ID> | current] NAMESPACE KEY VALUE [TAG] [default]\n"
                    "      Change the contents of KEY to VALUE.\n"
                    "  delete [--user <USER_ID> | current] NAMESPACE KEY\n"
                    "      Delete the entry for KEY.\n"
                    "  list [--user <USER_ID> | current] NAMESPACE\n"
                    "      Print all defined keys.\n"
                    "\n"
                    "NAMESPACE is one of {system, secure, global}, case-insensitive\n");
  return 0;
}

int
df_sim_cmd_settings(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0) {
    return settings_usage(sh);
  }
  const char *verb = argv[1];
  int i = 2;
  if (i + 1 < argc && strcmp(argv[i], "--user") == 0) {
    i += 2;
  }
  if (i >= argc) {
    df_sim_buf_printf(&sh->o->err, "Invalid arguments\n");
    settings_usage(sh);
    return 255;
  }
  char nsname[16];
  snprintf(nsname, sizeof(nsname), "%s", argv[i]);
  for (char *p = nsname; *p; p++) {
    *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
  }
  int ns = df_sim_settings_ns_parse(nsname);
  if (ns < 0) {
    df_sim_buf_printf(&sh->o->err, "Invalid namespace '%s'\n", argv[i]);
    return 255;
  }
  i++;
  struct df_sim_kvs *m = &sh->phone->settings[ns];
  if (strcmp(verb, "get") == 0 && i < argc) {
    const char *v = df_sim_kvs_get(m, argv[i]);
    df_sim_buf_printf(&sh->o->out, "%s\n", v ? v : "null");
    return 0;
  }
  if (strcmp(verb, "put") == 0 && i + 1 < argc) {
    df_sim_kvs_set(m, argv[i], argv[i + 1]);
    if (ns == DF_SIM_NS_GLOBAL && strcmp(argv[i], "auto_time") == 0 &&
        strcmp(argv[i + 1], "1") == 0) {
      /* Automatic time on: the phone takes the network's time at once. */
      sh->phone->clock_offset_s = 0;
    }
    df_sim_phone_changed(sh->phone);
    return 0;
  }
  if (strcmp(verb, "delete") == 0 && i < argc) {
    bool had = df_sim_kvs_del(m, argv[i]);
    df_sim_phone_changed(sh->phone);
    df_sim_buf_printf(&sh->o->out, "Deleted %d rows\n", had ? 1 : 0);
    return 0;
  }
  if (strcmp(verb, "list") == 0) {
    for (size_t k = 0; k < m->n; k++) {
      df_sim_buf_printf(&sh->o->out, "%s=%s\n", m->v[k].key, m->v[k].value);
    }
    return 0;
  }
  df_sim_buf_printf(&sh->o->err, "Invalid command: %s\n", verb);
  return 255;
}

int
df_sim_cmd_getprop(struct df_sim_sh *sh, int argc, char **argv)
{
  struct df_sim_kvs *p = &sh->phone->props;
  if (argc >= 2) {
    const char *v = df_sim_kvs_get(p, argv[1]);
    df_sim_buf_printf(&sh->o->out, "%s\n", v ? v : (argc >= 3 ? argv[2] : ""));
    return 0;
  }
  /* getprop.cpp prints every property sorted, as "[name]: [value]". */
  for (size_t k = 0; k < p->n; k++) {
    df_sim_buf_printf(&sh->o->out, "[%s]: [%s]\n", p->v[k].key, p->v[k].value);
  }
  return 0;
}

/* What SELinux lets the shell domain set (AOSP system/sepolicy shell.te,
 * property_contexts: debug_prop, log_prop, ...). */
static bool
shell_may_set(const char *name)
{
  static const char *const prefixes[] = {"debug.", "log.", "persist.log.", "persist.debug.",
                                         "persist.logd.", "persist.traced.", "vendor.debug."};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
      return true;
    }
  }
  return false;
}

int
df_sim_cmd_setprop(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc != 3) {
    df_sim_buf_printf(&sh->o->err, "usage: setprop NAME VALUE\n\nSets an Android system property.\n");
    return 1;
  }
  const char *name = argv[1], *value = argv[2];
  bool ro_taken = strncmp(name, "ro.", 3) == 0 && df_sim_kvs_get(&sh->phone->props, name);
  if (ro_taken || (!sh->root && !shell_may_set(name)) || strlen(value) > 91 ||
      name[0] == '\0') {
    df_sim_buf_printf(&sh->o->err,
                      "Failed to set property '%s' to '%s'.\nSee dmesg for error reason.\n", name,
                      value);
    return 1;
  }
  df_sim_kvs_set(&sh->phone->props, name, value);
  df_sim_phone_changed(sh->phone);
  return 0;
}
