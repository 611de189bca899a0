/* droidfix-sim's --net-fault: the spec parser and the byte counts that
 * decide where a fault fires (tests/sim/netfault.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "tests/sim/netfault.h"

static struct df_sim_netfault
parse_ok(const char *spec)
{
  struct df_sim_netfault f;
  char err[256];
  int r = df_sim_netfault_parse(spec, 42, &f, err, sizeof(err));
  if (r != 0)
    fail_msg("'%s' refused: %s", spec, err);
  return f;
}

static void
parse_bad(const char *spec, const char *why)
{
  struct df_sim_netfault f;
  char err[256];
  assert_int_equal(df_sim_netfault_parse(spec, 42, &f, err, sizeof(err)), DF_EINVAL);
  if (strstr(err, why) == NULL)
    fail_msg("'%s': message '%s' lacks '%s'", spec, err, why);
}

static void
test_parse_forms(void **state)
{
  (void)state;
  struct df_sim_netfault f = parse_ok("drop:4096");
  assert_int_equal(f.kind, DF_SIM_NF_DROP);
  assert_int_equal(f.at, 4096);
  assert_int_equal(f.protos, DF_SIM_NF_ADB | DF_SIM_NF_FASTBOOT);
  assert_int_equal(f.dirs, DF_SIM_NF_IN | DF_SIM_NF_OUT);

  f = parse_ok("drop:0:adb:in");
  assert_int_equal(f.at, 0);
  assert_int_equal(f.protos, DF_SIM_NF_ADB);
  assert_int_equal(f.dirs, DF_SIM_NF_IN);

  f = parse_ok("stall:100:fastboot:out:ms=2500");
  assert_int_equal(f.kind, DF_SIM_NF_STALL);
  assert_int_equal(f.protos, DF_SIM_NF_FASTBOOT);
  assert_int_equal(f.dirs, DF_SIM_NF_OUT);
  assert_int_equal(f.stall_ms, 2500);
  assert_int_equal(parse_ok("stall:1").stall_ms, -1);

  f = parse_ok("fail:77");
  assert_int_equal(f.kind, DF_SIM_NF_FAIL);
  assert_int_equal(f.protos, DF_SIM_NF_FASTBOOT); /* fail is fastboot's */
  assert_int_equal(f.dirs, DF_SIM_NF_IN);

  assert_int_equal(parse_ok("reboot:9").kind, DF_SIM_NF_REBOOT);
  assert_int_equal(parse_ok("none").kind, DF_SIM_NF_NONE);
}

static void
test_parse_random(void **state)
{
  (void)state;
  struct df_sim_netfault a = parse_ok("drop:random=7:within=1000");
  struct df_sim_netfault b = parse_ok("drop:random=7:within=1000");
  assert_true(a.random);
  assert_int_equal(a.seed, 7);
  assert_true(a.at < 1000);
  assert_int_equal(a.at, b.at); /* a seed names one point */
  /* Seeds spread over the range (not all the same byte). */
  uint64_t first = parse_ok("drop:random=1:within=1000000").at;
  int differ = 0;
  for (int s = 2; s < 10; s++) {
    char spec[64];
    snprintf(spec, sizeof(spec), "drop:random=%d:within=1000000", s);
    differ += parse_ok(spec).at != first;
  }
  assert_true(differ >= 7);
  /* "random" alone takes the caller's seed. */
  assert_int_equal(parse_ok("drop:random").seed, 42);
}

static void
test_parse_errors(void **state)
{
  (void)state;
  parse_bad("", "the kind is");
  parse_bad("cut:5", "the kind is");
  parse_bad("drop", "give KIND:BYTES");
  parse_bad("drop:", "BYTES is a number");
  parse_bad("drop:-1", "BYTES is a number");
  parse_bad("drop:12x", "BYTES is a number");
  parse_bad("drop:5:usb", "a WORD is");
  parse_bad("drop:5:ms=10", "stall only");
  parse_bad("stall:5:ms=x", "milliseconds");
  parse_bad("fail:5:adb", "fastboot answer");
  parse_bad("fail:5:out", "(in) only");
  parse_bad("drop:random=x", "random=SEED");
  parse_bad("drop:random:within=0", "within=N");
}

