/* The ADB connection state machine, host side: handshake, auth, streams. */
#include "plugins/adb/adb_conn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "plugins/adb/adb_sync.h"

/* What droidfix tells the phone it understands (adb 29 sends a similar
 * list in its "host::features=..." banner). */
#define DF_ADB_HOST_BANNER \
  "host::features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb," \
  "fixed_push_symlink_timestamp,abb_exec"

struct df_adb_stream {
  struct df_adb_conn *conn;
  uint32_t local_id;
  uint32_t remote_id;
  const struct df_adb_stream_callbacks *cbs;
  void *userdata;
  bool opened;
  bool closed;          /* closed by us or the phone: no callbacks any more */
  /* the write in progress */
  const uint8_t *wdata;
  size_t wlen;
  size_t woff;
  bool waiting_okay;    /* a WRTE is out; the phone has not said OKAY yet */
  bool writing;         /* a df_adb_stream_write is in progress */
  df_adb_write_cb wcb;
  void *wreq;
  /* flow control toward us */
  bool paused;
  bool okay_owed;
  bool watched;         /* df_adb_stream_watch */
  struct df_adb_stream *next;
};

struct df_adb_conn {
  struct df_transport *t;
  const struct df_adb_keys *keys;
  int next_key;
  bool pubkey_sent;
  const struct df_adb_conn_callbacks *cbs;
  void *userdata;
  struct df_adb_reader reader;
  uint32_t version;
  uint32_t max_payload;
  bool online;
  bool checksums;
  bool closing;
  struct df_adb_banner banner;
  struct df_adb_stream *streams;
  uint32_t next_local_id;
  /* The liveness watch (df_adb_stream_watch): a timer ticking a quarter
   * of stall_ms while a watched stream is open. */
  struct df_loop *loop;
  uv_timer_t *watch_timer;
  unsigned stall_ms;
  int nwatched;
  uint64_t quiet_since;        /* the last byte from the phone, or a watch's start */
  struct df_adb_stream *check; /* the liveness check under way */
  uint64_t check_at;
};

static void
df_adb_watch_stop_if_idle(struct df_adb_conn *conn);

/* One packet on its way to the transport. The payload is copied in, so a
 * stream or a writer can go away while the transport still sends it (one
 * memcpy per packet: cheap next to the socket). */
struct df_adb_out {
  uint8_t header[DF_ADB_HEADER_SIZE];
  uint8_t payload[];
};

static void
df_adb_out_done(void *req, int status)
{
  free(req);
}

static int
df_adb_send(struct df_adb_conn *conn, uint32_t command, uint32_t arg0, uint32_t arg1,
            const void *payload, uint32_t len)
{
  struct df_adb_header h;
  struct df_adb_out *out;
  struct df_buf bufs[2];
  int rc;

  if (conn->closing) return DF_ECANCELED;
  out = malloc(sizeof(*out) + len);
  if (out == NULL) return DF_ENOMEM;
  df_adb_header_make(&h, command, arg0, arg1, payload, len, conn->checksums);
  df_adb_header_encode(&h, out->header);
  bufs[0].base = out->header;
  bufs[0].len = DF_ADB_HEADER_SIZE;
  bufs[1].base = out->payload;
  bufs[1].len = len;
  if (len > 0) memcpy(out->payload, payload, len);
  rc = df_transport_write(conn->t, bufs, len > 0 ? 2 : 1, df_adb_out_done, out);
  if (rc != DF_OK) free(out);
  return rc;
}

/* ---- streams ---- */

static struct df_adb_stream *
df_adb_find_stream(struct df_adb_conn *conn, uint32_t local_id)
{
  for (struct df_adb_stream *s = conn->streams; s != NULL; s = s->next)
    if (s->local_id == local_id) return s;
  return NULL;
}

static void
df_adb_unlink_stream(struct df_adb_stream *s)
{
  struct df_adb_stream **pp = &s->conn->streams;

  while (*pp != NULL && *pp != s) pp = &(*pp)->next;
  if (*pp == s) *pp = s->next;
}

/* The stream ends: the owner hears on_close(status) (or on_open's refusal)
 * unless it closed the stream itself; a pending write is dropped. */
