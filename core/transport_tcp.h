/* The TCP transport: a df_transport on a uv_tcp_t, reached by connecting to a
 * host and port (adb over TCP, fastboot's TCP protocol) or by accepting on a
 * listening uv_tcp_t (the simulated phone). TCP_NODELAY is always set: both
 * protocols send small requests and wait for small answers. */
#ifndef DF_CORE_TRANSPORT_TCP_H
#define DF_CORE_TRANSPORT_TCP_H

#include "core/loop.h"
#include "core/transport.h"

/* status is 0 and t a connected transport, or status is a df error
 * (DF_ECONNREFUSED, DF_ENOENT for a name that does not resolve, DF_ETIMEDOUT,
 * DF_ECANCELED when the loop closed first, ...) and t is NULL. On success the
 * caller owns t and ends it with df_transport_close. */
typedef void (*df_tcp_connect_cb)(void *data, struct df_transport *t, int status);

/* Resolves host with uv_getaddrinfo and connects to its addresses in turn until
 * one accepts. The transport handed to cb has cbs/userdata set and reading not
 * started. cbs must stay valid for the transport's life. Returns DF_EINVAL
 * (no host, port outside 1..65535, no cb), DF_ENOMEM, or a resolver start
 * error; then cb is never called. */
int
df_tcp_connect(struct df_loop *loop, const char *host, int port,
               const struct df_transport_callbacks *cbs, void *userdata,
               df_tcp_connect_cb cb, void *cb_data);

/* Accepts one pending connection of a listening uv_tcp_t into a new transport
 * (TCP_NODELAY set, reading not started); call it from the server's
 * connection callback. On success *out is owned by the caller. */
int
df_tcp_accept(uv_stream_t *server, const struct df_transport_callbacks *cbs,
              void *userdata, struct df_transport **out);

/* Wraps a connected stream socket someone else opened (a plugin's
 * transport: TCP, a Unix socket or one end of a socketpair) as a transport,
 * reading not started; description is what t->description shows. On
 * success the transport owns fd (closes it) and *out is the caller's. On
 * an error fd stays the caller's: DF_EINVAL (not a stream socket),
 * DF_ENOMEM, or libuv's refusal mapped. TCP_NODELAY is set on TCP sockets. */
int
df_tcp_open_fd(struct df_loop *loop, int fd, const char *description,
               const struct df_transport_callbacks *cbs, void *userdata,
               struct df_transport **out);

#endif
