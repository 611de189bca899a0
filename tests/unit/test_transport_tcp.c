/* Unit tests of the TCP transport against a loopback peer written with plain
 * libuv in the same loop: byte-exact echo, back-pressure, read_stop/start,
 * peer close and reset, refused connections, close with writes pending, and
 * accepting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/transport.h"
#include "core/transport_tcp.h"

#define MIB (1024 * 1024)

enum peer_mode {
  PEER_ECHO,     /* writes back every byte it reads */
  PEER_SINK,     /* reads and counts */
  PEER_SILENT,   /* accepts and never reads (until told to) */
  PEER_SEND,     /* sends `send_len` bytes of the pattern, then keeps reading */
  PEER_SEND_CLOSE, /* sends "bye" and closes */
  PEER_RESET,    /* closes with RST when the first bytes arrive */
};

/* The far end: plain libuv, so the code under test is not its own witness. */
struct peer {
  struct df_loop *loop;
  uv_tcp_t server;
  uv_tcp_t conn;
  int port;
  enum peer_mode mode;
  int accepted;
  int conn_closed;
  size_t received;
  size_t send_len;
  uint8_t *send_buf;
  char read_buf[256 * 1024];
};

/* The near end: what the transport callbacks saw. */
struct client {
  struct df_transport *t;
  int connect_done;
  int connect_status;
  uint8_t *rx;
  size_t rx_len;
  size_t rx_cap;
  int reads;
  int stop_after_first_read;
  int gone_count;
  int gone_err;
  int writes_issued;
  int writes_done;
  int writes_ok;
  int writes_canceled;
  int writes_other;
  int closed;
  int writes_done_at_close; /* writes_done when the close callback ran */
};

static struct df_loop loop;

static uint8_t
pattern_byte(size_t i)
{
  return (uint8_t)((i * 7u + (i >> 13)) & 0xff);
}

static void
fill_pattern(uint8_t *buf, size_t len, size_t offset)
{
  for (size_t i = 0; i < len; i++) buf[i] = pattern_byte(offset + i);
}

static void
run_until(int *flag)
{
  while (!*flag) uv_run(&loop.uv, UV_RUN_ONCE);
}

static void
run_nowait(int times)
{
  for (int i = 0; i < times; i++) uv_run(&loop.uv, UV_RUN_NOWAIT);
}

/* --- peer ---------------------------------------------------------------- */

static void
peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct peer *p = h->data;
  (void)suggested;
  buf->base = p->read_buf;
  buf->len = sizeof(p->read_buf);
}

static void
peer_on_echoed(uv_write_t *req, int status)
{
  free(req);
}

static void
peer_on_conn_closed(uv_handle_t *h)
{
  struct peer *p = h->data;
  p->conn_closed = 1;
}

static void
peer_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  struct peer *p = s->data;

  if (nread < 0) {
    if (!uv_is_closing((uv_handle_t *)&p->conn)) uv_close((uv_handle_t *)&p->conn, peer_on_conn_closed);
    return;
  }
  p->received += (size_t)nread;
  if (p->mode == PEER_RESET && nread > 0) {
    /* Reset only once the client spoke, so its connect has surely completed. */
    assert_int_equal(uv_tcp_close_reset(&p->conn, peer_on_conn_closed), 0);
    return;
  }
  if (p->mode == PEER_ECHO && nread > 0) {
    uv_write_t *req = malloc(sizeof(*req) + (size_t)nread);
    char *copy = (char *)(req + 1);
    uv_buf_t b = uv_buf_init(copy, (unsigned int)nread);
    memcpy(copy, buf->base, (size_t)nread);
    assert_int_equal(uv_write(req, s, &b, 1, peer_on_echoed), 0);
  }
}

static void
peer_on_sent(uv_write_t *req, int status)
{
  struct peer *p = req->data;
  free(req);
  if (p->mode == PEER_SEND_CLOSE) uv_close((uv_handle_t *)&p->conn, peer_on_conn_closed);
}

static void
peer_send(struct peer *p, const void *data, size_t len)
{
  uv_write_t *req = malloc(sizeof(*req));
  uv_buf_t b = uv_buf_init((char *)data, (unsigned int)len);
  req->data = p;
  assert_int_equal(uv_write(req, (uv_stream_t *)&p->conn, &b, 1, peer_on_sent), 0);
}

