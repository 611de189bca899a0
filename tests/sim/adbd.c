/* The ADB device side of droidfix-sim over TCP, as adbd on a phone: the
 * listening port (open only in the modes where adbd runs), connections,
 * packets (adb/adb.cpp handle_packet, adb/transport.cpp check_header), the
 * CNXN and AUTH handshake (adb/daemon/auth.cpp) and streams with their flow
 * control (adb/sockets.cpp: one WRTE in flight until the peer's OKAY).
 * Services live in adbd_services.c and adbd_sync.c.
 *
 * It never opens a stream toward the host: Debian's adb server aborts when a
 * device sends OPEN for anything but a configured reverse forward. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/adbd_internal.h"
#include "tests/sim/link_rate.h"
#include "tests/sim/listener.h"

/* Reads land in a per-connection buffer that always has room for one whole
 * packet (header + 1 MiB) plus plenty more, so one read() takes what the
 * kernel has queued and most packets are used where they lie. */
#define IN_BUF_SIZE (DF_SIM_ADBD_HEADER_SIZE + DF_SIM_ADBD_MAX_PAYLOAD + 3u * 1024 * 1024)

struct pending_write {
  uv_write_t req;
  char data[];
};

static void close_conn(struct df_sim_adbd_conn *conn);

/* ---- output ---- */

static void
on_write_done(uv_write_t *req, int status)
{
  (void)status;
  free(req->data);
}

/* Sends bufs in order: straight to the socket when it takes them, the rest
 * copied and queued in libuv (order is kept: nothing is tried while a
 * queued write is pending). */
static void
conn_send_raw(struct df_sim_adbd_conn *conn, const void *a, size_t alen, const void *b,
              size_t blen)
{
  uv_stream_t *st = (uv_stream_t *)&conn->tcp;
  uv_buf_t bufs[2] = {uv_buf_init((char *)a, (unsigned)alen), uv_buf_init((char *)b, (unsigned)blen)};
  size_t total = alen + blen, done = 0;
  struct pending_write *w;
  uv_buf_t rest;

  if (conn->closing)
    return;
  if (uv_stream_get_write_queue_size(st) == 0) {
    int n = uv_try_write(st, bufs, blen > 0 ? 2 : 1);

    if (n == (int)total)
      return;
    if (n < 0 && n != UV_EAGAIN) {
      close_conn(conn);
      return;
    }
    done = n > 0 ? (size_t)n : 0;
  }
  w = malloc(sizeof(*w) + total - done);
  if (w == NULL) {
    close_conn(conn);
    return;
  }
  if (done < alen) {
    memcpy(w->data, (const char *)a + done, alen - done);
    if (blen > 0)
      memcpy(w->data + alen - done, b, blen);
  } else {
    memcpy(w->data, (const char *)b + (done - alen), total - done);
  }
  w->req.data = w;
  rest = uv_buf_init(w->data, (unsigned)(total - done));
  if (uv_write(&w->req, st, &rest, 1, on_write_done) != 0) {
    free(w);
    close_conn(conn);
  }
}

/* conn_send_raw cut where a --net-fault says (netfault.h). */
static void
conn_send(struct df_sim_adbd_conn *conn, const void *a, size_t alen, const void *b, size_t blen)
{
  size_t allowed = df_sim_nf_pass(&conn->nf, DF_SIM_NF_OUT, alen + blen);

  if (allowed < alen) {
    alen = allowed;
    blen = 0;
  } else if (allowed < alen + blen) {
    blen = allowed - alen;
  }
  if (alen + blen > 0)
    conn_send_raw(conn, alen > 0 ? a : b, alen > 0 ? alen : blen, alen > 0 ? b : NULL,
                  alen > 0 ? blen : 0);
  df_sim_nf_act(&conn->nf);
}

/* adb.cpp send_packet: CNXN and AUTH always carry a checksum (the peer may
 * be old); the rest only for a peer older than A_VERSION_SKIP_CHECKSUM. */
static void
send_packet(struct df_sim_adbd_conn *conn, uint32_t command, uint32_t arg0, uint32_t arg1,
            const void *data, size_t len)
{
  uint8_t hdr[DF_SIM_ADBD_HEADER_SIZE];
  bool checksum = command == DF_SIM_ADBD_A_CNXN || command == DF_SIM_ADBD_A_AUTH ||
                  !conn->peer_known || df_sim_adbd_peer_needs_checksum(conn->peer_version);

  df_sim_adbd_header_write(hdr, command, arg0, arg1, data, (uint32_t)len, checksum);
  conn_send(conn, hdr, sizeof(hdr), data, len);
}

