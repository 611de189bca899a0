/* Sync operations (stat, list, push, pull) over one "sync:" stream. */
#include "plugins/adb/adb_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

#define DF_ADB_STALL_DEFAULT_MS 30000u

enum df_adb_sync_op {
  DF_SYNC_OP_NONE,
  DF_SYNC_OP_STAT,
  DF_SYNC_OP_LIST,
  DF_SYNC_OP_PUSH,
  DF_SYNC_OP_PULL_STAT,
  DF_SYNC_OP_PULL,
};

struct df_adb_sync {
  struct df_adb_conn *conn;
  struct df_adb_stream *stream;
  df_adb_sync_ready_cb ready;
  void *ready_userdata;
  bool broken;                 /* the stream is unusable after a failure */
  enum df_adb_sync_op op;
  struct df_sync_decoder decoder;
  df_adb_sync_stat_cb stat_cb;
  df_adb_sync_entry_cb entry_cb;
  df_adb_sync_done_cb done_cb;
  void *op_userdata;
  uint8_t request[8 + DF_SYNC_PATH_MAX + 16];
  /* transfers */
  int fd;
  const struct df_adb_sync_sink *sink;     /* pull_to: where data goes */
  const struct df_adb_sync_source *source; /* push_from: where data comes from */
  struct df_progress *progress;
  uint64_t bytes;
  int64_t mtime;
  char remote[DF_SYNC_PATH_MAX + 1];
  char local[4096];
  char partial[4200];
  /* push: two buffers, one in flight while the other fills */
  uint8_t *buf[2];
  size_t buf_len[2];
  size_t buf_cap;
  int cur;
  bool eof;
  bool done_queued;
  int local_error;
  /* Writes to the stream, one at a time: the phone may answer a request
   * before it acknowledges the WRTE that carried it, so the next request
   * can find the stream still busy and waits in the one pending slot. */
  bool writing;
  bool writing_push;         /* the write in flight is a push buffer */
  const uint8_t *pending;
  size_t pending_len;
  bool pending_push;
  /* df_adb_sync_watch: restarted whenever a byte moves */
  uv_timer_t *watchdog;
  unsigned watch_ms;
};

static void
df_adb_sync_alive(struct df_adb_sync *sync)
{
  if (sync->watchdog == NULL) return;
  if (sync->op == DF_SYNC_OP_NONE) uv_timer_stop(sync->watchdog);
  else uv_timer_again(sync->watchdog);
}

static void
df_adb_sync_end_op(struct df_adb_sync *sync, int status, const char *message)
{
  df_adb_sync_done_cb done = sync->done_cb;
  void *ud = sync->op_userdata;
  enum df_adb_sync_op op = sync->op;

  if (sync->fd >= 0) {
    close(sync->fd);
    sync->fd = -1;
  }
  if ((op == DF_SYNC_OP_PULL || op == DF_SYNC_OP_PULL_STAT) && sync->sink == NULL) {
    if (status == DF_OK && rename(sync->partial, sync->local) != 0) {
      status = df_error_from_errno(errno);
      message = "";
    }
    if (status != DF_OK) unlink(sync->partial);
  }
  if (sync->progress != NULL && (op == DF_SYNC_OP_PUSH || op == DF_SYNC_OP_PULL))
    df_progress_finish(sync->progress, status);
  sync->op = DF_SYNC_OP_NONE;
  if (status != DF_OK) sync->broken = true;
  df_adb_sync_alive(sync);
  if (done != NULL) done(ud, status, message != NULL ? message : "");
}

/* ---- writes ---- */

static void df_adb_sync_push_written(struct df_adb_sync *sync, int status);
static void df_adb_sync_written(void *req, int status);

static int
df_adb_sync_write(struct df_adb_sync *sync, const void *data, size_t len, bool push_buffer)
{
  int rc;

  if (sync->writing) {
    if (sync->pending != NULL) return DF_EBUSY;
    sync->pending = data;
    sync->pending_len = len;
    sync->pending_push = push_buffer;
    return DF_OK;
  }
  rc = df_adb_stream_write(sync->stream, data, len, df_adb_sync_written, sync);
  if (rc == DF_OK) {
    sync->writing = true;
    sync->writing_push = push_buffer;
  }
  return rc;
}