static void
peer_on_connection(uv_stream_t *server, int status)
{
  struct peer *p = server->data;

  assert_int_equal(status, 0);
  assert_int_equal(uv_tcp_init(&p->loop->uv, &p->conn), 0);
  p->conn.data = p;
  assert_int_equal(uv_accept(server, (uv_stream_t *)&p->conn), 0);
  p->accepted = 1;
  switch (p->mode) {
  case PEER_ECHO:
  case PEER_SINK:
    uv_read_start((uv_stream_t *)&p->conn, peer_alloc, peer_on_read);
    break;
  case PEER_SILENT:
    break;
  case PEER_SEND:
    uv_read_start((uv_stream_t *)&p->conn, peer_alloc, peer_on_read);
    peer_send(p, p->send_buf, p->send_len);
    break;
  case PEER_SEND_CLOSE:
    peer_send(p, "bye", 3);
    break;
  case PEER_RESET:
    uv_read_start((uv_stream_t *)&p->conn, peer_alloc, peer_on_read);
    break;
  }
}

static void
peer_start(struct peer *p, enum peer_mode mode)
{
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);

  memset(p, 0, sizeof(*p));
  p->loop = &loop;
  p->mode = mode;
  assert_int_equal(uv_tcp_init(&loop.uv, &p->server), 0);
  p->server.data = p;
  assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
  assert_int_equal(uv_tcp_bind(&p->server, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&p->server, 8, peer_on_connection), 0);
  assert_int_equal(uv_tcp_getsockname(&p->server, (struct sockaddr *)&bound, &len), 0);
  p->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void
peer_stop(struct peer *p)
{
  if (p->accepted && !uv_is_closing((uv_handle_t *)&p->conn))
    uv_close((uv_handle_t *)&p->conn, peer_on_conn_closed);
  uv_close((uv_handle_t *)&p->server, NULL);
  if (p->accepted) run_until(&p->conn_closed);
  run_nowait(2);
}

/* --- client callbacks ---------------------------------------------------- */

static void
client_on_read(void *ud, const uint8_t *data, size_t len)
{
  struct client *c = ud;

  assert_true(len > 0);
  if (c->rx_len + len > c->rx_cap) {
    c->rx_cap = (c->rx_len + len) * 2;
    c->rx = realloc(c->rx, c->rx_cap);
    assert_non_null(c->rx);
  }
  memcpy(c->rx + c->rx_len, data, len);
  c->rx_len += len;
  c->reads++;
  if (c->stop_after_first_read && c->reads == 1)
    assert_int_equal(df_transport_read_stop(c->t), 0);
}

static void
client_on_gone(void *ud, int err)
{
  struct client *c = ud;
  c->gone_count++;
  c->gone_err = err;
}

static const struct df_transport_callbacks client_cbs = {
  .on_read = client_on_read,
  .on_gone = client_on_gone,
};

static void
client_on_connected(void *data, struct df_transport *t, int status)
{
  struct client *c = data;
  c->connect_done = 1;
  c->connect_status = status;
  c->t = t;
}

static void
client_on_written(void *req_data, int status)
{
  struct client *c = req_data;
  c->writes_done++;
  if (status == 0)
    c->writes_ok++;
  else if (status == DF_ECANCELED)
    c->writes_canceled++;
  else
    c->writes_other++;
}

static void
client_on_closed(void *ud)
{
  struct client *c = ud;
  c->closed = 1;
  c->writes_done_at_close = c->writes_done;
}

static void
client_connect(struct client *c, int port)
{
  memset(c, 0, sizeof(*c));
  assert_int_equal(df_tcp_connect(&loop, "127.0.0.1", port, &client_cbs, c,
                                  client_on_connected, c), 0);
  run_until(&c->connect_done);
  assert_int_equal(c->connect_status, 0);
  assert_non_null(c->t);
}

static void
client_close(struct client *c)
{
  df_transport_close(c->t, client_on_closed);
  run_until(&c->closed);
  free(c->rx);
  c->rx = NULL;
}

/* --- fixtures ------------------------------------------------------------ */

static int
setup(void **state)
{
  return df_loop_init(&loop);
}

static int
teardown(void **state)
{
  /* Nothing may be left open by a test: a leftover handle is a leak. */
  int leftover = df_loop_close(&loop);
  assert_int_equal(leftover, 0);
  return 0;
}

/* --- tests --------------------------------------------------------------- */

