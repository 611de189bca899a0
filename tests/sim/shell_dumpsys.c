/* dumpsys services repairs read (package, dropbox, account, content,
 * activity, diskstats) and logcat's main and crash buffers. Shapes follow
 * AOSP frameworks/base: ComputerEngine.dumpPackagesLPr ("Packages:",
 * "  Package [name] (hash):", "    versionName=", "    User 0: ... enabled=N"),
 * DropBoxManagerService.dump ("Drop box contents: N entries", "=====" blocks),
 * AccountManagerService.dumpUser ("Accounts: N", "Account {name=, type=}"),
 * DiskStatsService ("Data-Free:", "Cache-Free:", "System-Free:", then "App
 * Size:" ... "Cache Sizes:" from the daily cache file), SyncManager.dumpSyncState ("Auto sync: u0=true "), and
 * logcat's threadtime format ("MM-DD HH:MM:SS.mmm  PID  TID P TAG: msg"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

static void
fmt_time(int64_t ms, const char *fmt, char *out, size_t outlen)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, outlen, fmt, &tm);
}

static int
dump_package(struct df_sim_sh *sh, const char *name)
{
  struct df_sim_phone *phone = sh->phone;
  struct df_sim_package *p = df_sim_pkg_find(phone, name);
  if (p == NULL) {
    /* dumpsys package of an unknown name prints the headers only. */
    df_sim_buf_printf(&sh->o->out, "Dexopt state:\n  Unable to find package: %s\n", name);
    return 0;
  }
  char first[32], last[32];
  fmt_time(p->first_install_ms, "%Y-%m-%d %H:%M:%S", first, sizeof(first));
  fmt_time(p->last_update_ms, "%Y-%m-%d %H:%M:%S", last, sizeof(last));
  unsigned hash = 0;
  for (const char *c = p->name; *c; c++) {
    hash = hash * 31 + (unsigned char)*c;
  }
  df_sim_buf_printf(&sh->o->out,
                    "Packages:\n"
                    "  Package [%s] (%07x):\n"
                    "    userId=%d\n"
                    "    pkg=Package{%07x %s}\n"
                    "    codePath=%s\n"
                    "    resourcePath=%s\n"
                    "    primaryCpuAbi=arm64-v8a\n"
                    "    versionCode=%" PRId64 " minSdk=28 targetSdk=%d\n"
                    "    versionName=%s\n"
                    "    flags=[ %sHAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]\n"
                    "    timeStamp=%s\n"
                    "    firstInstallTime=%s\n"
                    "    lastUpdateTime=%s\n"
                    "    installerPackageName=%s\n"
                    "    dataDir=/data/user/0/%s\n"
                    "    User 0: ceDataInode=%u installed=true hidden=false suspended=false "
                    "distractionFlags=0 stopped=%s notLaunched=false enabled=%d instant=false "
                    "virtual=false\n",
                    p->name, hash & 0xfffffff, p->uid, (hash >> 4) & 0xfffffff, p->name,
                    p->code_path, p->code_path, p->version_code, p->target_sdk, p->version_name,
                    p->system ? "SYSTEM " : "", last, first, last,
                    p->system ? "null" : "com.android.vending", p->name, 100000 + hash % 900000,
                    p->stopped ? "true" : "false", p->enabled);
  if (!df_sim_pkg_is_enabled(p)) {
    df_sim_buf_printf(&sh->o->out, "      lastDisabledCaller: %s\n",
                      p->enabled == DF_SIM_ENABLED_DISABLED_USER ? "com.android.shell" : "android");
  }
  return 0;
}

