/* The simulated phone's link rate (tests/sim/link_rate.c): the --link-rate
 * parser and the token bucket's arithmetic, on a clock the test sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/sim/link_rate.h"

#define MS 1000000ull
#define S 1000000000ull

static void
test_parse(void **state)
{
  uint64_t r = 1;

  (void)state;
  assert_true(df_sim_link_rate_parse("40", &r));
  assert_int_equal(r, 40000000);
  assert_true(df_sim_link_rate_parse("0.5", &r));
  assert_int_equal(r, 500000);
  assert_true(df_sim_link_rate_parse("0", &r));
  assert_int_equal(r, 0);
  assert_true(df_sim_link_rate_parse("unlimited", &r));
  assert_int_equal(r, 0);
  assert_false(df_sim_link_rate_parse("", &r));
  assert_false(df_sim_link_rate_parse("-4", &r));
  assert_false(df_sim_link_rate_parse("40MB", &r));
  assert_false(df_sim_link_rate_parse("0.0001", &r));
  assert_false(df_sim_link_rate_parse("20000", &r));
  assert_false(df_sim_link_rate_parse("nan", &r));
}

static void
test_unlimited_never_waits(void **state)
{
  struct df_sim_link_bucket b;

  (void)state;
  df_sim_link_bucket_init(&b, 0, 0);
  df_sim_link_bucket_take(&b, 1u << 30);
  assert_true(df_sim_link_bucket_room(&b, 0) == UINT64_MAX);
  assert_int_equal(df_sim_link_bucket_wait_ns(&b, 0), 0);
}

/* 16 MB/s: 8 MiB taken at once must be paid back over 8388608 / 16e6 s,
 * less the 20 ms burst the bucket starts with. */
static void
test_overdraft_is_paid_back_at_the_rate(void **state)
{
  struct df_sim_link_bucket b;
  uint64_t wait;

  (void)state;
  df_sim_link_bucket_init(&b, 16000000, 5 * S);
  assert_int_equal(df_sim_link_bucket_room(&b, 5 * S), 320000); /* 20 ms */
  df_sim_link_bucket_take(&b, 8388608);
  assert_int_equal(df_sim_link_bucket_room(&b, 5 * S), 0);
  wait = df_sim_link_bucket_wait_ns(&b, 5 * S);
  /* (8388608 - 320000 + 1) / 16e6 s = 504.288 ms */
  assert_in_range(wait, 504 * MS, 505 * MS);
  /* Half-way there is still nothing; the wait left is the other half. */
  assert_int_equal(df_sim_link_bucket_room(&b, 5 * S + 252 * MS), 0);
  assert_in_range(df_sim_link_bucket_wait_ns(&b, 5 * S + 252 * MS), 252 * MS, 253 * MS);
  /* Once the wait is over there is room again. */
  assert_true(df_sim_link_bucket_room(&b, 5 * S + wait) >= 1);
  assert_int_equal(df_sim_link_bucket_wait_ns(&b, 5 * S + wait), 0);
}

/* Idle time is not saved up beyond the burst. */
static void
test_idle_fills_only_the_burst(void **state)
{
  struct df_sim_link_bucket b;

  (void)state;
  df_sim_link_bucket_init(&b, 40000000, 0);
  df_sim_link_bucket_take(&b, 800000);
  assert_int_equal(df_sim_link_bucket_room(&b, 60 * S), 800000); /* 20 ms of 40 MB/s */
  /* A slow link still lets a 64 KiB read through after a pause. */
  df_sim_link_bucket_init(&b, 1000, 0);
  assert_int_equal(df_sim_link_bucket_room(&b, 0), 65536);
}

/* Many small reads at the rate's pace never wait more than they should:
 * 100 reads of 40 kB, one every ms, at 40 MB/s keep up. */
static void
test_steady_pace_at_the_rate(void **state)
{
  struct df_sim_link_bucket b;

  (void)state;
  df_sim_link_bucket_init(&b, 40000000, 0);
  for (uint64_t i = 1; i <= 100; i++) {
    assert_true(df_sim_link_bucket_room(&b, i * MS) >= 40000);
    df_sim_link_bucket_take(&b, 40000);
  }
  /* Twice the pace runs dry: 100 x 80 kB against the 800 kB burst and 99
   * ms of refill leaves 3.24 MB owed, 81 ms at 40 MB/s. */
  df_sim_link_bucket_init(&b, 40000000, 0);
  for (uint64_t i = 1; i <= 100; i++) {
    (void)df_sim_link_bucket_room(&b, i * MS);
    df_sim_link_bucket_take(&b, 80000);
  }
  assert_in_range(df_sim_link_bucket_wait_ns(&b, 100 * MS), 80 * MS, 82 * MS);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse),
    cmocka_unit_test(test_unlimited_never_waits),
    cmocka_unit_test(test_overdraft_is_paid_back_at_the_rate),
    cmocka_unit_test(test_idle_fills_only_the_burst),
    cmocka_unit_test(test_steady_pace_at_the_rate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
