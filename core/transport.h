/* One interface for a byte pipe to a phone, with two implementations:
 * TCP (core/transport_tcp.c, on uv_tcp) and USB (core/transport_usb.c, on
 * libusb bulk endpoints driven from the loop).
 *
 * Rules every implementation keeps:
 * - If a function that takes a callback returns an error, the callback is
 *   never called.
 * - on_read hands over bytes valid only during the call. Over USB one call is
 *   one bulk IN transfer, so message boundaries survive (fastboot needs them);
 *   over TCP calls split the stream anywhere.
 * - Back-pressure: a writer waits for its write callback before queuing more
 *   (df_transport_write_queue_size tells how much is in flight), and a slow
 *   reader calls df_transport_read_stop until it has room again. Nothing in a
 *   transport buffers without bound.
 * - on_gone is called at most once, when the pipe breaks or the peer closes
 *   (DF_EEOF). Transports never log failures; they report them.
 * - Memory of a transport is freed only after its close callback. */
#ifndef DF_CORE_TRANSPORT_H
#define DF_CORE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct df_transport;

struct df_buf {
  const void *base;
  size_t len;
};

struct df_transport_callbacks {
  void (*on_read)(void *userdata, const uint8_t *data, size_t len);
  void (*on_gone)(void *userdata, int err);
};

/* status is 0 or a df error; the buffers may be reused from here on. */
typedef void (*df_transport_write_cb)(void *req_data, int status);
typedef void (*df_transport_close_cb)(void *userdata);

struct df_transport_ops {
  const char *kind; /* "tcp" or "usb" */
  int (*read_start)(struct df_transport *t);
  int (*read_stop)(struct df_transport *t);
  int (*write)(struct df_transport *t, const struct df_buf *bufs, size_t nbufs,
               df_transport_write_cb cb, void *req_data);
  size_t (*write_queue_size)(const struct df_transport *t);
  void (*close)(struct df_transport *t, df_transport_close_cb cb);
};

struct df_transport {
  const struct df_transport_ops *ops;
  const struct df_transport_callbacks *callbacks;
  void *userdata;
  char description[96]; /* "tcp:127.0.0.1:5037", "usb:1-4 2717:ff48" */
  /* set by the implementation once on_gone was reported */
  int gone;
};

/* Starts delivering on_read calls. */
int
df_transport_read_start(struct df_transport *t);

/* Pauses on_read calls (back-pressure); df_transport_read_start resumes. */
int
df_transport_read_stop(struct df_transport *t);

/* Queues one write of the concatenation of bufs. The caller keeps the bytes
 * alive until cb. Over USB it is one bulk OUT transfer, ended with a
 * zero-length packet when its size is a multiple of wMaxPacketSize. */
int
df_transport_write(struct df_transport *t, const struct df_buf *bufs, size_t nbufs,
                   df_transport_write_cb cb, void *req_data);

/* Bytes queued for writing and not yet handed to the kernel or the device. */
size_t
df_transport_write_queue_size(const struct df_transport *t);

/* Closes the pipe; pending writes complete with DF_ECANCELED before cb.
 * cb(userdata) runs once the transport's memory is freed. Takes ownership. */
void
df_transport_close(struct df_transport *t, df_transport_close_cb cb);

#endif
