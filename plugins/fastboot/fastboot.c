/* The fastboot session: handshake, commands, replies and streamed downloads. */
#include "plugins/fastboot/fastboot.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "plugins/fastboot/fastboot_protocol.h"

#define DF_FASTBOOT_CHUNK (1024 * 1024)

enum df_fastboot_state {
  DF_FB_HANDSHAKE,   /* TCP: waiting for "FBnn" */
  DF_FB_IDLE,
  DF_FB_WAIT_REPLY,  /* a command is out */
  DF_FB_SENDING,     /* download data going out */
  DF_FB_CLOSED,
};

struct df_fastboot {
  struct df_loop *loop;
  struct df_transport *t;
  enum df_fastboot_link link;
  enum df_fastboot_state state;
  df_fastboot_ready_cb ready;
  df_fastboot_gone_cb gone;
  void *session_userdata;
  uv_timer_t timer;
  unsigned timeout_s;
  /* the command in progress */
  df_fastboot_info_cb info;
  df_fastboot_done_cb done;
  void *userdata;
  uint8_t command[8 + DF_FASTBOOT_COMMAND_MAX + 1];
  /* reassembly of TCP frames and the handshake */
  uint8_t in[8 + DF_FASTBOOT_RESPONSE_MAX];
  size_t in_have;
  size_t in_need;
  bool in_header;
  /* download */
  struct df_fastboot_source src;
  struct df_progress *progress;
  uint64_t progress_base;  /* what the progress showed when this download began */
  uint64_t sent;           /* bytes the transport has taken */
  uint64_t filled;         /* bytes read from the source (one chunk ahead) */
  bool expecting_data;
  /* A reply that came while the last chunk's write was still completing:
   * over USB the phone's OKAY can be reaped before the OUT transfer's own
   * completion (completions of two endpoints come in no fixed order). */
  uint8_t early[DF_FASTBOOT_RESPONSE_MAX];
  size_t early_len;
  bool early_have;
  uint8_t *chunk[2];
  size_t chunk_len[2];
  int cur;
  uint8_t frame[8];
};

static void df_fastboot_on_reply(struct df_fastboot *fb, const uint8_t *data, size_t len);
static void df_fastboot_free(uv_handle_t *handle);

static void
df_fastboot_finish(struct df_fastboot *fb, int status, const char *message)
{
  df_fastboot_done_cb done = fb->done;
  void *ud = fb->userdata;

  uv_timer_stop(&fb->timer);
  fb->progress = NULL;
  fb->expecting_data = false;
  fb->done = NULL;
  if (fb->state != DF_FB_CLOSED) fb->state = DF_FB_IDLE;
  if (done != NULL) done(ud, status, message);
}

static void
df_fastboot_on_timeout(uv_timer_t *timer)
{
  struct df_fastboot *fb = timer->data;
  char message[160];

  if (fb->state == DF_FB_HANDSHAKE) {
    fb->state = DF_FB_CLOSED;
    fb->ready(fb->session_userdata, DF_ETIMEDOUT);
    return;
  }
  /* Mid-download the phone and we no longer agree on where a frame ends:
   * the session cannot be used again. */
  if (fb->state == DF_FB_SENDING) fb->state = DF_FB_CLOSED;
  snprintf(message, sizeof(message),
           "the phone stopped answering (nothing for %u s); check the cable, then run the "
           "same command again", fb->timeout_s);
  df_fastboot_finish(fb, DF_ETIMEDOUT, message);
}

/* DROIDFIX_STALL_TIMEOUT (seconds) or 30: how long the phone may stay
 * silent, or stop taking data, before a command fails. */
static unsigned
df_fastboot_default_timeout_s(void)
{
  const char *env = getenv("DROIDFIX_STALL_TIMEOUT");
  char *end;
  unsigned long s;

  if (env == NULL || env[0] == '\0') return 30;
  s = strtoul(env, &end, 10);
  if (*end != '\0' || s == 0 || s > 86400) return 30;
  return (unsigned)s;
}

static void
df_fastboot_arm(struct df_fastboot *fb)
{
  uv_timer_start(&fb->timer, df_fastboot_on_timeout, (uint64_t)fb->timeout_s * 1000, 0);
}

static void
df_fastboot_ignore(void *req, int status)
{
}

/* Writes one message: framed over TCP, one transfer over USB. The bytes
 * must stay alive until the write completes (they live in fb). */