static void
df_adb_stream_end(struct df_adb_stream *s, int status, bool tell_owner)
{
  const struct df_adb_stream_callbacks *cbs = s->cbs;
  void *userdata = s->userdata;

  if (s->closed) return;
  s->closed = true;
  df_adb_unlink_stream(s);
  if (s->watched) {
    s->watched = false;
    s->conn->nwatched--;
    df_adb_watch_stop_if_idle(s->conn);
  }
  if (tell_owner) {
    if (!s->opened)
      cbs->on_open(userdata, status == 0 ? DF_EUNSUPPORTED : status);
    else
      cbs->on_close(userdata, status);
  }
  free(s);
}

int
df_adb_stream_open(struct df_adb_conn *conn, const char *service,
                   const struct df_adb_stream_callbacks *cbs, void *userdata,
                   struct df_adb_stream **out)
{
  struct df_adb_stream *s;
  size_t len = strlen(service) + 1; /* the service name goes with its NUL */
  int rc;

  if (!conn->online) return DF_ENODEV;
  if (len > conn->max_payload) return DF_ETOOBIG;
  s = calloc(1, sizeof(*s));
  if (s == NULL) return DF_ENOMEM;
  s->conn = conn;
  s->local_id = conn->next_local_id++;
  if (conn->next_local_id == 0) conn->next_local_id = 1;
  s->cbs = cbs;
  s->userdata = userdata;
  rc = df_adb_send(conn, DF_ADB_OPEN, s->local_id, 0, service, (uint32_t)len);
  if (rc != DF_OK) {
    free(s);
    return rc;
  }
  s->next = conn->streams;
  conn->streams = s;
  *out = s;
  return DF_OK;
}

static int
df_adb_stream_send_next(struct df_adb_stream *s)
{
  size_t n = s->wlen - s->woff;
  int rc;

  if (n > s->conn->max_payload) n = s->conn->max_payload;
  rc = df_adb_send(s->conn, DF_ADB_WRTE, s->local_id, s->remote_id, s->wdata + s->woff,
                   (uint32_t)n);
  if (rc != DF_OK) return rc;
  s->woff += n;
  s->waiting_okay = true;
  return DF_OK;
}

int
df_adb_stream_write(struct df_adb_stream *s, const void *data, size_t len,
                    df_adb_write_cb cb, void *req)
{
  int rc;

  if (s->closed || !s->opened) return DF_ECANCELED;
  if (s->writing) return DF_EBUSY;
  if (len == 0) return DF_EINVAL;
  s->wdata = data;
  s->wlen = len;
  s->woff = 0;
  s->wcb = cb;
  s->wreq = req;
  rc = df_adb_stream_send_next(s);
  if (rc == DF_OK) s->writing = true;
  return rc;
}

/* The phone said OKAY to our last WRTE: send more, or finish the write. */
static void
df_adb_stream_on_okay(struct df_adb_stream *s)
{
  int rc = DF_OK;

  s->waiting_okay = false;
  if (!s->writing) return;
  if (s->woff < s->wlen) {
    rc = df_adb_stream_send_next(s);
    if (rc == DF_OK) return;
  }
  s->writing = false;
  if (s->wcb != NULL) s->wcb(s->wreq, rc);
}

void
df_adb_stream_pause(struct df_adb_stream *s, bool paused)
{
  s->paused = paused;
  if (!paused && s->okay_owed && !s->closed) {
    s->okay_owed = false;
    df_adb_send(s->conn, DF_ADB_OKAY, s->local_id, s->remote_id, NULL, 0);
  }
}

void
df_adb_stream_close(struct df_adb_stream *s)
{
  if (s->closed) return;
  if (s->opened) df_adb_send(s->conn, DF_ADB_CLSE, s->local_id, s->remote_id, NULL, 0);
  df_adb_stream_end(s, DF_ECANCELED, false);
}

/* ---- incoming packets ---- */

static int
df_adb_on_auth(struct df_adb_conn *conn, const struct df_adb_header *h, const uint8_t *payload)
{
  uint8_t sig[512];
  size_t siglen = 0;
  char pub[1200];
  int rc;

  if (h->arg0 != DF_ADB_AUTH_TOKEN || h->data_length != DF_ADB_AUTH_TOKEN_SIZE)
    return DF_EPROTO;
  if (conn->next_key < conn->keys->count) {
    rc = df_rsa_sign_sha1_digest(conn->keys->keys[conn->next_key++], payload, sig, &siglen);
    if (rc != DF_OK) return rc;
    return df_adb_send(conn, DF_ADB_AUTH, DF_ADB_AUTH_SIGNATURE, 0, sig, (uint32_t)siglen);
  }
  if (conn->pubkey_sent) return DF_OK; /* waiting for the user's answer */
  rc = df_adb_key_public_text(conn->keys->keys[0], pub, sizeof(pub));
  if (rc != DF_OK) return rc;
  rc = df_adb_send(conn, DF_ADB_AUTH, DF_ADB_AUTH_RSAPUBLICKEY, 0, pub,
                   (uint32_t)strlen(pub) + 1);
  if (rc != DF_OK) return rc;
  conn->pubkey_sent = true;
  conn->cbs->on_unauthorized(conn->userdata);
  return DF_OK;
}

