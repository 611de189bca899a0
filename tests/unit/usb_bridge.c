/* Fake USB phones under umockdev: the usbfs side of a device, and a bridge
 * from its bulk endpoints to droidfix-sim's TCP ports (see usb_bridge.h). */
#include "tests/unit/usb_bridge.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* DF_USB_BRIDGE_TRACE=1 prints each transfer, for debugging a test. */
static void
trace(const char *what, const void *data, size_t len)
{
  static int on = -1;
  char text[40];
  size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

  if (on < 0) on = getenv("DF_USB_BRIDGE_TRACE") != NULL;
  if (!on) return;
  for (size_t i = 0; i < n; i++) {
    char c = ((const char *)data)[i];
    text[i] = c >= 32 && c < 127 ? c : '.';
  }
  text[n] = '\0';
  fprintf(stderr, "usb_bridge[%d]: %s %zu [%s]\n", (int)getpid(), what, len, text);
}

/* ---- the device ---------------------------------------------------------- */

/* A URB the handler holds until its client reaps it. */
struct df_test_urb {
  UMockdevIoctlClient *client; /* referenced: URBs belong to one open file */
  UMockdevIoctlData *urb_data; /* the client's struct usbdevfs_urb */
  UMockdevIoctlData *buf_data; /* its buffer, resolved at submit; NULL if empty */
  GBytes *reply;               /* copied into the buffer when reaped */
  int status;
  bool is_control;
};

struct df_test_usb_dev {
  struct df_test_usb_dev_desc desc;
  char *syspath, *serial;
  char devnode[64];
  UMockdevIoctlBase *handler;
  const struct df_test_usb_dev_ops *ops;
  void *ctx;

  GMutex lock; /* everything below */
  GList *in_waiting; /* bulk IN URBs with no data yet */
  GList *done;       /* ready to reap */
  GList *discarded;  /* reaped with -ENOENT */
  GList *held_out;   /* OUT URBs given back only after the next IN one */
  bool hold_this_out; /* set by the ops during out: hold that URB */
  unsigned long in_given; /* IN URBs given data so far */
  GQueue replies;    /* GBytes waiting for a bulk IN transfer */
  /* a synchronous USBDEVFS_BULK IN waiting for data */
  UMockdevIoctlClient *bulk_client;
  UMockdevIoctlData *bulk_data, *bulk_buf;
  size_t bulk_len;
  bool unplugged;
  struct df_test_usb_stats stats; /* this layer fills the transfer counts */
};

static void
urb_free(struct df_test_urb *u)
{
  if (u->reply != NULL) g_bytes_unref(u->reply);
  if (u->buf_data != NULL) umockdev_ioctl_data_unref(u->buf_data);
  umockdev_ioctl_data_unref(u->urb_data);
  g_object_unref(u->client);
  g_free(u);
}

/* The next len bytes at most of the first queued reply (the rest stays
 * queued). Caller holds the lock and knows the queue is not empty. */
static GBytes *
take_reply(struct df_test_usb_dev *d, size_t len)
{
  GBytes *b = g_queue_pop_head(&d->replies);
  size_t have = g_bytes_get_size(b);

  if (have > len && len > 0) {
    g_queue_push_head(&d->replies, g_bytes_new_from_bytes(b, len, have - len));
    GBytes *cut = g_bytes_new_from_bytes(b, 0, len);
    g_bytes_unref(b);
    b = cut;
  }
  return b;
}

/* Gives queued data to waiting IN transfers. Caller holds the lock. */
static void
match_in(struct df_test_usb_dev *d)
{
  while (d->in_waiting != NULL && !g_queue_is_empty(&d->replies)) {
    struct df_test_urb *u = d->in_waiting->data;
    struct usbdevfs_urb *urb = (struct usbdevfs_urb *)u->urb_data->data;
    d->in_waiting = g_list_delete_link(d->in_waiting, d->in_waiting);
    u->reply = take_reply(d, (size_t)urb->buffer_length);
    d->in_given++;
    d->done = g_list_append(d->done, u);
    d->done = g_list_concat(d->done, d->held_out);
    d->held_out = NULL;
  }
  if (d->bulk_client != NULL && !g_queue_is_empty(&d->replies)) {
    GBytes *b = take_reply(d, d->bulk_len);
    size_t n = g_bytes_get_size(b);
    memcpy(d->bulk_buf->data, g_bytes_get_data(b, NULL), n);
    g_bytes_unref(b);
    d->stats.in_transfers++;
    d->stats.bytes_in += n;
    umockdev_ioctl_client_complete(d->bulk_client, (long)n, 0);
    g_object_unref(d->bulk_client);
    umockdev_ioctl_data_unref(d->bulk_buf);
    umockdev_ioctl_data_unref(d->bulk_data);
    d->bulk_client = NULL;
  }
}