static int
df_fastboot_send_message(struct df_fastboot *fb, const uint8_t *data, size_t len)
{
  struct df_buf bufs[2];

  if (fb->link == DF_FASTBOOT_LINK_TCP) {
    df_fastboot_tcp_frame_header(fb->frame, len);
    bufs[0].base = fb->frame;
    bufs[0].len = 8;
    bufs[1].base = data;
    bufs[1].len = len;
    return df_transport_write(fb->t, bufs, 2, df_fastboot_ignore, NULL);
  }
  bufs[0].base = data;
  bufs[0].len = len;
  return df_transport_write(fb->t, bufs, 1, df_fastboot_ignore, NULL);
}

/* ---- download data ---- */

static void df_fastboot_send_chunk(struct df_fastboot *fb);

static long
df_fastboot_fill(struct df_fastboot *fb, int i)
{
  uint64_t left = fb->src.size - fb->filled;
  size_t want = left < DF_FASTBOOT_CHUNK ? (size_t)left : DF_FASTBOOT_CHUNK;
  size_t have = 0;

  while (have < want) {
    long n = fb->src.read(fb->src.ctx, fb->chunk[i] + have, want - have);
    if (n < 0) return n;
    if (n == 0) return DF_ECORRUPT; /* the source is shorter than it said */
    have += (size_t)n;
  }
  fb->chunk_len[i] = have;
  fb->filled += have;
  return (long)have;
}

static void
df_fastboot_chunk_written(void *req, int status)
{
  struct df_fastboot *fb = req;
  size_t len = fb->chunk_len[fb->cur];

  if (fb->state != DF_FB_SENDING) return;
  if (status != DF_OK) {
    df_fastboot_finish(fb, status, "");
    return;
  }
  fb->sent += len;
  df_fastboot_arm(fb); /* the phone took a chunk: it is alive */
  if (fb->progress != NULL) df_progress_update(fb->progress, fb->progress_base + fb->sent);
  if (fb->sent == fb->src.size) {
    fb->state = DF_FB_WAIT_REPLY; /* now the phone's OKAY or FAIL */
    df_fastboot_arm(fb);
    if (fb->early_have) {
      fb->early_have = false;
      df_fastboot_on_reply(fb, fb->early, fb->early_len);
    }
    return;
  }
  fb->cur ^= 1;
  df_fastboot_send_chunk(fb);
}

/* Sends the chunk at cur, then reads the next one while it is on the wire:
 * a slow phone slows the reading (one chunk in flight, one ready). */
static void
df_fastboot_send_chunk(struct df_fastboot *fb)
{
  struct df_buf buf;
  int rc;
  long n;

  buf.base = fb->chunk[fb->cur];
  buf.len = fb->chunk_len[fb->cur];
  rc = df_transport_write(fb->t, &buf, 1, df_fastboot_chunk_written, fb);
  if (rc != DF_OK) {
    df_fastboot_finish(fb, rc, "");
    return;
  }
  if (fb->filled < fb->src.size) {
    n = df_fastboot_fill(fb, fb->cur ^ 1);
    if (n < 0) {
      /* The phone is waiting for bytes we cannot give: drop the link so it
       * never takes a short image as whole. */
      fb->state = DF_FB_CLOSED;
      df_fastboot_finish(fb, (int)n, "cannot read the image");
      df_transport_close(fb->t, NULL);
      fb->t = NULL;
    }
  }
}

static void
df_fastboot_start_data(struct df_fastboot *fb, uint32_t asked)
{
  struct df_buf buf;
  long n;
  int rc;

  if (asked != fb->src.size) {
    df_fastboot_finish(fb, DF_EPROTO, "the phone asked for a different size");
    return;
  }
  fb->state = DF_FB_SENDING;
  fb->early_have = false;
  /* Each chunk the phone takes re-arms it: a phone that stops reading
   * fails the download instead of hanging it. */
  df_fastboot_arm(fb);
  n = df_fastboot_fill(fb, 0);
  if (n < 0) {
    df_fastboot_finish(fb, (int)n, "cannot read the image");
    return;
  }
  fb->cur = 0;
  if (fb->link == DF_FASTBOOT_LINK_TCP) {
    /* The whole payload goes as one frame, as fastboot's tcp.cpp sends it. */
    df_fastboot_tcp_frame_header(fb->frame, fb->src.size);
    buf.base = fb->frame;
    buf.len = 8;
    rc = df_transport_write(fb->t, &buf, 1, df_fastboot_ignore, NULL);
    if (rc != DF_OK) {
      df_fastboot_finish(fb, rc, "");
      return;
    }
  }
  df_fastboot_send_chunk(fb);
}

/* ---- replies ---- */

