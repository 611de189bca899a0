/* The risk class of a shell command line (risk_gate.h): a small lexer of
 * the POSIX shell's words, operators and quotes, and an allow-list per
 * program. It is conservative on purpose: what it does not understand is
 * user-data, so a read-only or app-data step cannot hide a write in a
 * command line, and a user-data step can still run free-form shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua-api/risk_gate.h"

#define DF_SH_MAX_DEPTH 4

struct df_sh_result {
  struct df_risk_call call;
  char *why;
  size_t whylen;
};

/* Raises the result to c (risk and reboot), naming the command when the
 * risk went up (the first command of the highest class is named). */
static void
df_sh_raise(struct df_sh_result *res, struct df_risk_call c, int argc, char **argv,
            const char *reason)
{
  bool up = c.risk > res->call.risk || (c.reboot && !res->call.reboot && c.risk >= res->call.risk);

  if (c.reboot) res->call.reboot = true;
  if (c.risk > res->call.risk) res->call.risk = c.risk;
  if (!up || res->why == NULL || res->whylen == 0) return;
  {
    size_t n = 0;
    res->why[0] = '\0';
    for (int i = 0; i < argc && n + 1 < res->whylen && i < 4; i++)
      n += (size_t)snprintf(res->why + n, res->whylen - n, "%s%s", i ? " " : "", argv[i]);
    if (n + 1 < res->whylen && argc > 4)
      n += (size_t)snprintf(res->why + n, res->whylen - n, " ...");
    if (n + 1 < res->whylen) snprintf(res->why + n, res->whylen - n, "%s%s", n ? ": " : "", reason);
  }
}

static bool
df_sh_in(const char *s, const char *const *list)
{
  for (; *list != NULL; list++)
    if (strcmp(s, *list) == 0) return true;
  return false;
}

static bool
df_sh_prefix_in(const char *s, const char *const *list)
{
  for (; *list != NULL; list++)
    if (strncmp(s, *list, strlen(*list)) == 0) return true;
  return false;
}

static bool
df_sh_any_arg(int argc, char **argv, const char *const *list)
{
  for (int i = 1; i < argc; i++)
    if (df_sh_in(argv[i], list)) return true;
  return false;
}

/* A path naming a block device (a partition or a whole flash chip). */
static bool
df_sh_block_device(const char *s)
{
  static const char *const dev[] = {"/dev/block/", "/dev/mmcblk", "/dev/sd", "/dev/mtd",
                                    "/dev/nvme", "/dev/ufs", "/dev/bootdevice", NULL};
  const char *p = strstr(s, "/dev/");
  return p != NULL && df_sh_prefix_in(p, dev);
}

static const struct df_risk_call df_sh_read = {DF_RISK_READ_ONLY, false};
static const struct df_risk_call df_sh_app = {DF_RISK_APP_DATA, false};
static const struct df_risk_call df_sh_user = {DF_RISK_USER_DATA, false};
static const struct df_risk_call df_sh_firmware = {DF_RISK_FIRMWARE, false};
static const struct df_risk_call df_sh_reboot = {DF_RISK_READ_ONLY, true};

static void df_sh_line(struct df_sh_result *res, const char *line, int depth);
static void df_sh_command(struct df_sh_result *res, int argc, char **argv, int depth);

/* Programs that only read, whatever their arguments (output redirection
 * and substitution are handled by the lexer). */
static const char *const df_sh_readers[] = {
  "getprop", "ls", "cat", "stat", "df", "du", "id", "whoami", "uname", "grep", "egrep",
  "fgrep", "head", "tail", "wc", "echo", "printf", "test", "[", "[[", "true", "false", ":",
  "sha256sum", "sha1sum", "md5sum", "sha512sum", "readlink", "realpath", "basename", "dirname",
  "cut", "tr", "ps", "pidof", "uptime", "free", "getenforce", "which", "pwd", "cd", "sleep",
  "file", "cmp", "diff", "od", "hexdump", "xxd", "strings", "nproc", "top", "lsmod", "getevent",
  "fi", "done", "}", "]]", "exit", "return", NULL};

