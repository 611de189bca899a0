/* Dispatch of the transport interface to its implementation. */
#include "core/transport.h"

int
df_transport_read_start(struct df_transport *t)
{
  return t->ops->read_start(t);
}

int
df_transport_read_stop(struct df_transport *t)
{
  return t->ops->read_stop(t);
}

int
df_transport_write(struct df_transport *t, const struct df_buf *bufs, size_t nbufs,
                   df_transport_write_cb cb, void *req_data)
{
  return t->ops->write(t, bufs, nbufs, cb, req_data);
}

size_t
df_transport_write_queue_size(const struct df_transport *t)
{
  return t->ops->write_queue_size(t);
}

void
df_transport_close(struct df_transport *t, df_transport_close_cb cb)
{
  t->ops->close(t, cb);
}
