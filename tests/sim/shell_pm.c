/* Package and activity commands: pm (= cmd package), am (= cmd activity),
 * cmd appops, cmd content, cmd connectivity, and the cmd dispatcher.
 * Output formats follow AOSP frameworks/base
 * services/core/java/com/android/server/pm/PackageManagerShellCommand.java
 * (runList, runPath, runClear, runSetEnabledSetting, runTrimCaches; the
 * install verbs are in shell_pm_install.c) and
 * AppOpsService's shell command "reset". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

static int
cmp_pkg_name(const void *a, const void *b)
{
  return strcmp((*(struct df_sim_package *const *)a)->name,
                (*(struct df_sim_package *const *)b)->name);
}

/* Skips "--user N" at argv[*i]; true if it was there. */
static bool
skip_user(int argc, char **argv, int *i)
{
  if (*i < argc && strcmp(argv[*i], "--user") == 0 && *i + 1 < argc) {
    *i += 2;
    return true;
  }
  return false;
}

static int
unknown_package(struct df_sim_sh *sh, const char *verb, const char *pkg)
{
  /* What a Java exception thrown inside a shell command looks like. */
  df_sim_buf_printf(&sh->o->err,
                    "Exception occurred while executing '%s':\n"
                    "java.lang.IllegalArgumentException: Unknown package: %s\n"
                    "\tat com.android.server.pm.PackageManagerService$IPackageManagerImpl.setApplicationEnabledSetting(PackageManagerService.java:5612)\n",
                    verb, pkg);
  return 255;
}

static int
pm_list_packages(struct df_sim_sh *sh, int argc, char **argv, int i)
{
  bool show_path = false, disabled = false, enabled = false, system = false, third = false;
  bool show_uid = false, show_installer = false;
  const char *filter = NULL;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (skip_user(argc, argv, &i)) {
      i--;
      continue;
    }
    if (a[0] == '-') {
      for (const char *f = a + 1; *f; f++) {
        switch (*f) {
        case 'f': show_path = true; break;
        case 'd': disabled = true; break;
        case 'e': enabled = true; break;
        case 's': system = true; break;
        case '3': third = true; break;
        case 'U': show_uid = true; break;
        case 'i': show_installer = true; break;
        case 'u': case 'a': break;
        default:
          df_sim_buf_printf(&sh->o->err, "Error: Unknown option: %s\n", a);
          return 255;
        }
      }
    } else {
      filter = a;
    }
  }
  struct df_sim_phone *phone = sh->phone;
  struct df_sim_package **v = calloc(phone->npkgs + 1, sizeof(*v));
  size_t n = 0;
  for (size_t k = 0; k < phone->npkgs; k++) {
    struct df_sim_package *p = &phone->pkgs[k];
    bool is_enabled = df_sim_pkg_is_enabled(p);
    if ((disabled && is_enabled) || (enabled && !is_enabled) || (system && !p->system) ||
        (third && p->system) || (filter && strstr(p->name, filter) == NULL)) {
      continue;
    }
    v[n++] = p;
  }
  qsort(v, n, sizeof(*v), cmp_pkg_name);
  for (size_t k = 0; k < n; k++) {
    struct df_sim_package *p = v[k];
    df_sim_buf_append(&sh->o->out, "package:", 8);
    if (show_path) {
      df_sim_buf_printf(&sh->o->out, "%s/%s=", p->code_path, p->apk);
    }
    df_sim_buf_printf(&sh->o->out, "%s", p->name);
    if (show_installer) {
      df_sim_buf_printf(&sh->o->out, "  installer=%s", p->system ? "null" : "com.android.vending");
    }
    if (show_uid) {
      df_sim_buf_printf(&sh->o->out, " uid:%d", p->uid);
    }
    df_sim_buf_append(&sh->o->out, "\n", 1);
  }
  free(v);
  return 0;
}

static int
pm_clear(struct df_sim_sh *sh, int argc, char **argv, int i)
{
  bool cache_only = false;
  /* Options come before the package (getNextOption). */
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (skip_user(argc, argv, &i)) {
      i--;
    } else if (strcmp(argv[i], "--cache-only") == 0) {
      cache_only = true;
    } else {
      df_sim_buf_printf(&sh->o->out, "Error: Unknown option: %s\n", argv[i]);
      return 1;
    }
  }
  if (i >= argc) {
    df_sim_buf_printf(&sh->o->err, "Error: no package specified\n");
    return 1;
  }
  struct df_sim_package *p = df_sim_pkg_find(sh->phone, argv[i]);
  if (p == NULL) {
    /* clearApplicationUserData reports failure for an unknown package. */
    df_sim_buf_printf(&sh->o->err, "Failed\n");
    return 1;
  }
  df_sim_pkg_clear(sh->phone, p, cache_only);
  df_sim_phone_changed(sh->phone);
  df_sim_buf_printf(&sh->o->out, "Success\n");
  return 0;
}