static void
test_echo_is_byte_exact(void **state)
{
  struct peer p;
  struct client c;
  const size_t total = 6 * MIB + 123; /* not a round number on purpose */
  const size_t chunk = 256 * 1024;
  uint8_t *data = malloc(total);
  size_t sent = 0;

  fill_pattern(data, total, 0);
  peer_start(&p, PEER_ECHO);
  client_connect(&c, p.port);
  assert_string_equal(c.t->ops->kind, "tcp");
  assert_int_equal(df_transport_read_start(c.t), 0);
  /* A writer that keeps at most four writes in flight, as plugins do. */
  while (sent < total || c.writes_done < c.writes_issued || c.rx_len < total) {
    while (sent < total && c.writes_issued - c.writes_done < 4) {
      size_t n = total - sent < chunk ? total - sent : chunk;
      struct df_buf b = {data + sent, n};
      assert_int_equal(df_transport_write(c.t, &b, 1, client_on_written, &c), 0);
      c.writes_issued++;
      sent += n;
    }
    uv_run(&loop.uv, UV_RUN_ONCE);
  }
  assert_int_equal(c.writes_ok, c.writes_issued);
  assert_int_equal(c.rx_len, total);
  assert_memory_equal(c.rx, data, total);
  assert_int_equal(c.gone_count, 0);
  client_close(&c);
  peer_stop(&p);
  free(data);
}

static void
test_description_names_host_and_port(void **state)
{
  struct peer p;
  struct client c;
  char expect[96];

  peer_start(&p, PEER_SINK);
  client_connect(&c, p.port);
  snprintf(expect, sizeof(expect), "tcp:127.0.0.1:%d", p.port);
  assert_string_equal(c.t->description, expect);
  client_close(&c);
  peer_stop(&p);
}

static void
test_multi_buffer_write_is_concatenated(void **state)
{
  struct peer p;
  struct client c;
  struct df_buf bufs[20];
  char pieces[20][4];

  peer_start(&p, PEER_ECHO);
  client_connect(&c, p.port);
  assert_int_equal(df_transport_read_start(c.t), 0);
  /* More pieces than the transport keeps on its stack. */
  for (int i = 0; i < 20; i++) {
    snprintf(pieces[i], sizeof(pieces[i]), "%03d", i);
    bufs[i].base = pieces[i];
    bufs[i].len = 3;
  }
  assert_int_equal(df_transport_write(c.t, bufs, 20, client_on_written, &c), 0);
  while (c.rx_len < 60) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_int_equal(c.writes_ok, 1);
  assert_memory_equal(c.rx, "000001002003004005006007008009010011012013014015016017018019", 60);
  client_close(&c);
  peer_stop(&p);
}

/* Fills the socket buffers of a peer that does not read; returns bytes issued. */
static size_t
write_until_queued(struct client *c, uint8_t *chunk, size_t chunk_len)
{
  size_t issued = 0;

  while (df_transport_write_queue_size(c->t) == 0) {
    struct df_buf b = {chunk, chunk_len};
    assert_true(issued < (size_t)1024 * MIB); /* the kernel must push back long before */
    assert_int_equal(df_transport_write(c->t, &b, 1, client_on_written, c), 0);
    c->writes_issued++;
    issued += chunk_len;
    run_nowait(1);
  }
  return issued;
}

static void
test_back_pressure_when_peer_stops_reading(void **state)
{
  struct peer p;
  struct client c;
  const size_t chunk_len = MIB;
  uint8_t *chunk = malloc(chunk_len);
  size_t issued, queued;

  fill_pattern(chunk, chunk_len, 0);
  peer_start(&p, PEER_SILENT);
  client_connect(&c, p.port);
  run_until(&p.accepted);
  issued = write_until_queued(&c, chunk, chunk_len);

  /* The peer reads nothing: whatever the loop does, the queue stays and the
   * last write's callback does not come. */
  run_nowait(50);
  queued = df_transport_write_queue_size(c.t);
  assert_true(queued > 0);
  assert_true(queued <= issued);
  assert_true(c.writes_done < c.writes_issued);

  /* The peer reads again: every write completes and the queue drains. */
  p.mode = PEER_SINK;
  assert_int_equal(uv_read_start((uv_stream_t *)&p.conn, peer_alloc, peer_on_read), 0);
  while (c.writes_done < c.writes_issued || p.received < issued) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_int_equal(c.writes_ok, c.writes_issued);
  assert_int_equal(df_transport_write_queue_size(c.t), 0);
  assert_int_equal(p.received, issued);
  client_close(&c);
  peer_stop(&p);
  free(chunk);
}