static void
fail_parked_bulk(struct df_test_usb_dev *d)
{
  if (d->bulk_client == NULL) return;
  umockdev_ioctl_client_complete(d->bulk_client, -1, ENODEV);
  g_object_unref(d->bulk_client);
  umockdev_ioctl_data_unref(d->bulk_buf);
  umockdev_ioctl_data_unref(d->bulk_data);
  d->bulk_client = NULL;
}

void
df_test_usb_dev_send(struct df_test_usb_dev *d, const void *data, size_t len)
{
  trace("IN", data, len);
  g_mutex_lock(&d->lock);
  g_queue_push_tail(&d->replies, g_bytes_new(data, len));
  match_in(d);
  g_mutex_unlock(&d->lock);
}

void
df_test_usb_dev_unplug(struct df_test_usb_dev *d)
{
  g_mutex_lock(&d->lock);
  d->unplugged = true;
  fail_parked_bulk(d);
  g_mutex_unlock(&d->lock);
}

void
df_test_usb_dev_replug(struct df_test_usb_dev *d)
{
  GBytes *b;

  g_mutex_lock(&d->lock);
  d->unplugged = false;
  while ((b = g_queue_pop_head(&d->replies)) != NULL) g_bytes_unref(b);
  g_mutex_unlock(&d->lock);
}

static GBytes *
string_descriptor(const struct df_test_usb_dev *d, uint8_t index)
{
  static const uint8_t langs[] = {4, 3, 0x09, 0x04}; /* en-US */
  uint8_t buf[256];
  size_t n;

  if (index == 0) return g_bytes_new(langs, sizeof(langs));
  if (index != 3 || d->serial == NULL) return NULL;
  n = strlen(d->serial);
  if (n > 126) n = 126;
  buf[0] = (uint8_t)(2 + 2 * n);
  buf[1] = 3;
  for (size_t i = 0; i < n; i++) {
    buf[2 + 2 * i] = (uint8_t)d->serial[i];
    buf[3 + 2 * i] = 0;
  }
  return g_bytes_new(buf, 2 + 2 * n);
}

/* One bulk OUT transfer reaches the device: counted, then the ops. */
static int
dev_out(struct df_test_usb_dev *d, const uint8_t *data, size_t len, bool zero_packet_flag)
{
  bool zlp_after = zero_packet_flag && len > 0 && len % DF_TEST_USB_PACKET == 0;

  trace(zero_packet_flag ? "OUT+zlp-flag" : "OUT", data, len);
  g_mutex_lock(&d->lock);
  if (len > 0) d->stats.out_transfers++;
  d->stats.bytes_out += len;
  d->stats.zero_packets += (len == 0) + zlp_after;
  g_mutex_unlock(&d->lock);
  return d->ops != NULL && d->ops->out != NULL ? d->ops->out(d->ctx, data, len, zlp_after) : 0;
}

