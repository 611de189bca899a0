/* The TCP transport on uv_tcp: connect (resolve, try each address), accept,
 * reads into one large buffer, writes with uv_write, and a close that frees
 * memory only in libuv's close callback. */
#include "core/transport_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* One buffer per connection, reused for every read: libuv calls read_cb
 * before it asks for the next buffer. Loopback moves well over 1 GB/s only
 * when each read can take a large piece of the socket buffer. */
#define DF_TCP_READ_SIZE (512 * 1024)

/* uv_write copies the uv_buf_t array; this many fit on the stack. */
#define DF_TCP_STACK_BUFS 16

struct df_tcp {
  struct df_transport base; /* first: a df_transport * is a df_tcp * */
  uv_tcp_t handle;
  char *read_buf;
  int reading;
  int closing;
  int gone_err; /* the error on_gone reported, or 0 */
  df_transport_close_cb close_cb;
};

struct df_tcp_write {
  uv_write_t req;
  struct df_tcp *tcp;
  df_transport_write_cb cb;
  void *req_data;
};

struct df_tcp_connecting {
  uv_getaddrinfo_t resolver;
  uv_connect_t connect;
  uv_loop_t *uvloop;
  struct df_tcp *tcp;
  struct addrinfo *addresses;
  struct addrinfo *next;
  int last_err; /* libuv error of the last failed attempt */
  df_tcp_connect_cb cb;
  void *cb_data;
};

static int df_tcp_read_start(struct df_transport *t);
static int df_tcp_read_stop(struct df_transport *t);
static int df_tcp_write(struct df_transport *t, const struct df_buf *bufs, size_t nbufs,
                        df_transport_write_cb cb, void *req_data);
static size_t df_tcp_write_queue_size(const struct df_transport *t);
static void df_tcp_close(struct df_transport *t, df_transport_close_cb cb);

static const struct df_transport_ops df_tcp_ops = {
  .kind = "tcp",
  .read_start = df_tcp_read_start,
  .read_stop = df_tcp_read_stop,
  .write = df_tcp_write,
  .write_queue_size = df_tcp_write_queue_size,
  .close = df_tcp_close,
};

static struct df_tcp *
df_tcp_new(const struct df_transport_callbacks *cbs, void *userdata)
{
  struct df_tcp *tcp = calloc(1, sizeof(*tcp));

  if (tcp == NULL) return NULL;
  tcp->base.ops = &df_tcp_ops;
  tcp->base.callbacks = cbs;
  tcp->base.userdata = userdata;
  tcp->handle.data = tcp;
  return tcp;
}

/* The one place that decides the connection is over; reports it once. */
static void
df_tcp_report_gone(struct df_tcp *tcp, int err)
{
  if (tcp->gone_err != 0) return;
  tcp->gone_err = err;
  if (tcp->reading) {
    uv_read_stop((uv_stream_t *)&tcp->handle);
    tcp->reading = 0;
  }
  if (tcp->closing) return; /* the owner already let go; nobody to tell */
  tcp->base.gone = 1;
  if (tcp->base.callbacks != NULL && tcp->base.callbacks->on_gone != NULL)
    tcp->base.callbacks->on_gone(tcp->base.userdata, err);
}

static void
df_tcp_on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  struct df_tcp *tcp = handle->data;

  (void)suggested;
  buf->base = tcp->read_buf;
  buf->len = DF_TCP_READ_SIZE;
}

static void
df_tcp_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct df_tcp *tcp = stream->data;

  if (nread > 0) {
    if (tcp->base.callbacks != NULL && tcp->base.callbacks->on_read != NULL)
      tcp->base.callbacks->on_read(tcp->base.userdata, (const uint8_t *)buf->base,
                                   (size_t)nread);
    return;
  }
  if (nread == 0) return; /* EAGAIN: nothing this time */
  df_tcp_report_gone(tcp, nread == UV_EOF ? DF_EEOF : df_error_from_uv((int)nread));
}

