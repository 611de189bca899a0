/* df_device_wait_usb_new (plugins/device_find.h) under umockdev-wrapper:
 * the wait of a run that started with no phone answering, over USB. Two
 * simulated phones (droidfix-sim, each in its bootloader) are served as
 * fake USB fastboot devices through tests/unit/usb_bridge.h, plugged in
 * only after the wait has started, as a person's phone appears once they
 * held its buttons. What is checked: a device already plugged in at the
 * start is never opened; a new one with the model's USB ids is probed over
 * real fastboot (getvar) and handed over with the phone's own serial and
 * product; one with other ids is not opened; two new phones end the wait
 * with DF_EBUSY naming both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/usb.h"
#include "plugins/adb/adb_key.h"
#include "plugins/device.h"
#include "plugins/device_find.h"
#include "tests/unit/usb_bridge.h"

extern char **environ;

/* --- two simulated phones, processes of their own ------------------------- */

struct sim {
  const char *serial;
  char dir[128];
  pid_t pid;
  int fb_port;
};

static char work[64];
static char bin_dir[512];
static struct sim sims[2] = {{.serial = "SIMNEW01"}, {.serial = "SIMNEW02"}};

/* envp for a child: this environment without umockdev's preload, HOME in
 * the test's folder. */
static char **
child_env(void)
{
  size_t n = 0, k = 0;
  char **env;
  static char home[160];

  while (environ[n] != NULL) n++;
  env = calloc(n + 2, sizeof(*env));
  assert_non_null(env);
  for (size_t i = 0; i < n; i++) {
    const char *e = environ[i];
    if (strncmp(e, "HOME=", 5) == 0 || strncmp(e, "LD_PRELOAD=", 11) == 0 ||
        strncmp(e, "UMOCKDEV_DIR=", 13) == 0)
      continue;
    env[k++] = environ[i];
  }
  snprintf(home, sizeof(home), "HOME=%s/home", work);
  env[k++] = home;
  env[k] = NULL;
  return env;
}

static pid_t
spawn(char *const argv[], const char *out_path)
{
  posix_spawn_file_actions_t fa;
  char **env = child_env();
  pid_t pid;
  int r;

  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  r = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  return r == 0 ? pid : -1;
}

/* The same, keeping umockdev's preload: for the droidfix binary, which
 * must see the testbed's USB devices. */
static pid_t
spawn_keep_umockdev(char *const argv[], const char *out_path, const char *err_path)
{
  posix_spawn_file_actions_t fa;
  size_t n = 0, k = 0;
  char **env;
  static char home[160];
  pid_t pid;
  int r;

  while (environ[n] != NULL) n++;
  env = calloc(n + 2, sizeof(*env));
  assert_non_null(env);
  for (size_t i = 0; i < n; i++) {
    if (strncmp(environ[i], "HOME=", 5) == 0 || strncmp(environ[i], "DROIDFIX_CONNECT=", 17) == 0)
      continue;
    env[k++] = environ[i];
  }
  snprintf(home, sizeof(home), "HOME=%s/home", work);
  env[k++] = home;
  env[k] = NULL;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  r = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  return r == 0 ? pid : -1;
}

static void
sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void
slurp(const char *path, char *buf, size_t len)
{
  FILE *f = fopen(path, "r");
  size_t n = 0;

  if (f != NULL) {
    n = fread(buf, 1, len - 1, f);
    fclose(f);
  }
  buf[n] = '\0';
}

/* droidfix-sim VERB --state-dir DIR [ARG] to its end; its exit code. */
static int
sim_tool(struct sim *s, const char *verb, const char *arg, char *out, size_t outlen)
{
  char tool[600], out_path[200];
  char *argv[] = {tool, (char *)verb, "--state-dir", s->dir, (char *)arg, NULL};
  int status = 0;
  pid_t pid;

  snprintf(tool, sizeof(tool), "%s/droidfix-sim", bin_dir);
  snprintf(out_path, sizeof(out_path), "%s/tool.out", work);
  pid = spawn(argv, out_path);
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  if (out != NULL) slurp(out_path, out, outlen);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool
port_listens(int port)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

  if (fd >= 0) close(fd);
  return ok;
}

