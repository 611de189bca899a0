/* The loop side of the umockdev tests: testbed, loop, guard, adb keys (see
 * usb_rig.h). */
#include "tests/unit/usb_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/usb_sims.h"

static void
on_guard(uv_timer_t *t)
{
  struct df_test_rig *r = t->data;
  r->guard_fired = 1;
}

void
df_test_rig_open(struct df_test_rig *r)
{
  char dir[200];

  r->testbed = umockdev_testbed_new();
  assert_non_null(r->testbed);
  assert_int_equal(df_loop_init(&r->loop), 0);
  uv_timer_init(&r->loop.uv, &r->guard);
  r->guard.data = r;
  uv_unref((uv_handle_t *)&r->guard);
  snprintf(dir, sizeof(dir), "%s/home/.android", df_test_work());
  assert_int_equal(df_adb_keys_load(&r->keys, dir), 0);
}

void
df_test_rig_close(struct df_test_rig *r)
{
  df_adb_keys_free(&r->keys);
  uv_close((uv_handle_t *)&r->guard, NULL);
  assert_int_equal(df_loop_close(&r->loop), 0);
  g_clear_object(&r->testbed);
}

void
df_test_rig_guard_start(struct df_test_rig *r, uint64_t guard_ms)
{
  r->guard_fired = 0;
  uv_timer_start(&r->guard, on_guard, guard_ms, 0);
}

void
df_test_rig_guard_end(struct df_test_rig *r)
{
  uv_timer_stop(&r->guard);
  assert_false(r->guard_fired);
}

void
df_test_rig_run_until(struct df_test_rig *r, const bool *flag, uint64_t guard_ms)
{
  df_test_rig_guard_start(r, guard_ms);
  uv_ref((uv_handle_t *)&r->guard);
  while (!*flag && !r->guard_fired) uv_run(&r->loop.uv, UV_RUN_ONCE);
  uv_unref((uv_handle_t *)&r->guard);
  df_test_rig_guard_end(r);
}