/* Servers that are never called here: no fault is carried out. */
static const struct df_sim_nf_server adb_server = {.proto = DF_SIM_NF_ADB};
static const struct df_sim_nf_server fastboot_server = {.proto = DF_SIM_NF_FASTBOOT};

/* A fresh connection, not yet past its handshake. */
static struct df_sim_nf_conn
conn_new(unsigned proto)
{
  struct df_sim_nf_conn c;
  df_sim_nf_conn_init(&c, proto == DF_SIM_NF_ADB ? &adb_server : &fastboot_server, NULL, NULL,
                      NULL);
  return c;
}

/* A fresh connection past its handshake. */
static struct df_sim_nf_conn
conn(unsigned proto)
{
  struct df_sim_nf_conn c = conn_new(proto);
  df_sim_nf_conn_start(&c);
  return c;
}

static void
test_drop_cuts_at_the_byte(void **state)
{
  (void)state;
  df_sim_netfault_arm(&(struct df_sim_netfault){0});
  struct df_sim_netfault f = parse_ok("drop:100:adb:in");
  df_sim_netfault_arm(&f);

  struct df_sim_nf_conn fb = conn(DF_SIM_NF_FASTBOOT);
  assert_int_equal(df_sim_nf_pass(&fb, DF_SIM_NF_IN, 500), 500); /* other protocol */

  struct df_sim_nf_conn c = conn(DF_SIM_NF_ADB);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_OUT, 1000), 1000); /* out does not count */
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 60), 60);
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_NONE);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 60), 40); /* bytes 60..99 */
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_DROP);
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_NONE);

  /* Spent: a second connection goes through whole. */
  struct df_sim_nf_conn c2 = conn(DF_SIM_NF_ADB);
  assert_int_equal(df_sim_nf_pass(&c2, DF_SIM_NF_IN, 5000), 5000);
  assert_int_equal(df_sim_nf_take_due(&c2), DF_SIM_NF_NONE);
}

static void
test_counts_start_after_the_handshake(void **state)
{
  (void)state;
  struct df_sim_netfault f = parse_ok("drop:0");
  df_sim_netfault_arm(&f);
  struct df_sim_nf_conn c = conn_new(DF_SIM_NF_ADB);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 24), 24); /* CNXN: not counted */
  df_sim_nf_conn_start(&c);
  assert_int_equal(df_sim_nf_room(&c, DF_SIM_NF_IN), 0);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_OUT, 24), 0); /* byte 0: nothing passes */
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_DROP);
}

static void
test_both_directions_sum(void **state)
{
  (void)state;
  struct df_sim_netfault f = parse_ok("reboot:50");
  df_sim_netfault_arm(&f);
  struct df_sim_nf_conn c = conn(DF_SIM_NF_FASTBOOT);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 30), 30);
  assert_int_equal(df_sim_nf_room(&c, DF_SIM_NF_OUT), 20);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_OUT, 30), 20);
  /* While the reboot is due nothing more passes either way. */
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 10), 0);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_OUT, 10), 0);
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_REBOOT);
}

static void
test_stall_lets_the_piece_through(void **state)
{
  (void)state;
  struct df_sim_netfault f = parse_ok("stall:10:in:ms=5");
  df_sim_netfault_arm(&f);
  struct df_sim_nf_conn c = conn(DF_SIM_NF_ADB);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 64), 64);
  /* Due: no more is received, replies still go out. */
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 64), 0);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_OUT, 64), 64);
  assert_int_equal(c.stall_ms, 5);
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_STALL);
}

static void
test_fail_marks_the_command(void **state)
{
  (void)state;
  struct df_sim_netfault f = parse_ok("fail:8");
  df_sim_netfault_arm(&f);
  struct df_sim_nf_conn c = conn(DF_SIM_NF_FASTBOOT);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 20), 8);
  assert_true(c.fail_command);
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_FAIL);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 12), 12); /* the rest is read */
}