static int
dump_dropbox(struct df_sim_sh *sh, int argc, char **argv)
{
  bool print = false;
  const char *tag = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--print") == 0 || strcmp(argv[i], "-p") == 0) {
      print = true;
    } else if (argv[i][0] != '-') {
      tag = argv[i];
    }
  }
  struct df_sim_events *ev = &sh->phone->crashes;
  size_t n = 0;
  for (size_t k = 0; k < ev->n; k++) {
    if (tag == NULL || strcmp(ev->v[k].tag, tag) == 0) {
      n++;
    }
  }
  df_sim_buf_printf(&sh->o->out, "Drop box contents: %zu entries\nMax entries: 1000\n", n);
  if (tag) {
    df_sim_buf_printf(&sh->o->out, "Searching for: %s\n", tag);
  }
  df_sim_buf_append(&sh->o->out, "\n", 1);
  for (size_t k = 0; k < ev->n; k++) {
    const struct df_sim_event *e = &ev->v[k];
    if (tag && strcmp(e->tag, tag) != 0) {
      continue;
    }
    char when[32];
    fmt_time(e->time_ms, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
    struct df_sim_package *p = df_sim_pkg_find(sh->phone, e->package ? e->package : "");
    struct df_sim_buf body = {0};
    df_sim_buf_printf(&body,
                      "Process: %s\nPID: %d\nUID: %d\nFlags: 0x38c83e45\nPackage: %s v%" PRId64
                      " (%s)\nForeground: No\nProcess-Runtime: 1840\nBuild: %s\n"
                      "Loading-Progress: 1.0\nDropped-Count: 0\n\n%s\n",
                      e->process, e->pid, e->uid, e->package ? e->package : "",
                      p ? p->version_code : 0, p ? p->version_name : "",
                      df_sim_phone_getprop(sh->phone, "ro.build.fingerprint"), e->text);
    if (print) {
      df_sim_buf_printf(&sh->o->out, "========================================\n%s %s (text, %zu bytes)\n%s\n",
                        when, e->tag, body.len, body.data);
    } else {
      /* Without --print, dropbox shows the first line of each entry. */
      df_sim_buf_printf(&sh->o->out, "%s %s (text, %zu bytes)\n    Process: %s\n", when, e->tag,
                        body.len, e->process);
    }
    df_sim_buf_free(&body);
  }
  return 0;
}

static int
dump_account(struct df_sim_sh *sh)
{
  struct df_sim_phone *phone = sh->phone;
  df_sim_buf_printf(&sh->o->out, "User UserInfo{0:Owner:c13}:\n  Accounts: %zu\n", phone->naccounts);
  for (size_t k = 0; k < phone->naccounts; k++) {
    df_sim_buf_printf(&sh->o->out, "    Account {name=%s, type=%s}\n", phone->accounts[k].name,
                      phone->accounts[k].type);
  }
  return 0;
}

/* SyncManager.formatDurationHMS: "1d02h03m04s", "5m07s", "0s". */
static void
duration_hms(struct df_sim_buf *b, int64_t ms)
{
  int64_t s = ms / 1000;
  if (s < 0) {
    df_sim_buf_printf(b, "-");
    s = -s;
  }
  int64_t parts[4] = {s / 86400, s / 3600 % 24, s / 60 % 60, s % 60};
  static const char units[4] = {'d', 'h', 'm', 's'};
  bool print = false;
  for (int i = 0; i < 4; i++) {
    if (!print && parts[i] == 0) {
      continue;
    }
    df_sim_buf_printf(b, print && i > 0 ? "%02" PRId64 "%c" : "%" PRId64 "%c", parts[i], units[i]);
    print = true;
  }
  if (!print) {
    df_sim_buf_printf(b, "0s");
  }
}