static void
df_adb_sync_written(void *req, int status)
{
  struct df_adb_sync *sync = req;
  bool was_push = sync->writing_push;

  sync->writing = false;
  df_adb_sync_alive(sync);
  if (sync->pending != NULL && status == DF_OK) {
    const uint8_t *data = sync->pending;
    sync->pending = NULL;
    int rc = df_adb_sync_write(sync, data, sync->pending_len, sync->pending_push);
    if (rc != DF_OK && sync->op != DF_SYNC_OP_NONE) df_adb_sync_end_op(sync, rc, "");
  }
  if (was_push) df_adb_sync_push_written(sync, status);
}

/* ---- decoder events ---- */

static void
df_adb_sync_ev_stat(void *ctx, const struct df_sync_stat *st)
{
  struct df_adb_sync *sync = ctx;

  if (sync->op == DF_SYNC_OP_STAT) {
    sync->op = DF_SYNC_OP_NONE;
    sync->stat_cb(sync->op_userdata, DF_OK, st);
    return;
  }
  if (sync->op != DF_SYNC_OP_PULL_STAT) return;
  if (!st->exists) {
    df_adb_sync_end_op(sync, DF_ENOENT, "remote object does not exist");
    return;
  }
  if ((st->mode & S_IFMT) != S_IFREG) {
    df_adb_sync_end_op(sync, DF_EINVAL, "remote object is not a regular file");
    return;
  }
  if (sync->sink != NULL && sync->sink->on_start != NULL) {
    int src = sync->sink->on_start(sync->op_userdata, st);
    if (src != DF_OK) {
      df_adb_sync_end_op(sync, src, "");
      return;
    }
  }
  sync->op = DF_SYNC_OP_PULL;
  if (sync->progress != NULL) sync->progress->total = st->size;
  sync->mtime = st->mtime;
  df_sync_decoder_expect(&sync->decoder, DF_SYNC_EXPECT_RECV);
  long n = df_sync_request_encode(sync->request, sizeof(sync->request), DF_SYNC_RECV, sync->remote);
  int rc = df_adb_sync_write(sync, sync->request, (size_t)n, false);
  if (rc != DF_OK) df_adb_sync_end_op(sync, rc, "");
}

static void
df_adb_sync_ev_dent(void *ctx, const char *name, const struct df_sync_stat *st)
{
  struct df_adb_sync *sync = ctx;
  if (sync->op != DF_SYNC_OP_LIST || sync->entry_cb == NULL) return; /* abandoned */
  sync->entry_cb(sync->op_userdata, name, st);
}

static void
df_adb_sync_ev_data(void *ctx, const uint8_t *data, size_t len)
{
  struct df_adb_sync *sync = ctx;

  if (sync->op != DF_SYNC_OP_PULL) return; /* abandoned */
  if (sync->local_error != DF_OK) return; /* drain; the error is reported at DONE */
  if (sync->sink != NULL) {
    int rc = sync->sink->on_data(sync->op_userdata, data, len);
    if (rc != DF_OK) {
      sync->local_error = rc;
      return;
    }
    sync->bytes += len;
    len = 0;
  }
  while (len > 0) {
    ssize_t n = write(sync->fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      sync->local_error = df_error_from_errno(errno);
      return;
    }
    data += n;
    len -= (size_t)n;
    sync->bytes += (uint64_t)n;
  }
  if (sync->progress != NULL) df_progress_update(sync->progress, sync->bytes);
}

static void
df_adb_sync_ev_done(void *ctx)
{
  struct df_adb_sync *sync = ctx;

  if (sync->op == DF_SYNC_OP_PULL && sync->local_error != DF_OK)
    df_adb_sync_end_op(sync, sync->local_error,
                       sync->sink != NULL ? "" : "cannot write the local file");
  else
    df_adb_sync_end_op(sync, DF_OK, NULL);
}