static int
df_adb_on_cnxn(struct df_adb_conn *conn, const struct df_adb_header *h, const uint8_t *payload)
{
  int rc;

  conn->version = h->arg0 < DF_ADB_VERSION_SKIP_CHECKSUM ? h->arg0 : DF_ADB_VERSION_SKIP_CHECKSUM;
  conn->max_payload = h->arg1 < DF_ADB_MAX_PAYLOAD ? h->arg1 : DF_ADB_MAX_PAYLOAD;
  if (conn->version < DF_ADB_VERSION_MIN || conn->max_payload < 256) return DF_EPROTO;
  conn->checksums = conn->version < DF_ADB_VERSION_SKIP_CHECKSUM;
  rc = df_adb_banner_parse((const char *)payload, h->data_length, &conn->banner);
  if (rc != DF_OK) return rc;
  rc = df_adb_reader_set_max_payload(&conn->reader, DF_ADB_MAX_PAYLOAD);
  if (rc != DF_OK) return rc;
  conn->online = true;
  conn->cbs->on_ready(conn->userdata, &conn->banner);
  return DF_OK;
}

static int
df_adb_on_stream_packet(struct df_adb_conn *conn, const struct df_adb_header *h,
                        const uint8_t *payload)
{
  /* Replies name our id in arg1 and the phone's in arg0. */
  struct df_adb_stream *s = df_adb_find_stream(conn, h->arg1);
  uint32_t local_id = h->arg1;
  int rc;

  switch (h->command) {
  case DF_ADB_OKAY:
    if (s == NULL) return DF_OK;
    if (!s->opened) {
      s->opened = true;
      s->remote_id = h->arg0;
      s->cbs->on_open(s->userdata, DF_OK);
      return DF_OK;
    }
    df_adb_stream_on_okay(s);
    return DF_OK;
  case DF_ADB_CLSE:
    if (s != NULL) df_adb_stream_end(s, DF_OK, true);
    return DF_OK;
  case DF_ADB_WRTE:
    if (s == NULL || !s->opened) {
      /* Data for a stream we closed: tell the phone it is gone. */
      return df_adb_send(conn, DF_ADB_CLSE, local_id, h->arg0, NULL, 0);
    }
    if (s->paused) {
      s->okay_owed = true;
      s->cbs->on_data(s->userdata, payload, h->data_length);
      return DF_OK;
    }
    /* OKAY before the data is consumed, as adb's server does once the
     * bytes are in its client's socket: the phone reads and sends the next
     * payload while this one is written out (a pull's file write no longer
     * stops the phone). The next WRTE waits in the kernel's socket buffer,
     * so nothing here grows; a consumer that pauses in on_data gets at most
     * that one payload more, and its OKAY is withheld. */
    rc = df_adb_send(conn, DF_ADB_OKAY, s->local_id, s->remote_id, NULL, 0);
    if (rc != DF_OK) return rc;
    s->cbs->on_data(s->userdata, payload, h->data_length);
    return DF_OK;
  default:
    return DF_EPROTO;
  }
}

static int
df_adb_on_packet(void *ctx, const struct df_adb_header *h, const uint8_t *payload)
{
  struct df_adb_conn *conn = ctx;
  int rc;

  if (conn->closing) return DF_ECANCELED;
  switch (h->command) {
  case DF_ADB_CNXN:
    rc = df_adb_on_cnxn(conn, h, payload);
    break;
  case DF_ADB_AUTH:
    rc = df_adb_on_auth(conn, h, payload);
    break;
  case DF_ADB_OPEN:
    /* The host never serves streams to the phone: refuse, as adb does for
     * anything but a configured reverse forward. */
    rc = df_adb_send(conn, DF_ADB_CLSE, 0, h->arg0, NULL, 0);
    break;
  case DF_ADB_STLS:
    rc = DF_EUNSUPPORTED; /* TLS (Android 11 wireless debugging) is not spoken */
    break;
  default:
    rc = conn->online ? df_adb_on_stream_packet(conn, h, payload) : DF_EPROTO;
    break;
  }
  return conn->closing ? DF_ECANCELED : rc;
}

