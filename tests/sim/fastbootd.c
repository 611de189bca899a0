/* The fastboot device side of droidfix-sim over TCP: the listening port
 * (open only while the phone is in the bootloader or fastbootd), its
 * connections, the FB01 handshake and 8-byte big-endian framing (AOSP
 * fastboot/tcp.cpp), and the download path, which streams a payload from the
 * socket straight into a new file with one write() per read, so the sim is
 * never what limits a transfer. Commands are run by fastbootd_commands.c.
 *
 * The download buffer is the phone's, one for all its connections, as
 * AOSP's fastbootd keeps one per device (FastbootDevice's download_data,
 * which DownloadHandler resizes and fills; its TCP transport serves one
 * client at a time). The sim serves several TCP clients at once, so: each
 * connection receives its download into a file of its own, which replaces
 * the buffer only when it is complete (rename), so two clients' bytes
 * never mix; a download begun on any connection makes the buffer invalid
 * until one completes (as AOSP's resize does); and the buffer holds the
 * download that completed last, whichever connection sent it. A second
 * client's download therefore replaces the first's, and a flash: flashes
 * what the buffer holds when it runs. Refusing a second client's download
 * would be a rule no real phone has. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/fastbootd_internal.h"
#include "tests/sim/link_rate.h"
#include "tests/sim/listener.h"

/* The buffer libuv reads into. Download bytes mostly bypass it (splice,
 * below); 1 MiB stays in cache, which matters more than fewer reads. */
#define READ_BUF_SIZE (1024u * 1024)
/* Pipe used to splice download bytes from the socket into the file: one copy
 * (socket buffer -> page cache) instead of two through user space. */
#define SPLICE_PIPE_SIZE (1024 * 1024)

struct pending_write {
  uv_write_t req;
  size_t len;
  char data[];
};

static void close_conn(struct df_sim_fb_conn *conn);
static int splice_download(struct df_sim_fb_conn *conn);

static void
close_pipe(struct df_sim_fb_conn *conn)
{
  if (conn->splice_pipe[0] >= 0) {
    close(conn->splice_pipe[0]);
    close(conn->splice_pipe[1]);
  }
  conn->splice_pipe[0] = conn->splice_pipe[1] = -1;
}

static void
on_conn_closed(uv_handle_t *handle)
{
  free(handle->data);
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

static void
drop_download(struct df_sim_fb_conn *conn)
{
  if (!conn->downloading)
    return;
  close(conn->download_fd);
  unlink(conn->download_tmp); /* a cut download never becomes anything */
  conn->downloading = false;
  conn->download_fd = -1;
  close_pipe(conn);
}

/* Unlinks the connection from the server and closes it once its queued
 * replies are out (a reboot's OKAY must reach the host before the drop). */
static void
close_conn(struct df_sim_fb_conn *conn)
{
  struct df_sim_fastbootd *fb = conn->fb;
  uv_shutdown_t *req;

  if (conn->closing)
    return;
  conn->closing = true;
  df_sim_nf_conn_closed(&conn->nf);
  drop_download(conn);
  if (fb != NULL) {
    for (struct df_sim_fb_conn **pp = &fb->conns; *pp != NULL; pp = &(*pp)->next) {
      if (*pp == conn) {
        *pp = conn->next;
        break;
      }
    }
  }
  conn->fb = NULL;
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
on_write_done(uv_write_t *req, int status)
{
  (void)status;
  free(req->data);
}

/* Queues bytes on the connection: straight to the socket when it takes them
 * (the usual case), the rest through libuv. */
static void
send_bytes_raw(struct df_sim_fb_conn *conn, const void *data, size_t len)
{
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
  struct pending_write *w;
  int n = 0;

  if (conn->closing)
    return;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) == 0) {
    n = uv_try_write((uv_stream_t *)&conn->tcp, &buf, 1);
    if (n == (int)len)
      return;
    if (n < 0 && n != UV_EAGAIN) {
      close_conn(conn);
      return;
    }
    if (n < 0)
      n = 0;
  }
  w = malloc(sizeof(*w) + len - (size_t)n);
  if (w == NULL) {
    close_conn(conn);
    return;
  }
  w->len = len - (size_t)n;
  memcpy(w->data, (const char *)data + n, w->len);
  w->req.data = w;
  buf = uv_buf_init(w->data, (unsigned)w->len);
  if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_write_done) != 0) {
    free(w);
    close_conn(conn);
  }
}