static void
df_adb_sync_ev_fail(void *ctx, const char *message)
{
  struct df_adb_sync *sync = ctx;

  if (sync->op == DF_SYNC_OP_STAT) {
    sync->op = DF_SYNC_OP_NONE;
    sync->stat_cb(sync->op_userdata, DF_EDEVFAIL, NULL);
    return;
  }
  df_adb_sync_end_op(sync, DF_EDEVFAIL, message);
}

static const struct df_sync_events df_adb_sync_events = {
  .on_stat = df_adb_sync_ev_stat,
  .on_dent = df_adb_sync_ev_dent,
  .on_data = df_adb_sync_ev_data,
  .on_done = df_adb_sync_ev_done,
  .on_fail = df_adb_sync_ev_fail,
};

/* ---- the stream ---- */

static void
df_adb_sync_on_open(void *userdata, int status)
{
  struct df_adb_sync *sync = userdata;
  df_adb_sync_ready_cb ready = sync->ready;

  if (status != DF_OK) {
    sync->stream = NULL;
    sync->broken = true;
  }
  ready(sync->ready_userdata, status);
}

static void
df_adb_sync_on_data(void *userdata, const uint8_t *data, size_t len)
{
  struct df_adb_sync *sync = userdata;

  df_adb_sync_alive(sync);
  while (len > 0) {
    if (sync->op == DF_SYNC_OP_NONE || sync->decoder.finished) {
      /* Bytes nobody asked for: the session is out of step. */
      sync->broken = true;
      return;
    }
    long used = df_sync_decoder_feed(&sync->decoder, data, len, &df_adb_sync_events, sync);
    if (used < 0) {
      if (sync->op == DF_SYNC_OP_STAT) {
        sync->op = DF_SYNC_OP_NONE;
        sync->broken = true;
        sync->stat_cb(sync->op_userdata, DF_EPROTO, NULL);
      } else {
        df_adb_sync_end_op(sync, DF_EPROTO, "unexpected reply from the phone");
      }
      return;
    }
    data += used;
    len -= (size_t)used;
  }
}

static void
df_adb_sync_on_close(void *userdata, int status)
{
  struct df_adb_sync *sync = userdata;

  sync->stream = NULL;
  sync->broken = true;
  if (sync->op == DF_SYNC_OP_STAT) {
    sync->op = DF_SYNC_OP_NONE;
    sync->stat_cb(sync->op_userdata, status != DF_OK ? status : DF_ECONNRESET, NULL);
  } else if (sync->op != DF_SYNC_OP_NONE) {
    df_adb_sync_end_op(sync, status != DF_OK ? status : DF_ECONNRESET,
                       "the connection closed during the transfer");
  }
}

static const struct df_adb_stream_callbacks df_adb_sync_stream_cbs = {
  .on_open = df_adb_sync_on_open,
  .on_data = df_adb_sync_on_data,
  .on_close = df_adb_sync_on_close,
};

int
df_adb_sync_open(struct df_adb_conn *conn, df_adb_sync_ready_cb ready, void *userdata,
                 struct df_adb_sync **out)
{
  struct df_adb_sync *sync;
  int rc;

  sync = calloc(1, sizeof(*sync));
  if (sync == NULL) return DF_ENOMEM;
  sync->conn = conn;
  sync->fd = -1;
  sync->ready = ready;
  sync->ready_userdata = userdata;
  rc = df_adb_stream_open(conn, "sync:", &df_adb_sync_stream_cbs, sync, &sync->stream);
  if (rc != DF_OK) {
    free(sync);
    return rc;
  }
  *out = sync;
  return DF_OK;
}

static int
df_adb_sync_begin(struct df_adb_sync *sync, enum df_adb_sync_op op, void *userdata)
{
  if (sync->stream == NULL || sync->broken) return DF_ECONNRESET;
  if (sync->op != DF_SYNC_OP_NONE) return DF_EBUSY;
  sync->op = op;
  sync->op_userdata = userdata;
  sync->done_cb = NULL;
  sync->bytes = 0;
  sync->local_error = DF_OK;
  sync->sink = NULL;
  sync->source = NULL;
  if (sync->watchdog != NULL) uv_timer_again(sync->watchdog);
  return DF_OK;
}

