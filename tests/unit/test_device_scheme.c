/* Endpoints of plugin transports (plugins/device.h): the scheme registry's
 * rules, how --connect text is read as HOST:PORT or SCHEME:ADDRESS (and an
 * unknown scheme told apart from a bad endpoint), and df_tcp_open_fd
 * carrying bytes over a Unix socketpair, the other kind of stream a
 * plugin's open() may return. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/transport_tcp.h"
#include "plugins/device.h"

static int
fake_open(const char *address, char *err, size_t errlen)
{
  (void)address;
  snprintf(err, errlen, "not used");
  return -1;
}

static int
setup_schemes(void **state)
{
  (void)state;
  assert_int_equal(df_device_scheme_add("acme", DF_ENDPOINT_ANY, fake_open, "acmeplug"), DF_OK);
  assert_int_equal(df_device_scheme_add("fbonly", DF_ENDPOINT_FASTBOOT, fake_open, "fb"), DF_OK);
  return 0;
}

static void
test_registry_rules(void **state)
{
  (void)state;
  assert_int_equal(df_device_scheme_add("acme", DF_ENDPOINT_ANY, fake_open, "x"), DF_EEXIST);
  assert_int_equal(df_device_scheme_add("adb", DF_ENDPOINT_ANY, fake_open, "x"), DF_EINVAL);
  assert_int_equal(df_device_scheme_add("tcp", DF_ENDPOINT_ANY, fake_open, "x"), DF_EINVAL);
  assert_int_equal(df_device_scheme_add("beef", DF_ENDPOINT_ANY, fake_open, "x"), DF_EINVAL);
  assert_int_equal(df_device_scheme_add("Acme", DF_ENDPOINT_ANY, fake_open, "x"), DF_EINVAL);
  assert_int_equal(df_device_scheme_add("9lives", DF_ENDPOINT_ANY, fake_open, "x"), DF_EINVAL);
  assert_int_equal(df_device_scheme_add("a:b", DF_ENDPOINT_ANY, fake_open, "x"), DF_EINVAL);
  assert_int_equal(df_device_scheme_add("", DF_ENDPOINT_ANY, fake_open, "x"), DF_EINVAL);
  assert_int_equal(df_device_scheme_add("nofn", DF_ENDPOINT_ANY, NULL, "x"), DF_EINVAL);
  assert_int_equal(
    df_device_scheme_add("a-very-long-scheme-name-of-32-ch", DF_ENDPOINT_ANY, fake_open, "x"),
    DF_EINVAL);
  assert_string_equal(df_device_scheme_owner("acme"), "acmeplug");
  assert_null(df_device_scheme_owner("nosuch"));
}

static void
test_parse_tcp_unchanged(void **state)
{
  struct df_endpoint ep;

  (void)state;
  assert_int_equal(df_endpoint_parse("127.0.0.1:40123", &ep), DF_OK);
  assert_string_equal(ep.host, "127.0.0.1");
  assert_int_equal(ep.port, 40123);
  assert_string_equal(ep.scheme, "");
  assert_int_equal(df_endpoint_parse("localhost:40123", &ep), DF_OK);
  assert_string_equal(ep.host, "localhost");
  assert_int_equal(df_endpoint_parse("fastboot:localhost:1", &ep), DF_OK);
  assert_int_equal(ep.kind, DF_ENDPOINT_FASTBOOT);
  assert_int_equal(df_endpoint_parse("adb:10.0.0.2:5037", &ep), DF_OK);
  assert_int_equal(ep.kind, DF_ENDPOINT_ADB);
  assert_int_equal(df_endpoint_parse("[::1]:40000", &ep), DF_OK);
  assert_string_equal(ep.host, "::1");
  assert_int_equal(df_endpoint_parse("fe80::1:40000", &ep), DF_OK);
  assert_string_equal(ep.host, "fe80::1");
  assert_int_equal(ep.port, 40000);
  assert_int_equal(df_endpoint_parse("127.0.0.1:0", &ep), DF_EINVAL);
  assert_int_equal(df_endpoint_parse("noport", &ep), DF_EINVAL);
}

static void
test_parse_scheme(void **state)
{
  struct df_endpoint ep;
  char text[300];

  (void)state;
  assert_int_equal(df_endpoint_parse("acme:phone-7", &ep), DF_OK);
  assert_string_equal(ep.scheme, "acme");
  assert_string_equal(ep.host, "phone-7");
  assert_int_equal(ep.port, 0);
  assert_int_equal(ep.kind, DF_ENDPOINT_ANY);
  df_endpoint_format(&ep, text, sizeof(text));
  assert_string_equal(text, "acme:phone-7");
  /* the address is everything after the first ':' */
  assert_int_equal(df_endpoint_parse("acme:127.0.0.1:4000", &ep), DF_OK);
  assert_string_equal(ep.host, "127.0.0.1:4000");
  /* the plugin's protocol hint, and "adb:" in front winning over it */
  assert_int_equal(df_endpoint_parse("fbonly:x", &ep), DF_OK);
  assert_int_equal(ep.kind, DF_ENDPOINT_FASTBOOT);
  assert_int_equal(df_endpoint_parse("adb:fbonly:x", &ep), DF_OK);
  assert_int_equal(ep.kind, DF_ENDPOINT_ADB);
  assert_string_equal(ep.scheme, "fbonly");
  assert_int_equal(df_endpoint_parse("acme:", &ep), DF_EINVAL);
}