/* ---- streams ---- */

static struct df_sim_adbd_stream *
find_stream(struct df_sim_adbd_conn *conn, uint32_t local_id)
{
  for (struct df_sim_adbd_stream *s = conn->streams; s != NULL; s = s->next)
    if (s->local_id == local_id)
      return s;
  return NULL;
}

/* Takes the stream off the live list; its memory goes when no handler can
 * hold it any more (reap_streams). */
static void
stream_kill(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_conn *conn = s->conn;

  if (s->freed)
    return;
  s->freed = true;
  for (struct df_sim_adbd_stream **pp = &conn->streams; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  }
  if (s->ops != NULL && s->ops->on_free != NULL)
    s->ops->on_free(s);
  s->next = conn->dead;
  conn->dead = s;
}

static void
reap_streams(struct df_sim_adbd_conn *conn)
{
  while (conn->dead != NULL) {
    struct df_sim_adbd_stream *s = conn->dead;

    conn->dead = s->next;
    df_sim_buf_free(&s->out);
    free(s);
  }
}

static void
kill_all_streams(struct df_sim_adbd_conn *conn)
{
  while (conn->streams != NULL)
    stream_kill(conn->streams);
}

void
df_sim_adbd_stream_write(struct df_sim_adbd_stream *s, const void *data, size_t len)
{
  if (s->freed || len == 0)
    return;
  df_sim_buf_append(&s->out, data, len);
  df_sim_adbd_stream_pump(s);
}

void
df_sim_adbd_stream_finish(struct df_sim_adbd_stream *s)
{
  if (s->freed)
    return;
  s->close_when_flushed = true;
  df_sim_adbd_stream_pump(s);
}

void
df_sim_adbd_stream_pump(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_conn *conn = s->conn;
  struct df_sim_adbd *adbd = conn->adbd;

  if (s->freed || !s->opened || conn->closing)
    return;
  if (!s->awaiting_okay) {
    size_t pending = s->out.len - s->out_off;

    if (pending > 0) {
      size_t n = pending < conn->max_payload ? pending : conn->max_payload;

      s->awaiting_okay = true;
      send_packet(conn, DF_SIM_ADBD_A_WRTE, s->local_id, s->remote_id,
                  s->out.data + s->out_off, n);
      s->out_off += n;
      if (s->out_off == s->out.len)
        s->out.len = s->out_off = 0;
    } else if (s->filling && s->ops != NULL && s->ops->fill != NULL && adbd != NULL) {
      uint8_t *payload = adbd->scratch + DF_SIM_ADBD_HEADER_SIZE;
      size_t n;

      /* Marked in flight first: replies fill queues must wait for buf. */
      s->awaiting_okay = true;
      n = s->ops->fill(s, payload, conn->max_payload);
      if (s->freed || conn->closing)
        return;
      if (n > 0) {
        bool checksum = df_sim_adbd_peer_needs_checksum(conn->peer_version);

        df_sim_adbd_header_write(adbd->scratch, DF_SIM_ADBD_A_WRTE, s->local_id, s->remote_id,
                                 payload, (uint32_t)n, checksum);
        conn_send(conn, adbd->scratch, DF_SIM_ADBD_HEADER_SIZE + n, NULL, 0);
      } else {
        s->awaiting_okay = false;
        s->filling = false; /* fill gives 0 only when it has nothing more */
        if (s->out.len > s->out_off) {
          df_sim_adbd_stream_pump(s);
          return;
        }
      }
    }
  }
  /* CLSE once the host took our last WRTE: a CLSE queued from inside fill
   * must not overtake the WRTE being built. */
  if (s->close_when_flushed && !s->awaiting_okay && s->out.len == s->out_off && !s->filling) {
    bool restart = s->restart_adbd_when_flushed;

    send_packet(conn, DF_SIM_ADBD_A_CLSE, s->local_id, s->remote_id, NULL, 0);
    stream_kill(s);
    if (restart && adbd != NULL)
      df_sim_adbd_restart(adbd);
  }
}

/* ---- the handshake ---- */

static bool
phone_in(const struct df_sim_adbd_conn *conn, enum df_sim_mode mode)
{
  return conn->adbd != NULL && df_sim_phone_mode(conn->adbd->phone) == mode;
}

/* adb.cpp send_connect with get_connection_string; adbd in recovery says
 * "recovery", minadbd (sideload) says "sideload" (adb.h adb_device_banner). */