static int
pm_set_enabled(struct df_sim_sh *sh, const char *verb, int argc, char **argv, int i)
{
  skip_user(argc, argv, &i);
  if (i >= argc) {
    df_sim_buf_printf(&sh->o->err, "Error: no package or component specified\n");
    return 1;
  }
  const char *name = argv[i];
  char pkgname[256];
  snprintf(pkgname, sizeof(pkgname), "%s", name);
  char *slash = strchr(pkgname, '/');
  if (slash) {
    *slash = '\0';
  }
  struct df_sim_package *p = df_sim_pkg_find(sh->phone, pkgname);
  if (p == NULL) {
    return unknown_package(sh, verb, pkgname);
  }
  int state;
  if (strcmp(verb, "enable") == 0) {
    state = DF_SIM_ENABLED_ENABLED;
  } else if (strcmp(verb, "disable") == 0) {
    state = DF_SIM_ENABLED_DISABLED;
  } else if (strcmp(verb, "disable-user") == 0) {
    state = DF_SIM_ENABLED_DISABLED_USER;
  } else if (strcmp(verb, "disable-until-used") == 0) {
    state = DF_SIM_ENABLED_DISABLED_UNTIL_USED;
  } else {
    state = DF_SIM_ENABLED_DEFAULT;
  }
  if (state == DF_SIM_ENABLED_DISABLED && !sh->root) {
    /* Only the system may use COMPONENT_ENABLED_STATE_DISABLED. */
    df_sim_buf_printf(&sh->o->err,
                      "Exception occurred while executing '%s':\n"
                      "java.lang.SecurityException: Shell cannot change component state for %s to 2\n",
                      verb, pkgname);
    return 255;
  }
  if (slash == NULL) {
    p->enabled = state;
  }
  df_sim_phone_changed(sh->phone);
  if (slash) {
    df_sim_buf_printf(&sh->o->out, "Component {%s} new state: %s\n", name,
                      df_sim_enabled_name(state));
  } else {
    df_sim_buf_printf(&sh->o->out, "Package %s new state: %s\n", pkgname,
                      df_sim_enabled_name(p->enabled));
  }
  return 0;
}

static bool
parse_size(const char *s, uint64_t *out)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) {
    return false;
  }
  switch (*end) {
  case 'K': case 'k': v *= 1024.0; end++; break;
  case 'M': case 'm': v *= 1024.0 * 1024; end++; break;
  case 'G': case 'g': v *= 1024.0 * 1024 * 1024; end++; break;
  case 'T': case 't': v *= 1024.0 * 1024 * 1024 * 1024; end++; break;
  default: break;
  }
  if (*end != '\0') {
    return false;
  }
  *out = (uint64_t)v;
  return true;
}

static int
pm_trim_caches(struct df_sim_sh *sh, int argc, char **argv, int i)
{
  uint64_t want;
  if (i >= argc || !parse_size(argv[i], &want)) {
    df_sim_buf_printf(&sh->o->err, "Error: must specify a size\n");
    return 1;
  }
  if (i + 1 < argc && strcmp(argv[i + 1], "internal") != 0) {
    df_sim_buf_printf(&sh->o->err, "Error: unknown volume %s\n", argv[i + 1]);
    return 1;
  }
  /* freeStorage -> installd freeCache: deletes cached files one by one
   * (apps furthest over their cache quota first, oldest files first) and
   * stops as soon as the wanted free space is there, so an app may keep
   * part of its cache. Here: the largest cache first; its files not modeled
   * one by one (cache_bytes) go first, just as much as needed. */
  struct df_sim_phone *phone = sh->phone;
  uint64_t free_now;
  while ((free_now = df_sim_data_free(phone)) < want) {
    struct df_sim_package *big = NULL;
    uint64_t big_size = 0;
    for (size_t k = 0; k < phone->npkgs; k++) {
      uint64_t c = df_sim_pkg_cache_size(phone, &phone->pkgs[k]);
      if (c > big_size) {
        big_size = c;
        big = &phone->pkgs[k];
      }
    }
    if (big == NULL) {
      break;
    }
    uint64_t need = want - free_now;
    if (big->cache_bytes > need) {
      big->cache_bytes -= need;
    } else {
      df_sim_pkg_clear(phone, big, true);
    }
  }
  df_sim_phone_changed(phone);
  return 0;
}