static void
dev_submit(struct df_test_usb_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  UMockdevIoctlData *urb_data =
    umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
  struct usbdevfs_urb *urb = (struct usbdevfs_urb *)urb_data->data;
  struct df_test_urb *u = g_new0(struct df_test_urb, 1);

  u->client = g_object_ref(client);
  u->urb_data = urb_data;
  /* Resolving the buffer makes urb->buffer point at umockdev's copy, which
   * goes back to the client when the URB is reaped. An OUT or control URB
   * is read now; a bulk IN one is resolved at reap, for the length of the
   * answer only (droidfix reads into 1 MiB buffers: copying each whole
   * one both ways made every transfer slow). */
  if (urb->buffer_length > 0 &&
      !(urb->type == USBDEVFS_URB_TYPE_BULK && (urb->endpoint & 0x80) != 0))
    u->buf_data = umockdev_ioctl_data_resolve(urb_data, offsetof(struct usbdevfs_urb, buffer),
                                              (gsize)urb->buffer_length, NULL);
  g_mutex_lock(&d->lock);
  if (d->unplugged) {
    g_mutex_unlock(&d->lock);
    urb_free(u);
    umockdev_ioctl_client_complete(client, -1, ENODEV);
    return;
  }
  if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
    const uint8_t *setup = u->buf_data->data;
    u->is_control = true;
    /* GET_DESCRIPTOR(STRING) is all libusb asks for; others stall. */
    if (setup[0] == 0x80 && setup[1] == 6 && setup[3] == 3)
      u->reply = string_descriptor(d, setup[2]);
    if (u->reply == NULL) {
      u->status = -EPIPE;
    } else {
      size_t want = (size_t)(setup[6] | setup[7] << 8), have = g_bytes_get_size(u->reply);
      if (have > want) {
        GBytes *cut = g_bytes_new_from_bytes(u->reply, 0, want);
        g_bytes_unref(u->reply);
        u->reply = cut;
      }
    }
    d->done = g_list_append(d->done, u);
  } else if (urb->endpoint & 0x80) {
    d->in_waiting = g_list_append(d->in_waiting, u);
    match_in(d);
  } else {
    int err;
    unsigned long in_given = d->in_given;
    /* A device's OUT transfer completes when it took the data, before it
     * can answer it: so the URB is done before the data goes on. Nothing
     * reaps it before this ioctl completes (umockdev runs one at a time). */
    d->done = g_list_append(d->done, u);
    d->hold_this_out = false;
    g_mutex_unlock(&d->lock);
    err = dev_out(d, u->buf_data != NULL ? u->buf_data->data : NULL, (size_t)urb->buffer_length,
                  (urb->flags & USBDEVFS_URB_ZERO_PACKET) != 0);
    g_mutex_lock(&d->lock);
    u->status = -err;
    if (d->hold_this_out) {
      /* Behind the answer: after it if it came meanwhile, else until it does. */
      d->done = g_list_remove(d->done, u);
      if (d->in_given != in_given)
        d->done = g_list_append(d->done, u);
      else
        d->held_out = g_list_append(d->held_out, u);
    }
  }
  g_mutex_unlock(&d->lock);
  umockdev_ioctl_client_complete(client, 0, 0);
}

/* The first URB of client in *list, unlinked, or NULL. */
static struct df_test_urb *
take_urb(GList **list, UMockdevIoctlClient *client)
{
  for (GList *l = *list; l != NULL; l = l->next) {
    struct df_test_urb *u = l->data;
    if (u->client == client) {
      *list = g_list_delete_link(*list, l);
      return u;
    }
  }
  return NULL;
}

static void
dev_reap(struct df_test_usb_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  struct df_test_urb *u;
  struct usbdevfs_urb *urb;
  UMockdevIoctlData *ptr;

  g_mutex_lock(&d->lock);
  if ((u = take_urb(&d->discarded, client)) != NULL) {
    u->status = -ENOENT;
  } else if ((u = take_urb(&d->done, client)) != NULL) {
  } else if (d->unplugged && (u = take_urb(&d->in_waiting, client)) != NULL) {
    u->status = -ENODEV;
  }
  if (u == NULL) {
    bool gone = d->unplugged;
    g_mutex_unlock(&d->lock);
    umockdev_ioctl_client_complete(client, -1, gone ? ENODEV : EAGAIN);
    return;
  }
  urb = (struct usbdevfs_urb *)u->urb_data->data;
  urb->status = u->status;
  urb->actual_length = 0;
  if (u->status == 0) {
    if (u->reply != NULL) {
      size_t n = g_bytes_get_size(u->reply);
      if (u->buf_data == NULL && n > 0)
        u->buf_data =
          umockdev_ioctl_data_resolve(u->urb_data, offsetof(struct usbdevfs_urb, buffer), n, NULL);
      memcpy((uint8_t *)u->buf_data->data + (u->is_control ? 8 : 0),
             g_bytes_get_data(u->reply, NULL), n);
      urb->actual_length = (int)n;
      if (!u->is_control) {
        d->stats.in_transfers++;
        d->stats.bytes_in += n;
      }
    } else if (!(urb->endpoint & 0x80)) {
      urb->actual_length = urb->buffer_length; /* an OUT URB: all taken */
    }
  }
  ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
  umockdev_ioctl_data_set_ptr(ptr, 0, u->urb_data);
  umockdev_ioctl_data_unref(ptr);
  urb_free(u);
  g_mutex_unlock(&d->lock);
  umockdev_ioctl_client_complete(client, 0, 0);
}

static gint
cmp_client_addr(gconstpointer a, gconstpointer b)
{
  const struct df_test_urb *u = a;
  return u->urb_data->client_addr != (gulong)b;
}