static void
send_connect(struct df_sim_adbd_conn *conn)
{
  struct df_sim_phone *phone = conn->adbd->phone;
  const char *state = "device";
  char banner[DF_SIM_ADBD_MAX_PAYLOAD_V1 + 1];
  int n;

  if (phone_in(conn, DF_SIM_MODE_RECOVERY))
    state = "recovery";
  else if (phone_in(conn, DF_SIM_MODE_SIDELOAD))
    state = "sideload";
  n = df_sim_adbd_banner(banner, sizeof(banner), state,
                         df_sim_phone_getprop(phone, "ro.product.name"),
                         df_sim_phone_getprop(phone, "ro.product.model"),
                         df_sim_phone_getprop(phone, "ro.product.device"), DF_SIM_ADBD_FEATURES);
  if (n < 0) {
    df_log_error("adbd: the CNXN banner does not fit 4096 bytes; shorten the model's properties");
    close_conn(conn);
    return;
  }
  conn->state = DF_SIM_ADBD_ONLINE;
  send_packet(conn, DF_SIM_ADBD_A_CNXN, DF_SIM_ADBD_VERSION, conn->max_payload, banner, (size_t)n);
  df_sim_nf_conn_start(&conn->nf);
}

/* auth.cpp send_auth_request: a fresh token every time. */
static void
send_auth_request(struct df_sim_adbd_conn *conn)
{
  if (df_sim_adbd_token_new(conn->token) != 0) {
    close_conn(conn);
    return;
  }
  conn->state = DF_SIM_ADBD_WAIT_AUTH;
  send_packet(conn, DF_SIM_ADBD_A_AUTH, DF_SIM_ADBD_AUTH_TOKEN, 0, conn->token,
              sizeof(conn->token));
}

/* adb.cpp handle_new_connection: a CNXN resets the transport (its streams
 * go), negotiates, then asks for auth. minadbd (sideload) does not. */
static void
handle_cnxn(struct df_sim_adbd_conn *conn, const struct df_sim_adbd_msg *m)
{
  kill_all_streams(conn);
  conn->peer_known = true;
  conn->peer_version = m->arg0;
  df_sim_adbd_negotiate(m->arg0, m->arg1, &conn->version, &conn->max_payload);
  if (phone_in(conn, DF_SIM_MODE_SIDELOAD))
    send_connect(conn);
  else
    send_auth_request(conn);
}

static void
keys_path(const struct df_sim_adbd_conn *conn, char *out, size_t outlen)
{
  df_sim_phone_state_path(conn->adbd->phone, "adb_keys", out, outlen);
}

/* adb.cpp handle_packet A_AUTH (device side). */
static void
handle_auth(struct df_sim_adbd_conn *conn, const struct df_sim_adbd_msg *m, const uint8_t *data)
{
  char path[4096];

  if (m->arg0 == DF_SIM_ADBD_AUTH_SIGNATURE) {
    if (conn->state != DF_SIM_ADBD_WAIT_AUTH)
      return;
    keys_path(conn, path, sizeof(path));
    if (df_sim_adbd_keys_verify(path, conn->token, data, m->data_length)) {
      conn->failed_auth = 0;
      send_connect(conn);
    } else {
      conn->failed_auth++;
      send_auth_request(conn);
    }
    return;
  }
  if (m->arg0 == DF_SIM_ADBD_AUTH_RSAPUBLICKEY) {
    if (conn->state != DF_SIM_ADBD_WAIT_AUTH)
      return;
    switch (df_sim_phone_auth_policy(conn->adbd->phone)) {
    case DF_SIM_AUTH_ACCEPT:
      /* The user taps "Allow" (and "Always allow": the key is kept). */
      keys_path(conn, path, sizeof(path));
      if (df_sim_adbd_keys_add(path, data, m->data_length) != 0) {
        df_log_warn("adbd: the host's public key is not valid; it stays unauthorized");
        return;
      }
      send_connect(conn);
      return;
    case DF_SIM_AUTH_PROMPT:
      /* The "Allow USB debugging?" dialog stays open: no answer. */
      return;
    case DF_SIM_AUTH_REJECT:
    default:
      /* The user taps "Deny": the phone never answers this host; the
       * connection goes so that the host does not wait on it. */
      close_conn(conn);
      return;
    }
  }
  if (m->arg0 == DF_SIM_ADBD_AUTH_TOKEN)
    return; /* a device does not answer tokens (that is the host's case) */
  /* adb.cpp: any other AUTH type puts the transport offline. */
  kill_all_streams(conn);
  conn->state = DF_SIM_ADBD_WAIT_CNXN;
}

