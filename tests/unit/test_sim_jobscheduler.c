/* The simulated phone's job scheduler (tests/sim/shell_jobscheduler.c):
 * `cmd jobscheduler run` forces DiskStatsLoggingService, which rewrites the
 * storage snapshot `dumpsys diskstats` prints once its run has finished,
 * and `dumpsys jobscheduler` tells when it last ran this boot; the errors
 * and exit codes of JobSchedulerShellCommand; the free-space lines of
 * `dumpsys diskstats` (Data-, Cache-, System-Free). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/sim_fixture.h"

#define RUN_DISKSTATS "cmd jobscheduler run -f android 1145656139"

static int
setup_xiaomi(void **state)
{
  return sim_fx_setup(state, "xiaomi/redmi-k70", false);
}

/* The line of `dumpsys CMD` that starts with label (without its end), or
 * "" (a static buffer). */
static const char *
dump_line(struct sim_fx *fx, const char *cmd, const char *label)
{
  static char line[4096];
  line[0] = '\0';
  char full[128];
  snprintf(full, sizeof(full), "dumpsys %s", cmd);
  assert_int_equal(sim_fx_sh(fx, full, false), 0);
  const char *out = sim_fx_out(fx);
  for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    if (strncmp(p, label, strlen(label)) == 0) {
      size_t n = strcspn(p, "\n");
      snprintf(line, sizeof(line), "%.*s", (int)n, p);
      break;
    }
  }
  return line;
}

/* Lets the phone's clock run on by s seconds (the forced run finishes). */
static void
time_passes(struct sim_fx *fx, int s)
{
  fx->phone->clock_offset_s += s;
}

static void
test_forced_run_refreshes_the_snapshot(void **state)
{
  struct sim_fx *fx = *state;
  /* A snapshot taken earlier (the sim takes one at the first boot). */
  if (!df_sim_vfs_exists(fx->phone, DF_SIM_DISKSTATS_CACHE)) {
    assert_int_equal(df_sim_phone_diskstats_job(fx->phone), 0);
  }
  char caches[4096];
  snprintf(caches, sizeof(caches), "%s", dump_line(fx, "diskstats", "Cache Sizes: ["));
  assert_int_equal(sim_fx_sh(fx, "pm clear --cache-only org.telegram.messenger", false), 0);
  assert_string_equal(dump_line(fx, "diskstats", "Cache Sizes: ["), caches);
  /* No run this boot yet: JobScheduler has no last run to show. */
  assert_string_equal(dump_line(fx, "jobscheduler android", "    Last successful run:"), "");

  /* The shell user may force it (not as root: uid 2000). */
  assert_int_equal(sim_fx_sh(fx, RUN_DISKSTATS, false), 0);
  assert_string_equal(sim_fx_out(fx), "Running job [FORCED]\n");
  assert_string_equal(sim_fx_err(fx), "");
  /* It runs in the background: once it is done the snapshot is new. */
  time_passes(fx, 10);
  assert_string_not_equal(dump_line(fx, "diskstats", "Cache Sizes: ["), caches);
  const char *last = dump_line(fx, "jobscheduler android", "    Last successful run: ");
  assert_int_equal(strlen(last), strlen("    Last successful run: 2026-11-24 23:00:00"));
  /* The date is the phone's clock now (UTC), to the minute. */
  char want[32];
  int64_t ms = df_sim_phone_now_ms(fx->phone);
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(want, sizeof(want), "%Y-%m-%d %H:%M", &tm);
  assert_non_null(strstr(last, want));

  /* A reboot forgets it: the job is not persisted. */
  assert_int_equal(df_sim_phone_reboot(fx->phone, ""), 0);
  assert_string_equal(dump_line(fx, "jobscheduler android", "    Last successful run:"), "");
  assert_non_null(strstr(dump_line(fx, "jobscheduler", "  JOB #1000/1145656139: "),
                         "android/com.android.server.storage.DiskStatsLoggingService"));
}

static void
test_disabled_logging_writes_nothing(void **state)
{
  struct sim_fx *fx = *state;
  assert_int_equal(df_sim_phone_diskstats_job(fx->phone), 0);
  char caches[4096];
  snprintf(caches, sizeof(caches), "%s", dump_line(fx, "diskstats", "Cache Sizes: ["));
  assert_int_equal(sim_fx_sh(fx, "pm clear --cache-only org.telegram.messenger", false), 0);
  /* Settings.Global.ENABLE_DISKSTATS_LOGGING = 0: onStartJob gives up. */
  assert_int_equal(sim_fx_sh(fx, "settings put global enable_diskstats_logging 0", false), 0);
  assert_int_equal(sim_fx_sh(fx, RUN_DISKSTATS, false), 0);
  assert_string_equal(sim_fx_out(fx), "Running job [FORCED]\n");
  time_passes(fx, 10);
  assert_string_equal(dump_line(fx, "diskstats", "Cache Sizes: ["), caches);
  assert_string_equal(dump_line(fx, "jobscheduler android", "    Last successful run:"), "");
}