/* pm and cmd package subcommands. */
static const char *const df_sh_pm_read[] = {"list", "path", "dump", "help", "has-feature",
                                            "resolve-activity", "query-activities",
                                            "query-services", "query-receivers", NULL};
static const char *const df_sh_pm_app[] = {
  "clear", "disable", "disable-user", "disable-until-used", "enable", "default-state", "hide",
  "unhide", "suspend", "unsuspend", "grant", "revoke", "reset-permissions", "trim-caches",
  "compile", "force-dex-opt", "bg-dexopt-job", "set-app-links", "set-app-links-user-selection",
  "set-home-activity", "set-permission-enforced", "set-install-location", NULL};
/* am and cmd activity subcommands. */
static const char *const df_sh_am_read[] = {"help", "stack", "get-config", "get-current-user",
                                            "get-started-user-state", "get-inactive",
                                            "get-standby-bucket", "monitor", NULL};
static const char *const df_sh_am_app[] = {
  "force-stop", "stop-app", "kill", "kill-all", "start", "start-activity", "startservice",
  "start-service", "start-foreground-service", "stopservice", "stop-service", "broadcast",
  "crash", "set-inactive", "set-standby-bucket", "clear-debug-app", "make-uid-idle",
  "send-trim-memory", NULL};
/* Broadcasts that erase the phone. */
static const char *const df_sh_wipe_actions[] = {"android.intent.action.MASTER_CLEAR",
                                                 "android.intent.action.FACTORY_RESET", NULL};
/* dumpsys arguments that change state rather than print it. */
static const char *const df_sh_dumpsys_writes[] = {
  "set", "reset", "unplug", "enable", "disable", "force-idle", "unforce", "whitelist",
  "tempwhitelist", "force-inactive", "step", "suspend", "unsuspend", NULL};

/* Programs that write partitions or file systems. */
static const char *const df_sh_firmware_tools[] = {
  "flash_image", "erase_image", "flash_eraseall", "mke2fs", "make_ext4fs", "make_f2fs",
  "mkfs", "mkfs.ext4", "mkfs.f2fs", "mkfs.vfat", "newfs_msdos", "blkdiscard", "sgdisk", "gdisk",
  "sfdisk", "fdisk", "parted", "resize2fs", "tune2fs", "e2fsck", "fsck.f2fs", "fsck", "bootctl",
  "update_engine_client", "flashcp", "nandwrite", NULL};

/* pm / cmd package SUB ... */
static void
df_sh_pm(struct df_sh_result *res, int argc, char **argv, int sub)
{
  const char *s = sub < argc ? argv[sub] : "";

  if (df_sh_in(s, df_sh_pm_read) || strncmp(s, "get-", 4) == 0 || strncmp(s, "is-", 3) == 0)
    df_sh_raise(res, df_sh_read, argc, argv, "reads packages");
  else if (df_sh_in(s, df_sh_pm_app) || strncmp(s, "set-", 4) == 0)
    df_sh_raise(res, df_sh_app, argc, argv, "changes an app's state or data");
  else
    df_sh_raise(res, df_sh_user, argc, argv, "installs, removes or changes packages or users");
}

/* am / cmd activity SUB ... */
static void
df_sh_am(struct df_sh_result *res, int argc, char **argv, int sub)
{
  const char *s = sub < argc ? argv[sub] : "";

  if (strcmp(s, "stack") == 0 && sub + 1 < argc && strcmp(argv[sub + 1], "list") != 0)
    df_sh_raise(res, df_sh_app, argc, argv, "changes the activity stack");
  else if (df_sh_in(s, df_sh_am_read))
    df_sh_raise(res, df_sh_read, argc, argv, "reads the activity manager");
  else if (strcmp(s, "broadcast") == 0 && df_sh_any_arg(argc, argv, df_sh_wipe_actions))
    df_sh_raise(res, df_sh_user, argc, argv, "a broadcast that erases the phone");
  else if (df_sh_in(s, df_sh_am_app))
    df_sh_raise(res, df_sh_app, argc, argv, "stops, starts or signals apps");
  else
    df_sh_raise(res, df_sh_user, argc, argv, "an activity manager command not known to be safe");
}