/* The person holds the fastboot combination: the sim goes to its
 * bootloader (up to 20 s on a loaded machine). */
static void
sim_to_bootloader(struct sim *s)
{
  static char json[1 << 16];

  assert_int_equal(sim_tool(s, "press", "fastboot", NULL, 0), 0);
  for (int i = 0; i < 200; i++) {
    if (sim_tool(s, "status", NULL, json, sizeof(json)) == 0 &&
        strstr(json, "\"mode\": \"bootloader\"") != NULL && port_listens(s->fb_port))
      return;
    sleep_ms(100);
  }
  fail_msg("droidfix-sim %s did not reach its bootloader", s->serial);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int
group_setup(void **state)
{
  char tool[600], out[256], dir[160], *p;
  const char *env = getenv("DF_BIN_DIR");

  (void)state;
  snprintf(bin_dir, sizeof(bin_dir), "%s", env != NULL ? env : "build/bin");
  snprintf(work, sizeof(work), "/tmp/df-usb-new-XXXXXX");
  if (mkdtemp(work) == NULL) return -1;
  snprintf(dir, sizeof(dir), "%s/home", work);
  mkdir(dir, 0700);
  snprintf(dir, sizeof(dir), "%s/home/.android", work);
  mkdir(dir, 0700);
  snprintf(tool, sizeof(tool), "%s/droidfix-sim", bin_dir);
  for (int k = 0; k < 2; k++) {
    struct sim *s = &sims[k];
    char out_path[200];
    char *argv[] = {tool, "serve", "--state-dir", s->dir, "--serial", (char *)s->serial,
                    "--boot-ms", "100", NULL};
    snprintf(s->dir, sizeof(s->dir), "%s/phone%d", work, k);
    mkdir(s->dir, 0700);
    snprintf(out_path, sizeof(out_path), "%s/sim%d.out", work, k);
    s->pid = spawn(argv, out_path);
    if (s->pid < 0) return -1;
    for (int i = 0; i < 100 && s->fb_port == 0; i++) {
      sleep_ms(100);
      slurp(out_path, out, sizeof(out));
      if ((p = strstr(out, "fastboot 127.0.0.1:")) != NULL) s->fb_port = atoi(p + 19);
    }
    if (s->fb_port == 0) {
      fprintf(stderr, "droidfix-sim did not start (%s)\n", tool);
      return -1;
    }
  }
  return 0;
}

static int
group_teardown(void **state)
{
  (void)state;
  for (int k = 0; k < 2; k++) {
    if (sims[k].pid > 0) {
      kill(sims[k].pid, SIGTERM);
      waitpid(sims[k].pid, NULL, 0);
    }
  }
  if (work[0] != '\0') nftw(work, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

/* --- the loop side ----------------------------------------------------------- */

static UMockdevTestbed *testbed;
static struct df_loop loop;
static uv_timer_t guard; /* turns a hang into a failure; asserts nothing about speed */
static int guard_fired;
static struct df_adb_keys keys;
static struct df_test_usb_bridge *bridges[2];
static struct df_test_usb_dev *bystander; /* plugged in before the wait */

static void
on_guard(uv_timer_t *t)
{
  (void)t;
  guard_fired = 1;
}

static void
run_until(const bool *flag)
{
  guard_fired = 0;
  uv_timer_start(&guard, on_guard, 90000, 0);
  uv_ref((uv_handle_t *)&guard);
  while (!*flag && !guard_fired) uv_run(&loop.uv, UV_RUN_ONCE);
  uv_unref((uv_handle_t *)&guard);
  uv_timer_stop(&guard);
  assert_false(guard_fired);
}

/* Turns the loop for about ms without expecting anything. */
static void
run_for(long ms)
{
  for (long i = 0; i < ms / 5; i++) {
    uv_run(&loop.uv, UV_RUN_NOWAIT);
    sleep_ms(5);
  }
}

static int
setup(void **state)
{
  char dir[200];

  (void)state;
  testbed = umockdev_testbed_new();
  assert_non_null(testbed);
  assert_int_equal(df_loop_init(&loop), 0);
  uv_timer_init(&loop.uv, &guard);
  uv_unref((uv_handle_t *)&guard);
  snprintf(dir, sizeof(dir), "%s/home/.android", work);
  assert_int_equal(df_adb_keys_load(&keys, dir), 0);
  return 0;
}

static int
teardown(void **state)
{
  (void)state;
  df_adb_keys_free(&keys);
  uv_close((uv_handle_t *)&guard, NULL);
  assert_int_equal(df_loop_close(&loop), 0);
  g_clear_object(&testbed);
  for (int k = 0; k < 2; k++) {
    df_test_usb_bridge_free(bridges[k]);
    bridges[k] = NULL;
  }
  /* usb_bridge.c's free takes the address of a field before its NULL test */
  if (bystander != NULL) df_test_usb_dev_free(bystander);
  bystander = NULL;
  return 0;
}

/* The phones in their bootloaders as USB devices (Qualcomm Xiaomi fastboot
 * ids, as devices/xiaomi/redmi-k70.lua lists them); the USB serials differ
 * from the phones' own on purpose. The bystander is a fastboot device of
 * the same ids plugged in before the wait (another phone nobody answered
 * for): it must never be opened. */
static const struct df_test_usb_dev_desc phone_desc[2] = {
  {.syspath = "/devices/usb1/1-2", .devnum = 3, .vid = 0x18d1, .pid = 0xd00d,
   .serial = "USBFB01", .n_ifaces = 1, .ifaces = {{0xff, 0x42, 0x03}}},
  {.syspath = "/devices/usb1/1-3", .devnum = 4, .vid = 0x18d1, .pid = 0xd00d,
   .serial = "USBFB02", .n_ifaces = 1, .ifaces = {{0xff, 0x42, 0x03}}},
};
static const struct df_test_usb_dev_desc bystander_desc = {
  .syspath = "/devices/usb1/1-4", .devnum = 5, .vid = 0x18d1, .pid = 0xd00d,
  .serial = "THERE-BEFORE", .n_ifaces = 1, .ifaces = {{0xff, 0x42, 0x03}}};

static const struct df_device_usb_id model_ids[] = {{0x2717, 0xff48}, {0x18d1, 0xd00d}};

static int bystander_claims;

static int
on_bystander_claim(void *ctx, unsigned interface_number)
{
  (void)ctx;
  (void)interface_number;
  bystander_claims++;
  return 0;
}

static const struct df_test_usb_dev_ops bystander_ops = {.claim = on_bystander_claim};

static void
on_arrived(void *ud, const struct df_usb_device_info *info)
{
  (void)ud;
  (void)info;
}

static void
on_left(void *ud, const struct df_usb_device_info *info)
{
  (void)ud;
  (void)info;
}

static const struct df_usb_callbacks usb_cbs = {.arrived = on_arrived, .left = on_left};

struct wait_result {
  bool done;
  int status;
  struct df_device *dev;
  char candidates[300];
};

static void
on_wait(void *ud, int status, struct df_device *dev, const char *candidates)
{
  struct wait_result *w = ud;

  w->status = status;
  w->dev = dev;
  snprintf(w->candidates, sizeof(w->candidates), "%s", candidates);
  w->done = true;
}

/* Closes the device and then the USB context, once the transport released
 * the interface. */
static void
close_all(struct df_device *dev, struct df_usb *usb, struct df_test_usb_bridge *b)
{
  struct df_test_usb_stats s;

  if (dev != NULL) {
    df_test_usb_bridge_stats(b, &s);
    df_device_close(dev);
    for (int i = 0; i < 2000; i++) {
      struct df_test_usb_stats now;
      df_test_usb_bridge_stats(b, &now);
      if (now.releases > s.releases) break;
      uv_run(&loop.uv, UV_RUN_NOWAIT);
      sleep_ms(5);
    }
  }
  df_usb_free(usb);
  for (int i = 0; i < 10; i++) uv_run(&loop.uv, UV_RUN_NOWAIT);
}

static void
test_a_new_phone_is_found_and_the_one_there_before_is_not_opened(void **state)
{
  struct df_usb *usb;
  struct wait_result w = {0};
  struct df_test_usb_stats s;

  (void)state;
  sim_to_bootloader(&sims[0]);
  bystander_claims = 0;
  bystander = df_test_usb_dev_new(testbed, &bystander_desc, &bystander_ops, NULL);
  assert_int_equal(df_usb_init(&loop, &usb_cbs, NULL, &usb), 0);
  assert_int_equal(df_device_wait_usb_new(&loop, usb, &keys, model_ids, 2,
                                          DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 60000,
                                          on_wait, &w),
                   0);
  /* Nothing new yet: the wait goes on, and the device there before it
   * started is not opened. */
  run_for(1500);
  assert_false(w.done);
  /* The phone shows up in its bootloader. */
  bridges[0] = df_test_usb_bridge_new(testbed, &phone_desc[0], DF_TEST_USB_FASTBOOT,
                                      sims[0].fb_port);
  run_until(&w.done);
  if (w.status != 0) fail_msg("the wait ended with %s", df_strerror(w.status));
  assert_non_null(w.dev);
  assert_string_equal(w.dev->serial, "SIMNEW01"); /* getvar serialno, not the USB serial */
  assert_int_equal(w.dev->mode, DF_DEVICE_BOOTLOADER);
  assert_string_equal(w.dev->codename, "vermeer"); /* getvar product: the model's to check */
  assert_non_null(w.dev->fastboot);
  assert_int_equal(bystander_claims, 0);
  df_test_usb_bridge_stats(bridges[0], &s);
  assert_true(s.fb_commands >= 1);
  assert_int_equal(s.violations, 0);
  {
    const struct df_usb_callbacks *cbs;
    void *ud;
    df_usb_get_callbacks(usb, &cbs, &ud);
    assert_ptr_equal(cbs, &usb_cbs); /* given back */
  }
  close_all(w.dev, usb, bridges[0]);
}

static void
test_a_new_device_with_other_ids_is_not_opened(void **state)
{
  static const struct df_device_usb_id other_ids[] = {{0x04e8, 0x685d}};
  struct df_usb *usb;
  struct wait_result w = {0};
  struct df_test_usb_stats s;

  (void)state;
  sim_to_bootloader(&sims[0]);
  assert_int_equal(df_usb_init(&loop, &usb_cbs, NULL, &usb), 0);
  assert_int_equal(df_device_wait_usb_new(&loop, usb, &keys, other_ids, 1,
                                          DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 3000,
                                          on_wait, &w),
                   0);
  bridges[0] = df_test_usb_bridge_new(testbed, &phone_desc[0], DF_TEST_USB_FASTBOOT,
                                      sims[0].fb_port);
  run_until(&w.done);
  assert_int_equal(w.status, DF_ETIMEDOUT);
  assert_null(w.dev);
  df_test_usb_bridge_stats(bridges[0], &s);
  assert_int_equal(s.claims, 0);
  close_all(NULL, usb, bridges[0]);
}

static void
test_two_new_phones_are_refused_by_name(void **state)
{
  struct df_usb *usb;
  struct wait_result w = {0};

  (void)state;
  sim_to_bootloader(&sims[0]);
  sim_to_bootloader(&sims[1]);
  assert_int_equal(df_usb_init(&loop, &usb_cbs, NULL, &usb), 0);
  assert_int_equal(df_device_wait_usb_new(&loop, usb, &keys, model_ids, 2,
                                          DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 60000,
                                          on_wait, &w),
                   0);
  for (int k = 0; k < 2; k++)
    bridges[k] = df_test_usb_bridge_new(testbed, &phone_desc[k], DF_TEST_USB_FASTBOOT,
                                        sims[k].fb_port);
  run_until(&w.done);
  assert_int_equal(w.status, DF_EBUSY);
  assert_null(w.dev);
  if (strstr(w.candidates, "SIMNEW01") == NULL || strstr(w.candidates, "SIMNEW02") == NULL)
    fail_msg("candidates '%s' do not name both phones", w.candidates);
  /* both sessions closed: wait for the releases before the context goes */
  for (int i = 0; i < 2000; i++) {
    struct df_test_usb_stats a, b;
    df_test_usb_bridge_stats(bridges[0], &a);
    df_test_usb_bridge_stats(bridges[1], &b);
    if (a.releases >= a.claims && b.releases >= b.claims) break;
    uv_run(&loop.uv, UV_RUN_NOWAIT);
    sleep_ms(5);
  }
  close_all(NULL, usb, bridges[0]);
}

/* The droidfix binary over USB, with no --connect and no phone at the
 * start: `droidfix run RECIPE --model xiaomi/redmi-k70` shows the fastboot
 * combination (the waiting event), the phone is plugged in after that in
 * its bootloader, and the run goes on with it: getvar product over USB. */
static void
test_droidfix_binary_waits_for_a_new_phone_over_usb(void **state)
{
  char droidfix[600], recipe[600], out_path[200], err_path[200];
  static char out[1 << 16], err[1 << 16];
  char *argv[] = {droidfix, "run", recipe, "--model", "xiaomi/redmi-k70", "--json", "--yes",
                  "--no-backup", NULL};
  int status = 0;
  pid_t pid;
  bool waiting = false;

  (void)state;
  sim_to_bootloader(&sims[0]);
  bystander_claims = 0;
  bystander = df_test_usb_dev_new(testbed, &bystander_desc, &bystander_ops, NULL);
  snprintf(droidfix, sizeof(droidfix), "%s/droidfix", bin_dir);
  snprintf(recipe, sizeof(recipe), "%s/tests/fixtures/recipes/usb-offline-wait.lua",
           getenv("DF_SOURCE_DIR") != NULL ? getenv("DF_SOURCE_DIR") : ".");
  snprintf(out_path, sizeof(out_path), "%s/run.out", work);
  snprintf(err_path, sizeof(err_path), "%s/run.err", work);
  pid = spawn_keep_umockdev(argv, out_path, err_path);
  assert_true(pid > 0);
  for (int i = 0; i < 6000 && !waiting; i++) { /* the instruction first */
    slurp(out_path, out, sizeof(out));
    waiting = strstr(out, "\"for\":\"instruct\"") != NULL;
    if (!waiting) {
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      sleep_ms(10);
    }
  }
  if (!waiting) {
    slurp(err_path, err, sizeof(err));
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("no waiting event; stdout: %.600s stderr: %.600s", out, err);
  }
  /* droidfix's first look (no phone answers) may have opened the
   * bystander; from the instruction on, the wait must not. */
  bystander_claims = 0;
  bridges[0] = df_test_usb_bridge_new(testbed, &phone_desc[0], DF_TEST_USB_FASTBOOT,
                                      sims[0].fb_port);
  for (int i = 0; waitpid(pid, &status, WNOHANG) == 0; i++) {
    if (i == 9000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fail_msg("droidfix hangs after the phone showed up");
    }
    sleep_ms(10);
  }
  slurp(out_path, out, sizeof(out));
  slurp(err_path, err, sizeof(err));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("exit %d; stdout: %.1500s stderr: %.600s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
             out, err);
  assert_non_null(strstr(out, "showed up in bootloader mode: xiaomi/redmi-k70"));
  assert_non_null(strstr(out, "product over USB: vermeer"));
  assert_int_equal(bystander_claims, 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(
      test_a_new_phone_is_found_and_the_one_there_before_is_not_opened, setup, teardown),
    cmocka_unit_test_setup_teardown(test_a_new_device_with_other_ids_is_not_opened, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_two_new_phones_are_refused_by_name, setup, teardown),
    cmocka_unit_test_setup_teardown(test_droidfix_binary_waits_for_a_new_phone_over_usb, setup,
                                    teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
