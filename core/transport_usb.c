/* The USB transport: a claimed adb or fastboot interface as a df_transport.
 * One asynchronous bulk IN transfer at a time, each completed one becoming one
 * on_read (message boundaries survive); one bulk OUT transfer per write, with
 * a zero-length packet when the length is a multiple of wMaxPacketSize, or
 * the rules of adb or fastboot once df_usb_transport_set_kind chose them.
 * Every libusb completion goes through the context's deferred queue (see
 * core/usb_private.h), so transport callbacks only run at the loop's top. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/usb_private.h"

/* One IN transfer's buffer. Fastboot answers are at most 256 bytes and adb
 * packets at most 1 MiB + header; a large buffer lets a device that sends big
 * bulk transfers (adb payloads, fastboot upload) finish one in one go. */
#define DF_USB_READ_SIZE (1024 * 1024)

enum df_usb_in_state {
  DF_USB_IN_IDLE,   /* nothing submitted */
  DF_USB_IN_FLIGHT, /* submitted to libusb */
  DF_USB_IN_QUEUED, /* finished, waiting in the deferred queue */
  DF_USB_IN_HELD,   /* finished with data while reading was stopped */
};

struct df_usb_transport;

/* One df_transport_write: one bulk transfer, or one per buffer when the
 * buffers go apart (adb). Its callback runs once libusb gave all back. */
struct df_usb_write {
  struct df_usb_deferred node; /* first */
  struct df_usb_transport *owner;
  struct df_usb_write *next;
  df_transport_write_cb cb;
  void *req_data;
  void *copy; /* the concatenation of several buffers, or NULL */
  size_t len;
  int submit_err; /* a later transfer of the write could not be submitted */
  int pending;    /* transfers libusb has not given back yet */
  int nxfers;
  struct libusb_transfer *xfers[];
};

struct df_usb_transport {
  struct df_transport base; /* first */
  struct df_usb *usb;
  libusb_device_handle *handle;
  uint8_t interface_number;
  uint8_t ep_in;
  uint8_t ep_out;
  int out_packet_size;
  int zero_packet;   /* end a transfer that fills its last packet with a ZLP */
  int buffers_apart; /* each buffer of a write is a transfer of its own */

  struct df_usb_deferred in_node;
  struct libusb_transfer *in_xfer;
  uint8_t *in_buf;
  enum df_usb_in_state in_state;
  int reading;

  struct df_usb_write *writes; /* submitted, callback not yet called */
  size_t write_bytes;

  int gone_err;
  int closing;
  int close_queued;
  struct df_usb_deferred close_node;
  df_transport_close_cb close_cb;
};

static int df_usb_t_read_start(struct df_transport *t);
static int df_usb_t_read_stop(struct df_transport *t);
static int df_usb_t_write(struct df_transport *t, const struct df_buf *bufs, size_t nbufs,
                          df_transport_write_cb cb, void *req_data);
static size_t df_usb_t_write_queue_size(const struct df_transport *t);
static void df_usb_t_close(struct df_transport *t, df_transport_close_cb cb);

static const struct df_transport_ops df_usb_transport_ops = {
  .kind = "usb",
  .read_start = df_usb_t_read_start,
  .read_stop = df_usb_t_read_stop,
  .write = df_usb_t_write,
  .write_queue_size = df_usb_t_write_queue_size,
  .close = df_usb_t_close,
};

static int
df_usb_transfer_error(enum libusb_transfer_status status)
{
  switch (status) {
  case LIBUSB_TRANSFER_COMPLETED: return DF_OK;
  case LIBUSB_TRANSFER_CANCELLED: return DF_ECANCELED;
  case LIBUSB_TRANSFER_NO_DEVICE: return DF_ENODEV;
  case LIBUSB_TRANSFER_TIMED_OUT: return DF_ETIMEDOUT;
  default: return DF_EUSB; /* STALL, OVERFLOW, ERROR */
  }
}