static void
dev_discard(struct df_test_usb_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  void *addr = *(void **)arg->data;
  GList *l;

  g_mutex_lock(&d->lock);
  l = g_list_find_custom(d->in_waiting, addr, cmp_client_addr);
  if (l != NULL) {
    d->discarded = g_list_append(d->discarded, l->data);
    d->in_waiting = g_list_delete_link(d->in_waiting, l);
  }
  g_mutex_unlock(&d->lock);
  /* OUT URBs complete at submit: too late to discard those. */
  umockdev_ioctl_client_complete(client, l != NULL ? 0 : -1, l != NULL ? 0 : EINVAL);
}

/* USBDEVFS_BULK: one synchronous transfer (Google's fastboot). An IN one
 * waits for data without blocking umockdev's thread: it is completed when
 * data comes. */
static void
dev_bulk(struct df_test_usb_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  UMockdevIoctlData *bd =
    umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_bulktransfer), NULL);
  struct usbdevfs_bulktransfer *bt = (struct usbdevfs_bulktransfer *)bd->data;
  UMockdevIoctlData *buf = NULL;
  unsigned len = bt->len;
  int err;

  if (len > 0)
    buf = umockdev_ioctl_data_resolve(bd, offsetof(struct usbdevfs_bulktransfer, data), len, NULL);
  g_mutex_lock(&d->lock);
  d->stats.bulk_ioctls++;
  if (d->unplugged || (len > 0 && buf == NULL) || ((bt->ep & 0x80) && d->bulk_client != NULL)) {
    err = d->unplugged ? ENODEV : EINVAL;
    g_mutex_unlock(&d->lock);
    if (buf != NULL) umockdev_ioctl_data_unref(buf);
    umockdev_ioctl_data_unref(bd);
    umockdev_ioctl_client_complete(client, -1, err);
    return;
  }
  if (bt->ep & 0x80) {
    d->bulk_client = g_object_ref(client);
    d->bulk_data = bd;
    d->bulk_buf = buf;
    d->bulk_len = len;
    match_in(d);
    g_mutex_unlock(&d->lock);
    return;
  }
  g_mutex_unlock(&d->lock);
  err = dev_out(d, buf != NULL ? buf->data : NULL, len, false);
  if (buf != NULL) umockdev_ioctl_data_unref(buf);
  umockdev_ioctl_data_unref(bd);
  umockdev_ioctl_client_complete(client, err != 0 ? -1 : (long)len, err);
}

static unsigned
arg_uint(UMockdevIoctlData *arg)
{
  UMockdevIoctlData *v = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), NULL);
  unsigned n = *(unsigned *)v->data;
  umockdev_ioctl_data_unref(v);
  return n;
}

static gboolean
dev_handle_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
  struct df_test_usb_dev *d = user_data;
  gulong request = umockdev_ioctl_client_get_request(client);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
  int err;

  (void)handler;
  switch (request) {
  case USBDEVFS_GET_CAPABILITIES: {
    UMockdevIoctlData *caps = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
    *(guint32 *)caps->data = USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_BULK_CONTINUATION |
                             USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT |
                             USBDEVFS_CAP_ZERO_PACKET;
    umockdev_ioctl_data_unref(caps);
    umockdev_ioctl_client_complete(client, 0, 0);
    return TRUE;
  }
  case USBDEVFS_CLAIMINTERFACE:
  case USBDEVFS_DISCONNECT_CLAIM: { /* the interface number comes first in both */
    unsigned n = arg_uint(arg);
    err = d->ops != NULL && d->ops->claim != NULL ? d->ops->claim(d->ctx, n) : 0;
    g_mutex_lock(&d->lock);
    if (err == 0) d->stats.claims++;
    g_mutex_unlock(&d->lock);
    umockdev_ioctl_client_complete(client, err != 0 ? -1 : 0, err);
    return TRUE;
  }
  case USBDEVFS_RELEASEINTERFACE: {
    unsigned n = arg_uint(arg);
    if (d->ops != NULL && d->ops->release != NULL) d->ops->release(d->ctx, n);
    g_mutex_lock(&d->lock);
    d->stats.releases++;
    g_mutex_unlock(&d->lock);
    umockdev_ioctl_client_complete(client, 0, 0);
    return TRUE;
  }
  case USBDEVFS_GETDRIVER:
  case USBDEVFS_IOCTL: /* no kernel driver to detach or attach */
    umockdev_ioctl_client_complete(client, -1, ENODATA);
    return TRUE;
  case USBDEVFS_CLEAR_HALT:
  case USBDEVFS_RESET:
  case USBDEVFS_RESETEP:
  case USBDEVFS_SETINTERFACE:
  case USBDEVFS_SETCONFIGURATION:
    umockdev_ioctl_client_complete(client, 0, 0);
    return TRUE;
  case USBDEVFS_SUBMITURB:
    dev_submit(d, client, arg);
    return TRUE;
  case USBDEVFS_REAPURB:
  case USBDEVFS_REAPURBNDELAY:
    dev_reap(d, client, arg);
    return TRUE;
  case USBDEVFS_DISCARDURB:
    dev_discard(d, client, arg);
    return TRUE;
  case USBDEVFS_BULK:
    dev_bulk(d, client, arg);
    return TRUE;
  default:
    umockdev_ioctl_client_complete(client, -1, ENOTTY);
    return TRUE;
  }
}

