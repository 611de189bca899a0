/* The job scheduler as the shell sees it, for the one job the sim has:
 * DiskStatsLoggingService, the daily job that writes the storage snapshot
 * `dumpsys diskstats` prints (phone_sysdata.c). `cmd jobscheduler run`
 * forces it, `dumpsys jobscheduler` shows when it last ran. Facts from AOSP
 * frameworks/base: services/core/java/com/android/server/storage/
 * DiskStatsLoggingService.java (JOB_DISKSTATS_LOGGING = 0x4449534b, "DISK",
 * = 1145656139, component android/.storage.DiskStatsLoggingService, periodic
 * 1 day, requires charging and device idle, not persisted; onStartJob gives
 * up without writing when the phone is not charging or Settings.Global
 * enable_diskstats_logging is 0, else measures on a background thread and
 * writes /data/system/diskstats_cache.json), apex/jobscheduler/service/
 * .../job/JobSchedulerShellCommand.java (runJob, printError) and
 * JobSchedulerService.executeRunCommand / dumpInternal, controllers/
 * JobStatus.dump ("Last successful run: yyyy-MM-dd HH:mm:ss").
 * The shell user passes checkPermission (the Shell app holds
 * CHANGE_APP_IDLE_STATE), and so does root. A sim phone is always on USB,
 * hence charging, and never idle (someone is using adb). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/sim_internal.h"

#define DISKSTATS_JOB_ID 1145656139 /* 0x4449534b */
#define DISKSTATS_JOB_UID 1000      /* system: the "android" package */
#define DISKSTATS_JOB_SERVICE "android/com.android.server.storage.DiskStatsLoggingService"
/* What a forced run takes until the file is written: measuring every app
 * through installd is not instant on a phone; the shell command returns at
 * once ("Running job [FORCED]"), so readers must wait for the file. */
#define DISKSTATS_JOB_RUN_MS 1500

/* ShellCommand results that cmd(1) turns into its exit status (& 0xff). */
enum {
  CMD_ERR_NO_PACKAGE = -1000,
  CMD_ERR_NO_JOB = -1001,
  CMD_ERR_CONSTRAINTS = -1002,
};

static int
exit_status(int result)
{
  return result & 0xff;
}

/* The job's preconditions at start (DiskStatsLoggingService.onStartJob). */
static bool
job_would_write(struct df_sim_phone *phone)
{
  const char *v = df_sim_kvs_get(&phone->settings[DF_SIM_NS_GLOBAL], "enable_diskstats_logging");
  return v == NULL || atoi(v) != 0;
}

void
df_sim_jobscheduler_settle(struct df_sim_phone *phone)
{
  if (phone->diskstats_job_due_ms == 0 || df_sim_phone_now_ms(phone) < phone->diskstats_job_due_ms) {
    return;
  }
  phone->diskstats_job_due_ms = 0;
  /* A reboot in between killed the run (it lived in system_server). */
  if (phone->diskstats_job_due_boot != phone->boot_count) {
    return;
  }
  if (!job_would_write(phone)) {
    return;
  }
  int r = df_sim_phone_diskstats_job(phone);
  if (r < 0) {
    df_log_warn("droidfix-sim: cannot write %s: %s", DF_SIM_DISKSTATS_CACHE, df_strerror(r));
    return;
  }
  phone->diskstats_job_ok_ms = df_sim_phone_now_ms(phone);
  phone->diskstats_job_ok_boot = phone->boot_count;
}

/* Integer.parseInt. */
static bool
parse_int(const char *s, int *out)
{
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0 || v < INT_MIN || v > INT_MAX) {
    return false;
  }
  *out = (int)v;
  return true;
}

/* UserHandle.parseUserArg: "all" -1, "current"/"cur" -2, else a number. */
static bool
parse_user(const char *s, int *user)
{
  if (strcmp(s, "all") == 0) {
    *user = -1;
    return true;
  }
  if (strcmp(s, "current") == 0 || strcmp(s, "cur") == 0) {
    *user = -2;
    return true;
  }
  return parse_int(s, user);
}


/* The uid of pkg for user (PackageManager.getPackageUid), or -1. */
static int
package_uid(struct df_sim_phone *phone, const char *pkg, int user)
{
  if (user != 0) {
    return -1; /* the sim's phones have the owner only */
  }
  if (strcmp(pkg, "android") == 0) {
    return DISKSTATS_JOB_UID;
  }
  const struct df_sim_package *p = df_sim_pkg_find(phone, pkg);
  return p ? p->uid : -1;
}