/* settings get|list|put|delete|reset NS KEY ... */
static void
df_sh_settings(struct df_sh_result *res, int argc, char **argv, int sub)
{
  static const char *const read[] = {"get", "list", "help", NULL};
  static const char *const app[] = {"put", "delete", "reset", NULL};
  int i = sub;
  while (i < argc && argv[i][0] == '-') i += strcmp(argv[i], "--user") == 0 ? 2 : 1;
  if (i < argc && df_sh_in(argv[i], read))
    df_sh_raise(res, df_sh_read, argc, argv, "reads a setting");
  else if (i < argc && df_sh_in(argv[i], app))
    df_sh_raise(res, df_sh_app, argc, argv, "changes a setting");
  else
    df_sh_raise(res, df_sh_user, argc, argv, "a settings command not understood");
}

/* cmd SERVICE SUB ...: services with their own rules, else get/list/dump
 * read and the rest is user-data. */
static void
df_sh_cmd(struct df_sh_result *res, int argc, char **argv)
{
  const char *svc = argc > 1 ? argv[1] : "";
  const char *s = argc > 2 ? argv[2] : "";

  if (strcmp(svc, "package") == 0) {
    df_sh_pm(res, argc, argv, 2);
  } else if (strcmp(svc, "activity") == 0) {
    df_sh_am(res, argc, argv, 2);
  } else if (strcmp(svc, "settings") == 0) {
    df_sh_settings(res, argc, argv, 2);
  } else if (strncmp(s, "get", 3) == 0 || strncmp(s, "list", 4) == 0 ||
             strncmp(s, "dump", 4) == 0 || strcmp(s, "help") == 0 || strncmp(s, "query", 5) == 0 ||
             strncmp(s, "is-", 3) == 0) {
    df_sh_raise(res, df_sh_read, argc, argv, "reads a system service");
  } else if ((strcmp(svc, "appops") == 0 && (strcmp(s, "reset") == 0 || strcmp(s, "set") == 0)) ||
             (strcmp(svc, "content") == 0 && strncmp(s, "set-", 4) == 0) ||
             strcmp(svc, "connectivity") == 0 || strcmp(svc, "wifi") == 0 ||
             strcmp(svc, "jobscheduler") == 0 || strcmp(svc, "notification") == 0) {
    df_sh_raise(res, df_sh_app, argc, argv, "changes a system service's settings");
  } else {
    df_sh_raise(res, df_sh_user, argc, argv, "a service command not known to be safe");
  }
}

/* su [0|root] [-c 'LINE' | ARGV...], sh -c 'LINE', run-as PKG ARGV: the
 * command they run decides. */
static bool
df_sh_wrapper(struct df_sh_result *res, int argc, char **argv, int depth)
{
  const char *p = argv[0];
  int i = 1;

  if (strcmp(p, "su") == 0 || strcmp(p, "sh") == 0 || strcmp(p, "bash") == 0 ||
      strcmp(p, "mksh") == 0) {
    while (i < argc && (strcmp(argv[i], "0") == 0 || strcmp(argv[i], "root") == 0 ||
                        strcmp(argv[i], "-mm") == 0 || strcmp(argv[i], "--mount-master") == 0))
      i++;
    if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
      /* the line itself; anything after it is $0, $1 ... for it */
      if (depth >= DF_SH_MAX_DEPTH) {
        df_sh_raise(res, df_sh_user, argc, argv, "shells nested too deep to read");
      } else {
        df_sh_line(res, argv[i + 1], depth + 1);
      }
      return true;
    }
    if (strcmp(p, "su") == 0 && i < argc && argv[i][0] != '-') {
      df_sh_command(res, argc - i, argv + i, depth + 1);
      return true;
    }
    df_sh_raise(res, df_sh_user, argc, argv, "a shell whose commands cannot be read");
    return true;
  }
  if (strcmp(p, "toybox") == 0 || strcmp(p, "busybox") == 0 || strcmp(p, "nice") == 0 ||
      strcmp(p, "timeout") == 0 || strcmp(p, "run-as") == 0 || strcmp(p, "nohup") == 0 ||
      strcmp(p, "time") == 0) {
    if (strcmp(p, "nice") == 0 && i + 1 < argc && strcmp(argv[i], "-n") == 0) i += 2;
    if (strcmp(p, "timeout") == 0) {
      while (i < argc && argv[i][0] == '-')
        i += (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "-k") == 0) ? 2 : 1;
      i++; /* the duration */
    }
    if (strcmp(p, "run-as") == 0) {
      i++; /* the package */
      while (i + 1 < argc && strcmp(argv[i], "--user") == 0) i += 2;
    }
    if (i >= argc) {
      df_sh_raise(res, df_sh_user, argc, argv, "a wrapper without a command");
    } else if (depth >= DF_SH_MAX_DEPTH) {
      df_sh_raise(res, df_sh_user, argc, argv, "wrappers nested too deep to read");
    } else {
      df_sh_command(res, argc - i, argv + i, depth + 1);
    }
    return true;
  }
  return false;
}