/* ---- the liveness watch ---- */

/* A service name no adbd serves (not a socket spec either, so no
 * connection is attempted): adbd answers CLSE(0, id) at once. */
#define DF_ADB_CHECK_SERVICE "droidfix:liveness-check"

static void
df_adb_watch_timer_free(uv_handle_t *h)
{
  free(h);
}

static void
df_adb_watch_stop_if_idle(struct df_adb_conn *conn)
{
  if (conn->nwatched == 0 && conn->watch_timer != NULL) uv_timer_stop(conn->watch_timer);
}

static void
df_adb_check_on_open(void *userdata, int status)
{
  struct df_adb_conn *conn = userdata;
  struct df_adb_stream *s = conn->check;

  conn->check = NULL;
  /* A phone that has such a service after all: the answer is all we
   * wanted; close the stream. */
  if (status == DF_OK && s != NULL) df_adb_stream_close(s);
}

static void
df_adb_check_on_data(void *userdata, const uint8_t *data, size_t len)
{
  (void)userdata;
  (void)data;
  (void)len;
}

static void
df_adb_check_on_close(void *userdata, int status)
{
  struct df_adb_conn *conn = userdata;

  (void)status;
  conn->check = NULL;
}

static const struct df_adb_stream_callbacks df_adb_check_cbs = {
  .on_open = df_adb_check_on_open,
  .on_data = df_adb_check_on_data,
  .on_close = df_adb_check_on_close,
};

/* The phone stopped answering: every watched stream ends with
 * DF_ETIMEDOUT (its owner may close the connection from the callback). */
static void
df_adb_watch_fire(struct df_adb_conn *conn)
{
  for (;;) {
    struct df_adb_stream *s = conn->streams;

    while (s != NULL && !s->watched) s = s->next;
    if (s == NULL || conn->closing) return;
    if (s->opened) df_adb_send(conn, DF_ADB_CLSE, s->local_id, s->remote_id, NULL, 0);
    df_adb_stream_end(s, DF_ETIMEDOUT, true);
  }
}

static void
df_adb_watch_tick(uv_timer_t *timer)
{
  struct df_adb_conn *conn = timer->data;
  uint64_t now = uv_now(&conn->loop->uv);
  uint64_t quiet = now > conn->quiet_since ? now - conn->quiet_since : 0;

  if (conn->closing || !conn->online || conn->nwatched == 0) return;
  if (quiet >= conn->stall_ms && conn->check != NULL &&
      now - conn->check_at >= conn->stall_ms / 2) {
    df_log_debug("adb %s: nothing from the phone for %" PRIu64 " ms, nor an answer to the "
                 "liveness check", conn->t->description, quiet);
    df_adb_watch_fire(conn);
    return;
  }
  if (quiet >= conn->stall_ms / 2 && conn->check == NULL) {
    if (df_adb_stream_open(conn, DF_ADB_CHECK_SERVICE, &df_adb_check_cbs, conn,
                           &conn->check) != DF_OK) {
      conn->check = NULL;
      return;
    }
    conn->check_at = now;
  }
}

void
df_adb_conn_set_loop(struct df_adb_conn *conn, struct df_loop *loop, unsigned stall_ms)
{
  conn->loop = loop;
  conn->stall_ms = stall_ms != 0 ? stall_ms : df_adb_stall_timeout_ms();
  conn->quiet_since = uv_now(&loop->uv);
}

unsigned
df_adb_conn_stall_ms(const struct df_adb_conn *conn)
{
  return conn->loop != NULL ? conn->stall_ms : 0;
}

void
df_adb_stream_watch(struct df_adb_stream *s)
{
  struct df_adb_conn *conn = s->conn;
  unsigned tick;

  if (s->watched || s->closed || conn->loop == NULL || conn->closing) return;
  if (conn->watch_timer == NULL) {
    conn->watch_timer = calloc(1, sizeof(*conn->watch_timer));
    if (conn->watch_timer == NULL) return; /* unwatched: as without a loop */
    uv_timer_init(&conn->loop->uv, conn->watch_timer);
    conn->watch_timer->data = conn;
  }
  s->watched = true;
  /* A command's silence counts from its start, not from an idle pause
   * (a recipe waiting for the user) before it. */
  uv_update_time(&conn->loop->uv);
  conn->quiet_since = uv_now(&conn->loop->uv);
  if (conn->nwatched++ == 0) {
    tick = conn->stall_ms / 4 > 0 ? conn->stall_ms / 4 : 1;
    uv_timer_start(conn->watch_timer, df_adb_watch_tick, tick, tick);
  }
}