static int
df_adb_sync_send_request(struct df_adb_sync *sync, uint32_t id, const char *path)
{
  long n = df_sync_request_encode(sync->request, sizeof(sync->request), id, path);
  int rc;

  if (n < 0) {
    sync->op = DF_SYNC_OP_NONE;
    return (int)n;
  }
  rc = df_adb_sync_write(sync, sync->request, (size_t)n, false);
  if (rc != DF_OK) sync->op = DF_SYNC_OP_NONE;
  return rc;
}

int
df_adb_sync_stat(struct df_adb_sync *sync, const char *path, df_adb_sync_stat_cb cb,
                 void *userdata)
{
  bool v2 = df_adb_conn_has_feature(sync->conn, "stat_v2");
  int rc = df_adb_sync_begin(sync, DF_SYNC_OP_STAT, userdata);

  if (rc != DF_OK) return rc;
  sync->stat_cb = cb;
  df_sync_decoder_expect(&sync->decoder, v2 ? DF_SYNC_EXPECT_STAT2 : DF_SYNC_EXPECT_STAT);
  return df_adb_sync_send_request(sync, v2 ? DF_SYNC_STA2 : DF_SYNC_STAT, path);
}

int
df_adb_sync_list(struct df_adb_sync *sync, const char *path, df_adb_sync_entry_cb entry,
                 df_adb_sync_done_cb done, void *userdata)
{
  int rc = df_adb_sync_begin(sync, DF_SYNC_OP_LIST, userdata);

  if (rc != DF_OK) return rc;
  sync->entry_cb = entry;
  df_sync_decoder_expect(&sync->decoder, DF_SYNC_EXPECT_LIST);
  rc = df_adb_sync_send_request(sync, DF_SYNC_LIST, path);
  if (rc == DF_OK) sync->done_cb = done;
  return rc;
}

/* ---- push ---- */

/* Fills buffer i with DATA chunks read from the file, then DONE when the
 * file ends and there is room. Returns a df error on a read failure. */
static int
df_adb_sync_fill(struct df_adb_sync *sync, int i, size_t start)
{
  uint8_t *b = sync->buf[i];
  size_t len = start;

  while (!sync->done_queued && sync->buf_cap - len >= 8 + 1) {
    if (sync->eof) {
      if (sync->buf_cap - len < 8) break;
      df_sync_header_encode(b + len, DF_SYNC_DONE, (uint32_t)sync->mtime);
      len += 8;
      sync->done_queued = true;
      break;
    }
    size_t want = sync->buf_cap - len - 8;
    if (want > DF_SYNC_DATA_MAX) want = DF_SYNC_DATA_MAX;
    ssize_t n;
    if (sync->source != NULL) {
      n = sync->source->read(sync->op_userdata, b + len + 8, want);
      if (n < 0) return (int)n;
    } else {
      do {
        n = read(sync->fd, b + len + 8, want);
      } while (n < 0 && errno == EINTR);
      if (n < 0) return df_error_from_errno(errno);
    }
    if (n == 0) {
      sync->eof = true;
      continue;
    }
    df_sync_header_encode(b + len, DF_SYNC_DATA, (uint32_t)n);
    len += 8 + (size_t)n;
  }
  sync->buf_len[i] = len;
  return DF_OK;
}

static void
df_adb_sync_push_send(struct df_adb_sync *sync)
{
  int i = sync->cur;
  int rc;

  rc = df_adb_sync_write(sync, sync->buf[i], sync->buf_len[i], true);
  if (rc != DF_OK) {
    df_adb_sync_end_op(sync, rc, "");
    return;
  }
  /* Read the next piece of the file while this one is on the wire. */
  if (!sync->done_queued) {
    rc = df_adb_sync_fill(sync, i ^ 1, 0);
    if (rc != DF_OK) sync->local_error = rc;
  } else {
    sync->buf_len[i ^ 1] = 0;
  }
}

