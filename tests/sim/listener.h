/* A TCP port on 127.0.0.1 that one of the simulated phone's protocol
 * servers opens while the phone's mode has that protocol and closes
 * otherwise (connection refused, as from a phone that is not there). The
 * port number is learned on the first open (port 0: any free port) and kept
 * for every later open. */
#ifndef DF_SIM_LISTENER_H
#define DF_SIM_LISTENER_H

#include <uv.h>

#include "core/loop.h"

/* Binds and listens on 127.0.0.1:*port; *port gets the bound number.
 * The server's data is data. Returns 0 with *out set, or a df error. */
int
df_sim_listener_open(struct df_loop *loop, int *port, int backlog, uv_connection_cb on_connection,
                     void *data, uv_tcp_t **out);

/* Closes *server (if open) and sets it to NULL; its data is cleared first,
 * so a connection callback still queued sees NULL. */
void
df_sim_listener_close(uv_tcp_t **server);

#endif