static int
pm_uninstall(struct df_sim_sh *sh, int argc, char **argv, int i)
{
  bool for_user = false;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (skip_user(argc, argv, &i)) {
      for_user = true;
      i--;
    }
  }
  if (i >= argc) {
    df_sim_buf_printf(&sh->o->err, "Error: package name not specified\n");
    return 1;
  }
  struct df_sim_package *p = df_sim_pkg_find(sh->phone, argv[i]);
  if (p == NULL) {
    df_sim_buf_printf(&sh->o->out, "Failure [DELETE_FAILED_INTERNAL_ERROR]\n");
    return 1;
  }
  if (p->system) {
    (void)for_user;
    df_sim_buf_printf(&sh->o->out, "Failure [DELETE_FAILED_INTERNAL_ERROR]\n");
    return 1;
  }
  df_sim_pkg_remove(sh->phone, argv[i]);
  df_sim_phone_changed(sh->phone);
  df_sim_buf_printf(&sh->o->out, "Success\n");
  return 0;
}

static void
pm_help(struct df_sim_sh *sh)
{
  /* A part of Android 14's `pm help` (PackageManagerShellCommand.onHelp),
   * with the lines recipes probe for. */
  df_sim_buf_printf(&sh->o->out,
    "Package manager (package) commands:\n"
    "  help\n"
    "    Print this help text.\n"
    "\n"
    "  path [--user USER_ID] PACKAGE\n"
    "    Print the path to the .apk of the given PACKAGE.\n"
    "\n"
    "  install-create [-lrtsfdg] [-i PACKAGE] [--user USER_ID|all|current]\n"
    "    Like \"install\", but starts an install session.  Use \"install-write\"\n"
    "    to push data into the session, and \"install-commit\" to finish.\n"
    "\n"
    "  install-write [-S BYTES] SESSION_ID SPLIT_NAME [PATH|-]\n"
    "    Write an apk into the given install session.  If the path is '-', data\n"
    "    will be read from stdin.  Options are:\n"
    "      -S: size in bytes of package, required for stdin\n"
    "\n"
    "  install-commit SESSION_ID\n"
    "    Commit the given active install session, installing the app.\n"
    "\n"
    "  install-abandon SESSION_ID\n"
    "    Delete the given active install session.\n"
    "\n"
    "  list packages [-f] [-d] [-e] [-s] [-3] [-i] [-l] [-u] [-U]\n"
    "      [--show-versioncode] [--apex-only] [--factory-only]\n"
    "      [--uid UID] [--user USER_ID] [FILTER]\n"
    "    Prints all packages; optionally only those whose name contains\n"
    "    the text in FILTER.  Options are:\n"
    "      -f: see their associated file\n"
    "      -d: filter to only show disabled packages\n"
    "      -e: filter to only show enabled packages\n"
    "      -s: filter to only show system packages\n"
    "      -3: filter to only show third party packages\n"
    "      -i: see the installer for the packages\n"
    "      -U: also show the package UID\n"
    "\n"
    "  uninstall [-k] [--user USER_ID] [--versionCode VERSION_CODE]\n"
    "       PACKAGE [SPLIT...]\n"
    "    Remove the given package name from the system.\n"
    "\n"
    "  clear [--user USER_ID] [--cache-only] PACKAGE\n"
    "    Deletes data associated with a package. Options are:\n"
    "    --user: specifies the user for which we need to clear data\n"
    "    --cache-only: a flag which tells if we only need to clear cache data\n"
    "\n"
    "  enable [--user USER_ID] PACKAGE_OR_COMPONENT\n"
    "  disable [--user USER_ID] PACKAGE_OR_COMPONENT\n"
    "  disable-user [--user USER_ID] PACKAGE_OR_COMPONENT\n"
    "  disable-until-used [--user USER_ID] PACKAGE_OR_COMPONENT\n"
    "  default-state [--user USER_ID] PACKAGE_OR_COMPONENT\n"
    "    These commands change the enabled state of a given package or\n"
    "    component (written as \"package/class\").\n"
    "\n"
    "  trim-caches DESIRED_FREE_SPACE [internal|UUID]\n"
    "    Trim cache files to reach the given free space.\n"
    "\n"
    "  list users\n"
    "    Lists the current users.\n");
}