static int
df_tcp_read_start(struct df_transport *t)
{
  struct df_tcp *tcp = (struct df_tcp *)t;
  int rc;

  if (tcp->closing) return DF_EINVAL;
  if (tcp->gone_err != 0) return tcp->gone_err;
  if (tcp->reading) return DF_OK;
  if (tcp->read_buf == NULL) {
    tcp->read_buf = malloc(DF_TCP_READ_SIZE);
    if (tcp->read_buf == NULL) return DF_ENOMEM;
  }
  rc = uv_read_start((uv_stream_t *)&tcp->handle, df_tcp_on_alloc, df_tcp_on_read);
  if (rc != 0) return df_error_from_uv(rc);
  tcp->reading = 1;
  return DF_OK;
}

static int
df_tcp_read_stop(struct df_transport *t)
{
  struct df_tcp *tcp = (struct df_tcp *)t;

  if (!tcp->reading) return DF_OK;
  tcp->reading = 0;
  return df_error_from_uv(uv_read_stop((uv_stream_t *)&tcp->handle));
}

static void
df_tcp_on_written(uv_write_t *req, int status)
{
  struct df_tcp_write *w = req->data;
  struct df_tcp *tcp = w->tcp;
  int err = status == 0 ? 0 : df_error_from_uv(status);

  /* UV_ECANCELED comes from our own close; anything else broke the pipe. */
  if (status != 0 && status != UV_ECANCELED) df_tcp_report_gone(tcp, err);
  if (w->cb != NULL) w->cb(w->req_data, err);
  free(w);
}

static int
df_tcp_write(struct df_transport *t, const struct df_buf *bufs, size_t nbufs,
             df_transport_write_cb cb, void *req_data)
{
  struct df_tcp *tcp = (struct df_tcp *)t;
  uv_buf_t stack_bufs[DF_TCP_STACK_BUFS] = {{0}};
  uv_buf_t *uvbufs = stack_bufs;
  struct df_tcp_write *w;
  size_t i;
  int rc;

  if (tcp->closing || (bufs == NULL && nbufs > 0) || nbufs > UINT32_MAX) return DF_EINVAL;
  if (tcp->gone_err != 0) return tcp->gone_err;
  w = malloc(sizeof(*w));
  if (w == NULL) return DF_ENOMEM;
  if (nbufs > DF_TCP_STACK_BUFS) {
    uvbufs = malloc(nbufs * sizeof(*uvbufs));
    if (uvbufs == NULL) {
      free(w);
      return DF_ENOMEM;
    }
  }
  for (i = 0; i < nbufs; i++) {
    if (bufs[i].len > UINT32_MAX) {
      if (uvbufs != stack_bufs) free(uvbufs);
      free(w);
      return DF_ETOOBIG;
    }
    uvbufs[i] = uv_buf_init((char *)bufs[i].base, (unsigned int)bufs[i].len);
  }
  if (nbufs == 0) { /* libuv wants at least one buffer; an empty one writes nothing */
    uvbufs[0] = uv_buf_init(NULL, 0);
    nbufs = 1;
  }
  w->req.data = w;
  w->tcp = tcp;
  w->cb = cb;
  w->req_data = req_data;
  rc = uv_write(&w->req, (uv_stream_t *)&tcp->handle, uvbufs, (unsigned int)nbufs,
                df_tcp_on_written);
  if (uvbufs != stack_bufs) free(uvbufs);
  if (rc != 0) {
    free(w);
    return df_error_from_uv(rc);
  }
  return DF_OK;
}

static size_t
df_tcp_write_queue_size(const struct df_transport *t)
{
  const struct df_tcp *tcp = (const struct df_tcp *)t;

  return tcp->handle.write_queue_size;
}

static void
df_tcp_on_closed(uv_handle_t *handle)
{
  struct df_tcp *tcp = handle->data;
  df_transport_close_cb cb = tcp->close_cb;
  void *userdata = tcp->base.userdata;

  free(tcp->read_buf);
  free(tcp);
  if (cb != NULL) cb(userdata);
}

/* libuv completes pending writes with UV_ECANCELED before the close callback,
 * which is the order the transport contract promises. */
static void
df_tcp_close(struct df_transport *t, df_transport_close_cb cb)
{
  struct df_tcp *tcp = (struct df_tcp *)t;

  if (tcp->closing) return;
  tcp->closing = 1;
  tcp->reading = 0;
  tcp->close_cb = cb;
  uv_close((uv_handle_t *)&tcp->handle, df_tcp_on_closed);
}