static void
test_read_stop_pauses_and_read_start_resumes(void **state)
{
  struct peer p;
  struct client c;
  const size_t total = 3 * MIB;
  uint8_t *data = malloc(total);

  fill_pattern(data, total, 99);
  peer_start(&p, PEER_SEND);
  p.send_buf = data;
  p.send_len = total;
  client_connect(&c, p.port);
  c.stop_after_first_read = 1;
  assert_int_equal(df_transport_read_start(c.t), 0);
  while (c.reads == 0) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_true(c.rx_len < total);

  /* Stopped: no on_read however long the loop runs with data waiting. */
  run_nowait(50);
  assert_int_equal(c.reads, 1);

  assert_int_equal(df_transport_read_start(c.t), 0);
  while (c.rx_len < total) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_int_equal(c.rx_len, total);
  assert_memory_equal(c.rx, data, total);
  client_close(&c);
  peer_stop(&p);
  free(data);
}

static void
test_peer_close_is_reported_once_as_eof(void **state)
{
  struct peer p;
  struct client c;
  struct df_buf b = {"x", 1};

  peer_start(&p, PEER_SEND_CLOSE);
  client_connect(&c, p.port);
  assert_int_equal(df_transport_read_start(c.t), 0);
  while (c.gone_count == 0) uv_run(&loop.uv, UV_RUN_ONCE);
  run_nowait(10);
  assert_int_equal(c.rx_len, 3);
  assert_memory_equal(c.rx, "bye", 3);
  assert_int_equal(c.gone_count, 1);
  assert_int_equal(c.gone_err, DF_EEOF);
  assert_int_equal(c.t->gone, 1);
  /* After on_gone the transport refuses work with the same error. */
  assert_int_equal(df_transport_write(c.t, &b, 1, client_on_written, &c), DF_EEOF);
  assert_int_equal(df_transport_read_start(c.t), DF_EEOF);
  client_close(&c);
  assert_int_equal(c.gone_count, 1);
  assert_int_equal(c.writes_done, 0);
  peer_stop(&p);
}

static void
test_peer_reset_is_reported_once(void **state)
{
  struct peer p;
  struct client c;

  struct df_buf b = {"x", 1};

  peer_start(&p, PEER_RESET);
  client_connect(&c, p.port);
  assert_int_equal(df_transport_read_start(c.t), 0);
  assert_int_equal(df_transport_write(c.t, &b, 1, client_on_written, &c), 0);
  while (c.gone_count == 0) uv_run(&loop.uv, UV_RUN_ONCE);
  run_nowait(10);
  assert_int_equal(c.gone_count, 1);
  assert_int_equal(c.gone_err, DF_ECONNRESET);
  client_close(&c);
  p.accepted = 0; /* its connection is already closed */
  peer_stop(&p);
}