/* The one place that decides the pipe is broken; reports it once. */
static void
df_usb_t_report_gone(struct df_usb_transport *t, int err)
{
  if (t->gone_err != 0) return;
  t->gone_err = err;
  t->reading = 0;
  if (t->closing) return;
  t->base.gone = 1;
  if (t->base.callbacks != NULL && t->base.callbacks->on_gone != NULL)
    t->base.callbacks->on_gone(t->base.userdata, err);
}

/* --- closing ------------------------------------------------------------- */

static void
df_usb_t_finish_close(struct df_usb_deferred *d)
{
  struct df_usb_transport *t =
    (struct df_usb_transport *)((char *)d - offsetof(struct df_usb_transport, close_node));
  df_transport_close_cb cb = t->close_cb;
  void *userdata = t->base.userdata;

  /* Errors are moot: the device may be gone, and the handle goes anyway. */
  libusb_release_interface(t->handle, t->interface_number);
  libusb_close(t->handle);
  libusb_free_transfer(t->in_xfer);
  free(t->in_buf);
  t->usb->open_transports--;
  free(t);
  if (cb != NULL) cb(userdata);
}

/* Closing ends once libusb has given back every transfer we submitted. */
static void
df_usb_t_maybe_finish_close(struct df_usb_transport *t)
{
  if (!t->closing || t->close_queued) return;
  if (t->in_state == DF_USB_IN_FLIGHT || t->in_state == DF_USB_IN_QUEUED) return;
  if (t->writes != NULL) return;
  t->close_queued = 1;
  df_usb_defer(t->usb, &t->close_node);
}

/* --- reading ------------------------------------------------------------- */

static int
df_usb_t_submit_in(struct df_usb_transport *t)
{
  int r = libusb_submit_transfer(t->in_xfer);

  if (r != 0) return df_usb_error_from_libusb(r);
  t->in_state = DF_USB_IN_FLIGHT;
  df_usb_timeouts_changed(t->usb);
  return DF_OK;
}

static void
df_usb_t_run_in(struct df_usb_deferred *d)
{
  struct df_usb_transport *t =
    (struct df_usb_transport *)((char *)d - offsetof(struct df_usb_transport, in_node));
  struct libusb_transfer *x = t->in_xfer;
  int err;

  t->in_state = DF_USB_IN_IDLE;
  if (t->closing) {
    df_usb_t_maybe_finish_close(t);
    return;
  }
  err = df_usb_transfer_error(x->status);
  if (err != 0) {
    df_usb_t_report_gone(t, err);
    return;
  }
  if (!t->reading) {
    if (x->actual_length > 0) t->in_state = DF_USB_IN_HELD;
    return;
  }
  /* A zero-length packet carries no message for adb or fastboot. */
  if (x->actual_length > 0 && t->base.callbacks != NULL && t->base.callbacks->on_read != NULL)
    t->base.callbacks->on_read(t->base.userdata, x->buffer, (size_t)x->actual_length);
  /* on_read may have stopped, restarted (and so resubmitted) or closed. */
  if (t->reading && !t->closing && t->gone_err == 0 && t->in_state == DF_USB_IN_IDLE) {
    err = df_usb_t_submit_in(t);
    if (err != 0) df_usb_t_report_gone(t, err);
  }
}

static void LIBUSB_CALL
df_usb_t_on_in_done(struct libusb_transfer *x)
{
  struct df_usb_transport *t = x->user_data;

  t->in_state = DF_USB_IN_QUEUED;
  df_usb_defer(t->usb, &t->in_node);
}

static int
df_usb_t_read_start(struct df_transport *base)
{
  struct df_usb_transport *t = (struct df_usb_transport *)base;

  if (t->closing) return DF_EINVAL;
  if (t->gone_err != 0) return t->gone_err;
  t->reading = 1;
  switch (t->in_state) {
  case DF_USB_IN_IDLE:
    return df_usb_t_submit_in(t);
  case DF_USB_IN_HELD:
    /* Deliver what arrived while stopped, from the loop, not from here. */
    t->in_state = DF_USB_IN_QUEUED;
    df_usb_defer(t->usb, &t->in_node);
    return DF_OK;
  default:
    return DF_OK;
  }
}

