/* A protocol server's port on 127.0.0.1, listening while its mode is on
 * and refusing connections while it is off, bound to the sim throughout.
 *
 * Off means refused, as it did when the port was closed: a phone in the
 * bootloader has no adbd, and over TCP a refused connection is the closest
 * thing to a USB interface that is gone. The alternative, accepting and
 * closing at once, looks like a phone that is there but broken: Google's
 * adb 29 then prints "failed to connect" yet keeps the address listed as
 * an "offline" device, and a later `adb connect` answers "already
 * connected" (tried against a server that did just that); and droidfix's
 * probe reads DF_ECONNREFUSED as "not in a mode served on that port"
 * (plugins/device.h) where a dropped handshake would be an error. Refused
 * keeps `adb connect`, adb's own reconnects and droidfix's probing as they
 * are against a phone that reboots.
 *
 * What changed is that the number is never given back between modes, so
 * the kernel cannot hand it to another process (an ephemeral port, a second
 * sim) while the phone is, say, in the bootloader. Linux makes a listening
 * socket stop listening on shutdown(SHUT_RD): new connections get a reset
 * (refused), queued ones are reset, and the socket stays bound when it was
 * bound to an explicit port, so listen() can start it again. (A socket
 * bound to port 0 gives its number back there.) So each port is held by one
 * socket bound explicitly; for port 0 the number is found first by a probe
 * socket that stays bound until the keeper has it. libuv listens on a
 * duplicate of the keeper's descriptor; off closes that handle and shuts
 * the keeper down. Where shutdown does not stop a listener, the port is
 * closed and released as before. */
#include "tests/sim/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"

/* A port the sim holds, open or off; they live until the process exits
 * (the sim is one process per phone, its loop on one thread). */
struct df_sim_kept_port {
  int port;
  int fd;
  struct df_sim_kept_port *next;
};

/* What df_sim_listener_open hands out: the libuv server first, so the
 * uv_tcp_t pointer the servers see is this struct's address. */
struct df_sim_listener {
  uv_tcp_t tcp;
  struct df_sim_kept_port *kept;
};

static struct df_sim_kept_port *df_sim_kept_ports;

static struct df_sim_kept_port *
df_sim_kept_find(int port)
{
  struct df_sim_kept_port *k;

  for (k = df_sim_kept_ports; k != NULL; k = k->next)
    if (k->port == port) return k;
  return NULL;
}

static void
df_sim_kept_forget(struct df_sim_kept_port *kept)
{
  struct df_sim_kept_port **at;

  for (at = &df_sim_kept_ports; *at != NULL; at = &(*at)->next)
    if (*at == kept) {
      *at = kept->next;
      break;
    }
  close(kept->fd);
  free(kept);
}

/* A socket bound to 127.0.0.1:port with SO_REUSEADDR (as libuv binds, so
 * a restarted sim can take its old number back); -errno on failure. */
static int
df_sim_bind_loopback(int port, int *fd_out)
{
  struct sockaddr_in addr = {0};
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0) return -errno;
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((uint16_t)port);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

static int
df_sim_bound_port(int fd)
{
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);

  if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0) return -1;
  return ntohs(addr.sin_port);
}

/* Binds port (0: a free one) explicitly. Two sockets that both set
 * SO_REUSEADDR and do not listen may share a number, which lets the probe
 * hold it until the keeper is bound. */
static int
df_sim_keep_port(int port, struct df_sim_kept_port **out)
{
  struct df_sim_kept_port *kept;
  int probe = -1;
  int fd;
  int err;

  if (port == 0) {
    err = df_sim_bind_loopback(0, &probe);
    if (err != 0) return df_error_from_errno(-err);
    port = df_sim_bound_port(probe);
  }
  err = port > 0 ? df_sim_bind_loopback(port, &fd) : -EINVAL;
  if (probe >= 0) close(probe);
  if (err != 0) return df_error_from_errno(-err);
  kept = malloc(sizeof(*kept));
  if (kept == NULL) {
    close(fd);
    return DF_ENOMEM;
  }
  kept->port = port;
  kept->fd = fd;
  kept->next = df_sim_kept_ports;
  df_sim_kept_ports = kept;
  *out = kept;
  return 0;
}

static void
df_sim_listener_free(uv_handle_t *handle)
{
  free(handle);
}

/* Refuses connections on kept's port from now on (see the top). */
static void
df_sim_kept_off(struct df_sim_kept_port *kept)
{
  if (shutdown(kept->fd, SHUT_RD) != 0) df_sim_kept_forget(kept);
}

int
df_sim_listener_open(struct df_loop *loop, int *port, int backlog, uv_connection_cb on_connection,
                     void *data, uv_tcp_t **out)
{
  struct df_sim_kept_port *kept = *port != 0 ? df_sim_kept_find(*port) : NULL;
  struct df_sim_listener *l;
  int fd;
  int rc;

  if (kept == NULL) {
    rc = df_sim_keep_port(*port, &kept);
    if (rc != 0) return rc;
  }
  if (listen(kept->fd, backlog) != 0) return df_error_from_errno(errno);
  fd = fcntl(kept->fd, F_DUPFD_CLOEXEC, 0);
  l = fd >= 0 ? malloc(sizeof(*l)) : NULL;
  if (l == NULL) {
    rc = fd < 0 ? df_error_from_errno(errno) : DF_ENOMEM;
    if (fd >= 0) close(fd);
    df_sim_kept_off(kept);
    return rc;
  }
  l->kept = kept;
  uv_tcp_init(&loop->uv, &l->tcp);
  l->tcp.data = data;
  rc = uv_tcp_open(&l->tcp, fd);
  if (rc != 0) close(fd);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&l->tcp, backlog, on_connection);
  if (rc != 0) {
    l->tcp.data = NULL;
    uv_close((uv_handle_t *)&l->tcp, df_sim_listener_free);
    df_sim_kept_off(kept);
    return df_error_from_uv(rc);
  }
  *port = kept->port;
  *out = &l->tcp;
  return 0;
}

void
df_sim_listener_close(uv_tcp_t **server)
{
  struct df_sim_listener *l = (struct df_sim_listener *)*server;

  if (l == NULL) return;
  l->tcp.data = NULL;
  /* Closes libuv's descriptor and stops its watcher now; the keeper's
   * socket is still listening until it is shut down. */
  uv_close((uv_handle_t *)&l->tcp, df_sim_listener_free);
  df_sim_kept_off(l->kept);
  *server = NULL;
}