/* ---- the connection ---- */

static void
df_adb_conn_free(void *userdata)
{
  struct df_adb_conn *conn = userdata;

  df_adb_reader_free(&conn->reader);
  free(conn);
}

/* Ends every stream and closes the transport; tell_gone reports err. */
static void
df_adb_conn_shutdown(struct df_adb_conn *conn, int err, bool tell_gone)
{
  if (conn->closing) return;
  conn->online = false;
  while (conn->streams != NULL) df_adb_stream_end(conn->streams, err, true);
  /* A stream's callback may have closed the connection (its owner, done
   * with the device, freed it): then nobody is left to tell. */
  if (conn->closing) return;
  conn->closing = true;
  if (conn->watch_timer != NULL) {
    uv_close((uv_handle_t *)conn->watch_timer, df_adb_watch_timer_free);
    conn->watch_timer = NULL;
  }
  if (tell_gone) conn->cbs->on_gone(conn->userdata, err);
  df_transport_close(conn->t, df_adb_conn_free);
}

static void
df_adb_conn_on_read(void *userdata, const uint8_t *data, size_t len)
{
  struct df_adb_conn *conn = userdata;
  int rc;

  if (conn->closing) return;
  if (conn->loop != NULL) conn->quiet_since = uv_now(&conn->loop->uv);
  rc = df_adb_reader_feed(&conn->reader, data, len, df_adb_on_packet, conn);
  if (rc != DF_OK && !conn->closing) df_adb_conn_shutdown(conn, rc, true);
}

static void
df_adb_conn_on_gone(void *userdata, int err)
{
  df_adb_conn_shutdown(userdata, err, true);
}

static const struct df_transport_callbacks df_adb_conn_transport_cbs = {
  .on_read = df_adb_conn_on_read,
  .on_gone = df_adb_conn_on_gone,
};

int
df_adb_conn_start(struct df_transport *t, const struct df_adb_keys *keys,
                  const struct df_adb_conn_callbacks *cbs, void *userdata,
                  struct df_adb_conn **out)
{
  struct df_adb_conn *conn;
  int rc;

  conn = calloc(1, sizeof(*conn));
  if (conn == NULL) return DF_ENOMEM;
  rc = df_adb_reader_init(&conn->reader, DF_ADB_MAX_PAYLOAD_LEGACY);
  if (rc != DF_OK) {
    free(conn);
    return rc;
  }
  conn->t = t;
  conn->keys = keys;
  conn->cbs = cbs;
  conn->userdata = userdata;
  conn->checksums = true; /* until the phone's version is known */
  conn->max_payload = DF_ADB_MAX_PAYLOAD_LEGACY;
  conn->next_local_id = 1;
  t->callbacks = &df_adb_conn_transport_cbs;
  t->userdata = conn;
  rc = df_adb_send(conn, DF_ADB_CNXN, DF_ADB_VERSION_SKIP_CHECKSUM, DF_ADB_MAX_PAYLOAD,
                   DF_ADB_HOST_BANNER, sizeof(DF_ADB_HOST_BANNER) - 1);
  if (rc == DF_OK) rc = df_transport_read_start(t);
  if (rc != DF_OK) {
    df_adb_reader_free(&conn->reader);
    free(conn);
    return rc;
  }
  *out = conn;
  return DF_OK;
}

void
df_adb_conn_close(struct df_adb_conn *conn)
{
  df_adb_conn_shutdown(conn, DF_ECANCELED, false);
}

const struct df_adb_banner *
df_adb_conn_banner(const struct df_adb_conn *conn)
{
  return &conn->banner;
}

uint32_t
df_adb_conn_max_payload(const struct df_adb_conn *conn)
{
  return conn->max_payload;
}

bool
df_adb_conn_has_feature(const struct df_adb_conn *conn, const char *feature)
{
  return df_adb_banner_has_feature(&conn->banner, feature);
}

const char *
df_adb_conn_description(const struct df_adb_conn *conn)
{
  return conn->t->description;
}