/* Device descriptor plus one configuration whose interfaces each have a
 * bulk IN and a bulk OUT endpoint of 512 bytes, as uppercase hex (umockdev
 * wants it so for node contents). */
static void
descriptors_hex(const struct df_test_usb_dev_desc *desc, char *out)
{
  uint8_t b[512];
  size_t n, cfg_start;
  const uint8_t dev[18] = {18, 1, 0x00, 0x02, 0, 0, 0, 64, desc->vid & 0xff, desc->vid >> 8,
                           desc->pid & 0xff, desc->pid >> 8, 0x00, 0x01, 1, 2, 3, 1};
  const uint8_t cfg[9] = {9, 2, 0, 0, (uint8_t)desc->n_ifaces, 1, 0, 0x80, 250};

  memcpy(b, dev, sizeof(dev));
  n = sizeof(dev);
  cfg_start = n;
  memcpy(b + n, cfg, sizeof(cfg));
  n += sizeof(cfg);
  for (int i = 0; i < desc->n_ifaces; i++) {
    const uint8_t itf[9] = {9, 4, (uint8_t)i, 0, 2, desc->ifaces[i][0], desc->ifaces[i][1],
                            desc->ifaces[i][2], 0};
    const uint8_t ep_in[7] = {7, 5, (uint8_t)(0x81 + i), 2, DF_TEST_USB_PACKET & 0xff,
                              DF_TEST_USB_PACKET >> 8, 0};
    const uint8_t ep_out[7] = {7, 5, (uint8_t)(0x01 + i), 2, DF_TEST_USB_PACKET & 0xff,
                               DF_TEST_USB_PACKET >> 8, 0};
    memcpy(b + n, itf, 9);
    n += 9;
    memcpy(b + n, ep_in, 7);
    n += 7;
    memcpy(b + n, ep_out, 7);
    n += 7;
  }
  b[cfg_start + 2] = (uint8_t)((n - cfg_start) & 0xff);
  b[cfg_start + 3] = (uint8_t)((n - cfg_start) >> 8);
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02X", b[i]);
}

struct df_test_usb_dev *
df_test_usb_dev_new(UMockdevTestbed *tb, const struct df_test_usb_dev_desc *desc,
                    const struct df_test_usb_dev_ops *ops, void *ctx)
{
  struct df_test_usb_dev *d = g_new0(struct df_test_usb_dev, 1);
  char hex[1100], record[4096];
  GError *error = NULL;

  d->desc = *desc;
  d->syspath = g_strdup(desc->syspath);
  d->serial = desc->serial != NULL ? g_strdup(desc->serial) : NULL;
  d->ops = ops;
  d->ctx = ctx;
  g_mutex_init(&d->lock);
  g_queue_init(&d->replies);
  snprintf(d->devnode, sizeof(d->devnode), "/dev/bus/usb/001/%03d", desc->devnum);
  d->handler = umockdev_ioctl_base_new();
  g_signal_connect(d->handler, "handle-ioctl", G_CALLBACK(dev_handle_ioctl), d);
  if (!umockdev_testbed_attach_ioctl(tb, d->devnode, d->handler, &error)) {
    fprintf(stderr, "usb_bridge: cannot attach to %s: %s\n", d->devnode,
            error ? error->message : "?");
    abort();
  }
  descriptors_hex(desc, hex);
  /* The node's contents are the descriptors, as usbfs gives them to a
   * read(): Google's fastboot reads them so. */
  snprintf(record, sizeof(record),
           "P: %s\n"
           "N: bus/usb/001/%03d=%s\n"
           "E: SUBSYSTEM=usb\n"
           "E: DEVTYPE=usb_device\n"
           "E: DRIVER=usb\n"
           "E: BUSNUM=001\n"
           "E: DEVNUM=%03d\n"
           "E: DEVNAME=/dev/bus/usb/001/%03d\n"
           "A: busnum=1\\n\n"
           "A: devnum=%d\\n\n"
           "A: bConfigurationValue=1\\n\n"
           "A: speed=480\\n\n"
           "A: serial=%s\\n\n"
           "H: descriptors=%s\n",
           desc->syspath, desc->devnum, hex, desc->devnum, desc->devnum, desc->devnum,
           desc->serial != NULL ? desc->serial : "", hex);
  if (!umockdev_testbed_add_from_string(tb, record, &error)) {
    fprintf(stderr, "usb_bridge: cannot add %s: %s\n", desc->syspath, error ? error->message : "?");
    abort();
  }
  return d;
}