/* ---- streams from the host ---- */

static void
handle_open(struct df_sim_adbd_conn *conn, const struct df_sim_adbd_msg *m, const uint8_t *data)
{
  struct df_sim_adbd_stream *s;
  char *name;
  int err;

  /* adb.cpp A_OPEN: only online, with local-id != 0 and 0 as the other. */
  if (conn->state != DF_SIM_ADBD_ONLINE || m->arg0 == 0 || m->arg1 != 0)
    return;
  name = malloc(m->data_length + 1);
  s = calloc(1, sizeof(*s));
  if (name == NULL || s == NULL) {
    free(name);
    free(s);
    send_packet(conn, DF_SIM_ADBD_A_CLSE, 0, m->arg0, NULL, 0);
    return;
  }
  memcpy(name, data, m->data_length);
  name[m->data_length] = '\0'; /* the payload is "service\0"; cut at its NUL */
  s->conn = conn;
  s->remote_id = m->arg0;
  do {
    s->local_id = ++conn->next_local_id;
  } while (s->local_id == 0 || find_stream(conn, s->local_id) != NULL);
  s->next = conn->streams;
  conn->streams = s;
  err = df_sim_adbd_service_open(s, name);
  free(name);
  if (err != 0) {
    /* adb.cpp: send_close(0, remote) when no service answers. */
    send_packet(conn, DF_SIM_ADBD_A_CLSE, 0, m->arg0, NULL, 0);
    stream_kill(s);
    return;
  }
  if (s->freed)
    return;
  send_packet(conn, DF_SIM_ADBD_A_OKAY, s->local_id, s->remote_id, NULL, 0);
  s->opened = true;
  df_sim_adbd_stream_pump(s);
}

static void
handle_okay(struct df_sim_adbd_conn *conn, const struct df_sim_adbd_msg *m)
{
  struct df_sim_adbd_stream *s;

  if (conn->state != DF_SIM_ADBD_ONLINE || m->arg0 == 0 || m->arg1 == 0)
    return;
  s = find_stream(conn, m->arg1);
  if (s == NULL || s->remote_id != m->arg0)
    return; /* a late OKAY for a stream we closed: nothing to do */
  s->awaiting_okay = false;
  df_sim_adbd_stream_pump(s);
}

static void
handle_clse(struct df_sim_adbd_conn *conn, const struct df_sim_adbd_msg *m)
{
  struct df_sim_adbd_stream *s;

  if (conn->state != DF_SIM_ADBD_ONLINE || m->arg1 == 0)
    return;
  s = find_stream(conn, m->arg1);
  if (s == NULL || (m->arg0 != 0 && s->remote_id != m->arg0))
    return;
  stream_kill(s);
}

static void
handle_wrte(struct df_sim_adbd_conn *conn, const struct df_sim_adbd_msg *m, const uint8_t *data)
{
  struct df_sim_adbd_stream *s;
  uint32_t local, remote;

  if (conn->state != DF_SIM_ADBD_ONLINE || m->arg0 == 0 || m->arg1 == 0)
    return;
  s = find_stream(conn, m->arg1);
  if (s == NULL || s->remote_id != m->arg0)
    return;
  local = s->local_id;
  remote = s->remote_id;
  if (s->ops != NULL && s->ops->on_data != NULL)
    s->ops->on_data(s, data, m->data_length);
  /* adb.cpp A_WRTE: OKAY once the data is taken, unless the socket closed
   * while taking it. */
  if (!conn->closing && find_stream(conn, local) != NULL)
    send_packet(conn, DF_SIM_ADBD_A_OKAY, local, remote, NULL, 0);
}

static void
handle_packet(struct df_sim_adbd_conn *conn, const struct df_sim_adbd_msg *m, const uint8_t *data)
{
  switch (m->command) {
  case DF_SIM_ADBD_A_CNXN:
    handle_cnxn(conn, m);
    break;
  case DF_SIM_ADBD_A_AUTH:
    handle_auth(conn, m, data);
    break;
  case DF_SIM_ADBD_A_OPEN:
    handle_open(conn, m, data);
    break;
  case DF_SIM_ADBD_A_OKAY:
    handle_okay(conn, m);
    break;
  case DF_SIM_ADBD_A_CLSE:
    handle_clse(conn, m);
    break;
  case DF_SIM_ADBD_A_WRTE:
    handle_wrte(conn, m, data);
    break;
  default:
    /* adb.cpp: "handle_packet: what is %08x?!" - logged and ignored (A_SYNC
     * is obsolete; STLS is Android 11+ and this phone does not offer TLS). */
    df_log_debug("adbd: ignoring packet %08x", m->command);
    break;
  }
}

