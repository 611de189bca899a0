/* The sync: service (adb/daemon/file_sync_service.cpp) on the phone's
 * virtual file system: STAT, STA2, LST2, LIST, LIS2, SEND (DATA chunks
 * written straight to the file's fd, the file put in place atomically on
 * DONE), RECV (64 KiB chunks read straight into the outgoing WRTE, several
 * per WRTE) and QUIT. Requests are parsed incrementally: they straddle WRTE
 * boundaries freely.
 *
 * SEND's file writes wait for the loop's next turn: adbd.c sends the OKAY
 * when on_data returns, so the host sends its next WRTE while this one is
 * written, as on a phone, where adbd acknowledges once the bytes are in the
 * sync thread's socket and that thread writes the file meanwhile
 * (daemon/file_sync_service.cpp). Written at once instead, the file write
 * sat between every WRTE and its OKAY and set the pace of every push. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/adbd_internal.h"

/* recv_uncompressed: each DATA carries up to SYNC_DATA_MAX minus the
 * 8-byte header. */
#define RECV_CHUNK (DF_SIM_ADBD_SYNC_DATA_MAX - DF_SIM_ADBD_SYNC_HEADER_SIZE)

/* SEND bytes held for the next loop turn beyond this are written at once
 * (a host that does not wait for OKAY cannot make the phone buffer more). */
#define SEND_PENDING_MAX (4u * 1024 * 1024)

enum sync_state {
  SYNC_REQUEST = 0,  /* reading a request header (id, path length) */
  SYNC_PATH,         /* reading its path */
  SYNC_SEND_HEADER,  /* SEND: reading a DATA or DONE header */
  SYNC_SEND_DATA,    /* SEND: DATA bytes going to the file */
  SYNC_DRAIN_HEADER, /* SEND failed: skipping DATA until DONE */
  SYNC_DRAIN_DATA,
  SYNC_RECV,         /* RECV: file going out; input waits in pending */
  SYNC_OVER,         /* QUIT or an error: the service ended */
};

struct df_sim_adbd_sync {
  enum sync_state state;
  uint8_t header[DF_SIM_ADBD_SYNC_HEADER_SIZE];
  size_t header_len;
  uint32_t id;
  uint32_t path_len;
  size_t path_got;
  char path[DF_SIM_ADBD_SYNC_PATH_MAX + 1];
  /* SEND */
  struct df_sim_vfs_write *w;
  int wfd;
  uint32_t data_left;
  struct df_sim_buf wpending;   /* SEND bytes not yet written to wfd */
  uv_check_t *flusher;          /* writes wpending after the OKAY went out */
  struct df_sim_adbd_stream *stream;
  /* RECV */
  int rfd;
  struct df_sim_buf pending;
};

static struct df_sim_phone *
phone_of(struct df_sim_adbd_stream *s)
{
  return s->conn->adbd->phone;
}

/* The errno a df error stands for (the wire carries Linux errno values:
 * sysdeps/errno.cpp errno_to_wire). */
static int
errno_of(int err)
{
  switch (err) {
  case DF_ENOENT: return ENOENT;
  case DF_EACCES: return EACCES;
  case DF_EPERM: return EPERM;
  case DF_EEXIST: return EEXIST;
  case DF_ENOSPC: return ENOSPC;
  case DF_EINVAL: return EINVAL;
  case DF_ENOMEM: return ENOMEM;
  case DF_ETOOBIG: return EFBIG;
  case DF_EUNSUPPORTED: return EOPNOTSUPP;
  default: return EIO;
  }
}