static void
test_refused_connection_comes_through_callback(void **state)
{
  struct client c;
  uv_tcp_t probe;
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  int port;

  /* A port that was just free and is closed again: nobody listens there. */
  assert_int_equal(uv_tcp_init(&loop.uv, &probe), 0);
  assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
  assert_int_equal(uv_tcp_bind(&probe, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(uv_tcp_getsockname(&probe, (struct sockaddr *)&bound, &len), 0);
  port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  uv_close((uv_handle_t *)&probe, NULL);
  run_nowait(2);

  memset(&c, 0, sizeof(c));
  c.t = (struct df_transport *)&c; /* must be replaced by NULL */
  assert_int_equal(df_tcp_connect(&loop, "127.0.0.1", port, &client_cbs, &c,
                                  client_on_connected, &c), 0);
  run_until(&c.connect_done);
  assert_int_equal(c.connect_status, DF_ECONNREFUSED);
  assert_null(c.t);
  assert_int_equal(c.gone_count, 0);
}

static void
test_bad_arguments_return_error_without_callback(void **state)
{
  struct client c;

  memset(&c, 0, sizeof(c));
  assert_int_equal(df_tcp_connect(&loop, "127.0.0.1", 0, &client_cbs, &c, client_on_connected, &c),
                   DF_EINVAL);
  assert_int_equal(df_tcp_connect(&loop, "127.0.0.1", 70000, &client_cbs, &c, client_on_connected, &c),
                   DF_EINVAL);
  assert_int_equal(df_tcp_connect(&loop, "", 5037, &client_cbs, &c, client_on_connected, &c),
                   DF_EINVAL);
  assert_int_equal(df_tcp_connect(&loop, "127.0.0.1", 5037, &client_cbs, &c, NULL, &c), DF_EINVAL);
  run_nowait(5);
  assert_int_equal(c.connect_done, 0);
}

static void
test_close_with_pending_writes_cancels_them_first(void **state)
{
  struct peer p;
  struct client c;
  const size_t chunk_len = MIB;
  uint8_t *chunk = malloc(chunk_len);

  fill_pattern(chunk, chunk_len, 0);
  peer_start(&p, PEER_SILENT);
  client_connect(&c, p.port);
  run_until(&p.accepted);
  write_until_queued(&c, chunk, chunk_len);
  /* Two more that certainly wait behind the full socket buffer. */
  for (int i = 0; i < 2; i++) {
    struct df_buf b = {chunk, chunk_len};
    assert_int_equal(df_transport_write(c.t, &b, 1, client_on_written, &c), 0);
    c.writes_issued++;
  }
  df_transport_close(c.t, client_on_closed);
  run_until(&c.closed);
  assert_int_equal(c.writes_done_at_close, c.writes_issued);
  assert_true(c.writes_canceled >= 2);
  assert_int_equal(c.writes_other, 0);
  assert_int_equal(c.gone_count, 0); /* closing is not the peer going away */
  peer_stop(&p);
  free(chunk);
}

struct server_side {
  struct df_transport *t;
  struct client rx; /* reuses the client callbacks to collect what arrives */
};

static void
on_server_connection(uv_stream_t *server, int status)
{
  struct server_side *s = server->data;

  assert_int_equal(status, 0);
  memset(&s->rx, 0, sizeof(s->rx));
  assert_int_equal(df_tcp_accept(server, &client_cbs, &s->rx, &s->t), 0);
  s->rx.t = s->t;
  assert_int_equal(df_transport_read_start(s->t), 0);
}

static void
test_accepted_transport_carries_both_ways(void **state)
{
  struct server_side s = {0};
  struct client c;
  uv_tcp_t server;
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  struct df_buf hello = {"hello phone", 11};
  struct df_buf back = {"hello host", 10};

  assert_int_equal(uv_tcp_init(&loop.uv, &server), 0);
  server.data = &s;
  assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
  assert_int_equal(uv_tcp_bind(&server, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&server, 4, on_server_connection), 0);
  assert_int_equal(uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len), 0);

  client_connect(&c, ntohs(((struct sockaddr_in *)&bound)->sin_port));
  assert_int_equal(df_transport_read_start(c.t), 0);
  while (s.t == NULL) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_memory_equal(s.t->description, "tcp:127.0.0.1:", 14);

  assert_int_equal(df_transport_write(c.t, &hello, 1, client_on_written, &c), 0);
  while (s.rx.rx_len < 11) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_memory_equal(s.rx.rx, "hello phone", 11);
  assert_int_equal(df_transport_write(s.t, &back, 1, client_on_written, &s.rx), 0);
  while (c.rx_len < 10) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_memory_equal(c.rx, "hello host", 10);

  /* The host hangs up: the phone side sees EOF once. */
  client_close(&c);
  while (s.rx.gone_count == 0) uv_run(&loop.uv, UV_RUN_ONCE);
  assert_int_equal(s.rx.gone_err, DF_EEOF);
  client_close(&s.rx);
  uv_close((uv_handle_t *)&server, NULL);
  run_nowait(2);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_echo_is_byte_exact, setup, teardown),
    cmocka_unit_test_setup_teardown(test_description_names_host_and_port, setup, teardown),
    cmocka_unit_test_setup_teardown(test_multi_buffer_write_is_concatenated, setup, teardown),
    cmocka_unit_test_setup_teardown(test_back_pressure_when_peer_stops_reading, setup, teardown),
    cmocka_unit_test_setup_teardown(test_read_stop_pauses_and_read_start_resumes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_peer_close_is_reported_once_as_eof, setup, teardown),
    cmocka_unit_test_setup_teardown(test_peer_reset_is_reported_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refused_connection_comes_through_callback, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_arguments_return_error_without_callback, setup, teardown),
    cmocka_unit_test_setup_teardown(test_close_with_pending_writes_cancels_them_first, setup, teardown),
    cmocka_unit_test_setup_teardown(test_accepted_transport_carries_both_ways, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