/* Takes every whole packet in the buffer; drops the connection on a bad
 * header or a bad checksum, as adbd does. */
static void
process_input(struct df_sim_adbd_conn *conn)
{
  size_t off = 0;

  while (!conn->closing && conn->in_len - off >= DF_SIM_ADBD_HEADER_SIZE) {
    struct df_sim_adbd_msg m;
    uint32_t limit = conn->peer_known ? conn->max_payload : DF_SIM_ADBD_MAX_PAYLOAD;
    const uint8_t *payload;
    bool check;

    if (df_sim_adbd_header_parse(conn->in + off, limit, &m) != 0) {
      df_log_debug("adbd: bad packet header, dropping the connection");
      close_conn(conn);
      return;
    }
    if (conn->in_len - off < DF_SIM_ADBD_HEADER_SIZE + (size_t)m.data_length)
      break;
    payload = conn->in + off + DF_SIM_ADBD_HEADER_SIZE;
    /* A CNXN says the peer's version itself; afterwards the negotiated
     * peer version decides whether sums are checked. */
    if (m.command == DF_SIM_ADBD_A_CNXN)
      check = df_sim_adbd_peer_needs_checksum(m.arg0);
    else
      check = conn->peer_known && df_sim_adbd_peer_needs_checksum(conn->peer_version);
    if (check && df_sim_adbd_checksum(payload, m.data_length) != m.data_check) {
      df_log_debug("adbd: bad checksum, dropping the connection");
      close_conn(conn);
      return;
    }
    handle_packet(conn, &m, payload);
    reap_streams(conn);
    off += DF_SIM_ADBD_HEADER_SIZE + m.data_length;
  }
  if (conn->closing)
    return;
  if (off > 0) {
    memmove(conn->in, conn->in + off, conn->in_len - off);
    conn->in_len -= off;
  }
}

/* ---- connections ---- */

static void
on_conn_closed(uv_handle_t *handle)
{
  struct df_sim_adbd_conn *conn = handle->data;

  reap_streams(conn);
  free(conn->in);
  free(conn);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
  uv_handle_t *h = (uv_handle_t *)req->handle;

  (void)status;
  if (!uv_is_closing(h))
    uv_close(h, on_conn_closed);
  free(req);
}

/* Unlinks the connection and closes it once queued output is out (the OKAY
 * and CLSE of a reboot: must reach the host before the drop). */
static void
close_conn(struct df_sim_adbd_conn *conn)
{
  struct df_sim_adbd *adbd = conn->adbd;
  uv_shutdown_t *req;

  if (conn->closing)
    return;
  kill_all_streams(conn);
  conn->closing = true;
  df_sim_nf_conn_closed(&conn->nf);
  if (adbd != NULL) {
    for (struct df_sim_adbd_conn **pp = &adbd->conns; *pp != NULL; pp = &(*pp)->next) {
      if (*pp == conn) {
        *pp = conn->next;
        break;
      }
    }
  }
  conn->adbd = NULL;
  uv_read_stop((uv_stream_t *)&conn->tcp);
  if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) > 0) {
    req = malloc(sizeof(*req));
    if (req != NULL && uv_shutdown(req, (uv_stream_t *)&conn->tcp, on_shutdown) == 0)
      return;
    free(req);
  }
  uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static void
on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  struct df_sim_adbd_conn *conn = handle->data;

  (void)suggested;
  if (conn->in == NULL) {
    conn->in = malloc(IN_BUF_SIZE);
    conn->in_cap = conn->in != NULL ? IN_BUF_SIZE : 0;
  }
  if (conn->in == NULL || conn->in_len >= conn->in_cap) {
    *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS: the conn closes */
    return;
  }
  *buf = uv_buf_init((char *)conn->in + conn->in_len, (unsigned)(conn->in_cap - conn->in_len));
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct df_sim_adbd_conn *conn = stream->data;

  (void)buf;
  if (nread < 0) {
    close_conn(conn); /* EOF or error: the host is gone, like a cable pulled */
    return;
  }
  if (nread == 0)
    return;
  df_sim_link_took((size_t)nread);
  conn->in_len += df_sim_nf_pass(&conn->nf, DF_SIM_NF_IN, (size_t)nread);
  process_input(conn);
  df_sim_nf_act(&conn->nf);
  df_sim_nf_read_done(&conn->nf);
}