/* The transfer in flight stays in flight (cancelling could lose its data);
 * if it completes, its bytes wait, bounded by one buffer, for read_start. */
static int
df_usb_t_read_stop(struct df_transport *base)
{
  struct df_usb_transport *t = (struct df_usb_transport *)base;

  t->reading = 0;
  return DF_OK;
}

/* --- writing ------------------------------------------------------------- */

static void
df_usb_t_unlink_write(struct df_usb_transport *t, struct df_usb_write *w)
{
  struct df_usb_write **pw;

  for (pw = &t->writes; *pw != NULL; pw = &(*pw)->next) {
    if (*pw == w) {
      *pw = w->next;
      break;
    }
  }
  t->write_bytes -= w->len;
}

static void
df_usb_t_run_write(struct df_usb_deferred *d)
{
  struct df_usb_write *w = (struct df_usb_write *)d;
  struct df_usb_transport *t = w->owner;
  int err = w->submit_err;

  for (int i = 0; i < w->nxfers && err == 0; i++) {
    struct libusb_transfer *x = w->xfers[i];
    err = df_usb_transfer_error(x->status);
    if (err == 0 && x->actual_length != x->length) err = DF_EUSB; /* short OUT: not expected */
  }
  df_usb_t_unlink_write(t, w);
  if (err != 0 && err != DF_ECANCELED) df_usb_t_report_gone(t, err);
  if (w->cb != NULL) w->cb(w->req_data, err);
  for (int i = 0; i < w->nxfers; i++) libusb_free_transfer(w->xfers[i]);
  free(w->copy);
  free(w);
  df_usb_t_maybe_finish_close(t);
}

static void LIBUSB_CALL
df_usb_t_on_out_done(struct libusb_transfer *x)
{
  struct df_usb_write *w = x->user_data;

  if (--w->pending == 0) df_usb_defer(w->owner->usb, &w->node);
}

static void
df_usb_t_free_write(struct df_usb_write *w)
{
  for (int i = 0; i < w->nxfers; i++) libusb_free_transfer(w->xfers[i]);
  free(w->copy);
  free(w);
}

/* Fills transfer i of w with len bytes at data. */
static int
df_usb_t_fill_out(struct df_usb_transport *t, struct df_usb_write *w, int i, unsigned char *data,
                  size_t len)
{
  struct libusb_transfer *x = libusb_alloc_transfer(0);

  if (x == NULL) return DF_ENOMEM;
  w->xfers[i] = x;
  libusb_fill_bulk_transfer(x, t->handle, t->ep_out, data, (int)len, df_usb_t_on_out_done, w, 0);
  /* The device reads until a short packet: a transfer that fills its last
   * packet exactly needs a zero-length one to end it. Every libusb 1.0.26
   * backend honours the flag (usbfs, WinUSB, UsbDk, Darwin, the BSDs). */
  if (t->zero_packet && len > 0 && t->out_packet_size > 0 && len % (size_t)t->out_packet_size == 0)
    x->flags |= LIBUSB_TRANSFER_ADD_ZERO_PACKET;
  return DF_OK;
}