/* SendSyncFail: FAIL + length + message. */
static void
send_fail(struct df_sim_adbd_stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
send_fail(struct df_sim_adbd_stream *s, const char *fmt, ...)
{
  char msg[512];
  uint8_t hdr[DF_SIM_ADBD_SYNC_HEADER_SIZE];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  if ((size_t)n >= sizeof(msg))
    n = sizeof(msg) - 1;
  df_sim_adbd_sync_header(hdr, DF_SIM_ADBD_ID_FAIL, (uint32_t)n);
  df_sim_adbd_stream_write(s, hdr, sizeof(hdr));
  df_sim_adbd_stream_write(s, msg, (size_t)n);
}

/* The service returns: adbd closes the socket (handle_sync_command gives
 * false). */
static void
sync_over(struct df_sim_adbd_stream *s)
{
  s->sync->state = SYNC_OVER;
  df_sim_adbd_stream_finish(s);
}

static void
to_sync_stat(const struct df_sim_stat *in, struct df_sim_adbd_sync_stat *out)
{
  memset(out, 0, sizeof(*out));
  out->mode = in->mode;
  out->nlink = S_ISDIR(in->mode) ? 2 : 1;
  out->uid = in->uid;
  out->gid = in->gid;
  out->size = in->size;
  out->atime = out->mtime = out->ctime = in->mtime;
}

/* do_lstat_v1 (zeros when absent) and do_stat_v2 (errno in error). The
 * virtual file system has no symlinks, so STA2 and LST2 agree. */
static void
do_stat(struct df_sim_adbd_stream *s, uint32_t id, const char *path)
{
  struct df_sim_stat st;
  struct df_sim_adbd_sync_stat ss;
  uint8_t msg[DF_SIM_ADBD_SYNC_STAT_V2_SIZE];
  int err = df_sim_vfs_stat(phone_of(s), path, s->as_root, &st);
  size_t n;

  if (err == 0)
    to_sync_stat(&st, &ss);
  if (id == DF_SIM_ADBD_ID_STAT)
    n = df_sim_adbd_sync_stat_v1(msg, err == 0 ? &ss : NULL);
  else
    n = df_sim_adbd_sync_stat_v2(msg, id, err == 0 ? 0 : (uint32_t)errno_of(err), &ss);
  df_sim_adbd_stream_write(s, msg, n);
}

struct list_ctx {
  struct df_sim_buf buf;
  bool v2;
};

static void
list_entry(void *ctx, const char *name, const struct df_sim_stat *st)
{
  struct list_ctx *lc = ctx;
  struct df_sim_adbd_sync_stat ss;
  uint8_t msg[DF_SIM_ADBD_SYNC_DENT_V2_SIZE];
  size_t namelen = strlen(name), n;

  if (namelen > DF_SIM_ADBD_SYNC_PATH_MAX)
    return;
  to_sync_stat(st, &ss);
  if (lc->v2)
    n = df_sim_adbd_sync_dent_v2(msg, 0, &ss, (uint32_t)namelen);
  else
    n = df_sim_adbd_sync_dent_v1(msg, &ss, (uint32_t)namelen);
  df_sim_buf_append(&lc->buf, msg, n);
  df_sim_buf_append(&lc->buf, name, namelen);
}

/* Skips what the vfs lists as "." or ".." (they are added from stats). */
static void
list_entry_filtered(void *ctx, const char *name, const struct df_sim_stat *st)
{
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return;
  list_entry(ctx, name, st);
}

/* do_list: a DENT per readdir entry ("." and ".." included), then DONE as
 * a whole dent-sized message of zeros; a path that is no readable folder
 * gives only DONE. */
static void
do_list(struct df_sim_adbd_stream *s, bool v2, const char *path)
{
  struct df_sim_phone *phone = phone_of(s);
  struct list_ctx lc = {{0}, v2};
  struct df_sim_stat st, pst;
  uint8_t done[DF_SIM_ADBD_SYNC_DENT_V2_SIZE];
  size_t n = v2 ? DF_SIM_ADBD_SYNC_DENT_V2_SIZE : DF_SIM_ADBD_SYNC_DENT_V1_SIZE;
  char parent[DF_SIM_ADBD_SYNC_PATH_MAX + 4];

  if (df_sim_vfs_stat(phone, path, s->as_root, &st) == 0 && S_ISDIR(st.mode)) {
    list_entry(&lc, ".", &st);
    snprintf(parent, sizeof(parent), "%s/..", path);
    if (df_sim_vfs_stat(phone, parent, s->as_root, &pst) == 0)
      list_entry(&lc, "..", &pst);
    /* Entries are gathered first: a folder we may not read lists nothing. */
    if (df_sim_vfs_list(phone, path, s->as_root, list_entry_filtered, &lc) == 0)
      df_sim_adbd_stream_write(s, lc.buf.data, lc.buf.len);
  }
  df_sim_buf_free(&lc.buf);
  memset(done, 0, sizeof(done));
  df_sim_adbd_put_u32(done, DF_SIM_ADBD_ID_DONE);
  df_sim_adbd_stream_write(s, done, n);
}

/* do_send_v1 + handle_send_file: the file is created through the vfs
 * (atomic: a temporary file put in place on DONE). */
static void
do_send(struct df_sim_adbd_stream *s, const char *spec)
{
  struct df_sim_adbd_sync *sy = s->sync;
  char path[DF_SIM_ADBD_SYNC_PATH_MAX + 1];
  uint32_t mode;
  int err = df_sim_adbd_sync_send_spec(spec, path, sizeof(path), &mode);

  if (err == DF_EINVAL && strchr(spec, ',') == NULL) {
    send_fail(s, "missing , in ID_SEND_V1");
    sync_over(s);
    return;
  }
  if (err != 0) {
    send_fail(s, "bad mode");
    sync_over(s);
    return;
  }
  if (S_ISLNK(mode)) {
    /* The virtual file system has no symlinks. */
    send_fail(s, "symlink failed: %s", strerror(EOPNOTSUPP));
    sy->state = SYNC_DRAIN_HEADER;
    return;
  }
  err = df_sim_vfs_write_begin(phone_of(s), path, mode & 0777, s->as_root, &sy->w, &sy->wfd);
  if (err != 0) {
    sy->w = NULL;
    send_fail(s, "couldn't create file: %s", strerror(errno_of(err)));
    sy->state = SYNC_DRAIN_HEADER;
    return;
  }
  sy->state = SYNC_SEND_HEADER;
}

static bool flush_pending(struct df_sim_adbd_stream *s);

static void
send_abort(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_sync *sy = s->sync;

  sy->wpending.len = 0;
  if (sy->w != NULL) {
    close(sy->wfd); /* the fd is ours to close (phone.h); a leak kept every pushed file alive */
    df_sim_vfs_write_finish(phone_of(s), sy->w, false, 0);
    sy->w = NULL;
    sy->wfd = -1;
  }
}

/* recv_impl: open, then DATA chunks from fill, then DONE. */
static void
do_recv(struct df_sim_adbd_stream *s, const char *path)
{
  struct df_sim_adbd_sync *sy = s->sync;
  int err = df_sim_vfs_open_read(phone_of(s), path, s->as_root, &sy->rfd);

  if (err != 0) {
    sy->rfd = -1;
    send_fail(s, "open failed: %s", strerror(errno_of(err)));
    sync_over(s);
    return;
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(sy->rfd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  sy->state = SYNC_RECV;
  s->filling = true;
  df_sim_adbd_stream_pump(s);
}

/* handle_sync_command's switch. */
static void
handle_request(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_sync *sy = s->sync;
  char idname[5];

  sy->path[sy->path_len] = '\0';
  sy->state = SYNC_REQUEST;
  switch (sy->id) {
  case DF_SIM_ADBD_ID_STAT:
  case DF_SIM_ADBD_ID_STA2:
  case DF_SIM_ADBD_ID_LST2:
    do_stat(s, sy->id, sy->path);
    break;
  case DF_SIM_ADBD_ID_LIST:
    do_list(s, false, sy->path);
    break;
  case DF_SIM_ADBD_ID_LIS2:
    do_list(s, true, sy->path);
    break;
  case DF_SIM_ADBD_ID_SEND:
    do_send(s, sy->path);
    break;
  case DF_SIM_ADBD_ID_RECV:
    do_recv(s, sy->path);
    break;
  case DF_SIM_ADBD_ID_QUIT:
    sync_over(s);
    break;
  default:
    memcpy(idname, &sy->id, 4);
    idname[4] = '\0';
    df_log_debug("adbd: unknown sync request '%s'", idname);
    send_fail(s, "unknown command %08x", sy->id);
    sync_over(s);
    break;
  }
}

/* Collects the 8-byte header shared by requests and DATA/DONE. Returns
 * bytes used; *full when the header is complete. */
static size_t
take_header(struct df_sim_adbd_sync *sy, const uint8_t *data, size_t len, bool *full)
{
  size_t take = DF_SIM_ADBD_SYNC_HEADER_SIZE - sy->header_len;

  if (take > len)
    take = len;
  memcpy(sy->header + sy->header_len, data, take);
  sy->header_len += take;
  *full = sy->header_len == DF_SIM_ADBD_SYNC_HEADER_SIZE;
  if (*full)
    sy->header_len = 0;
  return take;
}

/* A DONE or DATA header during SEND. */
static void
send_header(struct df_sim_adbd_stream *s, uint32_t id, uint32_t value)
{
  struct df_sim_adbd_sync *sy = s->sync;
  uint8_t okay[DF_SIM_ADBD_SYNC_HEADER_SIZE];
  int err;

  if (id == DF_SIM_ADBD_ID_DATA) {
    if (value > DF_SIM_ADBD_SYNC_DATA_MAX) {
      send_fail(s, "oversize data message");
      send_abort(s);
      sync_over(s);
      return;
    }
    sy->data_left = value;
    sy->state = value > 0 ? SYNC_SEND_DATA : SYNC_SEND_HEADER;
    return;
  }
  if (id == DF_SIM_ADBD_ID_DONE) {
    /* DONE carries the mtime; OKAY when the file is in place. */
    if (!flush_pending(s)) {
      sync_over(s);
      return;
    }
    close(sy->wfd);
    err = df_sim_vfs_write_finish(phone_of(s), sy->w, true, (int64_t)value);
    sy->w = NULL;
    sy->wfd = -1;
    if (err != 0) {
      send_fail(s, "write failed: %s", strerror(errno_of(err)));
      sync_over(s);
      return;
    }
    df_sim_adbd_sync_header(okay, DF_SIM_ADBD_ID_OKAY, 0);
    df_sim_adbd_stream_write(s, okay, sizeof(okay));
    sy->state = SYNC_REQUEST;
    return;
  }
  send_fail(s, "invalid data message");
  send_abort(s);
  sync_over(s);
}

/* Writes the held SEND bytes to the file. A failed write is reported
 * once, then the rest of the push is drained (handle_send_file's fail
 * path). Returns false after a failure. */
static bool
flush_pending(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_sync *sy = s->sync;
  const char *data = sy->wpending.data;
  size_t len = sy->wpending.len;

  if (sy->flusher != NULL)
    uv_check_stop(sy->flusher);
  sy->wpending.len = 0;
  if (sy->w == NULL)
    return len == 0;
  while (len > 0) {
    ssize_t n = write(sy->wfd, data, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;

      send_fail(s, "write failed: %s", strerror(e));
      send_abort(s);
      if (sy->state == SYNC_SEND_DATA)
        sy->state = SYNC_DRAIN_DATA;
      else if (sy->state == SYNC_SEND_HEADER)
        sy->state = SYNC_DRAIN_HEADER;
      return false;
    }
    data += n;
    len -= (size_t)n;
  }
  return true;
}

static void
on_flush(uv_check_t *check)
{
  struct df_sim_adbd_sync *sy = check->data;

  flush_pending(sy->stream);
}

static void
on_flusher_closed(uv_handle_t *handle)
{
  free(handle);
}

/* Holds DATA bytes for the file until the loop's next turn (written at
 * once when no check handle can be had, or too much is held). */
static void
send_data(struct df_sim_adbd_stream *s, const uint8_t *data, size_t len)
{
  struct df_sim_adbd_sync *sy = s->sync;

  if (sy->flusher == NULL) {
    struct df_sim_adbd *adbd = s->conn->adbd;

    sy->flusher = malloc(sizeof(*sy->flusher));
    if (sy->flusher != NULL && (adbd == NULL || uv_check_init(&adbd->loop->uv, sy->flusher) != 0)) {
      free(sy->flusher);
      sy->flusher = NULL;
    }
    if (sy->flusher != NULL)
      sy->flusher->data = sy;
  }
  df_sim_buf_append(&sy->wpending, data, len);
  if (sy->flusher == NULL || sy->wpending.len >= SEND_PENDING_MAX)
    flush_pending(s);
  else
    uv_check_start(sy->flusher, on_flush);
}

static void
sync_feed(struct df_sim_adbd_stream *s, const uint8_t *data, size_t len)
{
  struct df_sim_adbd_sync *sy = s->sync;

  while (len > 0 && !s->freed) {
    bool full;
    size_t n;

    switch (sy->state) {
    case SYNC_REQUEST:
      n = take_header(sy, data, len, &full);
      data += n;
      len -= n;
      if (!full)
        break;
      sy->id = df_sim_adbd_get_u32(sy->header);
      sy->path_len = df_sim_adbd_get_u32(sy->header + 4);
      sy->path_got = 0;
      if (sy->path_len > DF_SIM_ADBD_SYNC_PATH_MAX) {
        send_fail(s, "path too long");
        sync_over(s);
        break;
      }
      sy->state = SYNC_PATH;
      if (sy->path_len == 0)
        handle_request(s);
      break;
    case SYNC_PATH:
      n = sy->path_len - sy->path_got;
      if (n > len)
        n = len;
      memcpy(sy->path + sy->path_got, data, n);
      sy->path_got += n;
      data += n;
      len -= n;
      if (sy->path_got == sy->path_len)
        handle_request(s);
      break;
    case SYNC_SEND_HEADER:
    case SYNC_DRAIN_HEADER:
      n = take_header(sy, data, len, &full);
      data += n;
      len -= n;
      if (!full)
        break;
      if (sy->state == SYNC_SEND_HEADER) {
        send_header(s, df_sim_adbd_get_u32(sy->header), df_sim_adbd_get_u32(sy->header + 4));
      } else if (df_sim_adbd_get_u32(sy->header) == DF_SIM_ADBD_ID_DATA &&
                 df_sim_adbd_get_u32(sy->header + 4) <= DF_SIM_ADBD_SYNC_DATA_MAX) {
        sy->data_left = df_sim_adbd_get_u32(sy->header + 4);
        if (sy->data_left > 0)
          sy->state = SYNC_DRAIN_DATA;
      } else {
        sync_over(s); /* DONE (or garbage) after a failure: the service ends */
      }
      break;
    case SYNC_SEND_DATA:
    case SYNC_DRAIN_DATA:
      n = sy->data_left < len ? sy->data_left : len;
      if (sy->state == SYNC_SEND_DATA)
        send_data(s, data, n);
      sy->data_left -= (uint32_t)n;
      data += n;
      len -= n;
      if (sy->data_left == 0)
        sy->state = sy->state == SYNC_SEND_DATA ? SYNC_SEND_HEADER : SYNC_DRAIN_HEADER;
      break;
    case SYNC_RECV:
      /* The host may send its next request before DONE arrives: it waits
       * until the file is out. */
      df_sim_buf_append(&sy->pending, data, len);
      return;
    case SYNC_OVER:
    default:
      return;
    }
  }
}

static void
sync_on_data(struct df_sim_adbd_stream *s, const uint8_t *data, size_t len)
{
  sync_feed(s, data, len);
}

/* RECV: as many DATA chunks as fit, read straight from the file into the
 * WRTE being built; DONE after the last. */
static size_t
sync_fill(struct df_sim_adbd_stream *s, uint8_t *buf, size_t cap)
{
  struct df_sim_adbd_sync *sy = s->sync;
  size_t used = 0;
  bool eof = false;

  while (!eof && cap - used > DF_SIM_ADBD_SYNC_HEADER_SIZE) {
    size_t room = cap - used - DF_SIM_ADBD_SYNC_HEADER_SIZE;
    size_t want = room < RECV_CHUNK ? room : RECV_CHUNK;
    size_t got = 0;

    while (got < want) {
      ssize_t n = read(sy->rfd, buf + used + DF_SIM_ADBD_SYNC_HEADER_SIZE + got, want - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        int e = errno;

        if (got > 0) {
          df_sim_adbd_sync_header(buf + used, DF_SIM_ADBD_ID_DATA, (uint32_t)got);
          used += DF_SIM_ADBD_SYNC_HEADER_SIZE + got;
        }
        close(sy->rfd);
        sy->rfd = -1;
        s->filling = false;
        send_fail(s, "read failed: %s", strerror(e));
        sync_over(s);
        return used;
      }
      if (n == 0) {
        eof = true;
        break;
      }
      got += (size_t)n;
    }
    if (got > 0) {
      df_sim_adbd_sync_header(buf + used, DF_SIM_ADBD_ID_DATA, (uint32_t)got);
      used += DF_SIM_ADBD_SYNC_HEADER_SIZE + got;
    }
  }
  if (!eof || cap - used < DF_SIM_ADBD_SYNC_HEADER_SIZE)
    return used; /* DONE goes in the next WRTE */
  df_sim_adbd_sync_header(buf + used, DF_SIM_ADBD_ID_DONE, 0);
  used += DF_SIM_ADBD_SYNC_HEADER_SIZE;
  close(sy->rfd);
  sy->rfd = -1;
  s->filling = false;
  sy->state = SYNC_REQUEST;
  if (sy->pending.len > 0) {
    struct df_sim_buf pending = sy->pending;

    memset(&sy->pending, 0, sizeof(sy->pending));
    sync_feed(s, (const uint8_t *)pending.data, pending.len);
    df_sim_buf_free(&pending);
  }
  return used;
}

static void
sync_on_free(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_sync *sy = s->sync;

  if (sy == NULL)
    return;
  send_abort(s); /* a push cut short leaves nothing behind */
  if (sy->flusher != NULL) {
    uv_check_stop(sy->flusher);
    uv_close((uv_handle_t *)sy->flusher, on_flusher_closed);
  }
  df_sim_buf_free(&sy->wpending);
  if (sy->rfd >= 0)
    close(sy->rfd);
  df_sim_buf_free(&sy->pending);
  free(sy);
  s->sync = NULL;
}

static const struct df_sim_adbd_stream_ops sync_ops = {
  .on_data = sync_on_data,
  .fill = sync_fill,
  .on_free = sync_on_free,
};

int
df_sim_adbd_sync_open(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_sync *sy = calloc(1, sizeof(*sy));

  if (sy == NULL)
    return DF_ENOMEM;
  sy->wfd = -1;
  sy->rfd = -1;
  sy->stream = s;
  s->sync = sy;
  s->ops = &sync_ops;
  return 0;
}