static int
run_job(struct df_sim_sh *sh, int argc, char **argv)
{
  struct df_sim_buf *out = &sh->o->out, *err = &sh->o->err;
  bool force = false, satisfied = false;
  int user = 0;
  const char *ns = NULL;
  int i = 2;
  /* BasicShellCommandHandler.getNextOption: "-x" words up to "--". */
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(o, "-f") == 0 || strcmp(o, "--force") == 0) {
      force = true;
    } else if (strcmp(o, "-s") == 0 || strcmp(o, "--satisfied") == 0) {
      satisfied = true;
    } else if (strcmp(o, "-u") == 0 || strcmp(o, "--user") == 0 || strcmp(o, "-n") == 0 ||
               strcmp(o, "--namespace") == 0) {
      if (i + 1 >= argc) {
        df_sim_buf_printf(out, "Exception: java.lang.IllegalArgumentException: Argument expected after \"%s\"\n", o);
        return exit_status(-1);
      }
      const char *v = argv[++i];
      if (o[1] == 'n' || strcmp(o, "--namespace") == 0) {
        ns = v;
      } else if (!parse_user(v, &user)) {
        df_sim_buf_printf(out, "Exception: java.lang.IllegalArgumentException: Bad user number: %s\n", v);
        return exit_status(-1);
      }
    } else {
      df_sim_buf_printf(out, "Error: unknown option '%s'\n", o);
      return exit_status(-1);
    }
  }
  if (force && satisfied) {
    df_sim_buf_printf(out, "Cannot specify both --force and --satisfied\n");
    return exit_status(-1);
  }
  if (user == -2) {
    user = 0; /* ActivityManager.getCurrentUser() */
  }
  if (i >= argc) {
    df_sim_buf_printf(out, "Exception: java.lang.IllegalArgumentException: Argument expected after \"%s\"\n",
                      argv[i - 1]);
    return exit_status(-1);
  }
  const char *pkg = argv[i++];
  if (i >= argc) {
    df_sim_buf_printf(out, "Exception: java.lang.IllegalArgumentException: Argument expected after \"%s\"\n",
                      pkg);
    return exit_status(-1);
  }
  int job_id = 0;
  if (!parse_int(argv[i], &job_id)) {
    df_sim_buf_printf(out, "Exception: java.lang.NumberFormatException: For input string: \"%s\"\n", argv[i]);
    return exit_status(-1);
  }
  int uid = package_uid(sh->phone, pkg, user < 0 ? 0 : user);
  if (uid < 0) {
    df_sim_buf_printf(err, "Package not found: %s / user %d\n", pkg, user);
    return exit_status(CMD_ERR_NO_PACKAGE);
  }
  if (uid != DISKSTATS_JOB_UID || job_id != DISKSTATS_JOB_ID || ns != NULL) {
    df_sim_buf_printf(err, "Could not find job %d in package %s", job_id, pkg);
    if (ns != NULL) {
      df_sim_buf_printf(err, " / namespace %s", ns);
    }
    df_sim_buf_printf(err, " / user %d\n", user);
    return exit_status(CMD_ERR_NO_JOB);
  }
  if (!force) {
    /* Charging holds over USB; device idle never does while adb is in use:
     * only --force overrides that functional constraint. */
    df_sim_buf_printf(err, "Job %d in package %s / user %d has functional constraints but --force not specified\n",
                      job_id, pkg, user);
    return exit_status(CMD_ERR_CONSTRAINTS);
  }
  struct df_sim_phone *phone = sh->phone;
  df_sim_jobscheduler_settle(phone);
  if (phone->diskstats_job_due_ms == 0 || phone->diskstats_job_due_boot != phone->boot_count) {
    /* A run already under way is not started twice. */
    phone->diskstats_job_due_ms = df_sim_phone_now_ms(phone) + DISKSTATS_JOB_RUN_MS;
    phone->diskstats_job_due_boot = phone->boot_count;
  }
  df_sim_buf_printf(out, "Running job [FORCED]\n");
  return 0;
}

static void
help(struct df_sim_buf *out)
{
  /* The part of JobSchedulerShellCommand.onHelp about what is simulated. */
  df_sim_buf_printf(out, "Job scheduler (jobscheduler) commands:\n"
                         "  help\n"
                         "    Print this help text.\n"
                         "  run [-f | --force] [-s | --satisfied] [-u | --user USER_ID] [-n | --namespace NAMESPACE]"
                         " PACKAGE JOB_ID\n"
                         "    Trigger immediate execution of a specific scheduled job. For historical\n"
                         "    reasons, waiting jobs that are ready for execution will also be run.\n"
                         "    Options:\n"
                         "      -f or --force: run the job even if technical constraints such as\n"
                         "         connectivity are not currently met. This is incompatible with -f \n"
                         "         and so an error will be reported if both are given.\n"
                         "      -s or --satisfied: run the job only if all constraints are met.\n"
                         "         This is incompatible with -f and so an error will be reported\n"
                         "         if both are given.\n"
                         "      -u or --user: specify which user's job is to be run; the default is\n"
                         "         the primary or system user\n"
                         "      -n or --namespace: specify the namespace this job sits in; the default\n"
                         "         is null (no namespace).\n"
                         "\n");
}

