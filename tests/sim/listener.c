/* Opening and closing a protocol server's port on 127.0.0.1. */
#include "tests/sim/listener.h"

#include <stdlib.h>

#include "core/error.h"

static void
df_sim_listener_free(uv_handle_t *handle)
{
  free(handle);
}

int
df_sim_listener_open(struct df_loop *loop, int *port, int backlog, uv_connection_cb on_connection,
                     void *data, uv_tcp_t **out)
{
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int namelen = sizeof(bound);
  uv_tcp_t *server;
  int rc;

  server = malloc(sizeof(*server));
  if (server == NULL) return DF_ENOMEM;
  uv_tcp_init(&loop->uv, server);
  server->data = data;
  uv_ip4_addr("127.0.0.1", *port, &addr);
  rc = uv_tcp_bind(server, (const struct sockaddr *)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)server, backlog, on_connection);
  if (rc == 0) rc = uv_tcp_getsockname(server, (struct sockaddr *)&bound, &namelen);
  if (rc != 0) {
    server->data = NULL;
    uv_close((uv_handle_t *)server, df_sim_listener_free);
    return df_error_from_uv(rc);
  }
  *port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  *out = server;
  return 0;
}

void
df_sim_listener_close(uv_tcp_t **server)
{
  if (*server == NULL) return;
  (*server)->data = NULL;
  uv_close((uv_handle_t *)*server, df_sim_listener_free);
  *server = NULL;
}