static void
df_adb_sync_push_written(struct df_adb_sync *sync, int status)
{
  size_t payload = sync->buf_len[sync->cur];

  if (sync->op != DF_SYNC_OP_PUSH) return; /* ended already (FAIL arrived) */
  if (status != DF_OK) {
    df_adb_sync_end_op(sync, status, "");
    return;
  }
  sync->bytes += payload;
  if (sync->progress != NULL) df_progress_update(sync->progress, sync->bytes);
  if (sync->local_error != DF_OK) {
    /* The phone would keep a half file if we sent DONE: close instead. */
    df_adb_sync_end_op(sync, sync->local_error, "cannot read the local file");
    return;
  }
  sync->cur ^= 1;
  if (sync->buf_len[sync->cur] == 0) return; /* DONE is out: wait for OKAY */
  df_adb_sync_push_send(sync);
}

static int
df_adb_sync_alloc_buffers(struct df_adb_sync *sync)
{
  size_t cap = df_adb_conn_max_payload(sync->conn);

  if (sync->buf[0] != NULL && sync->buf_cap == cap) return DF_OK;
  free(sync->buf[0]);
  free(sync->buf[1]);
  sync->buf[0] = malloc(cap);
  sync->buf[1] = malloc(cap);
  sync->buf_cap = cap;
  if (sync->buf[0] == NULL || sync->buf[1] == NULL) return DF_ENOMEM;
  return DF_OK;
}

int
df_adb_sync_push(struct df_adb_sync *sync, const char *local_path, const char *remote_path,
                 struct df_progress *progress, df_adb_sync_done_cb done, void *userdata)
{
  struct stat st;
  char spec[DF_SYNC_PATH_MAX + 32];
  long n;
  int rc;