static void
test_run_errors(void **state)
{
  struct sim_fx *fx = *state;
  /* Without -f: the job needs the phone idle. */
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run android 1145656139", false), 22);
  assert_string_equal(sim_fx_err(fx), "Job 1145656139 in package android / user 0 has functional "
                                      "constraints but --force not specified\n");
  /* Another job id, another package, an unknown package, another user. */
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f android 42", false), 23);
  assert_string_equal(sim_fx_err(fx), "Could not find job 42 in package android / user 0\n");
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f -n x android 1145656139", false), 23);
  assert_string_equal(sim_fx_err(fx), "Could not find job 1145656139 in package android / namespace x / user 0\n");
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f org.telegram.messenger 1145656139", false), 23);
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f no.such.app 1", false), 24);
  assert_string_equal(sim_fx_err(fx), "Package not found: no.such.app / user 0\n");
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f -u 10 android 1145656139", false), 24);
  assert_string_equal(sim_fx_err(fx), "Package not found: android / user 10\n");
  /* Bad arguments: the exception on stdout, exit 255. */
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f android DISK", false), 255);
  assert_string_equal(sim_fx_out(fx), "Exception: java.lang.NumberFormatException: For input string: \"DISK\"\n");
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -x android 1", false), 255);
  assert_string_equal(sim_fx_out(fx), "Error: unknown option '-x'\n");
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f -s android 1145656139", false), 255);
  assert_string_equal(sim_fx_out(fx), "Cannot specify both --force and --satisfied\n");
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run -f", false), 255);
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler frobnicate", false), 255);
  assert_string_equal(sim_fx_out(fx), "Unknown command: frobnicate\n");
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler help", false), 0);
  assert_non_null(strstr(sim_fx_out(fx), "run [-f | --force]"));
  /* Root may too; --user current is user 0. */
  assert_int_equal(sim_fx_sh(fx, "cmd jobscheduler run --force --user current android 1145656139", true), 0);
  assert_string_equal(sim_fx_out(fx), "Running job [FORCED]\n");
  assert_int_equal(sim_fx_sh(fx, "dumpsys jobscheduler no.such.app", false), 0);
  assert_string_equal(sim_fx_out(fx), "Invalid package: no.such.app\n");
}

/* DiskStatsService.reportFreeSpace for /data, the download cache (on /data)
 * and /system (read-only, full). */
static void
test_free_lines(void **state)
{
  struct sim_fx *fx = *state;
  char data[128];
  snprintf(data, sizeof(data), "%s", dump_line(fx, "diskstats", "Data-Free: "));
  unsigned long long avail = 0, total = 0;
  int pct = -1;
  assert_int_equal(sscanf(data, "Data-Free: %lluK / %lluK total = %d%% free", &avail, &total, &pct), 3);
  assert_true(total > 0 && avail <= total);
  assert_int_equal(pct, (int)(avail * 100 / total));
  char cache[128];
  snprintf(cache, sizeof(cache), "Cache-Free: %lluK / %lluK total = %d%% free", avail, total, pct);
  assert_string_equal(dump_line(fx, "diskstats", "Cache-Free: "), cache);
  unsigned long long sys_avail = 1, sys_total = 0;
  assert_int_equal(sscanf(dump_line(fx, "diskstats", "System-Free: "), "System-Free: %lluK / %lluK total = %d%% free",
                          &sys_avail, &sys_total, &pct),
                   3);
  assert_true(sys_total > 0);
  assert_int_equal(sys_avail, 0);
  assert_int_equal(pct, 0);
  /* The order of DiskStatsService.dump. */
  assert_int_equal(sim_fx_sh(fx, "dumpsys diskstats", false), 0);
  const char *out = sim_fx_out(fx);
  const char *l = strstr(out, "Latency: "), *d = strstr(out, "Data-Free: "), *c = strstr(out, "Cache-Free: "),
             *s = strstr(out, "System-Free: "), *e = strstr(out, "File-based Encryption: true");
  assert_true(l && d && c && s && e && l < d && d < c && c < s && s < e);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_forced_run_refreshes_the_snapshot, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_disabled_logging_writes_nothing, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_run_errors, setup_xiaomi, sim_fx_teardown),
    cmocka_unit_test_setup_teardown(test_free_lines, setup_xiaomi, sim_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