static int
dump_content(struct df_sim_sh *sh)
{
  /* ContentService.dump -> SyncManager.dump -> dumpSyncState (Android 14):
   * the header lines as AOSP prints them, "Auto sync: u0=true " (master
   * sync per user, a space after each), then "Sync Status" with one
   * "Account NAME u0 TYPE" block per account. Left out: each account's
   * per-authority table (the sim has no sync adapters), the sync history,
   * SyncManager constants, the adapters and ContentService's observer tree. */
  struct df_sim_phone *phone = sh->phone;
  int64_t now = df_sim_phone_now_ms(phone);
  int64_t up = now - phone->boot_time_ms;
  char when[32];
  fmt_time(now, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
  struct df_sim_buf o = {0};
  df_sim_buf_printf(&o,
                    "Data connected: true\n"
                    "Battery saver: false\n"
                    "Background network restriction:  disabled\n"
                    "Auto sync: u0=%s \n"
                    "Storage low: false\n"
                    "Clock valid: true\n"
                    "Accounts: %zu\n"
                    "Now: %" PRId64 " (%s)\n"
                    "Uptime: ",
                    df_sim_phone_master_sync(phone) ? "true" : "false", phone->naccounts, up, when);
  duration_hms(&o, up);
  df_sim_buf_printf(&o, "\nTime spent syncing: 0s, sync not in progress\n\n"
                        "Active Syncs: 0\n\nPending Syncs: 0\n\nPeriodic Syncs: 0\n\n"
                        "Sync Status\n");
  for (size_t k = 0; k < phone->naccounts; k++) {
    df_sim_buf_printf(&o, "Account %s u0 %s\n"
                          "=======================================================================\n",
                      phone->accounts[k].name, phone->accounts[k].type);
  }
  df_sim_buf_append(&sh->o->out, o.data, o.len);
  df_sim_buf_free(&o);
  return 0;
}

static int
dump_activity(struct df_sim_sh *sh)
{
  /* ActivityTaskSupervisor / RootWindowContainer dump lines on Android 14. */
  const char *fg = sh->phone->foreground ? sh->phone->foreground : "";
  char pkg[256];
  snprintf(pkg, sizeof(pkg), "%s", fg);
  char *slash = strchr(pkg, '/');
  if (slash) {
    *slash = '\0';
  }
  df_sim_buf_printf(&sh->o->out,
                    "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n"
                    "Display #0 (activities from top to bottom):\n"
                    "  * Task{4b1d2c3 #12 type=%s A=%s U=0 visible=true mode=fullscreen}\n"
                    "    topResumedActivity=ActivityRecord{7c6e2b1 u0 %s t12}\n"
                    "  ResumedActivity: ActivityRecord{7c6e2b1 u0 %s t12}\n"
                    "  mFocusedApp=ActivityRecord{7c6e2b1 u0 %s t12}\n",
                    strstr(pkg, "launcher") || strstr(pkg, "home") ? "home" : "standard", pkg, fg,
                    fg, fg);
  return 0;
}

/* The value of "key" in the one-line JSON object DiskStatsFileLogger
 * writes: a number, or an array as its text ("[...]"), or NULL. */
static char *
json_value(const char *json, const char *key)
{
  char pat[64];
  snprintf(pat, sizeof(pat), "\"%s\":", key);
  const char *v = strstr(json, pat);
  if (v == NULL) {
    return NULL;
  }
  v += strlen(pat);
  size_t n = *v == '[' ? strcspn(v, "]") + 1 : strspn(v, "-0123456789");
  if (n == 0 || (*v == '[' && v[n - 1] != ']')) {
    return NULL;
  }
  char *out = malloc(n + 1);
  memcpy(out, v, n);
  out[n] = '\0';
  return out;
}

/* DiskStatsService.reportFreeSpace: "NAME-Free: AK / TK total = P% free"
 * (KiB of statfs; P = avail * 100 / total, rounded down). */
static void
free_line(struct df_sim_buf *out, const char *name, uint64_t avail, uint64_t total)
{
  if (total == 0) {
    df_sim_buf_printf(out, "%s-Error: java.lang.IllegalArgumentException: Invalid stat: bsize=4096 "
                           "avail=0 total=0\n", name);
    return;
  }
  df_sim_buf_printf(out, "%s-Free: %" PRIu64 "K / %" PRIu64 "K total = %d%% free\n", name,
                    avail / 1024, total / 1024, (int)(avail * 100 / total));
}

/* Bytes of this slot's system partition (the logical system_a/_b, else the
 * model's "system"), or 0 when the model lists none. */
static uint64_t
system_size(const struct df_sim_phone *phone)
{
  char want[80];
  const char *slot = df_sim_phone_current_slot(phone);
  snprintf(want, sizeof(want), "system%s%s", slot && *slot ? "_" : "", slot ? slot : "");
  for (size_t i = 0; i < phone->nlogical; i++) {
    if (strcmp(phone->logical[i].full_name, want) == 0 ||
        strcmp(phone->logical[i].full_name, "system") == 0) {
      return phone->logical[i].part.size;
    }
  }
  for (size_t i = 0; i < phone->model.nparts; i++) {
    if (strcmp(phone->model.parts[i].name, "system") == 0) {
      return phone->model.parts[i].size;
    }
  }
  return 0;
}

static int
dump_diskstats(struct df_sim_sh *sh)
{
  /* DiskStatsService.dump: the 512-byte write test, storaged's recent
   * write speed, then reportFreeSpace of /data, of
   * Environment.getDownloadCacheDirectory() and of /system: "Data-Free: NK
   * / NK total = N% free" from statfs (KiB, live). The download cache is
   * /data/cache on every current build (init.environ.rc exports
   * DOWNLOAD_CACHE=/data/cache), the same file system as /data, so
   * Cache-Free repeats /data's numbers. /system is a read-only image built
   * to fit (erofs, or ext4 shrunk with e2fsdroid): nothing free. Then
   * reportCachedValues: the sizes DiskStatsLoggingService last wrote to
   * /data/system/diskstats_cache.json (bytes), printed only when that file
   * reads back; they are as old as the file (it runs about once a day while
   * idle and charging, or when forced with `cmd jobscheduler run`), and the
   * dump does not say how old (the file's queryTime is not printed;
   * `dumpsys jobscheduler` has the job's last run). The JSON arrays print
   * as they are stored ("[\"a\",\"b\"]", "[1,2]"). The sim's storaged has
   * no sample, as right after boot on a phone. */
  struct df_sim_phone *phone = sh->phone;
  df_sim_jobscheduler_settle(phone);
  uint64_t free_b = df_sim_data_free(phone);
  df_sim_buf_printf(&sh->o->out, "Latency: 0ms [512B Data Write]\n");
  df_sim_buf_printf(&sh->o->out, "Recent Disk Write Speed data unavailable\n");
  free_line(&sh->o->out, "Data", free_b, phone->storage_total);
  free_line(&sh->o->out, "Cache", free_b, phone->storage_total);
  free_line(&sh->o->out, "System", 0, system_size(phone));
  df_sim_buf_printf(&sh->o->out, "File-based Encryption: true\n");
  char *json = NULL;
  size_t len = 0;
  if (df_sim_vfs_read_file(phone, DF_SIM_DISKSTATS_CACHE, &json, &len) < 0) {
    /* IoUtils.readFileAsString failed: the service logs a warning only. */
    return 0;
  }
  static const struct {
    const char *label, *key;
  } lines[] = {
    {"App Size", "appSize"},           {"App Data Size", "appDataSize"},
    {"App Cache Size", "cacheSize"},   {"Photos Size", "photosSize"},
    {"Videos Size", "videosSize"},     {"Audio Size", "audioSize"},
    {"Downloads Size", "downloadsSize"}, {"System Size", "systemSize"},
    {"Other Size", "otherSize"},       {"Package Names", "packageNames"},
    {"App Sizes", "appSizes"},         {"App Data Sizes", "appDataSizes"},
    {"Cache Sizes", "cacheSizes"},
  };
  /* A key missing stops the dump there (JSONException), as on a phone. */
  for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
    char *v = json_value(json, lines[i].key);
    if (v == NULL) {
      break;
    }
    df_sim_buf_printf(&sh->o->out, "%s: %s\n", lines[i].label, v);
    free(v);
  }
  free(json);
  return 0;
}