  if (strlen(remote_path) > DF_SYNC_PATH_MAX - 16) return DF_ETOOBIG;
  rc = df_adb_sync_begin(sync, DF_SYNC_OP_PUSH, userdata);
  if (rc != DF_OK) return rc;
  sync->op = DF_SYNC_OP_NONE; /* not started until the file is open */
  rc = df_adb_sync_alloc_buffers(sync);
  if (rc != DF_OK) return rc;
  sync->fd = open(local_path, O_RDONLY | O_CLOEXEC);
  if (sync->fd < 0) return df_error_from_errno(errno);
  if (fstat(sync->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(sync->fd);
    sync->fd = -1;
    return DF_EINVAL;
  }
  posix_fadvise(sync->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  sync->op = DF_SYNC_OP_PUSH;
  sync->done_cb = done;
  sync->progress = progress;
  sync->mtime = st.st_mtime;
  sync->eof = false;
  sync->done_queued = false;
  sync->cur = 0;
  if (progress != NULL) progress->total = (uint64_t)st.st_size;
  df_sync_decoder_expect(&sync->decoder, DF_SYNC_EXPECT_STATUS);

  /* "SEND" + "path,mode" (mode in decimal), then the data in the same
   * buffer. */
  snprintf(spec, sizeof(spec), "%s,%u", remote_path, (unsigned)st.st_mode);
  n = df_sync_request_encode(sync->buf[0], sync->buf_cap, DF_SYNC_SEND, spec);
  if (n < 0) rc = (int)n;
  if (rc == DF_OK) rc = df_adb_sync_fill(sync, 0, (size_t)n);
  if (rc != DF_OK) {
    sync->done_cb = NULL;
    close(sync->fd);
    sync->fd = -1;
    sync->op = DF_SYNC_OP_NONE;
    return rc;
  }
  df_adb_sync_push_send(sync);
  return DF_OK;
}

/* ---- pull ---- */

int
df_adb_sync_pull(struct df_adb_sync *sync, const char *remote_path, const char *local_path,
                 struct df_progress *progress, df_adb_sync_done_cb done, void *userdata)
{
  bool v2 = df_adb_conn_has_feature(sync->conn, "stat_v2");
  int rc;

  if (strlen(remote_path) > DF_SYNC_PATH_MAX || strlen(local_path) >= sizeof(sync->local))
    return DF_ETOOBIG;
  rc = df_adb_sync_begin(sync, DF_SYNC_OP_PULL_STAT, userdata);
  if (rc != DF_OK) return rc;
  snprintf(sync->remote, sizeof(sync->remote), "%s", remote_path);
  snprintf(sync->local, sizeof(sync->local), "%s", local_path);
  snprintf(sync->partial, sizeof(sync->partial), "%s.partial", local_path);
  sync->fd = open(sync->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (sync->fd < 0) {
    sync->op = DF_SYNC_OP_NONE;
    return df_error_from_errno(errno);
  }
  sync->progress = progress;
  df_sync_decoder_expect(&sync->decoder, v2 ? DF_SYNC_EXPECT_STAT2 : DF_SYNC_EXPECT_STAT);
  rc = df_adb_sync_send_request(sync, v2 ? DF_SYNC_STA2 : DF_SYNC_STAT, remote_path);
  if (rc != DF_OK) {
    close(sync->fd);
    sync->fd = -1;
    unlink(sync->partial);
    return rc;
  }
  sync->done_cb = done;
  return DF_OK;
}

/* ---- streaming variants: data from and to the caller, not a file ---- */

int
df_adb_sync_push_from(struct df_adb_sync *sync, const struct df_adb_sync_source *source,
                      const char *remote_path, uint32_t mode, int64_t mtime, uint64_t size,
                      struct df_progress *progress, df_adb_sync_done_cb done, void *userdata)
{
  char spec[DF_SYNC_PATH_MAX + 32];
  long n;
  int rc;

  if (source == NULL || source->read == NULL) return DF_EINVAL;
  if (strlen(remote_path) > DF_SYNC_PATH_MAX - 16) return DF_ETOOBIG;
  rc = df_adb_sync_begin(sync, DF_SYNC_OP_PUSH, userdata);
  if (rc != DF_OK) return rc;
  sync->op = DF_SYNC_OP_NONE; /* not started until the first buffer is full */
  rc = df_adb_sync_alloc_buffers(sync);
  if (rc != DF_OK) return rc;
  sync->source = source;
  sync->done_cb = done;
  sync->progress = progress;
  sync->mtime = mtime;
  sync->eof = false;
  sync->done_queued = false;
  sync->cur = 0;
  if (progress != NULL) progress->total = size;
  df_sync_decoder_expect(&sync->decoder, DF_SYNC_EXPECT_STATUS);
  snprintf(spec, sizeof(spec), "%s,%u", remote_path, (unsigned)(S_IFREG | (mode & 07777)));
  n = df_sync_request_encode(sync->buf[0], sync->buf_cap, DF_SYNC_SEND, spec);
  if (n < 0) rc = (int)n;
  if (rc == DF_OK) rc = df_adb_sync_fill(sync, 0, (size_t)n);
  if (rc != DF_OK) {
    sync->done_cb = NULL;
    sync->source = NULL;
    return rc;
  }
  sync->op = DF_SYNC_OP_PUSH;
  df_adb_sync_push_send(sync);
  return DF_OK;
}

int
df_adb_sync_pull_to(struct df_adb_sync *sync, const char *remote_path,
                    const struct df_adb_sync_sink *sink, struct df_progress *progress,
                    df_adb_sync_done_cb done, void *userdata)
{
  bool v2 = df_adb_conn_has_feature(sync->conn, "stat_v2");
  int rc;

  if (sink == NULL || sink->on_data == NULL) return DF_EINVAL;
  if (strlen(remote_path) > DF_SYNC_PATH_MAX) return DF_ETOOBIG;
  rc = df_adb_sync_begin(sync, DF_SYNC_OP_PULL_STAT, userdata);
  if (rc != DF_OK) return rc;
  snprintf(sync->remote, sizeof(sync->remote), "%s", remote_path);
  sync->sink = sink;
  sync->progress = progress;
  df_sync_decoder_expect(&sync->decoder, v2 ? DF_SYNC_EXPECT_STAT2 : DF_SYNC_EXPECT_STAT);
  rc = df_adb_sync_send_request(sync, v2 ? DF_SYNC_STA2 : DF_SYNC_STAT, remote_path);
  if (rc != DF_OK) {
    sync->sink = NULL;
    return rc;
  }
  sync->done_cb = done;
  return DF_OK;
}

unsigned
df_adb_stall_timeout_ms(void)
{
  const char *env = getenv("DROIDFIX_STALL_TIMEOUT");
  char *end;
  unsigned long s;

  if (env == NULL || env[0] == '\0') return DF_ADB_STALL_DEFAULT_MS;
  s = strtoul(env, &end, 10);
  if (*end != '\0' || s == 0 || s > 86400) return DF_ADB_STALL_DEFAULT_MS;
  return (unsigned)s * 1000u;
}

static void
df_adb_sync_on_watchdog(uv_timer_t *timer)
{
  struct df_adb_sync *sync = timer->data;
  char message[200];

  uv_timer_stop(timer);
  if (sync->op == DF_SYNC_OP_NONE) return;
  snprintf(message, sizeof(message),
           "the phone stopped answering (nothing moved for %u s); check the cable and "
           "that the phone is awake, then run the same command again",
           sync->watch_ms / 1000);
  sync->broken = true;
  if (sync->op == DF_SYNC_OP_STAT) {
    sync->op = DF_SYNC_OP_NONE;
    sync->stat_cb(sync->op_userdata, DF_ETIMEDOUT, NULL);
    return;
  }
  df_adb_sync_end_op(sync, DF_ETIMEDOUT, message);
}

int
df_adb_sync_watch(struct df_adb_sync *sync, struct df_loop *loop, unsigned timeout_ms)
{
  if (timeout_ms == 0) timeout_ms = df_adb_stall_timeout_ms();
  if (sync->watchdog == NULL) {
    sync->watchdog = calloc(1, sizeof(*sync->watchdog));
    if (sync->watchdog == NULL) return DF_ENOMEM;
    uv_timer_init(&loop->uv, sync->watchdog);
    sync->watchdog->data = sync;
  }
  sync->watch_ms = timeout_ms;
  uv_timer_start(sync->watchdog, df_adb_sync_on_watchdog, timeout_ms, timeout_ms);
  if (sync->op == DF_SYNC_OP_NONE) uv_timer_stop(sync->watchdog);
  return DF_OK;
}

static void
df_adb_sync_free_timer(uv_handle_t *h)
{
  free(h);
}

void
df_adb_sync_abandon(struct df_adb_sync *sync)
{
  if (sync->fd >= 0) {
    close(sync->fd);
    sync->fd = -1;
  }
  if ((sync->op == DF_SYNC_OP_PULL || sync->op == DF_SYNC_OP_PULL_STAT) && sync->sink == NULL)
    unlink(sync->partial);
  if (sync->watchdog != NULL) uv_timer_stop(sync->watchdog);
  sync->sink = NULL;
  sync->progress = NULL;
  sync->op = DF_SYNC_OP_NONE;
  sync->stat_cb = NULL;
  sync->entry_cb = NULL;
  sync->done_cb = NULL;
  sync->broken = true;
}

void
df_adb_sync_close(struct df_adb_sync *sync)
{
  if (sync->fd >= 0) close(sync->fd);
  if ((sync->op == DF_SYNC_OP_PULL || sync->op == DF_SYNC_OP_PULL_STAT) && sync->sink == NULL)
    unlink(sync->partial);
  if (sync->stream != NULL) {
    /* QUIT would need a write slot; closing the stream ends the service
     * on the phone all the same (adbd's sync loop stops on a read error). */
    df_adb_stream_close(sync->stream);
  }
  free(sync->buf[0]);
  free(sync->buf[1]);
  if (sync->watchdog != NULL) uv_close((uv_handle_t *)sync->watchdog, df_adb_sync_free_timer);
  free(sync);
}