/* One simple command, its words unquoted. */
static void
df_sh_command(struct df_sh_result *res, int argc, char **argv, int depth)
{
  static const char *const skip[] = {"!", "if", "then", "else", "elif", "do", "while", "until",
                                     "{", "exec", NULL};
  static const char *const dirs[] = {"/system/bin/", "/system/xbin/", "/vendor/bin/", "/bin/",
                                     "/sbin/", NULL};
  const char *p;

  while (argc > 0 && df_sh_in(argv[0], skip)) {
    argc--;
    argv++;
  }
  if (argc == 0) return;
  p = argv[0];
  for (size_t i = 0; dirs[i] != NULL; i++)
    if (strncmp(p, dirs[i], strlen(dirs[i])) == 0 && strchr(p + strlen(dirs[i]), '/') == NULL)
      p += strlen(dirs[i]);
  argv[0] = (char *)p;
  if (strchr(p, '=') != NULL && p[0] != '=' && p[0] != '-') {
    df_sh_raise(res, df_sh_user, argc, argv, "a variable assignment (its use cannot be read)");
    return;
  }
  if (df_sh_wrapper(res, argc, argv, depth)) return;
  if (df_sh_in(p, df_sh_readers)) {
    df_sh_raise(res, df_sh_read, argc, argv, "reads");
  } else if (strcmp(p, "sort") == 0 || strcmp(p, "uniq") == 0) {
    int files = 0;
    bool out = false;
    for (int i = 1; i < argc; i++) {
      if (strncmp(argv[i], "-o", 2) == 0 || strncmp(argv[i], "--output", 8) == 0) out = true;
      if (argv[i][0] != '-') files++;
    }
    if (out || (strcmp(p, "uniq") == 0 && files > 1))
      df_sh_raise(res, df_sh_user, argc, argv, "writes a file");
    else
      df_sh_raise(res, df_sh_read, argc, argv, "reads");
  } else if (strcmp(p, "date") == 0) {
    bool sets = false;
    for (int i = 1; i < argc; i++)
      if (argv[i][0] != '+' && (argv[i][0] != '-' || strcmp(argv[i], "-s") == 0 ||
                                strncmp(argv[i], "--set", 5) == 0))
        sets = true;
    df_sh_raise(res, sets ? df_sh_app : df_sh_read, argc, argv,
                sets ? "sets the phone's clock" : "reads the clock");
  } else if (strcmp(p, "find") == 0) {
    static const char *const acts[] = {"-delete", "-exec", "-execdir", "-ok", "-okdir",
                                       "-fprint", "-fprint0", "-fprintf", "-fls", NULL};
    if (df_sh_any_arg(argc, argv, acts))
      df_sh_raise(res, df_sh_user, argc, argv, "find that deletes, writes or runs commands");
    else
      df_sh_raise(res, df_sh_read, argc, argv, "reads");
  } else if (strcmp(p, "logcat") == 0) {
    static const char *const clear[] = {"-c", "--clear", "-G", "-P", "--prune", NULL};
    bool file = false;
    for (int i = 1; i < argc; i++)
      if (strncmp(argv[i], "-f", 2) == 0 || strncmp(argv[i], "--file", 6) == 0 ||
          strncmp(argv[i], "--buffer-size", 13) == 0)
        file = true;
    if (file)
      df_sh_raise(res, df_sh_user, argc, argv, "writes a log file or resizes the log");
    else if (df_sh_any_arg(argc, argv, clear))
      df_sh_raise(res, df_sh_app, argc, argv, "clears or prunes the log");
    else
      df_sh_raise(res, df_sh_read, argc, argv, "reads the log");
  } else if (strcmp(p, "dumpsys") == 0) {
    if (df_sh_any_arg(argc, argv, df_sh_dumpsys_writes))
      df_sh_raise(res, df_sh_app, argc, argv, "dumpsys that changes a service's state");
    else
      df_sh_raise(res, df_sh_read, argc, argv, "reads a system service");
  } else if (strcmp(p, "mount") == 0 && argc == 1) {
    df_sh_raise(res, df_sh_read, argc, argv, "lists mounts");
  } else if (strcmp(p, "pm") == 0) {
    df_sh_pm(res, argc, argv, 1);
  } else if (strcmp(p, "am") == 0) {
    df_sh_am(res, argc, argv, 1);
  } else if (strcmp(p, "settings") == 0) {
    df_sh_settings(res, argc, argv, 1);
  } else if (strcmp(p, "cmd") == 0) {
    df_sh_cmd(res, argc, argv);
  } else if (strcmp(p, "content") == 0) {
    bool q = argc > 1 && strcmp(argv[1], "query") == 0;
    df_sh_raise(res, q ? df_sh_read : df_sh_user, argc, argv,
                q ? "reads a content provider" : "writes a content provider");
  } else if (strcmp(p, "appops") == 0) {
    bool get = argc > 1 && (strcmp(argv[1], "get") == 0 || strcmp(argv[1], "query-op") == 0);
    df_sh_raise(res, get ? df_sh_read : df_sh_app, argc, argv,
                get ? "reads app ops" : "changes app ops");
  } else if (strcmp(p, "kill") == 0 || strcmp(p, "killall") == 0 || strcmp(p, "pkill") == 0) {
    df_sh_raise(res, df_sh_app, argc, argv, "stops processes");
  } else if (strcmp(p, "svc") == 0) {
    if (argc > 2 && strcmp(argv[1], "power") == 0 && strcmp(argv[2], "reboot") == 0)
      df_sh_raise(res, df_sh_reboot, argc, argv, "reboots the phone");
    else if (argc > 1 && strcmp(argv[1], "power") == 0)
      df_sh_raise(res, df_sh_user, argc, argv, "powers the phone off or changes its power state");
    else
      df_sh_raise(res, df_sh_app, argc, argv, "turns a radio or service on or off");
  } else if (strcmp(p, "setprop") == 0) {
    if (argc > 1 && strcmp(argv[1], "sys.powerctl") == 0) {
      bool edl = argc > 2 && strstr(argv[2], "edl") != NULL;
      df_sh_raise(res, edl ? df_sh_firmware : df_sh_reboot, argc, argv,
                  edl ? "reboots to EDL (the chip's download mode)" : "reboots the phone");
    } else {
      df_sh_raise(res, df_sh_app, argc, argv, "sets a system property");
    }
  } else if (strcmp(p, "reboot") == 0) {
    bool edl = df_sh_any_arg(argc, argv, (const char *const[]){"edl", "download", NULL});
    df_sh_raise(res, edl ? df_sh_firmware : df_sh_reboot, argc, argv,
                edl ? "reboots to EDL or download mode" : "reboots the phone");
  } else if (df_sh_in(p, df_sh_firmware_tools) || strncmp(p, "mkfs", 4) == 0) {
    df_sh_raise(res, df_sh_firmware, argc, argv, "writes partitions or file systems");
  } else {
    bool block = df_sh_block_device(p);
    for (int i = 1; i < argc; i++)
      if (df_sh_block_device(argv[i])) block = true;
    if (block)
      df_sh_raise(res, df_sh_firmware, argc, argv, "writes to a block device");
    else if (strcmp(p, "dd") == 0) {
      bool of = false;
      for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "of=", 3) == 0) of = true;
      df_sh_raise(res, of ? df_sh_user : df_sh_read, argc, argv,
                  of ? "writes a file" : "reads");
    } else
      df_sh_raise(res, df_sh_user, argc, argv, "not known to only read or to only touch app data");
  }
}