int
df_sim_cmd_dumpsys(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc < 2) {
    df_sim_buf_printf(&sh->o->err, "dumpsys: a full dump is not simulated; name a service\n");
    return 1;
  }
  const char *svc = argv[1];
  if (strcmp(svc, "-l") == 0) {
    df_sim_buf_printf(&sh->o->out, "Currently running services:\n  account\n  activity\n  content\n"
                                   "  diskstats\n  dropbox\n  jobscheduler\n  package\n");
    return 0;
  }
  if (strcmp(svc, "package") == 0) {
    if (argc < 3) {
      for (size_t k = 0; k < sh->phone->npkgs; k++) {
        dump_package(sh, sh->phone->pkgs[k].name);
      }
      return 0;
    }
    return dump_package(sh, argv[argc - 1]);
  }
  if (strcmp(svc, "dropbox") == 0) {
    return dump_dropbox(sh, argc, argv);
  }
  if (strcmp(svc, "account") == 0) {
    return dump_account(sh);
  }
  if (strcmp(svc, "content") == 0) {
    return dump_content(sh);
  }
  if (strcmp(svc, "activity") == 0) {
    return dump_activity(sh);
  }
  if (strcmp(svc, "diskstats") == 0) {
    return dump_diskstats(sh);
  }
  if (strcmp(svc, "jobscheduler") == 0) {
    return df_sim_dump_jobscheduler(sh, argc, argv);
  }
  df_sim_buf_printf(&sh->o->err, "Can't find service: %s\n", svc);
  return 0;
}