void
df_test_usb_dev_free(struct df_test_usb_dev *d)
{
  GBytes *b;

  if (d == NULL) return;
  GList **lists[] = {&d->in_waiting, &d->done, &d->discarded, &d->held_out};
  g_mutex_lock(&d->lock);
  for (size_t i = 0; i < 4; i++) {
    g_list_free_full(*lists[i], (GDestroyNotify)urb_free);
    *lists[i] = NULL;
  }
  while ((b = g_queue_pop_head(&d->replies)) != NULL) g_bytes_unref(b);
  fail_parked_bulk(d);
  g_mutex_unlock(&d->lock);
  g_object_unref(d->handler);
  g_mutex_clear(&d->lock);
  g_free(d->syspath);
  g_free(d->serial);
  g_free(d);
}

/* ---- the bridge ---------------------------------------------------------- */

#define ADB_HEADER 24
#define ADB_MAX_PAYLOAD (1024 * 1024)
#define FB_MAX_REPLY 4096
#define FB_MAX_COMMAND 4096

struct df_test_usb_bridge {
  struct df_test_usb_dev *dev;
  enum df_test_usb_proto proto;
  int port;
  unsigned interface_number; /* the adb or fastboot interface */
  /* the session; changed only on umockdev's thread (claim, release) or
   * once nothing runs any more (free) */
  int fd;
  pthread_t reader;
  bool reader_running;
  /* under dev->lock */
  bool closing;              /* the bridge itself ends the session */
  uint32_t adb_payload_left; /* 0: the next OUT transfer is a header */
  uint64_t fb_data_left;     /* download bytes still to come */
  uint64_t fb_data_total;
  bool fb_frame_due;         /* the download's frame header is not sent yet */
  bool reply_overtakes;      /* see df_test_usb_bridge_reply_overtakes_download */
};

static const uint32_t adb_commands[DF_TEST_ADB_OTHER] = {
  0x4e584e43, /* CNXN */
  0x48545541, /* AUTH */
  0x4e45504f, /* OPEN */
  0x59414b4f, /* OKAY */
  0x45534c43, /* CLSE */
  0x45545257, /* WRTE */
};

static uint32_t
le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int
adb_index(uint32_t command)
{
  for (int i = 0; i < DF_TEST_ADB_OTHER; i++)
    if (adb_commands[i] == command) return i;
  return DF_TEST_ADB_OTHER;
}

/* Caller holds dev->lock. */
static void
violation(struct df_test_usb_bridge *b, const char *fmt, ...)
{
  struct df_test_usb_stats *s = &b->dev->stats;
  va_list ap;

  if (s->violations++ > 0) return;
  va_start(ap, fmt);
  vsnprintf(s->first_violation, sizeof(s->first_violation), fmt, ap);
  va_end(ap);
}