static int
df_usb_t_write(struct df_transport *base, const struct df_buf *bufs, size_t nbufs,
               df_transport_write_cb cb, void *req_data)
{
  struct df_usb_transport *t = (struct df_usb_transport *)base;
  struct df_usb_write *w;
  size_t len = 0, nonempty = 0;
  int nxfers = 1, r = 0;

  if (t->closing || (bufs == NULL && nbufs > 0)) return DF_EINVAL;
  if (t->gone_err != 0) return t->gone_err;
  for (size_t i = 0; i < nbufs; i++) {
    if (bufs[i].len > (size_t)INT_MAX - len) return DF_ETOOBIG; /* libusb lengths are int */
    len += bufs[i].len;
    if (bufs[i].len > 0) nonempty++;
  }
  if (t->buffers_apart && nonempty > 1) {
    if (nonempty > 64) return DF_ETOOBIG;
    nxfers = (int)nonempty;
  }
  w = calloc(1, sizeof(*w) + (size_t)nxfers * sizeof(w->xfers[0]));
  if (w == NULL) return DF_ENOMEM;
  w->node.run = df_usb_t_run_write;
  w->owner = t;
  w->cb = cb;
  w->req_data = req_data;
  w->len = len;
  w->nxfers = nxfers;
  /* libusb only reads an OUT buffer, so the caller's bytes go as they are
   * unless several must become one transfer. */
  if (nxfers > 1) {
    int k = 0;
    for (size_t i = 0; i < nbufs && r == 0; i++)
      if (bufs[i].len > 0)
        r = df_usb_t_fill_out(t, w, k++, (unsigned char *)bufs[i].base, bufs[i].len);
  } else if (nonempty <= 1) {
    unsigned char *data = NULL;
    for (size_t i = 0; i < nbufs; i++)
      if (bufs[i].len > 0 || data == NULL) data = (unsigned char *)bufs[i].base;
    r = df_usb_t_fill_out(t, w, 0, data, len);
  } else {
    size_t off = 0;
    w->copy = malloc(len);
    r = w->copy == NULL ? DF_ENOMEM : DF_OK;
    for (size_t i = 0; i < nbufs && r == 0; i++) {
      memcpy((char *)w->copy + off, bufs[i].base, bufs[i].len);
      off += bufs[i].len;
    }
    if (r == 0) r = df_usb_t_fill_out(t, w, 0, w->copy, len);
  }
  if (r != 0) {
    df_usb_t_free_write(w);
    return r;
  }
  for (int i = 0; i < nxfers; i++) {
    r = libusb_submit_transfer(w->xfers[i]);
    if (r == 0) {
      w->pending++;
      continue;
    }
    if (i == 0) {
      df_usb_t_free_write(w);
      return df_usb_error_from_libusb(r);
    }
    /* Part of the write is on its way and cannot be taken back: the pipe
     * is broken, which the write's callback reports once the rest is back. */
    w->submit_err = df_usb_error_from_libusb(r);
    for (int j = 0; j < i; j++) libusb_cancel_transfer(w->xfers[j]);
    break;
  }
  df_usb_timeouts_changed(t->usb);
  w->next = t->writes;
  t->writes = w;
  t->write_bytes += len;
  return DF_OK;
}

/* Bytes handed to libusb whose transfer has not completed: over USB nothing
 * is buffered in the transport itself. */
static size_t
df_usb_t_write_queue_size(const struct df_transport *base)
{
  const struct df_usb_transport *t = (const struct df_usb_transport *)base;

  return t->write_bytes;
}

static void
df_usb_t_close(struct df_transport *base, df_transport_close_cb cb)
{
  struct df_usb_transport *t = (struct df_usb_transport *)base;
  struct df_usb_write *w;

  if (t->closing) return;
  t->closing = 1;
  t->reading = 0;
  t->close_cb = cb;
  /* Each cancelled transfer still comes back through its callback, with
   * LIBUSB_TRANSFER_CANCELLED (writes report DF_ECANCELED); a transfer that
   * cannot be cancelled any more is already on its way back. */
  if (t->in_state == DF_USB_IN_FLIGHT) libusb_cancel_transfer(t->in_xfer);
  if (t->in_state == DF_USB_IN_HELD) t->in_state = DF_USB_IN_IDLE;
  for (w = t->writes; w != NULL; w = w->next)
    for (int i = 0; i < w->nxfers; i++) libusb_cancel_transfer(w->xfers[i]);
  df_usb_t_maybe_finish_close(t);
}

/* --- opening ------------------------------------------------------------- */