static void
df_tcp_describe(struct df_tcp *tcp, const char *host, int port)
{
  if (strchr(host, ':') != NULL)
    snprintf(tcp->base.description, sizeof(tcp->base.description), "tcp:[%s]:%d", host, port);
  else
    snprintf(tcp->base.description, sizeof(tcp->base.description), "tcp:%s:%d", host, port);
}

/* --- connecting ---------------------------------------------------------- */

static void df_tcp_try_next(struct df_tcp_connecting *c);

static void
df_tcp_connect_finish(struct df_tcp_connecting *c, int err)
{
  struct df_tcp *tcp = c->tcp;

  if (c->addresses != NULL) uv_freeaddrinfo(c->addresses);
  if (err != 0) {
    free(tcp); /* its handle is closed, or was never initialised */
    c->cb(c->cb_data, NULL, err);
  } else {
    c->cb(c->cb_data, &tcp->base, 0);
  }
  free(c);
}

/* While connecting, handle.data points at the attempt, not at the transport. */
static void
df_tcp_on_attempt_closed(uv_handle_t *handle)
{
  df_tcp_try_next(handle->data);
}

static void
df_tcp_on_connected(uv_connect_t *req, int status)
{
  struct df_tcp_connecting *c = req->data;
  struct df_tcp *tcp = c->tcp;

  if (status == 0) {
    tcp->handle.data = tcp;
    uv_tcp_nodelay(&tcp->handle, 1);
    df_tcp_connect_finish(c, 0);
    return;
  }
  c->last_err = status;
  /* A cancel means the loop is closing: trying further addresses is pointless. */
  c->next = status == UV_ECANCELED ? NULL : c->next->ai_next;
  uv_close((uv_handle_t *)&tcp->handle, df_tcp_on_attempt_closed);
}

static void
df_tcp_try_next(struct df_tcp_connecting *c)
{
  struct df_tcp *tcp = c->tcp;
  uv_loop_t *uvloop = c->uvloop;
  int rc;

  while (c->next != NULL) {
    rc = uv_tcp_init(uvloop, &tcp->handle);
    if (rc != 0) {
      c->last_err = rc;
      break;
    }
    tcp->handle.data = c;
    rc = uv_tcp_connect(&c->connect, &tcp->handle, c->next->ai_addr, df_tcp_on_connected);
    if (rc == 0) return;
    c->last_err = rc;
    c->next = c->next->ai_next;
    uv_close((uv_handle_t *)&tcp->handle, df_tcp_on_attempt_closed);
    return;
  }
  df_tcp_connect_finish(c, df_error_from_uv(c->last_err != 0 ? c->last_err : UV_EAI_NONAME));
}

static void
df_tcp_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
  struct df_tcp_connecting *c = req->data;

  if (status != 0) {
    if (res != NULL) uv_freeaddrinfo(res);
    df_tcp_connect_finish(c, df_error_from_uv(status));
    return;
  }
  c->addresses = res;
  c->next = res;
  df_tcp_try_next(c);
}

int
df_tcp_connect(struct df_loop *loop, const char *host, int port,
               const struct df_transport_callbacks *cbs, void *userdata,
               df_tcp_connect_cb cb, void *cb_data)
{
  struct df_tcp_connecting *c;
  struct addrinfo hints;
  char service[8];
  int rc;

  if (loop == NULL || host == NULL || host[0] == '\0' || port <= 0 || port > 65535 || cb == NULL)
    return DF_EINVAL;
  c = calloc(1, sizeof(*c));
  if (c == NULL) return DF_ENOMEM;
  c->tcp = df_tcp_new(cbs, userdata);
  if (c->tcp == NULL) {
    free(c);
    return DF_ENOMEM;
  }
  df_tcp_describe(c->tcp, host, port);
  c->cb = cb;
  c->cb_data = cb_data;
  c->uvloop = &loop->uv;
  c->resolver.data = c;
  c->connect.data = c;
  snprintf(service, sizeof(service), "%d", port);
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  /* A numeric address (the usual 127.0.0.1:PORT) needs no resolver:
   * getaddrinfo with AI_NUMERICHOST only parses, so it runs here rather
   * than on the thread pool, whose first use starts its threads. The
   * first attempt then starts here too; uv_tcp_init cannot fail for
   * AF_UNSPEC and a refused uv_tcp_connect moves on asynchronously, so
   * cb is still never called from inside this function. */
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  if (getaddrinfo(host, service, &hints, &c->addresses) == 0) {
    c->next = c->addresses;
    df_tcp_try_next(c);
    return DF_OK;
  }
  c->addresses = NULL;
  hints.ai_flags = AI_NUMERICSERV;
  rc = uv_getaddrinfo(&loop->uv, &c->resolver, df_tcp_on_resolved, host, service, &hints);
  if (rc != 0) {
    free(c->tcp);
    free(c);
    return df_error_from_uv(rc);
  }
  return DF_OK;
}

