/* The loop side of a test run under umockdev-wrapper (test_*_umockdev.c):
 * a umockdev testbed for the fake USB phones (usb_bridge.h), droidfix's
 * loop with a guard timer that turns a hang into a failure (it asserts
 * nothing about speed), and the adb keys from the HOME of usb_sims.h's
 * temporary folder. Failures are cmocka failures. */
#ifndef DF_TEST_USB_RIG_H
#define DF_TEST_USB_RIG_H

#include <stdbool.h>
#include <stdint.h>

#include <umockdev.h>

#include "core/loop.h"
#include "plugins/adb/adb_key.h"

struct df_test_rig {
  UMockdevTestbed *testbed;
  struct df_loop loop;
  uv_timer_t guard;
  int guard_fired;
  struct df_adb_keys keys;
};

/* A cmocka setup's part: a new testbed, loop and keys. */
void
df_test_rig_open(struct df_test_rig *r);

/* A cmocka teardown's part: all df_test_rig_open made, closed. */
void
df_test_rig_close(struct df_test_rig *r);

/* Arms the guard for guard_ms; df_test_rig_guard_end stops it and fails
 * the test if it fired. The guard alone does not keep the loop running. */
void
df_test_rig_guard_start(struct df_test_rig *r, uint64_t guard_ms);
void
df_test_rig_guard_end(struct df_test_rig *r);

/* Runs the loop until *flag (or the guard fires: a failure). */
void
df_test_rig_run_until(struct df_test_rig *r, const bool *flag, uint64_t guard_ms);

#endif