static bool
read_full(int fd, void *buf, size_t len)
{
  size_t have = 0;

  while (have < len) {
    ssize_t n = recv(fd, (char *)buf + have, len - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    have += (size_t)n;
  }
  return true;
}

static bool
write_full(int fd, const void *buf, size_t len)
{
  size_t done = 0;

  while (done < len) {
    ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += (size_t)n;
  }
  return true;
}

/* What the sim sends, cut into IN transfers as a phone cuts them. */
static void *
bridge_reader(void *arg)
{
  struct df_test_usb_bridge *b = arg;
  struct df_test_usb_dev *d = b->dev;
  uint8_t *buf = malloc(ADB_MAX_PAYLOAD > FB_MAX_REPLY ? ADB_MAX_PAYLOAD : FB_MAX_REPLY);
  bool closing;

  for (;;) {
    if (b->proto == DF_TEST_USB_ADB) {
      uint8_t h[ADB_HEADER];
      uint32_t len;
      if (!read_full(b->fd, h, sizeof(h))) break;
      len = le32(h + 12);
      g_mutex_lock(&d->lock);
      d->stats.adb_in[adb_index(le32(h))]++;
      g_mutex_unlock(&d->lock);
      df_test_usb_dev_send(d, h, sizeof(h));
      if (len > ADB_MAX_PAYLOAD || !read_full(b->fd, buf, len)) break;
      if (len > 0) df_test_usb_dev_send(d, buf, len);
    } else {
      uint8_t h[8];
      uint64_t len = 0;
      if (!read_full(b->fd, h, sizeof(h))) break;
      for (int i = 0; i < 8; i++) len = len << 8 | h[i];
      if (len > FB_MAX_REPLY || !read_full(b->fd, buf, (size_t)len)) break;
      if (len >= 12 && memcmp(buf, "DATA", 4) == 0) {
        char hex[9];
        memcpy(hex, buf + 4, 8);
        hex[8] = '\0';
        g_mutex_lock(&d->lock);
        b->fb_data_left = b->fb_data_total = strtoull(hex, NULL, 16);
        b->fb_frame_due = true;
        g_mutex_unlock(&d->lock);
      }
      df_test_usb_dev_send(d, buf, (size_t)len);
    }
  }
  free(buf);
  trace("sim closed", "", 0);
  g_mutex_lock(&d->lock);
  closing = b->closing;
  if (!closing) d->stats.sim_closed++;
  g_mutex_unlock(&d->lock);
  /* The phone went away (it rebooted): so does the USB device. */
  if (!closing) df_test_usb_dev_unplug(d);
  return NULL;
}

static void
bridge_disconnect(struct df_test_usb_bridge *b)
{
  if (b->fd < 0) return;
  g_mutex_lock(&b->dev->lock);
  b->closing = true;
  g_mutex_unlock(&b->dev->lock);
  shutdown(b->fd, SHUT_RDWR);
  if (b->reader_running) pthread_join(b->reader, NULL);
  b->reader_running = false;
  close(b->fd);
  b->fd = -1;
  g_mutex_lock(&b->dev->lock);
  b->closing = false;
  g_mutex_unlock(&b->dev->lock);
}

static int
bridge_connect(struct df_test_usb_bridge *b)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  char hello[4];

  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  /* fastboot over TCP opens with "FB01" both ways; USB has no handshake. */
  if (b->proto == DF_TEST_USB_FASTBOOT &&
      (!write_full(fd, "FB01", 4) || !read_full(fd, hello, 4) || memcmp(hello, "FB", 2) != 0)) {
    close(fd);
    return -1;
  }
  return fd;
}

static int
bridge_claim(void *ctx, unsigned n)
{
  struct df_test_usb_bridge *b = ctx;
  int fd;

  if (n != b->interface_number) return 0; /* MTP and the like: nothing to do */
  trace("claim", "", 0);
  bridge_disconnect(b);
  fd = bridge_connect(b);
  if (fd < 0) return ENODEV; /* the phone is not in this mode: no such device */
  df_test_usb_dev_replug(b->dev);
  g_mutex_lock(&b->dev->lock);
  b->dev->stats.sessions++;
  b->adb_payload_left = 0;
  b->fb_data_left = 0;
  b->fb_frame_due = false;
  g_mutex_unlock(&b->dev->lock);
  b->fd = fd;
  b->reader_running = pthread_create(&b->reader, NULL, bridge_reader, b) == 0;
  return b->reader_running ? 0 : ENOMEM;
}

static void
bridge_release(void *ctx, unsigned n)
{
  struct df_test_usb_bridge *b = ctx;

  trace("release", "", 0);
  if (n == b->interface_number) bridge_disconnect(b);
}

/* adbd's view of one OUT transfer. Caller holds dev->lock. */
static void
bridge_check_adb(struct df_test_usb_bridge *b, const uint8_t *data, size_t len, bool zlp)
{
  if (len == 0) return; /* a zero-length packet: a boundary, no data */
  if (len % DF_TEST_USB_PACKET == 0 && !zlp)
    violation(b, "adb: a %zu-byte transfer fills its last packet without a zero-length packet; "
                 "adbd cannot see where it ends", len);
  if (b->adb_payload_left == 0) {
    uint32_t payload;
    if (len != ADB_HEADER)
      violation(b, "adb: a header must be a %d-byte transfer of its own (adbd CHECKs it); got %zu "
                   "bytes", ADB_HEADER, len);
    if (len < ADB_HEADER) return;
    b->dev->stats.adb_out[adb_index(le32(data))]++;
    payload = le32(data + 12);
    len -= ADB_HEADER;
    b->adb_payload_left = payload - (uint32_t)(len < payload ? len : payload);
    return;
  }
  if (len > b->adb_payload_left) {
    violation(b, "adb: %zu payload bytes where the header announced %u more", len,
              b->adb_payload_left);
    len = b->adb_payload_left;
  }
  b->adb_payload_left -= (uint32_t)len;
}