/* ---- the lexer ---- */

struct df_sh_lex {
  const char *s;
  char *buf;       /* unquoted words, NUL-separated */
  size_t blen;
  char **argv;
  int argc, cap;
  bool in_word, word_quoted;
  size_t word_start;
};

static int
df_sh_end_word(struct df_sh_lex *x)
{
  if (!x->in_word) return 0;
  x->buf[x->blen++] = '\0';
  if (x->argc + 1 >= x->cap) {
    int cap = x->cap ? x->cap * 2 : 16;
    char **a = realloc(x->argv, (size_t)cap * sizeof(*a));
    if (a == NULL) return -1;
    x->argv = a;
    x->cap = cap;
  }
  x->argv[x->argc++] = x->buf + x->word_start;
  x->in_word = false;
  x->word_quoted = false;
  return 0;
}

static void
df_sh_add(struct df_sh_lex *x, char c)
{
  if (!x->in_word) {
    x->in_word = true;
    x->word_start = x->blen;
  }
  x->buf[x->blen++] = c;
}

static void
df_sh_flush(struct df_sh_result *res, struct df_sh_lex *x, int depth)
{
  if (x->argc > 0) df_sh_command(res, x->argc, x->argv, depth);
  x->argc = 0;
}

/* The end of a $( ... ) or ` ... ` starting at p (after the opener), or
 * NULL when it never ends. */
