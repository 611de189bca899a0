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
#include <signal.h>
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
#include "tests/unit/usb_rig.h"
#include "tests/unit/usb_sims.h"

/* --- two simulated phones, processes of their own (usb_sims.h) ------------ */

static struct df_test_sim sims[2] = {{.serial = "SIMNEW01"}, {.serial = "SIMNEW02"}};

/* The person holds the fastboot combination: the sim goes to its
 * bootloader (up to 20 s on a loaded machine). */
static void
sim_to_bootloader(struct df_test_sim *s)
{
  assert_int_equal(df_test_sim_tool(s, "press", "fastboot", NULL, 0), 0);
  df_test_sim_wait_mode(s, "bootloader", s->fb_port);
}

static int
group_setup(void **state)
{
  (void)state;
  if (df_test_work_init("usb-new") != 0) return -1;
  if (df_test_sim_start(&sims[0], "phone0") != 0) return -1;
  return df_test_sim_start(&sims[1], "phone1");
}

static int
group_teardown(void **state)
{
  (void)state;
  for (int k = 0; k < 2; k++) df_test_sim_stop(&sims[k]);
  df_test_work_remove();
  return 0;
}

/* --- the loop side ----------------------------------------------------------- */

static struct df_test_rig rig; /* testbed, loop, guard, keys (usb_rig.h) */
static struct df_test_usb_bridge *bridges[2];
static struct df_test_usb_dev *bystander; /* plugged in before the wait */

static void
run_until(const bool *flag)
{
  df_test_rig_run_until(&rig, flag, 90000);
}

/* Turns the loop for about ms without expecting anything. */
static void
run_for(long ms)
{
  for (long i = 0; i < ms / 5; i++) {
    uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
    df_test_sleep_ms(5);
  }
}

static int
setup(void **state)
{
  (void)state;
  df_test_rig_open(&rig);
  return 0;
}

static int
teardown(void **state)
{
  (void)state;
  df_test_rig_close(&rig);
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
      uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
      df_test_sleep_ms(5);
    }
  }
  df_usb_free(usb);
  for (int i = 0; i < 10; i++) uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
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
  bystander = df_test_usb_dev_new(rig.testbed, &bystander_desc, &bystander_ops, NULL);
  assert_int_equal(df_usb_init(&rig.loop, &usb_cbs, NULL, &usb), 0);
  assert_int_equal(df_device_wait_usb_new(&rig.loop, usb, &rig.keys, model_ids, 2,
                                          DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 60000,
                                          on_wait, &w),
                   0);
  /* Nothing new yet: the wait goes on, and the device there before it
   * started is not opened. */
  run_for(1500);
  assert_false(w.done);
  /* The phone shows up in its bootloader. */
  bridges[0] = df_test_usb_bridge_new(rig.testbed, &phone_desc[0], DF_TEST_USB_FASTBOOT,
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
  assert_int_equal(df_usb_init(&rig.loop, &usb_cbs, NULL, &usb), 0);
  assert_int_equal(df_device_wait_usb_new(&rig.loop, usb, &rig.keys, other_ids, 1,
                                          DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 3000,
                                          on_wait, &w),
                   0);
  bridges[0] = df_test_usb_bridge_new(rig.testbed, &phone_desc[0], DF_TEST_USB_FASTBOOT,
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
  assert_int_equal(df_usb_init(&rig.loop, &usb_cbs, NULL, &usb), 0);
  assert_int_equal(df_device_wait_usb_new(&rig.loop, usb, &rig.keys, model_ids, 2,
                                          DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 60000,
                                          on_wait, &w),
                   0);
  for (int k = 0; k < 2; k++)
    bridges[k] = df_test_usb_bridge_new(rig.testbed, &phone_desc[k], DF_TEST_USB_FASTBOOT,
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
    uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
    df_test_sleep_ms(5);
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
  bystander = df_test_usb_dev_new(rig.testbed, &bystander_desc, &bystander_ops, NULL);
  snprintf(droidfix, sizeof(droidfix), "%s/droidfix", df_test_bin_dir());
  snprintf(recipe, sizeof(recipe), "%s/tests/fixtures/recipes/usb-offline-wait.lua",
           getenv("DF_SOURCE_DIR") != NULL ? getenv("DF_SOURCE_DIR") : ".");
  snprintf(out_path, sizeof(out_path), "%s/run.out", df_test_work());
  snprintf(err_path, sizeof(err_path), "%s/run.err", df_test_work());
  pid = df_test_spawn(argv, true, out_path, err_path);
  assert_true(pid > 0);
  for (int i = 0; i < 6000 && !waiting; i++) { /* the instruction first */
    df_test_slurp(out_path, out, sizeof(out));
    waiting = strstr(out, "\"for\":\"instruct\"") != NULL;
    if (!waiting) {
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      df_test_sleep_ms(10);
    }
  }
  if (!waiting) {
    df_test_slurp(err_path, err, sizeof(err));
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("no waiting event; stdout: %.600s stderr: %.600s", out, err);
  }
  /* droidfix's first look (no phone answers) may have opened the
   * bystander; from the instruction on, the wait must not. */
  bystander_claims = 0;
  bridges[0] = df_test_usb_bridge_new(rig.testbed, &phone_desc[0], DF_TEST_USB_FASTBOOT,
                                      sims[0].fb_port);
  if (!df_test_wait_exit(pid, &status, 9000))
    fail_msg("droidfix hangs after the phone showed up");
  df_test_slurp(out_path, out, sizeof(out));
  df_test_slurp(err_path, err, sizeof(err));
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