/* droidfix-sim netfault on a running phone: a connection already open when
 * the fault is armed (as one a host gave up on during a stall, reading
 * again when it ends) never meets it; the next one to start does. */
static void
test_armed_later_is_for_new_connections(void **state)
{
  (void)state;
  df_sim_netfault_arm(&(struct df_sim_netfault){0});
  struct df_sim_nf_conn old_fb = conn(DF_SIM_NF_FASTBOOT);
  struct df_sim_nf_conn old_adb = conn(DF_SIM_NF_ADB);
  assert_int_equal(df_sim_nf_pass(&old_fb, DF_SIM_NF_IN, 100), 100);

  struct df_sim_netfault f = parse_ok("fail:4096");
  df_sim_netfault_arm(&f);
  /* Past the byte, and the bytes still count, but no fault is ahead. */
  assert_int_equal(df_sim_nf_room(&old_fb, DF_SIM_NF_IN), UINT64_MAX);
  assert_int_equal(df_sim_nf_pass(&old_fb, DF_SIM_NF_IN, 8192), 8192);
  assert_int_equal(old_fb.in, 8292);
  assert_false(old_fb.fail_command);
  assert_int_equal(df_sim_nf_take_due(&old_fb), DF_SIM_NF_NONE);

  /* Not spent: the next connection meets it at its byte 4096. */
  struct df_sim_nf_conn fb = conn(DF_SIM_NF_FASTBOOT);
  assert_int_equal(df_sim_nf_room(&fb, DF_SIM_NF_IN), 4096);
  assert_int_equal(df_sim_nf_pass(&fb, DF_SIM_NF_IN, 8192), 4096);
  assert_int_equal(df_sim_nf_take_due(&fb), DF_SIM_NF_FAIL);
  assert_int_equal(df_sim_nf_pass(&old_fb, DF_SIM_NF_IN, 10), 10);
  assert_int_equal(df_sim_nf_take_due(&old_fb), DF_SIM_NF_NONE);

  /* Armed again (drop at byte 0), before and after a connection starts. */
  struct df_sim_netfault d = parse_ok("drop:0:adb");
  df_sim_netfault_arm(&d);
  assert_int_equal(df_sim_nf_pass(&old_adb, DF_SIM_NF_OUT, 24), 24);
  assert_int_equal(df_sim_nf_take_due(&old_adb), DF_SIM_NF_NONE);
  struct df_sim_nf_conn adb = conn(DF_SIM_NF_ADB);
  assert_int_equal(df_sim_nf_pass(&adb, DF_SIM_NF_OUT, 24), 0);
  assert_int_equal(df_sim_nf_take_due(&adb), DF_SIM_NF_DROP);
}

/* A connection accepted before the arm but whose handshake ends after it
 * counts as started after it: the handshake is where counting begins. */
static void
test_handshake_after_the_arm_counts(void **state)
{
  (void)state;
  df_sim_netfault_arm(&(struct df_sim_netfault){0});
  struct df_sim_nf_conn c = conn_new(DF_SIM_NF_ADB);
  struct df_sim_netfault f = parse_ok("drop:10");
  df_sim_netfault_arm(&f);
  df_sim_nf_conn_start(&c);
  assert_int_equal(df_sim_nf_pass(&c, DF_SIM_NF_IN, 64), 10);
  assert_int_equal(df_sim_nf_take_due(&c), DF_SIM_NF_DROP);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_forms),
    cmocka_unit_test(test_parse_random),
    cmocka_unit_test(test_parse_errors),
    cmocka_unit_test(test_drop_cuts_at_the_byte),
    cmocka_unit_test(test_counts_start_after_the_handshake),
    cmocka_unit_test(test_both_directions_sum),
    cmocka_unit_test(test_stall_lets_the_piece_through),
    cmocka_unit_test(test_fail_marks_the_command),
    cmocka_unit_test(test_armed_later_is_for_new_connections),
    cmocka_unit_test(test_handshake_after_the_arm_counts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