static const char *
df_sh_subst_end(const char *p, char close)
{
  int nest = 0;
  char q = 0;
  for (; *p; p++) {
    if (*p == '\\' && q != '\'' && p[1] != '\0') {
      p++;
    } else if (q != 0) {
      if (*p == q) q = 0;
    } else if (*p == '\'' || (*p == '"' && close != '`')) {
      q = *p;
    } else if (close == ')' && *p == '(') {
      nest++;
    } else if (*p == close) {
      if (nest-- == 0) return p;
    }
  }
  return NULL;
}

/* A command substitution: what it runs is classified, and the command it
 * is part of is at least user-data (its words are not known). */
static const char *
df_sh_subst(struct df_sh_result *res, struct df_sh_lex *x, const char *p, char close,
            int depth)
{
  const char *end = df_sh_subst_end(p, close);
  char *inner;
  char *label[] = {(char *)"command substitution"};

  df_sh_raise(res, df_sh_user, 1, label, "its output becomes words that cannot be read");
  if (end == NULL) return NULL;
  inner = strndup(p, (size_t)(end - p));
  if (inner == NULL || depth >= DF_SH_MAX_DEPTH) {
    df_sh_raise(res, df_sh_firmware, 1, label, "nested too deep to read");
  } else {
    df_sh_line(res, inner, depth + 1);
  }
  free(inner);
  df_sh_add(x, '?'); /* the word exists, its text is unknown */
  return end + 1;
}

/* A redirection's target word starting at p (after the operator): the
 * target and where the lexer goes on. */
static const char *
df_sh_target(const char *p, char *out, size_t outlen)
{
  size_t n = 0;
  char q = 0;
  while (*p == ' ' || *p == '\t') p++;
  for (; *p; p++) {
    if (q == 0 && (strchr(" \t\n;&|()<>", *p) != NULL)) break;
    if (q == 0 && (*p == '\'' || *p == '"')) {
      q = *p;
      continue;
    }
    if (q != 0 && *p == q) {
      q = 0;
      continue;
    }
    if (*p == '\\' && q != '\'' && p[1] != '\0') p++;
    if (n + 1 < outlen) out[n++] = *p;
  }
  out[n] = '\0';
  return p;
}