static int
bridge_out(void *ctx, const uint8_t *data, size_t len, bool zlp)
{
  struct df_test_usb_bridge *b = ctx;
  struct df_test_usb_stats *s = &b->dev->stats;
  uint8_t frame[8];
  size_t frame_len = 0, send_len = len;
  int fd = b->fd;

  g_mutex_lock(&b->dev->lock);
  if (fd < 0) {
    g_mutex_unlock(&b->dev->lock);
    return ENODEV;
  }
  if (b->proto == DF_TEST_USB_ADB) {
    bridge_check_adb(b, data, len, zlp);
  } else if (len == 0 || zlp) {
    violation(b, "fastboot: a zero-length packet (after %zu bytes, %s); a bootloader reads it as "
                 "an empty command or the end of a short download", len,
              b->fb_data_left > 0 ? "in a download" : "after a command");
  }
  if (b->proto == DF_TEST_USB_FASTBOOT && len > 0) {
    uint64_t frame_size = len;
    if (b->fb_data_left > 0) {
      if (len > b->fb_data_left) {
        violation(b, "fastboot: %zu download bytes where %llu were left", len,
                  (unsigned long long)b->fb_data_left);
        send_len = (size_t)b->fb_data_left;
      }
      frame_size = b->fb_data_total;
      b->fb_data_left -= send_len;
      if (b->fb_data_left == 0) {
        s->fb_downloads++;
        b->dev->hold_this_out = b->reply_overtakes;
      }
      if (!b->fb_frame_due) frame_size = 0;
      b->fb_frame_due = false;
    } else {
      size_t n = len < sizeof(s->fb_last_command) - 1 ? len : sizeof(s->fb_last_command) - 1;
      if (len > FB_MAX_COMMAND) violation(b, "fastboot: a %zu-byte command", len);
      s->fb_commands++;
      memcpy(s->fb_last_command, data, n);
      s->fb_last_command[n] = '\0';
    }
    /* Over TCP a command is one frame, and a download one frame too. */
    if (frame_size > 0) {
      for (int i = 0; i < 8; i++) frame[i] = (uint8_t)(frame_size >> (56 - 8 * i));
      frame_len = 8;
    }
  }
  if (b->proto == DF_TEST_USB_FASTBOOT && len == 0) send_len = 0;
  g_mutex_unlock(&b->dev->lock);
  if (frame_len > 0 && !write_full(fd, frame, frame_len)) return ENODEV;
  if (send_len > 0 && !write_full(fd, data, send_len)) return ENODEV;
  return 0;
}

static const struct df_test_usb_dev_ops bridge_ops = {
  .claim = bridge_claim,
  .release = bridge_release,
  .out = bridge_out,
};

struct df_test_usb_bridge *
df_test_usb_bridge_new(UMockdevTestbed *tb, const struct df_test_usb_dev_desc *desc,
                       enum df_test_usb_proto proto, int port)
{
  struct df_test_usb_bridge *b = g_new0(struct df_test_usb_bridge, 1);

  b->proto = proto;
  b->port = port;
  b->fd = -1;
  b->interface_number = (unsigned)(desc->n_ifaces - 1); /* adb's or fastboot's comes last */
  b->dev = df_test_usb_dev_new(tb, desc, &bridge_ops, b);
  return b;
}

void
df_test_usb_bridge_reply_overtakes_download(struct df_test_usb_bridge *b, bool on)
{
  g_mutex_lock(&b->dev->lock);
  b->reply_overtakes = on;
  g_mutex_unlock(&b->dev->lock);
}

void
df_test_usb_bridge_replug(struct df_test_usb_bridge *b)
{
  df_test_usb_dev_replug(b->dev);
}

void
df_test_usb_bridge_stats(struct df_test_usb_bridge *b, struct df_test_usb_stats *out)
{
  g_mutex_lock(&b->dev->lock);
  *out = b->dev->stats;
  g_mutex_unlock(&b->dev->lock);
}

void
df_test_usb_bridge_free(struct df_test_usb_bridge *b)
{
  if (b == NULL) return;
  bridge_disconnect(b);
  df_test_usb_dev_free(b->dev);
  g_free(b);
}