static void
nf_close(void *conn)
{
  close_conn(conn);
}

/* How netfault.c reads, closes and stops reading an ADB connection. */
static const struct df_sim_nf_server nf_server = {
  .proto = DF_SIM_NF_ADB, .alloc_cb = on_alloc, .read_cb = on_read, .close = nf_close,
  .fail = NULL};

static void
on_connection(uv_stream_t *server, int status)
{
  struct df_sim_adbd *adbd = server->data;
  struct df_sim_adbd_conn *conn;

  if (status < 0 || adbd == NULL)
    return;
  conn = calloc(1, sizeof(*conn));
  if (conn == NULL)
    return;
  uv_tcp_init(&adbd->loop->uv, &conn->tcp);
  conn->tcp.data = conn;
  if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
    uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
    return;
  }
  /* Small replies (OKAY, AUTH, STAT) must not wait for Nagle. */
  uv_tcp_nodelay(&conn->tcp, 1);
  df_sim_nf_conn_init(&conn->nf, &nf_server, conn, (uv_stream_t *)&conn->tcp, adbd->phone);
  conn->adbd = adbd;
  conn->max_payload = DF_SIM_ADBD_MAX_PAYLOAD_V1;
  conn->peer_version = DF_SIM_ADBD_VERSION_MIN;
  conn->next = adbd->conns;
  adbd->conns = conn;
  if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0)
    close_conn(conn);
}

/* ---- the server ---- */

static int
listen_start(struct df_sim_adbd *adbd)
{
  return df_sim_listener_open(adbd->loop, &adbd->port, 64, on_connection, adbd, &adbd->server);
}

static void
drop_all(struct df_sim_adbd *adbd)
{
  while (adbd->conns != NULL)
    close_conn(adbd->conns);
}

static void
listen_stop(struct df_sim_adbd *adbd)
{
  df_sim_listener_close(&adbd->server);
  drop_all(adbd);
}

/* root:/unroot: adbd exits and init starts it again: every transport drops
 * (restart_service.cpp sets service.adb.root; adbd restarts). */
void
df_sim_adbd_restart(struct df_sim_adbd *adbd)
{
  drop_all(adbd);
}

int
df_sim_adbd_new(struct df_loop *loop, struct df_sim_phone *phone, int port,
                struct df_sim_adbd **out, int *bound_port)
{
  struct df_sim_adbd *adbd;
  int err;

  if (loop == NULL || phone == NULL || out == NULL || port < 0 || port > 65535)
    return DF_EINVAL;
  adbd = calloc(1, sizeof(*adbd));
  if (adbd == NULL)
    return DF_ENOMEM;
  adbd->scratch_size = DF_SIM_ADBD_HEADER_SIZE + DF_SIM_ADBD_MAX_PAYLOAD;
  adbd->scratch = malloc(adbd->scratch_size);
  if (adbd->scratch == NULL) {
    free(adbd);
    return DF_ENOMEM;
  }
  adbd->loop = loop;
  adbd->phone = phone;
  adbd->port = port;
  /* Bind once even when the phone is not in an adb mode, so the port
   * number is known (and fixed) from the start. */
  err = listen_start(adbd);
  if (err != 0) {
    free(adbd->scratch);
    free(adbd);
    return err;
  }
  adbd->enabled = true;
  if (!df_sim_mode_has_adb(df_sim_phone_mode(phone)))
    df_sim_adbd_set_enabled(adbd, false);
  if (bound_port != NULL)
    *bound_port = adbd->port;
  *out = adbd;
  return 0;
}

void
df_sim_adbd_set_enabled(struct df_sim_adbd *adbd, bool enabled)
{
  int err;

  if (adbd == NULL)
    return;
  if (!enabled) {
    listen_stop(adbd); /* also drops connections when already disabled */
    adbd->enabled = false;
    return;
  }
  if (adbd->enabled)
    return;
  err = listen_start(adbd);
  if (err != 0) {
    df_log_error("adbd: cannot listen again on 127.0.0.1:%d: %s", adbd->port, df_strerror(err));
    return;
  }
  adbd->enabled = true;
}

void
df_sim_adbd_free(struct df_sim_adbd *adbd)
{
  if (adbd == NULL)
    return;
  listen_stop(adbd);
  free(adbd->scratch);
  free(adbd);
}
