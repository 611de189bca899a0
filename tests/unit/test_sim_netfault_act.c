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
  int closes, fails, phone_asks;
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

/* No phone: the connection is going (as when its server let go of it). */
static struct df_sim_phone *
rec_phone(void *conn)
{
  ((struct recorder *)conn)->phone_asks++;
  return NULL;
}

static const struct df_sim_nf_ops ops = {.close = rec_close, .phone = rec_phone, .fail = rec_fail};
static const struct df_sim_nf_ops ops_no_fail = {.close = rec_close, .phone = rec_phone, .fail = NULL};

/* Arms spec and sends one byte in through a started connection, so the
 * fault fires there. */
static void
fire(struct df_sim_nf_conn *c, unsigned proto, const char *spec)
{
  struct df_sim_netfault f;
  char err[256];

  assert_int_equal(df_sim_netfault_parse(spec, 0, &f, err, sizeof(err)), 0);
  df_sim_netfault_arm(&f);
  df_sim_nf_conn_init(c, proto, NULL, NULL, NULL);
  df_sim_nf_conn_start(c);
  df_sim_nf_pass(c, DF_SIM_NF_IN, 1);
}

static void
test_nothing_due_does_nothing(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  df_sim_nf_conn_init(&c, DF_SIM_NF_ADB, NULL, NULL, NULL);
  df_sim_nf_act(&c, &ops, &r);
  assert_int_equal(r.closes + r.fails + r.phone_asks, 0);
}

static void
test_drop_closes_once(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, DF_SIM_NF_ADB, "drop:0");
  df_sim_nf_act(&c, &ops, &r);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.fails, 0);
  df_sim_nf_act(&c, &ops, &r); /* carried out: not again */
  assert_int_equal(r.closes, 1);
}

static void
test_reboot_asks_for_the_phone_and_closes(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, DF_SIM_NF_FASTBOOT, "reboot:0");
  df_sim_nf_act(&c, &ops, &r);
  assert_int_equal(r.phone_asks, 1);
  assert_int_equal(r.closes, 1);
}

static void
test_fail_is_the_servers_answer(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, DF_SIM_NF_FASTBOOT, "fail:0");
  df_sim_nf_act(&c, &ops, &r);
  assert_int_equal(r.fails, 1);
  assert_int_equal(r.closes, 0); /* the connection stays up */
  fire(&c, DF_SIM_NF_FASTBOOT, "fail:0");
  df_sim_nf_act(&c, &ops_no_fail, &r); /* a server without FAIL: nothing */
  assert_int_equal(r.fails, 1);
  assert_int_equal(r.closes, 0);
}

static void
test_stall_stops_reading_not_the_connection(void **state)
{
  struct df_sim_nf_conn c;
  struct recorder r = {0};

  (void)state;
  fire(&c, DF_SIM_NF_ADB, "stall:0");
  df_sim_nf_act(&c, &ops, &r); /* no stream here: nothing to stop */
  assert_int_equal(r.closes + r.fails + r.phone_asks, 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nothing_due_does_nothing),
    cmocka_unit_test(test_drop_closes_once),
    cmocka_unit_test(test_reboot_asks_for_the_phone_and_closes),
    cmocka_unit_test(test_fail_is_the_servers_answer),
    cmocka_unit_test(test_stall_stops_reading_not_the_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