/* send_bytes_raw cut where a --net-fault says (netfault.h). */
static void
send_bytes(struct df_sim_fb_conn *conn, const void *data, size_t len)
{
  size_t allowed = df_sim_nf_pass(&conn->nf, DF_SIM_NF_OUT, len);

  if (allowed > 0)
    send_bytes_raw(conn, data, allowed);
  df_sim_nf_act(&conn->nf);
}

void
df_sim_fb_reply(struct df_sim_fb_conn *conn, const char *kind, const char *fmt, ...)
{
  char frame[8 + DF_SIM_FB_RESPONSE_MAX + 1];
  char *msg = frame + 8;
  va_list ap;
  int n;
  size_t len;

  memcpy(msg, kind, 4);
  va_start(ap, fmt);
  n = vsnprintf(msg + 4, DF_SIM_FB_RESPONSE_MAX - 4 + 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  len = 4 + ((size_t)n > DF_SIM_FB_RESPONSE_MAX - 4 ? DF_SIM_FB_RESPONSE_MAX - 4 : (size_t)n);
  for (int i = 0; i < 8; i++)
    frame[i] = (char)(((uint64_t)len >> (56 - 8 * i)) & 0xff);
  df_log_trace("fastboot: -> %.*s", (int)len, msg);
  send_bytes(conn, frame, 8 + len);
}

/* Where a retired partition file waits to be reused as the next download
 * buffer: overwriting pages the kernel already has is several times faster
 * than allocating new ones (and freeing the old) for every download. */
static void
spare_path(const struct df_sim_fastbootd *fb, char *out, size_t outlen)
{
  char base[PATH_MAX];

  df_sim_phone_download_path(fb->phone, base, sizeof(base));
  if (snprintf(out, outlen, "%s.spare", base) >= (int)outlen)
    out[0] = '\0';
}

int
df_sim_fb_retire_file(struct df_sim_fastbootd *fb, const char *path)
{
  char spare[PATH_MAX];
  struct stat st;

  if (lstat(path, &st) != 0)
    return errno == ENOENT ? 0 : df_error_from_errno(errno);
  spare_path(fb, spare, sizeof(spare));
  /* Only a file nothing else links to may be written over later. */
  if (spare[0] != '\0' && S_ISREG(st.st_mode) && st.st_nlink == 1 && rename(path, spare) == 0)
    return 0;
  if (unlink(path) != 0 && errno != ENOENT)
    return df_error_from_errno(errno);
  return 0;
}

/* Opens the download file: the spare if there is one nobody else links to
 * (written over in place, cut to size at the end), else a new file. */
static int
open_download_file(struct df_sim_fb_conn *conn)
{
  char spare[PATH_MAX];
  struct stat st;
  int fd;

  spare_path(conn->fb, spare, sizeof(spare));
  if (spare[0] != '\0' && rename(spare, conn->download_tmp) == 0) {
    fd = open(conn->download_tmp, O_WRONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1)
      return fd;
    if (fd >= 0)
      close(fd);
    unlink(conn->download_tmp);
  }
  return open(conn->download_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

int
df_sim_fb_download_begin(struct df_sim_fb_conn *conn, uint64_t size)
{
  struct df_sim_fastbootd *fb = conn->fb;
  char final_path[PATH_MAX];
  int fd;

  df_sim_phone_download_path(fb->phone, final_path, sizeof(final_path));
  if (snprintf(conn->download_tmp, sizeof(conn->download_tmp), "%s.part%llu", final_path,
               (unsigned long long)conn->id) >= (int)sizeof(conn->download_tmp))
    return DF_EINVAL;
  unlink(conn->download_tmp);
  fd = open_download_file(conn);
  if (fd < 0)
    return df_error_from_errno(errno);
  /* The buffer is being overwritten: until this download completes there is
   * nothing valid to flash. */
  fb->have_download = false;
  conn->downloading = true;
  conn->download_fd = fd;
  /* Without a pipe the download still works, through the read buffer. */
  if (pipe2(conn->splice_pipe, O_CLOEXEC | O_NONBLOCK) == 0)
    fcntl(conn->splice_pipe[0], F_SETPIPE_SZ, SPLICE_PIPE_SIZE);
  else
    conn->splice_pipe[0] = conn->splice_pipe[1] = -1;
  conn->download_size = size;
  conn->download_left = size;
  return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return df_error_from_errno(errno);
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void
download_done(struct df_sim_fb_conn *conn)
{
  struct df_sim_fastbootd *fb = conn->fb;
  char final_path[PATH_MAX];
  int err = 0;

  /* A reused spare may be longer than this download. */
  if (ftruncate(conn->download_fd, (off_t)conn->download_size) != 0)
    err = errno;
  close(conn->download_fd);
  conn->download_fd = -1;
  conn->downloading = false;
  close_pipe(conn);
  if (conn->nf.failed_download) {
    /* --net-fault fail: FAIL went out mid-download; nothing is kept. */
    conn->nf.failed_download = false;
    unlink(conn->download_tmp);
    return;
  }
  df_sim_phone_download_path(fb->phone, final_path, sizeof(final_path));
  /* The buffer is never a file a partition links to: the previous one is
   * replaced by rename, so a partition hard-linked to it keeps its content. */
  if (err != 0 || rename(conn->download_tmp, final_path) != 0) {
    df_log_warn("fastboot: cannot store download at %s: %s", final_path, strerror(errno));
    unlink(conn->download_tmp);
    df_sim_fb_reply(conn, "FAIL", "Couldn't download data");
    return;
  }
  fb->have_download = true;
  fb->download_size = conn->download_size;
  df_log_debug("fastboot: downloaded %llu bytes", (unsigned long long)conn->download_size);
  df_sim_fb_reply(conn, "OKAY", "%s", "");
}

/* Body bytes of a download frame: straight to the file. */
static size_t
feed_download(struct df_sim_fb_conn *conn, const char *p, size_t len)
{
  size_t take = len;
  int err;

  if (take > conn->frame_left)
    take = (size_t)conn->frame_left;
  err = write_all(conn->download_fd, p, take);
  if (err != 0) {
    df_log_warn("fastboot: writing the download failed: %s", df_strerror(err));
    df_sim_fb_reply(conn, "FAIL", "Couldn't download data");
    close_conn(conn);
    return len;
  }
  conn->frame_left -= take;
  conn->download_left -= take;
  /* The libuv buffer is used up to here: take the rest of the frame straight
   * from the socket. */
  if (take == len && conn->frame_left > 0) {
    err = splice_download(conn);
    if (err != 0) {
      df_log_warn("fastboot: writing the download failed: %s", df_strerror(err));
      df_sim_fb_reply(conn, "FAIL", "Couldn't download data");
      close_conn(conn);
      return len;
    }
  }
  if (conn->frame_left == 0)
    conn->state = DF_SIM_FB_FRAME_HEADER;
  if (conn->download_left == 0)
    download_done(conn);
  return take;
}

/* Moves what the socket holds of the current data frame into the download
 * file with splice, until the socket is empty or the frame is done. Returns
 * 0, or a df error (the download then fails). An error of splice itself
 * (not supported here) only turns the fast path off. */
static int
splice_download(struct df_sim_fb_conn *conn)
{
  uv_os_fd_t sock;

  if (conn->splice_pipe[0] < 0 || uv_fileno((uv_handle_t *)&conn->tcp, &sock) != 0)
    return 0;
  while (conn->downloading && conn->frame_left > 0) {
    size_t want = conn->frame_left < SPLICE_PIPE_SIZE ? (size_t)conn->frame_left
                                                       : SPLICE_PIPE_SIZE;
    ssize_t in;
    uint64_t room = df_sim_nf_room(&conn->nf, DF_SIM_NF_IN);
    size_t link_room = df_sim_link_room();

    if (room == 0) {
      df_sim_nf_pass(&conn->nf, DF_SIM_NF_IN, 0); /* fires; on_read carries it out */
      return 0;
    }
    if (link_room == 0)
      return 0; /* --link-rate: on_read holds the connection */
    if (want > room)
      want = (size_t)room;
    if (want > link_room)
      want = link_room;
    in = splice(sock, NULL, conn->splice_pipe[1], NULL, want,
                        SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (in <= 0) {
      if (in < 0 && errno != EAGAIN && errno != EINTR)
        close_pipe(conn); /* EOF and errors are libuv's to report */
      return 0;
    }
    for (ssize_t left = in; left > 0;) {
      ssize_t out = splice(conn->splice_pipe[0], NULL, conn->download_fd, NULL, (size_t)left,
                           SPLICE_F_MOVE);
      if (out < 0 && errno == EINTR)
        continue;
      if (out <= 0)
        return out < 0 ? df_error_from_errno(errno) : DF_EIO;
      left -= out;
    }
    df_sim_link_took((size_t)in);
    df_sim_nf_pass(&conn->nf, DF_SIM_NF_IN, (size_t)in);
    conn->frame_left -= (uint64_t)in;
    conn->download_left -= (uint64_t)in;
  }
  return 0;
}

static void
frame_header_done(struct df_sim_fb_conn *conn)
{
  uint64_t len = 0;

  for (int i = 0; i < 8; i++)
    len = (len << 8) | conn->header[i];
  conn->header_len = 0;
  if (conn->downloading) {
    if (len > conn->download_left) {
      /* More data than announced: the host and the device disagree on
       * where the payload ends; nothing after this can be trusted. */
      df_log_debug("fastboot: data frame of %llu bytes with %llu due; dropping",
                   (unsigned long long)len, (unsigned long long)conn->download_left);
      close_conn(conn);
      return;
    }
    if (len > 0) {
      conn->frame_left = len;
      conn->state = DF_SIM_FB_FRAME_BODY;
    }
    return;
  }
  if (len > DF_SIM_FB_FRAME_GARBAGE) {
    df_log_debug("fastboot: command frame of %llu bytes; dropping",
                 (unsigned long long)len);
    close_conn(conn);
    return;
  }
  conn->command_len = 0;
  conn->frame_left = len;
  if (len == 0) {
    df_sim_fb_dispatch(conn, "");
    return;
  }
  conn->state = DF_SIM_FB_FRAME_BODY;
}

static void
command_done(struct df_sim_fb_conn *conn)
{
  conn->state = DF_SIM_FB_FRAME_HEADER;
  conn->command[conn->command_len] = '\0';
  if (conn->command_len > DF_SIM_FB_COMMAND_MAX) {
    df_sim_fb_reply(conn, "FAIL", "command too long (%zu bytes; at most %d)",
                    conn->command_len, DF_SIM_FB_COMMAND_MAX);
    return;
  }
  if (strlen(conn->command) != conn->command_len) {
    df_sim_fb_reply(conn, "FAIL", "unknown command");
    return;
  }
  if (conn->nf.fail_command) {
    conn->nf.fail_command = false;
    df_log_info("fastboot: net-fault: answering '%s' with FAIL", conn->command);
    df_sim_fb_reply(conn, "FAIL", "command failed (net-fault)");
    return;
  }
  df_sim_fb_dispatch(conn, conn->command);
}

static void
feed(struct df_sim_fb_conn *conn, const char *p, size_t len)
{
  while (len > 0 && !conn->closing) {
    size_t take;

    switch (conn->state) {
    case DF_SIM_FB_HANDSHAKE:
      take = 4 - conn->header_len;
      if (take > len)
        take = len;
      memcpy(conn->header + conn->header_len, p, take);
      conn->header_len += take;
      p += take;
      len -= take;
      if (conn->header_len < 4)
        break;
      /* tcp.cpp: "FB" and a two-digit protocol version, at least 01. */
      if (memcmp(conn->header, "FB", 2) != 0 || conn->header[2] < '0' ||
          conn->header[2] > '9' || conn->header[3] < '0' || conn->header[3] > '9' ||
          (conn->header[2] == '0' && conn->header[3] == '0')) {
        df_log_debug("fastboot: bad handshake; dropping");
        close_conn(conn);
        return;
      }
      send_bytes(conn, "FB01", 4);
      conn->header_len = 0;
      conn->state = DF_SIM_FB_FRAME_HEADER;
      df_sim_nf_conn_start(&conn->nf);
      break;
    case DF_SIM_FB_FRAME_HEADER:
      take = 8 - conn->header_len;
      if (take > len)
        take = len;
      memcpy(conn->header + conn->header_len, p, take);
      conn->header_len += take;
      p += take;
      len -= take;
      if (conn->header_len == 8)
        frame_header_done(conn);
      break;
    case DF_SIM_FB_FRAME_BODY:
      if (conn->downloading) {
        take = feed_download(conn, p, len);
      } else {
        take = len < conn->frame_left ? len : (size_t)conn->frame_left;
        memcpy(conn->command + conn->command_len, p, take);
        conn->command_len += take;
        conn->frame_left -= take;
        if (conn->frame_left == 0)
          command_done(conn);
      }
      p += take;
      len -= take;
      break;
    }
  }
}

static void
on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  struct df_sim_fb_conn *conn = handle->data;

  (void)suggested;
  if (conn->fb == NULL) {
    *buf = uv_buf_init(NULL, 0);
    return;
  }
  *buf = uv_buf_init(conn->fb->read_buf, (unsigned)conn->fb->read_buf_size);
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct df_sim_fb_conn *conn = stream->data;

  if (nread < 0) {
    if (conn->downloading)
      df_log_debug("fastboot: connection lost with %llu download bytes due",
                   (unsigned long long)conn->download_left);
    close_conn(conn);
    return;
  }
  if (nread > 0 && conn->fb != NULL) {
    size_t ok = df_sim_nf_pass(&conn->nf, DF_SIM_NF_IN, (size_t)nread);

    df_sim_link_took((size_t)nread);
    feed(conn, buf->base, ok);
    df_sim_nf_act(&conn->nf);
    /* A FAIL leaves the connection up: the rest of the read is the host's. */
    if (ok < (size_t)nread && !conn->closing && !conn->nf.stalled)
      feed(conn, buf->base + ok, (size_t)nread - ok);
    df_sim_nf_read_done(&conn->nf);
  }
}

static void
nf_close(void *conn)
{
  close_conn(conn);
}

/* --net-fault fail: a download under way is answered FAIL now and the rest
 * of its data is read and thrown away (download_done); otherwise the next
 * command is answered FAIL (command_done, from df_sim_nf_pass's mark). */
static void
nf_fail(void *opaque)
{
  struct df_sim_fb_conn *conn = opaque;

  if (!conn->downloading)
    return;
  conn->nf.fail_command = false;
  conn->nf.failed_download = true;
  conn->fb->have_download = false;
  df_log_info("fastboot: net-fault: failing the download with %llu bytes due",
              (unsigned long long)conn->download_left);
  df_sim_fb_reply(conn, "FAIL", "download failed (net-fault)");
}

/* How netfault.c reads, closes, fails and stops reading a fastboot
 * connection. */
static const struct df_sim_nf_server nf_server = {
  .proto = DF_SIM_NF_FASTBOOT, .alloc_cb = on_alloc, .read_cb = on_read, .close = nf_close,
  .fail = nf_fail};

static void
on_connection(uv_stream_t *server, int status)
{
  struct df_sim_fastbootd *fb = server->data;
  struct df_sim_fb_conn *conn;

  if (status < 0 || fb == NULL)
    return;
  conn = calloc(1, sizeof(*conn));
  if (conn == NULL)
    return;
  conn->download_fd = -1;
  conn->splice_pipe[0] = conn->splice_pipe[1] = -1;
  uv_tcp_init(&fb->loop->uv, &conn->tcp);
  conn->tcp.data = conn;
  if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
    uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
    return;
  }
  /* fastboot does not set TCP_NODELAY on its side; small replies would
   * otherwise wait for delayed ACKs (TESTING.md). */
  uv_tcp_nodelay(&conn->tcp, 1);
  df_sim_nf_conn_init(&conn->nf, &nf_server, conn, (uv_stream_t *)&conn->tcp, fb->phone);
  conn->fb = fb;
  conn->id = ++fb->next_conn_id;
  conn->next = fb->conns;
  fb->conns = conn;
  if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) != 0)
    close_conn(conn);
}

static int
listen_start(struct df_sim_fastbootd *fb)
{
  return df_sim_listener_open(fb->loop, &fb->port, 16, on_connection, fb, &fb->server);
}

static void
listen_stop(struct df_sim_fastbootd *fb)
{
  df_sim_listener_close(&fb->server);
  while (fb->conns != NULL)
    close_conn(fb->conns);
  /* The phone's RAM is gone with the power: so is the download buffer. */
  fb->have_download = false;
}

int
df_sim_fastbootd_new(struct df_loop *loop, struct df_sim_phone *phone, int port,
                     struct df_sim_fastbootd **out, int *bound_port)
{
  struct df_sim_fastbootd *fb;
  int err;

  if (loop == NULL || phone == NULL || out == NULL || port < 0 || port > 65535)
    return DF_EINVAL;
  fb = calloc(1, sizeof(*fb));
  if (fb == NULL)
    return DF_ENOMEM;
  fb->read_buf_size = READ_BUF_SIZE;
  fb->read_buf = malloc(fb->read_buf_size);
  if (fb->read_buf == NULL) {
    free(fb);
    return DF_ENOMEM;
  }
  fb->loop = loop;
  fb->phone = phone;
  fb->port = port;
  /* Bind once even when the phone is not in a fastboot mode, so that the
   * port number is known (and fixed) from the start. */
  err = listen_start(fb);
  if (err != 0) {
    free(fb->read_buf);
    free(fb);
    return err;
  }
  fb->enabled = true;
  if (!df_sim_mode_has_fastboot(df_sim_phone_mode(phone)))
    df_sim_fastbootd_set_enabled(fb, false);
  if (bound_port != NULL)
    *bound_port = fb->port;
  *out = fb;
  return 0;
}

void
df_sim_fastbootd_set_enabled(struct df_sim_fastbootd *fb, bool enabled)
{
  int err;

  if (fb == NULL || fb->enabled == enabled)
    return;
  if (!enabled) {
    listen_stop(fb);
    fb->enabled = false;
    return;
  }
  err = listen_start(fb);
  if (err != 0) {
    df_log_error("fastboot: cannot listen again on 127.0.0.1:%d: %s", fb->port,
                 df_strerror(err));
    return;
  }
  fb->enabled = true;
}

void
df_sim_fastbootd_free(struct df_sim_fastbootd *fb)
{
  if (fb == NULL)
    return;
  listen_stop(fb);
  free(fb->read_buf);
  free(fb);
}