/* Finds the bulk endpoints and the OUT packet size of one interface. */
static int
df_usb_find_endpoints(libusb_device *dev, uint8_t number, uint8_t *ep_in, uint8_t *ep_out,
                      int *out_packet_size)
{
  struct libusb_config_descriptor *cfg;
  int found = DF_ENODEV;

  if (libusb_get_active_config_descriptor(dev, &cfg) != 0) return DF_ENODEV;
  for (int i = 0; i < cfg->bNumInterfaces && found != DF_OK; i++) {
    const struct libusb_interface *itf = &cfg->interface[i];
    const struct libusb_interface_descriptor *alt;
    enum df_usb_kind kind;

    if (itf->num_altsetting < 1) continue;
    alt = &itf->altsetting[0];
    if (alt->bInterfaceNumber != number) continue;
    /* The device behind bus/address may have changed since it was reported. */
    if (!df_usb_match_interface(alt->bInterfaceClass, alt->bInterfaceSubClass,
                                alt->bInterfaceProtocol, &kind))
      break;
    *ep_in = *ep_out = 0;
    for (int e = 0; e < alt->bNumEndpoints; e++) {
      const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
      if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK) continue;
      if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
        if (*ep_in == 0) *ep_in = ep->bEndpointAddress;
      } else if (*ep_out == 0) {
        *ep_out = ep->bEndpointAddress;
        *out_packet_size = ep->wMaxPacketSize & 0x7ff;
      }
    }
    found = (*ep_in != 0 && *ep_out != 0) ? DF_OK : DF_EUSB;
  }
  libusb_free_config_descriptor(cfg);
  return found;
}

int
df_usb_open(struct df_usb *usb, const struct df_usb_device_info *info,
            const struct df_transport_callbacks *cbs, void *userdata,
            struct df_transport **out)
{
  struct df_usb_transport *t;
  libusb_device *dev;
  libusb_device_handle *h;
  uint8_t ep_in = 0, ep_out = 0;
  int packet = 0, r, err;

  if (usb == NULL || info == NULL || out == NULL) return DF_EINVAL;
  dev = df_usb_find_device(usb, info->bus, info->address);
  if (dev == NULL) return DF_ENODEV;
  err = df_usb_find_endpoints(dev, info->interface_number, &ep_in, &ep_out, &packet);
  if (err != 0) {
    libusb_unref_device(dev);
    return err;
  }
  r = libusb_open(dev, &h);
  libusb_unref_device(dev); /* the handle holds its own reference */
  if (r != 0) return df_usb_error_from_libusb(r);
  /* Where a kernel driver sits on the interface, let libusb move it aside
   * and back; where the platform cannot, claiming says so. */
  libusb_set_auto_detach_kernel_driver(h, 1);
  r = libusb_claim_interface(h, info->interface_number);
  if (r != 0) {
    libusb_close(h);
    return df_usb_error_from_libusb(r);
  }
  t = calloc(1, sizeof(*t));
  if (t != NULL) {
    t->in_buf = malloc(DF_USB_READ_SIZE);
    t->in_xfer = libusb_alloc_transfer(0);
  }
  if (t == NULL || t->in_buf == NULL || t->in_xfer == NULL) {
    if (t != NULL) {
      libusb_free_transfer(t->in_xfer);
      free(t->in_buf);
      free(t);
    }
    libusb_release_interface(h, info->interface_number);
    libusb_close(h);
    return DF_ENOMEM;
  }
  t->base.ops = &df_usb_transport_ops;
  t->base.callbacks = cbs;
  t->base.userdata = userdata;
  snprintf(t->base.description, sizeof(t->base.description), "usb:%s %04x:%04x",
           info->port_path[0] != '\0' ? info->port_path : "?", info->vid, info->pid);
  t->usb = usb;
  t->handle = h;
  t->interface_number = info->interface_number;
  t->ep_in = ep_in;
  t->ep_out = ep_out;
  t->out_packet_size = packet;
  t->zero_packet = 1;
  t->in_node.run = df_usb_t_run_in;
  t->close_node.run = df_usb_t_finish_close;
  libusb_fill_bulk_transfer(t->in_xfer, h, ep_in, t->in_buf, DF_USB_READ_SIZE,
                            df_usb_t_on_in_done, t, 0);
  usb->open_transports++;
  *out = &t->base;
  return DF_OK;
}

void
df_usb_transport_set_kind(struct df_transport *base, enum df_usb_kind kind)
{
  struct df_usb_transport *t = (struct df_usb_transport *)base;

  if (base == NULL || base->ops != &df_usb_transport_ops) return;
  t->buffers_apart = kind == DF_USB_ADB;
  t->zero_packet = kind == DF_USB_ADB;
}