static void
df_fastboot_on_reply(struct df_fastboot *fb, const uint8_t *data, size_t len)
{
  struct df_fastboot_reply r;

  if (fb->state == DF_FB_SENDING && !fb->early_have && len <= sizeof(fb->early)) {
    memcpy(fb->early, data, len); /* answered when the data is all out */
    fb->early_len = len;
    fb->early_have = true;
    return;
  }
  if (fb->state != DF_FB_WAIT_REPLY) return; /* nothing asked: ignore */
  if (df_fastboot_reply_parse(data, len, &r) != DF_OK) {
    df_fastboot_finish(fb, DF_EPROTO, "unreadable reply from the phone");
    return;
  }
  switch (r.kind) {
  case DF_FASTBOOT_INFO:
  case DF_FASTBOOT_TEXT:
    df_fastboot_arm(fb);
    if (fb->info != NULL) fb->info(fb->userdata, r.message);
    return;
  case DF_FASTBOOT_OKAY:
    df_fastboot_finish(fb, DF_OK, r.message);
    return;
  case DF_FASTBOOT_FAIL:
    df_fastboot_finish(fb, DF_EDEVFAIL, r.message);
    return;
  case DF_FASTBOOT_DATA:
    if (!fb->expecting_data) {
      df_fastboot_finish(fb, DF_EPROTO, "unexpected DATA reply");
      return;
    }
    df_fastboot_start_data(fb, r.data_size);
    return;
  }
}

static void
df_fastboot_on_read(void *userdata, const uint8_t *data, size_t len)
{
  struct df_fastboot *fb = userdata;

  if (fb->link == DF_FASTBOOT_LINK_USB) {
    df_fastboot_on_reply(fb, data, len);
    return;
  }
  while (len > 0 && fb->state != DF_FB_CLOSED) {
    size_t n = fb->in_need - fb->in_have;
    if (n > len) n = len;
    memcpy(fb->in + fb->in_have, data, n);
    fb->in_have += n;
    data += n;
    len -= n;
    if (fb->in_have < fb->in_need) return;
    if (fb->state == DF_FB_HANDSHAKE) {
      int version;
      uv_timer_stop(&fb->timer);
      int rc = df_fastboot_tcp_check_handshake(fb->in, &version);
      fb->state = rc == DF_OK ? DF_FB_IDLE : DF_FB_CLOSED;
      fb->in_have = 0;
      fb->in_need = 8;
      fb->in_header = true;
      fb->ready(fb->session_userdata, rc);
      continue;
    }
    if (fb->in_header) {
      uint64_t frame = df_fastboot_tcp_frame_length(fb->in);
      if (frame < 4 || frame > DF_FASTBOOT_RESPONSE_MAX) {
        df_fastboot_finish(fb, DF_EPROTO, "bad frame from the phone");
        fb->state = DF_FB_CLOSED;
        return;
      }
      fb->in_header = false;
      fb->in_have = 0;
      fb->in_need = (size_t)frame;
      continue;
    }
    df_fastboot_on_reply(fb, fb->in, fb->in_have);
    fb->in_have = 0;
    fb->in_need = 8;
    fb->in_header = true;
  }
}

static void
df_fastboot_on_gone(void *userdata, int err)
{
  struct df_fastboot *fb = userdata;
  enum df_fastboot_state was = fb->state;

  fb->state = DF_FB_CLOSED;
  if (was == DF_FB_HANDSHAKE) {
    uv_timer_stop(&fb->timer);
    fb->ready(fb->session_userdata, err);
  } else if (was == DF_FB_WAIT_REPLY || was == DF_FB_SENDING) {
    df_fastboot_finish(fb, err == DF_EEOF ? DF_ECONNRESET : err, "the phone went away");
  } else if (fb->gone != NULL) {
    fb->gone(fb->session_userdata, err);
  }
}

static const struct df_transport_callbacks df_fastboot_transport_cbs = {
  .on_read = df_fastboot_on_read,
  .on_gone = df_fastboot_on_gone,
};

int
df_fastboot_start(struct df_loop *loop, struct df_transport *t, enum df_fastboot_link link,
                  df_fastboot_ready_cb ready, df_fastboot_gone_cb gone, void *userdata,
                  struct df_fastboot **out)
{
  struct df_fastboot *fb;
  struct df_buf buf;
  int rc;