int
df_sim_cmd_pm(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0) {
    pm_help(sh);
    return 0;
  }
  const char *verb = argv[1];
  if (strcmp(verb, "list") == 0) {
    if (argc >= 3 && strcmp(argv[2], "packages") == 0) {
      return pm_list_packages(sh, argc, argv, 3);
    }
    if (argc >= 3 && strcmp(argv[2], "users") == 0) {
      df_sim_buf_printf(&sh->o->out, "Users:\n\tUserInfo{0:Owner:c13} running\n");
      return 0;
    }
    df_sim_buf_printf(&sh->o->err, "Error: unknown list type '%s'\n", argc >= 3 ? argv[2] : "");
    return 255;
  }
  if (strcmp(verb, "path") == 0) {
    int i = 2;
    skip_user(argc, argv, &i);
    if (i >= argc) {
      df_sim_buf_printf(&sh->o->err, "Error: no package specified\n");
      return 1;
    }
    struct df_sim_package *p = df_sim_pkg_find(sh->phone, argv[i]);
    if (p == NULL) {
      return 1;
    }
    df_sim_pm_path_lines(sh, p);
    return 0;
  }
  if (strcmp(verb, "clear") == 0) {
    return pm_clear(sh, argc, argv, 2);
  }
  if (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0 ||
      strcmp(verb, "disable-user") == 0 || strcmp(verb, "disable-until-used") == 0 ||
      strcmp(verb, "default-state") == 0) {
    return pm_set_enabled(sh, verb, argc, argv, 2);
  }
  if (strcmp(verb, "trim-caches") == 0) {
    return pm_trim_caches(sh, argc, argv, 2);
  }
  if (strcmp(verb, "uninstall") == 0) {
    return pm_uninstall(sh, argc, argv, 2);
  }
  if (strcmp(verb, "install") == 0) {
    return df_sim_pm_install(sh, argc, argv, 2);
  }
  if (strcmp(verb, "install-create") == 0 || strcmp(verb, "install-write") == 0 ||
      strcmp(verb, "install-commit") == 0 || strcmp(verb, "install-abandon") == 0 ||
      strcmp(verb, "install-destroy") == 0) {
    return df_sim_pm_session(sh, argc, argv);
  }
  if (strcmp(verb, "dump") == 0 && argc >= 3) {
    char *dargv[3] = {"dumpsys", "package", argv[2]};
    return df_sim_cmd_dumpsys(sh, 3, dargv);
  }
  df_sim_buf_printf(&sh->o->err, "Unknown command: %s\n", verb);
  return 255;
}

/* ---- am ---- */

int
df_sim_cmd_am(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "help") == 0) {
    df_sim_buf_printf(&sh->o->out,
                      "Activity manager (activity) commands:\n"
                      "  force-stop [--user <USER_ID> | all | current] <PACKAGE>\n"
                      "      Completely stop the given application package.\n");
    return 0;
  }
  if (strcmp(argv[1], "force-stop") == 0) {
    int i = 2;
    skip_user(argc, argv, &i);
    if (i >= argc) {
      df_sim_buf_printf(&sh->o->err, "Error: no package specified\n");
      return 255;
    }
    struct df_sim_package *p = df_sim_pkg_find(sh->phone, argv[i]);
    if (p) {
      p->stopped = true;
      if (sh->phone->foreground && strncmp(sh->phone->foreground, p->name, strlen(p->name)) == 0 &&
          sh->phone->mode != DF_SIM_MODE_FACTORY_MODE) {
        free(sh->phone->foreground);
        sh->phone->foreground = df_sim_strdup("com.android.launcher3/.uioverrides.QuickstepLauncher");
      }
      df_sim_phone_changed(sh->phone);
    }
    return 0;
  }
  df_sim_buf_printf(&sh->o->err, "Unknown command: %s\n", argv[1]);
  return 255;
}

/* ---- cmd ---- */

static int
cmd_appops(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc >= 3 && strcmp(argv[2], "reset") == 0) {
    int i = 3;
    int user = 0;
    if (i + 1 < argc && strcmp(argv[i], "--user") == 0) {
      user = atoi(argv[i + 1]);
      i += 2;
    }
    const char *pkg = i < argc ? argv[i] : NULL;
    for (size_t k = 0; k < sh->phone->npkgs; k++) {
      if (pkg == NULL || strcmp(sh->phone->pkgs[k].name, pkg) == 0) {
        sh->phone->pkgs[k].appops_changed = false;
      }
    }
    df_sim_phone_changed(sh->phone);
    /* AppOpsService.Shell "reset". */
    df_sim_buf_printf(&sh->o->out, "Reset all modes for: user %d, ", user);
    if (pkg) {
      df_sim_buf_printf(&sh->o->out, "package %s\n", pkg);
    } else {
      df_sim_buf_printf(&sh->o->out, "all packages\n");
    }
    return 0;
  }
  df_sim_buf_printf(&sh->o->out, "AppOps service (appops) commands:\n  reset [--user <USER_ID>] [<PACKAGE>]\n"
                                 "    Reset the given application or all applications to default modes.\n");
  return argc >= 3 && strcmp(argv[2], "help") != 0 ? 255 : 0;
}

