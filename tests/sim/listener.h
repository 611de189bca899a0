/* A TCP port on 127.0.0.1 that one of the simulated phone's protocol
 * servers listens on while the phone's mode has that protocol, and that
 * refuses connections (as a phone that is not there) otherwise. The port
 * stays bound to the sim the whole time, so no other process can take the
 * number between two modes; see listener.c for why refusing is the right
 * way to be off. The port number is learned on the first open (port 0: any
 * free port) and kept for every later open. */
#ifndef DF_SIM_LISTENER_H
#define DF_SIM_LISTENER_H

#include <uv.h>

#include "core/loop.h"

/* Listens on 127.0.0.1:*port (binding it on first use); *port gets the
 * bound number. The server's data is data. Returns 0 with *out set, or a
 * df error. */
int
df_sim_listener_open(struct df_loop *loop, int *port, int backlog, uv_connection_cb on_connection,
                     void *data, uv_tcp_t **out);

/* Stops listening on *server's port (if open) and sets *server to NULL:
 * connections are refused from now on, and ones the kernel had queued are
 * reset. The port stays bound until the process exits; the next
 * df_sim_listener_open of that number listens on it again. Its data is
 * cleared first, so a connection callback still queued sees NULL. */
void
df_sim_listener_close(uv_tcp_t **server);

#endif