  fb = calloc(1, sizeof(*fb));
  if (fb == NULL) return DF_ENOMEM;
  fb->chunk[0] = malloc(DF_FASTBOOT_CHUNK);
  fb->chunk[1] = malloc(DF_FASTBOOT_CHUNK);
  if (fb->chunk[0] == NULL || fb->chunk[1] == NULL) {
    free(fb->chunk[0]);
    free(fb->chunk[1]);
    free(fb);
    return DF_ENOMEM;
  }
  fb->loop = loop;
  fb->t = t;
  fb->link = link;
  fb->ready = ready;
  fb->gone = gone;
  fb->session_userdata = userdata;
  fb->timeout_s = df_fastboot_default_timeout_s();
  uv_timer_init(&loop->uv, &fb->timer);
  fb->timer.data = fb;
  t->callbacks = &df_fastboot_transport_cbs;
  t->userdata = fb;
  fb->state = link == DF_FASTBOOT_LINK_TCP ? DF_FB_HANDSHAKE : DF_FB_IDLE;
  fb->in_need = 4;
  rc = df_transport_read_start(t);
  if (rc == DF_OK && link == DF_FASTBOOT_LINK_TCP) {
    buf.base = DF_FASTBOOT_TCP_HANDSHAKE;
    buf.len = 4;
    rc = df_transport_write(t, &buf, 1, df_fastboot_ignore, NULL);
    /* tcp.cpp waits 2 s for the reply; a phone can be slower to wake */
    if (rc == DF_OK) uv_timer_start(&fb->timer, df_fastboot_on_timeout, 5000, 0);
  }
  if (rc != DF_OK) {
    /* t stays the caller's on an error */
    t->callbacks = NULL;
    t->userdata = NULL;
    uv_close((uv_handle_t *)&fb->timer, df_fastboot_free);
    return rc;
  }
  *out = fb;
  /* USB has no handshake: the session is ready now (ready may use *out). */
  if (link == DF_FASTBOOT_LINK_USB) ready(userdata, DF_OK);
  return DF_OK;
}

static int
df_fastboot_begin(struct df_fastboot *fb, const char *command, df_fastboot_info_cb info,
                  df_fastboot_done_cb done, void *userdata)
{
  size_t len = strlen(command);
  int rc;

  if (fb->state != DF_FB_IDLE) return fb->state == DF_FB_CLOSED ? DF_ECONNRESET : DF_EBUSY;
  if (len > DF_FASTBOOT_COMMAND_MAX) return DF_ETOOBIG;
  memcpy(fb->command, command, len);
  rc = df_fastboot_send_message(fb, fb->command, len);
  if (rc != DF_OK) return rc;
  fb->info = info;
  fb->done = done;
  fb->userdata = userdata;
  fb->state = DF_FB_WAIT_REPLY;
  df_fastboot_arm(fb);
  return DF_OK;
}

int
df_fastboot_command(struct df_fastboot *fb, const char *command, df_fastboot_info_cb info,
                    df_fastboot_done_cb done, void *userdata)
{
  fb->expecting_data = false;
  return df_fastboot_begin(fb, command, info, done, userdata);
}

int
df_fastboot_download(struct df_fastboot *fb, const struct df_fastboot_source *src,
                     struct df_progress *progress, df_fastboot_info_cb info,
                     df_fastboot_done_cb done, void *userdata)
{
  char command[DF_FASTBOOT_COMMAND_MAX + 1];
  int rc;

  if (src->size == 0 || src->size > 0xffffffffu) return DF_ETOOBIG;
  rc = df_fastboot_command_format(command, sizeof(command), "download:%08x",
                                  (unsigned)src->size);
  if (rc != DF_OK) return rc;
  fb->src = *src;
  fb->sent = 0;
  fb->filled = 0;
  fb->expecting_data = true;
  rc = df_fastboot_begin(fb, command, info, done, userdata);
  if (rc != DF_OK) {
    fb->expecting_data = false;
    return rc;
  }
  fb->progress = progress;
  if (progress != NULL) {
    fb->progress_base = progress->done;
    if (progress->total == 0) progress->total = src->size;
  }
  return DF_OK;
}

void
df_fastboot_set_timeout(struct df_fastboot *fb, unsigned seconds)
{
  fb->timeout_s = seconds;
}

static void
df_fastboot_free(uv_handle_t *handle)
{
  struct df_fastboot *fb = handle->data;

  free(fb->chunk[0]);
  free(fb->chunk[1]);
  free(fb);
}

void
df_fastboot_close(struct df_fastboot *fb)
{
  fb->state = DF_FB_CLOSED;
  fb->done = NULL;
  if (fb->t != NULL) df_transport_close(fb->t, NULL);
  fb->t = NULL;
  uv_close((uv_handle_t *)&fb->timer, df_fastboot_free);
}
