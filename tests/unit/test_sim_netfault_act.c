/* How droidfix-sim carries out a --net-fault that fired (df_sim_nf_act in
 * tests/sim/netfault.c, shared by adbd.c and fastbootd.c): which of the
 * server's operations each fault calls, and that a fault is carried out
 * once. The server is a recorder here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/sim/netfault.h"

struct recorder {
  int closes, fails;
};

static void
rec_close(void *conn)
{
  ((struct recorder *)conn)->closes++;
}

static void
rec_fail(void *conn)
{
  ((struct recorder *)conn)->fails++;
}

static const struct df_sim_nf_server adb = {.proto = DF_SIM_NF_ADB, .close = rec_close};
static const struct df_sim_nf_server fastboot = {.proto = DF_SIM_NF_FASTBOOT, .close = rec_close,
                                                 .fail = rec_fail};
static const struct df_sim_nf_server fastboot_no_fail = {.proto = DF_SIM_NF_FASTBOOT,
                                                         .close = rec_close};

/* Arms spec and sends one byte in through a new started connection of
 * server (the recorder r its connection, no stream, no phone), so the
 * fault fires there. */
static void
fire(struct df_sim_nf_conn *c, const struct df_sim_nf_server *server, struct recorder *r,
     const char *spec)
{
  struct df_sim_netfault f;
  char err[256];

  assert_int_equal(df_sim_netfault_parse(spec, 0, &f, err, sizeof(err)), 0);
  df_sim_netfault_arm(&f);
  df_sim_nf_conn_init(c, server, r, NULL, NULL);
  df_sim_nf_conn_start(c);
  df_sim_nf_pass(c, DF_SIM_NF_IN, 1);
}

static void
test_nothing_due_does_nothing(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  df_sim_nf_conn_init(&c, &adb, &r, NULL, NULL);
  df_sim_nf_act(&c);
  assert_int_equal(r.closes + r.fails, 0);
}

static void
test_drop_closes_once(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, &adb, &r, "drop:0");
  df_sim_nf_act(&c);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.fails, 0);
  df_sim_nf_act(&c); /* carried out: not again */
  assert_int_equal(r.closes, 1);
}

/* Without a phone (none here; the e2e reboot points have one) a reboot
 * still closes the connection. */
static void
test_reboot_closes(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, &fastboot, &r, "reboot:0");
  df_sim_nf_act(&c);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.fails, 0);
}

static void
test_fail_is_the_servers_answer(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, &fastboot, &r, "fail:0");
  df_sim_nf_act(&c);
  assert_int_equal(r.fails, 1);
  assert_int_equal(r.closes, 0); /* the connection stays up */
  fire(&c, &fastboot_no_fail, &r, "fail:0");
  df_sim_nf_act(&c); /* a server without FAIL: nothing */
  assert_int_equal(r.fails, 1);
  assert_int_equal(r.closes, 0);
}

static void
test_stall_stops_reading_not_the_connection(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, &adb, &r, "stall:0");
  df_sim_nf_act(&c); /* no stream here: nothing to stop */
  assert_int_equal(r.closes + r.fails, 0);
}

/* A closed connection has no stream: the end of a read holds nothing and a
 * reboot due on it only closes (the server's close is idempotent). */
static void
test_closed_connection_is_left_alone(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, &adb, &r, "reboot:0");
  df_sim_nf_conn_closed(&c);
  assert_null(c.stream);
  assert_null(c.phone);
  df_sim_nf_read_done(&c);
  df_sim_nf_act(&c);
  assert_int_equal(r.closes, 1);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nothing_due_does_nothing),
    cmocka_unit_test(test_drop_closes_once),
    cmocka_unit_test(test_reboot_closes),
    cmocka_unit_test(test_fail_is_the_servers_answer),
    cmocka_unit_test(test_stall_stops_reading_not_the_connection),
    cmocka_unit_test(test_closed_connection_is_left_alone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