int
df_sim_cmd_jobscheduler(struct df_sim_sh *sh, int argc, char **argv)
{
  /* argv[0] is "jobscheduler" (after `cmd`). */
  if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0) {
    help(&sh->o->out);
    return 0;
  }
  if (strcmp(argv[1], "run") == 0) {
    return run_job(sh, argc, argv);
  }
  /* handleDefaultCommands; the other subcommands (cancel, timeout,
   * get-job-state ...) are not simulated and answer the same way. */
  df_sim_buf_printf(&sh->o->out, "Unknown command: %s\n", argv[1]);
  return exit_status(-1);
}

static void
fmt_local(int64_t ms, char *out, size_t outlen)
{
  /* DateFormat.format in the phone's zone; the sim's phones keep UTC. */
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm);
}

int
df_sim_dump_jobscheduler(struct df_sim_sh *sh, int argc, char **argv)
{
  /* JobSchedulerService.dumpInternal with the one registered job: the
   * settings constants, controllers' state, package tracker and history
   * are left out. An optional package name filters details as on a phone
   * ("Invalid package: X" when it is unknown). */
  struct df_sim_phone *phone = sh->phone;
  struct df_sim_buf *out = &sh->o->out;
  int filter_uid = -1;
  for (int i = 2; i < argc; i++) {
    if (argv[i][0] == '-') {
      continue; /* -a, --proto ...: the text dump */
    }
    filter_uid = package_uid(phone, argv[i], 0);
    if (filter_uid < 0) {
      df_sim_buf_printf(out, "Invalid package: %s\n", argv[i]);
      return 0;
    }
    break;
  }
  df_sim_jobscheduler_settle(phone);
  int64_t now = df_sim_phone_now_ms(phone);
  bool running = phone->diskstats_job_due_ms != 0 && phone->diskstats_job_due_boot == phone->boot_count;
  df_sim_buf_printf(out, "Started users: [0]\nRegistered 1 jobs:\n  JOB #%d/%d: 5e1c0a2 %s\n",
                    DISKSTATS_JOB_UID, DISKSTATS_JOB_ID, DISKSTATS_JOB_SERVICE);
  if (filter_uid == -1 || filter_uid == DISKSTATS_JOB_UID) {
    df_sim_buf_printf(out,
                      "    %d tag=*job*/%s\n"
                      "    Source: uid=%d user=0 pkg=android\n"
                      "    JobInfo:\n"
                      "      Service: %s\n"
                      "      PERIODIC: interval=+1d0h0m0s0ms flex=+1d0h0m0s0ms\n"
                      "      Priority: DEFAULT\n"
                      "      Requires: charging=true batteryNotLow=false deviceIdle=true\n"
                      "      Backoff: policy=1 initial=+30s0ms\n"
                      "    Required constraints: CHARGING IDLE [0x5]\n"
                      "    Dynamic constraints:\n"
                      "    Satisfied constraints: CHARGING DEVICE_NOT_DOZING BACKGROUND_NOT_RESTRICTED"
                      " WITHIN_QUOTA [0x3400001]\n"
                      "    Unsatisfied constraints: IDLE [0x4]\n"
                      "    Tracking: BATTERY IDLE TIME\n"
                      "    Standby bucket: EXEMPTED\n",
                      DISKSTATS_JOB_UID, DISKSTATS_JOB_SERVICE, DISKSTATS_JOB_UID, DISKSTATS_JOB_SERVICE);
    /* The job is not persisted: what JobScheduler knows of its runs is
     * what happened since this boot. */
    if (phone->diskstats_job_ok_ms != 0 && phone->diskstats_job_ok_boot == phone->boot_count) {
      char when[32];
      fmt_local(phone->diskstats_job_ok_ms, when, sizeof(when));
      df_sim_buf_printf(out, "    Last successful run: %s\n", when);
    }
    df_sim_buf_printf(out, "    Ready: false (job=%s pending=false active=%s user=true)\n",
                      running ? "true" : "false", running ? "true" : "false");
  }
  df_sim_buf_printf(out, "\nActive jobs:\n  Slot #0: ");
  if (running) {
    df_sim_buf_printf(out, "5e1c0a2 #%d/%d %s\n    Running for: +%" PRId64 "ms\n", DISKSTATS_JOB_UID,
                      DISKSTATS_JOB_ID, DISKSTATS_JOB_SERVICE,
                      now - (phone->diskstats_job_due_ms - DISKSTATS_JOB_RUN_MS));
  } else {
    df_sim_buf_printf(out, "inactive\n");
  }
  df_sim_buf_printf(out, "\n");
  return 0;
}