/* --- accepting ----------------------------------------------------------- */

static void
df_tcp_on_reject_closed(uv_handle_t *handle)
{
  free(handle->data);
}

int
df_tcp_accept(uv_stream_t *server, const struct df_transport_callbacks *cbs,
              void *userdata, struct df_transport **out)
{
  struct df_tcp *tcp;
  struct sockaddr_storage peer;
  int namelen = sizeof(peer);
  char host[64] = "?";
  int port = 0;
  int rc;

  if (server == NULL || out == NULL) return DF_EINVAL;
  tcp = df_tcp_new(cbs, userdata);
  if (tcp == NULL) return DF_ENOMEM;
  rc = uv_tcp_init(server->loop, &tcp->handle);
  if (rc != 0) {
    free(tcp);
    return df_error_from_uv(rc);
  }
  rc = uv_accept(server, (uv_stream_t *)&tcp->handle);
  if (rc != 0) {
    /* The handle is initialised, so its memory waits for the close callback;
     * the caller gets the error now and never hears of it again. */
    uv_close((uv_handle_t *)&tcp->handle, df_tcp_on_reject_closed);
    return df_error_from_uv(rc);
  }
  uv_tcp_nodelay(&tcp->handle, 1);
  if (uv_tcp_getpeername(&tcp->handle, (struct sockaddr *)&peer, &namelen) == 0) {
    if (peer.ss_family == AF_INET) {
      uv_ip4_name((struct sockaddr_in *)&peer, host, sizeof(host));
      port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
    } else if (peer.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&peer, host, sizeof(host));
      port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
    }
  }
  df_tcp_describe(tcp, host, port);
  *out = &tcp->base;
  return DF_OK;
}

/* --- wrapping a socket opened elsewhere ---------------------------------- */

/* libuv's stream code reads and writes any stream socket; uv_tcp_open only
 * makes it non-blocking and watches it, so a Unix socket works too (no
 * TCP_NODELAY there, which matters only for TCP). */
int
df_tcp_open_fd(struct df_loop *loop, int fd, const char *description,
               const struct df_transport_callbacks *cbs, void *userdata,
               struct df_transport **out)
{
  struct df_tcp *tcp;
  struct sockaddr_storage addr;
  socklen_t len = sizeof(int), alen = sizeof(addr);
  int type = 0, rc;

  if (loop == NULL || fd < 0 || out == NULL) return DF_EINVAL;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    return DF_EINVAL;
  tcp = df_tcp_new(cbs, userdata);
  if (tcp == NULL) return DF_ENOMEM;
  rc = uv_tcp_init(&loop->uv, &tcp->handle);
  if (rc != 0) {
    free(tcp);
    return df_error_from_uv(rc);
  }
  rc = uv_tcp_open(&tcp->handle, fd);
  if (rc != 0) {
    /* the handle never took fd: closing it leaves fd to the caller */
    uv_close((uv_handle_t *)&tcp->handle, df_tcp_on_reject_closed);
    return df_error_from_uv(rc);
  }
  if (getsockname(fd, (struct sockaddr *)&addr, &alen) == 0 &&
      (addr.ss_family == AF_INET || addr.ss_family == AF_INET6))
    uv_tcp_nodelay(&tcp->handle, 1);
  snprintf(tcp->base.description, sizeof(tcp->base.description), "%s",
           description != NULL ? description : "fd");
  *out = &tcp->base;
  return DF_OK;
}