/* ---- logcat ---- */

static void
log_line(struct df_sim_sh *sh, int64_t ms, int pid, char prio, const char *tag, const char *msg)
{
  char when[32];
  fmt_time(ms, "%m-%d %H:%M:%S", when, sizeof(when));
  df_sim_buf_printf(&sh->o->out, "%s.%03d %5d %5d %c %-8s: %s\n", when, (int)(ms % 1000), pid,
                    pid, prio, tag, msg);
}

int
df_sim_cmd_logcat(struct df_sim_sh *sh, int argc, char **argv)
{
  bool crash = false, main_b = false, clear = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-c") == 0) {
      clear = true;
    } else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc) {
      const char *b = argv[++i];
      crash |= strstr(b, "crash") != NULL || strcmp(b, "all") == 0;
      main_b |= strstr(b, "main") != NULL || strstr(b, "system") != NULL || strcmp(b, "all") == 0 ||
                strcmp(b, "default") == 0;
    }
  }
  if (!crash && !main_b) {
    /* Default buffers: main, system and crash. */
    crash = main_b = true;
  }
  struct df_sim_phone *phone = sh->phone;
  if (clear) {
    /* Only this boot's records are in the buffers; clearing drops them. */
    for (size_t k = 0; k < phone->logs.n; k++) {
      if (main_b) {
        phone->logs.v[k].boot = -1;
      }
    }
    for (size_t k = 0; k < phone->crashes.n; k++) {
      if (crash) {
        phone->crashes.v[k].boot = -phone->crashes.v[k].boot - 1;
      }
    }
    df_sim_phone_changed(phone);
    return 0;
  }
  /* A non -d logcat would follow the log; the sim prints what there is. */
  if (main_b) {
    bool header = false;
    for (size_t k = 0; k < phone->logs.n; k++) {
      const struct df_sim_event *e = &phone->logs.v[k];
      if (e->boot != phone->boot_count) {
        continue;
      }
      if (!header) {
        df_sim_buf_printf(&sh->o->out, "--------- beginning of main\n");
        header = true;
      }
      log_line(sh, e->time_ms, e->pid, e->prio, e->tag, e->text);
    }
  }
  if (crash) {
    bool header = false;
    for (size_t k = 0; k < phone->crashes.n; k++) {
      const struct df_sim_event *e = &phone->crashes.v[k];
      if (e->boot != phone->boot_count) {
        continue;
      }
      if (!header) {
        df_sim_buf_printf(&sh->o->out, "--------- beginning of crash\n");
        header = true;
      }
      /* RuntimeInit's FATAL EXCEPTION block, one log line per text line. */
      char msg[512];
      log_line(sh, e->time_ms, e->pid, 'E', "AndroidRuntime", "FATAL EXCEPTION: main");
      snprintf(msg, sizeof(msg), "Process: %s, PID: %d", e->process, e->pid);
      log_line(sh, e->time_ms, e->pid, 'E', "AndroidRuntime", msg);
      char *text = df_sim_strdup(e->text);
      char *save = NULL;
      for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        log_line(sh, e->time_ms, e->pid, 'E', "AndroidRuntime", l);
      }
      free(text);
    }
  }
  return 0;
}