static void
df_sh_line(struct df_sh_result *res, const char *line, int depth)
{
  struct df_sh_lex x;
  size_t len = strlen(line);
  const char *p = line;
  char q = 0;

  memset(&x, 0, sizeof(x));
  x.buf = malloc(len * 2 + 8);
  if (x.buf == NULL) {
    char *label[] = {(char *)"the command line"};
    df_sh_raise(res, df_sh_firmware, 1, label, "out of memory classifying it");
    return;
  }
  while (p != NULL && *p) {
    char c = *p;
    if (q == '\'') {
      if (c == '\'') q = 0;
      else df_sh_add(&x, c);
      p++;
      continue;
    }
    if (c == '\\') {
      if (p[1] == '\n') {
        p += 2;
        continue;
      }
      if (p[1] != '\0') df_sh_add(&x, p[1]);
      p += p[1] != '\0' ? 2 : 1;
      continue;
    }
    if (c == '`') {
      p = df_sh_subst(res, &x, p + 1, '`', depth);
      continue;
    }
    if (c == '$' && p[1] == '(') {
      p = df_sh_subst(res, &x, p + 2, ')', depth);
      continue;
    }
    if (q == '"') {
      if (c == '"') q = 0;
      else df_sh_add(&x, c);
      p++;
      continue;
    }
    if (c == '\'' || c == '"') {
      q = c;
      if (!x.in_word) { /* "" is a word, even empty */
        x.in_word = true;
        x.word_start = x.blen;
      }
      x.word_quoted = true;
      p++;
      continue;
    }
    if ((c == '<' || c == '>') && p[1] == '(') {
      p = df_sh_subst(res, &x, p + 2, ')', depth);
      continue;
    }
    if (c == '>' || (c == '&' && p[1] == '>')) {
      char target[256];
      char *label[] = {target};
      /* a word of digits just before is the descriptor, not an argument */
      if (x.in_word && !x.word_quoted) {
        bool digits = true;
        for (size_t i = x.word_start; i < x.blen; i++)
          if (x.buf[i] < '0' || x.buf[i] > '9') digits = false;
        if (digits) {
          x.blen = x.word_start;
          x.in_word = false;
        }
      }
      if (df_sh_end_word(&x) != 0) break;
      p += c == '&' ? 2 : 1;
      if (*p == '>' || *p == '|') p++;
      if (*p == '&') {
        /* >&2, >&- : a descriptor, no file (a word here is a file) */
        p++;
        p = df_sh_target(p, target, sizeof(target));
        if ((target[0] >= '0' && target[0] <= '9') || strcmp(target, "-") == 0) continue;
      } else {
        p = df_sh_target(p, target, sizeof(target));
      }
      if (strcmp(target, "/dev/null") == 0) continue;
      if (df_sh_block_device(target))
        df_sh_raise(res, df_sh_firmware, 1, label, "output redirected to a block device");
      else
        df_sh_raise(res, df_sh_user, 1, label, "output redirected to a file");
      continue;
    }
    if (c == '<') {
      char target[256];
      if (p[1] == '<') {
        char *label[] = {(char *)"<<"};
        df_sh_raise(res, df_sh_user, 1, label, "a here-document is not read");
        break;
      }
      if (df_sh_end_word(&x) != 0) break;
      p = df_sh_target(p + 1, target, sizeof(target));
      continue;
    }
    if (c == ';' || c == '\n' || c == '|' || c == '&' || c == '(' || c == ')') {
      if (df_sh_end_word(&x) != 0) break;
      df_sh_flush(res, &x, depth);
      p++;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      if (df_sh_end_word(&x) != 0) break;
      p++;
      continue;
    }
    df_sh_add(&x, c);
    p++;
  }
  if (q != 0 || p == NULL) {
    char *label[] = {(char *)"the command line"};
    df_sh_raise(res, df_sh_user, 1, label,
                p == NULL ? "a substitution that never ends" : "a quote that never ends");
  }
  if (df_sh_end_word(&x) == 0) {
    df_sh_flush(res, &x, depth);
  } else {
    char *label[] = {(char *)"the command line"};
    df_sh_raise(res, df_sh_firmware, 1, label, "out of memory classifying it");
  }
  free(x.argv);
  free(x.buf);
}

struct df_risk_call
df_risk_gate_shell(const char *cmdline, char *why, size_t whylen)
{
  struct df_sh_result res = {{DF_RISK_READ_ONLY, false}, why, whylen};

  if (why != NULL && whylen > 0) snprintf(why, whylen, "%s: reads", cmdline);
  df_sh_line(&res, cmdline, 0);
  return res.call;
}