static void
test_parse_unknown_scheme(void **state)
{
  struct df_endpoint ep;

  (void)state;
  assert_int_equal(df_endpoint_parse("nosuch:phone-7", &ep), DF_ENOENT);
  assert_string_equal(ep.scheme, "nosuch");
  /* not a host with a ':' in it either */
  assert_int_equal(df_endpoint_parse("relay:127.0.0.1:4000", &ep), DF_ENOENT);
  assert_string_equal(ep.scheme, "relay");
  assert_int_equal(df_endpoint_parse("fastboot:relay:127.0.0.1:4000", &ep), DF_ENOENT);
  assert_string_equal(ep.scheme, "relay");
}

static void
test_format_tcp(void **state)
{
  struct df_endpoint ep;
  char text[300];

  (void)state;
  assert_int_equal(df_endpoint_parse("[::1]:40000", &ep), DF_OK);
  df_endpoint_format(&ep, text, sizeof(text));
  assert_string_equal(text, "[::1]:40000");
  assert_int_equal(df_endpoint_parse("tcp:127.0.0.1:9", &ep), DF_OK);
  df_endpoint_format(&ep, text, sizeof(text));
  assert_string_equal(text, "127.0.0.1:9");
}

/* ---- df_tcp_open_fd over a socketpair ---- */

struct pair_state {
  char got[64];
  size_t len;
  int gone;
  int written;
  int closed;
};

static void
pair_on_read(void *ud, const uint8_t *data, size_t len)
{
  struct pair_state *st = ud;

  if (st->len + len < sizeof(st->got)) {
    memcpy(st->got + st->len, data, len);
    st->len += len;
  }
}

static void
pair_on_gone(void *ud, int err)
{
  struct pair_state *st = ud;

  st->gone = err;
}

static const struct df_transport_callbacks pair_cbs = {pair_on_read, pair_on_gone};

static void
pair_on_written(void *req_data, int status)
{
  struct pair_state *st = req_data;

  st->written = status == 0 ? 1 : status;
}

static void
pair_on_closed(void *ud)
{
  struct pair_state *st = ud;

  st->closed = 1;
}

static void
test_open_fd_socketpair(void **state)
{
  struct df_loop loop;
  struct df_transport *t = NULL;
  struct pair_state st = {0};
  struct df_buf buf = {"ping", 4};
  char back[8] = {0};
  int sv[2];

  (void)state;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(df_loop_init(&loop), DF_OK);
  assert_int_equal(df_tcp_open_fd(&loop, sv[0], "acme:pair", &pair_cbs, &st, &t), DF_OK);
  assert_string_equal(t->description, "acme:pair");
  assert_int_equal(df_transport_read_start(t), DF_OK);
  assert_int_equal(df_transport_write(t, &buf, 1, pair_on_written, &st), DF_OK);
  while (!st.written) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_int_equal(st.written, 1);
  assert_int_equal(read(sv[1], back, 4), 4);
  assert_string_equal(back, "ping");
  assert_int_equal(write(sv[1], "pong", 4), 4);
  while (st.len < 4) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_memory_equal(st.got, "pong", 4);
  close(sv[1]); /* the peer hangs up: on_gone with DF_EEOF, once */
  while (st.gone == 0) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_int_equal(st.gone, DF_EEOF);
  df_transport_close(t, pair_on_closed);
  while (!st.closed) uv_run(&loop.uv, UV_RUN_ONCE);
  df_loop_close(&loop);
}

static void
test_open_fd_refuses_non_stream(void **state)
{
  struct df_loop loop;
  struct df_transport *t = NULL;
  int p[2], sv[2];

  (void)state;
  assert_int_equal(df_loop_init(&loop), DF_OK);
  assert_int_equal(pipe(p), 0);
  assert_int_equal(df_tcp_open_fd(&loop, p[0], "pipe", &pair_cbs, NULL, &t), DF_EINVAL);
  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  assert_int_equal(df_tcp_open_fd(&loop, sv[0], "dgram", &pair_cbs, NULL, &t), DF_EINVAL);
  assert_null(t);
  /* the descriptors stay the caller's */
  assert_int_equal(close(p[0]), 0);
  assert_int_equal(close(sv[0]), 0);
  close(p[1]);
  close(sv[1]);
  df_loop_close(&loop);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registry_rules),
    cmocka_unit_test(test_parse_tcp_unchanged),
    cmocka_unit_test(test_parse_scheme),
    cmocka_unit_test(test_parse_unknown_scheme),
    cmocka_unit_test(test_format_tcp),
    cmocka_unit_test(test_open_fd_socketpair),
    cmocka_unit_test(test_open_fd_refuses_non_stream),
  };
  return cmocka_run_group_tests(tests, setup_schemes, NULL);
}