static int
cmd_content(struct df_sim_sh *sh, int argc, char **argv)
{
  /* AOSP ContentShellCommand: only reset-today-stats. There is no shell
   * command for master sync (nor in `content` or `requestsync`): a real
   * phone's "Automatically sync data" is switched in Settings by the person,
   * and read from `dumpsys content` ("Auto sync: u0=true "). Anything else
   * goes to ShellCommand.handleDefaultCommands: help (also for no command)
   * or "Unknown command: X" on stdout, and -1 (exit 255) either way. */
  if (argc >= 3 && strcmp(argv[2], "reset-today-stats") == 0) {
    return 0;
  }
  if (argc < 3 || strcmp(argv[2], "help") == 0 || strcmp(argv[2], "-h") == 0) {
    df_sim_buf_printf(&sh->o->out, "Content service commands:\n"
                                   "  help\n"
                                   "    Print this help text.\n"
                                   "\n"
                                   "  reset-today-stats\n"
                                   "    Reset 1-day sync stats.\n"
                                   "\n");
  } else {
    df_sim_buf_printf(&sh->o->out, "Unknown command: %s\n", argv[2]);
  }
  return 255;
}

static int
cmd_connectivity(struct df_sim_sh *sh, int argc, char **argv)
{
  /* ConnectivityService shell command "airplane-mode [enable|disable]". */
  struct df_sim_kvs *g = &sh->phone->settings[DF_SIM_NS_GLOBAL];
  if (argc >= 3 && strcmp(argv[2], "airplane-mode") == 0) {
    if (argc == 3) {
      const char *v = df_sim_kvs_get(g, "airplane_mode_on");
      df_sim_buf_printf(&sh->o->out, "%s\n", v && strcmp(v, "1") == 0 ? "enabled" : "disabled");
      return 0;
    }
    if (strcmp(argv[3], "enable") == 0 || strcmp(argv[3], "disable") == 0) {
      df_sim_kvs_set(g, "airplane_mode_on", strcmp(argv[3], "enable") == 0 ? "1" : "0");
      df_sim_phone_changed(sh->phone);
      return 0;
    }
    df_sim_buf_printf(&sh->o->err, "Unsupported argument: %s\n", argv[3]);
    return 255;
  }
  df_sim_buf_printf(&sh->o->out, "Connectivity service commands:\n  airplane-mode [enable|disable]\n");
  return 0;
}

int
df_sim_cmd_cmd(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc < 2) {
    df_sim_buf_printf(&sh->o->err, "cmd: No service specified; use -l to list all running services. "
                                   "Use -w to start and wait for a service.\n");
    return 20;
  }
  const char *svc = argv[1];
  if (strcmp(svc, "-l") == 0) {
    df_sim_buf_printf(&sh->o->out, "Currently running services:\n  activity\n  appops\n  connectivity\n"
                                   "  content\n  package\n  settings\n");
    return 0;
  }
  if (strcmp(svc, "package") == 0) {
    return df_sim_cmd_pm(sh, argc - 1, argv + 1);
  }
  if (strcmp(svc, "activity") == 0) {
    return df_sim_cmd_am(sh, argc - 1, argv + 1);
  }
  if (strcmp(svc, "settings") == 0) {
    return df_sim_cmd_settings(sh, argc - 1, argv + 1);
  }
  if (strcmp(svc, "appops") == 0) {
    return cmd_appops(sh, argc, argv);
  }
  if (strcmp(svc, "content") == 0) {
    return cmd_content(sh, argc, argv);
  }
  if (strcmp(svc, "connectivity") == 0) {
    return cmd_connectivity(sh, argc, argv);
  }
  if (strcmp(svc, "jobscheduler") == 0) {
    return df_sim_cmd_jobscheduler(sh, argc - 1, argv + 1);
  }
  /* frameworks/native/cmds/cmd/cmd.cpp */
  df_sim_buf_printf(&sh->o->err, "cmd: Can't find service: %s\n", svc);
  return 20;
}
