/* Unit tests of core/usb.c and core/transport_usb.c against fake USB devices
 * served by umockdev (run under umockdev-wrapper): matching by interface
 * class, serial numbers from string descriptors, bulk transfers through an
 * ioctl handler that plays a fastboot device, zero-length packets, a claimed
 * interface, a device that vanishes, cancellation on close, and hotplug. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <glib.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <umockdev.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/transport.h"
#include "core/usb.h"

/* --- the fake devices ---------------------------------------------------- */

#define MAX_OUT_RECORDS 64

/* A URB the handler holds until libusb reaps it. */
struct fake_urb {
  UMockdevIoctlData *urb_data; /* the client's struct usbdevfs_urb (our reference) */
  UMockdevIoctlData *buf_data; /* its buffer, resolved at submit; NULL if empty */
  GBytes *reply;               /* copied into the client's buffer when reaped */
  int status;
  int is_control;
};

struct fake_dev {
  const char *syspath; /* for the P: line, e.g. /devices/usb1/1-2 */
  int devnum;
  uint16_t vid, pid;
  const char *serial;
  int n_ifaces;
  uint8_t ifaces[4][3]; /* class, subclass, protocol */
  char devnode[64];
  UMockdevIoctlBase *handler;

  /* Behaviour, set by the test before the device is used. */
  uint32_t caps;
  int busy;     /* claiming answers EBUSY */
  int hold_out; /* OUT URBs never complete (until discarded) */

  /* State, touched by umockdev's ioctl thread: under fake_lock. */
  GList *in_waiting;  /* bulk IN URBs with no data yet */
  GList *out_waiting; /* held OUT URBs */
  GList *done;        /* ready to reap */
  GList *discarded;   /* reaped with -ENOENT */
  GQueue replies;     /* GBytes waiting for a bulk IN URB */
  int unplugged;
  int claims, releases;
  int in_reaped;
  int out_count;
  int out_len[MAX_OUT_RECORDS];
  unsigned out_flags[MAX_OUT_RECORDS];
  uint8_t out_ep[MAX_OUT_RECORDS];
  char last_out[64];
};

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;

static void
fake_urb_free(struct fake_urb *u)
{
  if (u->reply != NULL) g_bytes_unref(u->reply);
  if (u->buf_data != NULL) umockdev_ioctl_data_unref(u->buf_data);
  umockdev_ioctl_data_unref(u->urb_data);
  g_free(u);
}

/* Gives queued replies to waiting IN URBs. Caller holds fake_lock. */
static void
fake_match_in(struct fake_dev *d)
{
  while (d->in_waiting != NULL && !g_queue_is_empty(&d->replies)) {
    struct fake_urb *u = d->in_waiting->data;
    d->in_waiting = g_list_delete_link(d->in_waiting, d->in_waiting);
    u->reply = g_queue_pop_head(&d->replies);
    d->done = g_list_append(d->done, u);
  }
}

static GBytes *
string_descriptor(const struct fake_dev *d, uint8_t index)
{
  uint8_t buf[256];
  size_t n;

  if (index == 0) { /* the language list: en-US */
    static const uint8_t langs[] = {4, 3, 0x09, 0x04};
    return g_bytes_new(langs, sizeof(langs));
  }
  if (index != 3 || d->serial == NULL) return NULL;
  n = strlen(d->serial);
  buf[0] = (uint8_t)(2 + 2 * n);
  buf[1] = 3;
  for (size_t i = 0; i < n; i++) {
    buf[2 + 2 * i] = (uint8_t)d->serial[i];
    buf[3 + 2 * i] = 0;
  }
  return g_bytes_new(buf, 2 + 2 * n);
}

static void
fake_submit(struct fake_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  UMockdevIoctlData *urb_data = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
  struct usbdevfs_urb *urb = (struct usbdevfs_urb *)urb_data->data;
  struct fake_urb *u = g_new0(struct fake_urb, 1);

  u->urb_data = urb_data;
  /* Resolving the buffer makes urb->buffer point at umockdev's local copy,
   * which umockdev writes back to the client when the URB is reaped. So the
   * whole buffer is resolved here, and answers are written into it at reap. */
  if (urb->buffer_length > 0)
    u->buf_data = umockdev_ioctl_data_resolve(urb_data, offsetof(struct usbdevfs_urb, buffer),
                                              (gsize)urb->buffer_length, NULL);
  if (d->unplugged) {
    fake_urb_free(u);
    umockdev_ioctl_client_complete(client, -1, ENODEV);
    return;
  }
  if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
    const uint8_t *setup = u->buf_data->data;
    u->is_control = 1;
    /* GET_DESCRIPTOR(STRING) is all libusb asks for here; others stall. */
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
  } else {
    UMockdevIoctlData *buf = u->buf_data;
    if (d->out_count < MAX_OUT_RECORDS) {
      d->out_len[d->out_count] = urb->buffer_length;
      d->out_flags[d->out_count] = urb->flags;
      d->out_ep[d->out_count] = urb->endpoint;
    }
    d->out_count++;
    if (urb->buffer_length > 0) {
      size_t n = (size_t)urb->buffer_length < sizeof(d->last_out) - 1 ? (size_t)urb->buffer_length
                                                                      : sizeof(d->last_out) - 1;
      memcpy(d->last_out, buf->data, n);
      d->last_out[n] = '\0';
      /* The fastboot device: one command, one answer on the IN endpoint. */
      if (urb->buffer_length == 14 && memcmp(buf->data, "getvar:product", 14) == 0)
        g_queue_push_tail(&d->replies, g_bytes_new_static("OKAYvermeer", 11));
    }
    if (d->hold_out)
      d->out_waiting = g_list_append(d->out_waiting, u);
    else
      d->done = g_list_append(d->done, u);
  }
  fake_match_in(d);
  umockdev_ioctl_client_complete(client, 0, 0);
}

static void
fake_reap(struct fake_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  struct fake_urb *u = NULL;
  struct usbdevfs_urb *urb;
  UMockdevIoctlData *ptr;

  if (d->discarded != NULL) {
    u = d->discarded->data;
    d->discarded = g_list_delete_link(d->discarded, d->discarded);
    u->status = -ENOENT;
  } else if (d->done != NULL) {
    u = d->done->data;
    d->done = g_list_delete_link(d->done, d->done);
  } else if (d->unplugged && (d->in_waiting != NULL || d->out_waiting != NULL)) {
    GList **l = d->in_waiting != NULL ? &d->in_waiting : &d->out_waiting;
    u = (*l)->data;
    *l = g_list_delete_link(*l, *l);
    u->status = -ENODEV;
  }
  if (u == NULL) {
    umockdev_ioctl_client_complete(client, -1, d->unplugged ? ENODEV : EAGAIN);
    return;
  }
  urb = (struct usbdevfs_urb *)u->urb_data->data;
  urb->status = u->status;
  urb->actual_length = 0;
  if (u->status == 0) {
    if (u->reply != NULL) {
      size_t n = g_bytes_get_size(u->reply);
      memcpy(u->buf_data->data + (u->is_control ? 8 : 0), g_bytes_get_data(u->reply, NULL), n);
      urb->actual_length = (int)n;
    } else if (!(urb->endpoint & 0x80)) {
      urb->actual_length = urb->buffer_length; /* an OUT URB: all taken */
    }
  }
  if (urb->type == USBDEVFS_URB_TYPE_BULK && (urb->endpoint & 0x80)) d->in_reaped++;
  ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
  umockdev_ioctl_data_set_ptr(ptr, 0, u->urb_data);
  umockdev_ioctl_data_unref(ptr);
  fake_urb_free(u);
  umockdev_ioctl_client_complete(client, 0, 0);
}

static gint
cmp_client_addr(gconstpointer a, gconstpointer b)
{
  const struct fake_urb *u = a;
  return u->urb_data->client_addr != (gulong)b;
}

static void
fake_discard(struct fake_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
  void *addr = *(void **)arg->data;
  GList **lists[] = {&d->in_waiting, &d->out_waiting};

  for (size_t i = 0; i < 2; i++) {
    GList *l = g_list_find_custom(*lists[i], addr, cmp_client_addr);
    if (l != NULL) {
      d->discarded = g_list_append(d->discarded, l->data);
      *lists[i] = g_list_delete_link(*lists[i], l);
      umockdev_ioctl_client_complete(client, 0, 0);
      return;
    }
  }
  umockdev_ioctl_client_complete(client, -1, EINVAL);
}

static gboolean
fake_handle_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
  struct fake_dev *d = user_data;
  gulong request = umockdev_ioctl_client_get_request(client);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
  gboolean handled = TRUE;

  (void)handler;
  pthread_mutex_lock(&fake_lock);
  switch (request) {
  case USBDEVFS_GET_CAPABILITIES: {
    UMockdevIoctlData *caps = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
    *(guint32 *)caps->data = d->caps;
    umockdev_ioctl_data_unref(caps);
    umockdev_ioctl_client_complete(client, 0, 0);
    break;
  }
  case USBDEVFS_CLAIMINTERFACE:
  case USBDEVFS_DISCONNECT_CLAIM:
    if (d->busy) {
      umockdev_ioctl_client_complete(client, -1, EBUSY);
    } else {
      d->claims++;
      umockdev_ioctl_client_complete(client, 0, 0);
    }
    break;
  case USBDEVFS_RELEASEINTERFACE:
    d->releases++;
    umockdev_ioctl_client_complete(client, 0, 0);
    break;
  case USBDEVFS_GETDRIVER:
  case USBDEVFS_IOCTL: /* no kernel driver to detach or attach */
    umockdev_ioctl_client_complete(client, -1, ENODATA);
    break;
  case USBDEVFS_CLEAR_HALT:
  case USBDEVFS_RESET:
  case USBDEVFS_RESETEP:
    umockdev_ioctl_client_complete(client, 0, 0);
    break;
  case USBDEVFS_SUBMITURB:
    fake_submit(d, client, arg);
    break;
  case USBDEVFS_REAPURB:
  case USBDEVFS_REAPURBNDELAY:
    fake_reap(d, client, arg);
    break;
  case USBDEVFS_DISCARDURB:
    fake_discard(d, client, arg);
    break;
  default:
    fprintf(stderr, "fake usb: unhandled ioctl 0x%lx\n", request);
    handled = FALSE;
  }
  pthread_mutex_unlock(&fake_lock);
  return handled;
}

static void
fake_free_lists(struct fake_dev *d)
{
  GList **lists[] = {&d->in_waiting, &d->out_waiting, &d->done, &d->discarded};
  GBytes *b;

  for (size_t i = 0; i < 4; i++) {
    g_list_free_full(*lists[i], (GDestroyNotify)fake_urb_free);
    *lists[i] = NULL;
  }
  while ((b = g_queue_pop_head(&d->replies)) != NULL) g_bytes_unref(b);
}

/* Device descriptor plus one configuration whose interfaces each have a
 * bulk IN and a bulk OUT endpoint of 512 bytes (high speed), as hex. */
static void
descriptors_hex(const struct fake_dev *d, char *out)
{
  uint8_t b[512];
  size_t n = 0, cfg_start;

  const uint8_t dev[18] = {18, 1, 0x00, 0x02, 0, 0, 0, 64, d->vid & 0xff, d->vid >> 8,
                           d->pid & 0xff, d->pid >> 8, 0x00, 0x01, 1, 2, 3, 1};
  memcpy(b, dev, sizeof(dev));
  n = sizeof(dev);
  cfg_start = n;
  const uint8_t cfg[9] = {9, 2, 0, 0, (uint8_t)d->n_ifaces, 1, 0, 0x80, 250};
  memcpy(b + n, cfg, sizeof(cfg));
  n += sizeof(cfg);
  for (int i = 0; i < d->n_ifaces; i++) {
    const uint8_t itf[9] = {9, 4, (uint8_t)i, 0, 2, d->ifaces[i][0], d->ifaces[i][1], d->ifaces[i][2], 0};
    const uint8_t ep_in[7] = {7, 5, (uint8_t)(0x81 + i), 2, 0x00, 0x02, 0};
    const uint8_t ep_out[7] = {7, 5, (uint8_t)(0x01 + i), 2, 0x00, 0x02, 0};
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

static UMockdevTestbed *testbed;

static void
fake_attach(struct fake_dev *d)
{
  snprintf(d->devnode, sizeof(d->devnode), "/dev/bus/usb/001/%03d", d->devnum);
  if (d->caps == 0)
    d->caps = USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_BULK_CONTINUATION |
              USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT |
              USBDEVFS_CAP_ZERO_PACKET;
  d->handler = umockdev_ioctl_base_new();
  g_signal_connect(d->handler, "handle-ioctl", G_CALLBACK(fake_handle_ioctl), d);
  /* Before the device exists, so libusb can open it as soon as it appears. */
  assert_true(umockdev_testbed_attach_ioctl(testbed, d->devnode, d->handler, NULL));
}

static void
fake_plug(struct fake_dev *d)
{
  char hex[1100], record[2048];
  GError *error = NULL;

  descriptors_hex(d, hex);
  snprintf(record, sizeof(record),
           "P: %s\n"
           "N: bus/usb/001/%03d\n"
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
           "H: descriptors=%s\n",
           d->syspath, d->devnum, d->devnum, d->devnum, d->devnum, hex);
  assert_true(umockdev_testbed_add_from_string(testbed, record, &error));
  assert_null(error);
}

/* The three devices of most tests: a phone in adb mode with an MTP interface
 * first, a phone in fastboot, and a USB stick. */
static struct fake_dev adb_phone, fastboot_phone, usb_stick;

static void
fakes_reset(void)
{
  fake_free_lists(&adb_phone);
  fake_free_lists(&fastboot_phone);
  fake_free_lists(&usb_stick);
  adb_phone = (struct fake_dev){
    .syspath = "/devices/usb1/1-1", .devnum = 2, .vid = 0x2717, .pid = 0xff48,
    .serial = "ADB123", .n_ifaces = 2, .ifaces = {{0xff, 0xff, 0x00}, {0xff, 0x42, 0x01}}};
  fastboot_phone = (struct fake_dev){
    .syspath = "/devices/usb1/1-2", .devnum = 3, .vid = 0x18d1, .pid = 0xd00d,
    .serial = "FB456", .n_ifaces = 1, .ifaces = {{0xff, 0x42, 0x03}}};
  usb_stick = (struct fake_dev){
    .syspath = "/devices/usb1/1-3", .devnum = 4, .vid = 0x0781, .pid = 0x5567,
    .serial = "STICK", .n_ifaces = 1, .ifaces = {{0x08, 0x06, 0x50}}};
  g_queue_init(&adb_phone.replies);
  g_queue_init(&fastboot_phone.replies);
  g_queue_init(&usb_stick.replies);
}

/* --- the loop side ------------------------------------------------------- */

static struct df_loop loop;
static uv_timer_t guard; /* fails a test that would otherwise hang */
static int guard_fired;

struct seen {
  int arrived, left;
  struct df_usb_device_info info[8];
  struct df_usb_device_info left_info[8];
};

static void
on_arrived(void *ud, const struct df_usb_device_info *info)
{
  struct seen *s = ud;
  if (s->arrived < 8) s->info[s->arrived] = *info;
  s->arrived++;
}

static void
on_left(void *ud, const struct df_usb_device_info *info)
{
  struct seen *s = ud;
  if (s->left < 8) s->left_info[s->left] = *info;
  s->left++;
}

static const struct df_usb_callbacks usb_cbs = {.arrived = on_arrived, .left = on_left};

struct pipe_state {
  struct df_transport *t;
  int reads;
  size_t rx_len;
  uint8_t rx[4096];
  size_t last_read_len;
  int gone_count;
  int gone_err;
  int writes_done;
  int writes_ok;
  int writes_canceled;
  int writes_other;
  int closed;
  int writes_done_at_close;
};

static void
pipe_on_read(void *ud, const uint8_t *data, size_t len)
{
  struct pipe_state *p = ud;
  if (p->rx_len + len <= sizeof(p->rx)) memcpy(p->rx + p->rx_len, data, len);
  p->rx_len += len;
  p->last_read_len = len;
  p->reads++;
}

static void
pipe_on_gone(void *ud, int err)
{
  struct pipe_state *p = ud;
  p->gone_count++;
  p->gone_err = err;
}

static const struct df_transport_callbacks pipe_cbs = {.on_read = pipe_on_read, .on_gone = pipe_on_gone};

static void
pipe_on_written(void *req_data, int status)
{
  struct pipe_state *p = req_data;
  p->writes_done++;
  if (status == 0)
    p->writes_ok++;
  else if (status == DF_ECANCELED)
    p->writes_canceled++;
  else
    p->writes_other++;
}

static void
pipe_on_closed(void *ud)
{
  struct pipe_state *p = ud;
  p->closed = 1;
  p->writes_done_at_close = p->writes_done;
}

static void
on_guard(uv_timer_t *t)
{
  guard_fired = 1;
}

/* Runs the loop until *flag >= want. The guard only turns a hang into a
 * failure; it asserts nothing about speed. */
static void
run_until_at_least(int *flag, int want)
{
  guard_fired = 0;
  uv_timer_start(&guard, on_guard, 20000, 0);
  uv_ref((uv_handle_t *)&guard); /* so UV_RUN_ONCE waits instead of spinning */
  while (*flag < want && !guard_fired) uv_run(&loop.uv, UV_RUN_ONCE);
  uv_unref((uv_handle_t *)&guard);
  uv_timer_stop(&guard);
  assert_false(guard_fired);
}

static int
fake_get(int *field)
{
  int v;
  pthread_mutex_lock(&fake_lock);
  v = *field;
  pthread_mutex_unlock(&fake_lock);
  return v;
}

/* Runs the loop until the fake device's counter reaches want. */
static void
run_until_fake(int *field, int want)
{
  guard_fired = 0;
  uv_timer_start(&guard, on_guard, 20000, 0);
  while (fake_get(field) < want && !guard_fired) uv_run(&loop.uv, UV_RUN_NOWAIT);
  uv_timer_stop(&guard);
  assert_false(guard_fired);
}

static int
setup(void **state)
{
  testbed = umockdev_testbed_new();
  assert_non_null(testbed);
  fakes_reset();
  assert_int_equal(df_loop_init(&loop), 0);
  uv_timer_init(&loop.uv, &guard);
  uv_unref((uv_handle_t *)&guard);
  return 0;
}

static int
teardown(void **state)
{
  uv_close((uv_handle_t *)&guard, NULL);
  assert_int_equal(df_loop_close(&loop), 0);
  g_clear_object(&testbed);
  g_clear_object(&adb_phone.handler);
  g_clear_object(&fastboot_phone.handler);
  g_clear_object(&usb_stick.handler);
  return 0;
}

static void
plug_all_three(void)
{
  fake_attach(&adb_phone);
  fake_attach(&fastboot_phone);
  fake_attach(&usb_stick);
  fake_plug(&adb_phone);
  fake_plug(&fastboot_phone);
  fake_plug(&usb_stick);
}

static const struct df_usb_device_info *
find_kind(struct seen *s, enum df_usb_kind kind)
{
  for (int i = 0; i < s->arrived && i < 8; i++)
    if (s->info[i].kind == kind) return &s->info[i];
  return NULL;
}

/* Opens the fastboot phone, found by a scan. */
static void
open_fastboot(struct df_usb **usb, struct seen *s, struct pipe_state *p)
{
  const struct df_usb_device_info *fb;

  memset(s, 0, sizeof(*s));
  memset(p, 0, sizeof(*p));
  assert_int_equal(df_usb_init(&loop, &usb_cbs, s, usb), 0);
  assert_int_equal(df_usb_scan(*usb), 0);
  fb = find_kind(s, DF_USB_FASTBOOT);
  assert_non_null(fb);
  assert_int_equal(df_usb_open(*usb, fb, &pipe_cbs, p, &p->t), 0);
}

static void
close_pipe(struct pipe_state *p)
{
  df_transport_close(p->t, pipe_on_closed);
  run_until_at_least(&p->closed, 1);
}

/* --- tests --------------------------------------------------------------- */

static void
test_match_interface_is_by_class_only(void **state)
{
  enum df_usb_kind kind = (enum df_usb_kind)-1;

  assert_int_equal(df_usb_match_interface(0xff, 0x42, 0x01, &kind), 1);
  assert_int_equal(kind, DF_USB_ADB);
  assert_int_equal(df_usb_match_interface(0xff, 0x42, 0x03, &kind), 1);
  assert_int_equal(kind, DF_USB_FASTBOOT);
  assert_int_equal(df_usb_match_interface(0xff, 0x42, 0x02, &kind), 0);
  assert_int_equal(df_usb_match_interface(0xff, 0xff, 0x00, &kind), 0); /* MTP */
  assert_int_equal(df_usb_match_interface(0x08, 0x06, 0x50, &kind), 0); /* mass storage */
  assert_string_equal(df_usb_kind_name(DF_USB_ADB), "adb");
  assert_string_equal(df_usb_kind_name(DF_USB_FASTBOOT), "fastboot");
  assert_non_null(strstr(df_usb_error_hint(DF_EBUSY),
                         "held by another program (is Google's adb server running? try: adb kill-server)"));
  assert_null(df_usb_error_hint(DF_EIO));
}

static void
test_scan_reports_adb_and_fastboot_interfaces_only(void **state)
{
  struct df_usb *usb;
  struct seen s = {0};
  const struct df_usb_device_info *adb, *fb;

  plug_all_three();
  assert_int_equal(df_usb_init(&loop, &usb_cbs, &s, &usb), 0);
  assert_int_equal(df_usb_scan(usb), 0);
  assert_int_equal(s.arrived, 2);
  adb = find_kind(&s, DF_USB_ADB);
  fb = find_kind(&s, DF_USB_FASTBOOT);
  assert_non_null(adb);
  assert_non_null(fb);

  assert_int_equal(adb->vid, 0x2717);
  assert_int_equal(adb->pid, 0xff48);
  assert_string_equal(adb->serial, "ADB123");
  assert_int_equal(adb->serial_status, 0);
  assert_int_equal(adb->interface_number, 1); /* the MTP interface 0 is not ours */
  assert_int_equal(adb->bus, 1);
  assert_int_equal(adb->address, 2);
  assert_string_equal(adb->port_path, "1-1");

  assert_int_equal(fb->vid, 0x18d1);
  assert_int_equal(fb->pid, 0xd00d);
  assert_string_equal(fb->serial, "FB456");
  assert_int_equal(fb->interface_number, 0);
  assert_int_equal(fb->address, 3);
  assert_string_equal(fb->port_path, "1-2");

  /* Reported once: a second scan finds nothing new and nothing gone. */
  assert_int_equal(df_usb_scan(usb), 0);
  assert_int_equal(s.arrived, 2);
  assert_int_equal(s.left, 0);
  df_usb_free(usb);
}

static void
test_fastboot_getvar_over_bulk_transfers(void **state)
{
  struct df_usb *usb;
  struct seen s;
  struct pipe_state p;
  struct df_buf cmd = {"getvar:product", 14};

  plug_all_three();
  open_fastboot(&usb, &s, &p);
  assert_string_equal(p.t->ops->kind, "usb");
  assert_string_equal(p.t->description, "usb:1-2 18d1:d00d");
  assert_int_equal(fake_get(&fastboot_phone.claims), 1);

  assert_int_equal(df_transport_read_start(p.t), 0);
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), 0);
  assert_int_equal(df_transport_write_queue_size(p.t), 14);
  run_until_at_least(&p.reads, 1);
  run_until_at_least(&p.writes_done, 1);
  /* One IN transfer, one on_read: the message boundary survives. */
  assert_int_equal(p.reads, 1);
  assert_int_equal(p.last_read_len, 11);
  assert_memory_equal(p.rx, "OKAYvermeer", 11);
  assert_int_equal(p.writes_ok, 1);
  assert_int_equal(df_transport_write_queue_size(p.t), 0);
  pthread_mutex_lock(&fake_lock);
  assert_int_equal(fastboot_phone.out_count, 1);
  assert_int_equal(fastboot_phone.out_ep[0], 0x01);
  assert_string_equal(fastboot_phone.last_out, "getvar:product");
  assert_int_equal(fastboot_phone.out_flags[0] & USBDEVFS_URB_ZERO_PACKET, 0);
  pthread_mutex_unlock(&fake_lock);

  close_pipe(&p);
  assert_int_equal(p.gone_count, 0);
  assert_int_equal(fake_get(&fastboot_phone.releases), 1);
  df_usb_free(usb);
}

static void
test_each_in_transfer_is_one_read(void **state)
{
  struct df_usb *usb;
  struct seen s;
  struct pipe_state p;
  struct df_buf cmd = {"getvar:product", 14};

  plug_all_three();
  open_fastboot(&usb, &s, &p);
  /* Two answers queue up on the device before anything is read... */
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), 0);
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), 0);
  run_until_at_least(&p.writes_done, 2);
  /* ...and still arrive as two messages, never one run of 22 bytes. */
  assert_int_equal(df_transport_read_start(p.t), 0);
  run_until_at_least(&p.reads, 2);
  assert_int_equal(p.reads, 2);
  assert_int_equal(p.rx_len, 22);
  assert_int_equal(p.last_read_len, 11);
  assert_memory_equal(p.rx, "OKAYvermeerOKAYvermeer", 22);
  close_pipe(&p);
  df_usb_free(usb);
}

static void
test_zero_length_packet_ends_full_packet_writes(void **state)
{
  struct df_usb *usb;
  struct seen s;
  struct pipe_state p;
  static uint8_t data[1024];
  const size_t sizes[] = {512, 511, 1024, 0};
  const int want_zlp[] = {1, 0, 1, 0};

  plug_all_three();
  open_fastboot(&usb, &s, &p);
  for (int i = 0; i < 4; i++) {
    struct df_buf b = {data, sizes[i]};
    assert_int_equal(df_transport_write(p.t, &b, 1, pipe_on_written, &p), 0);
  }
  run_until_at_least(&p.writes_done, 4);
  assert_int_equal(p.writes_ok, 4);
  pthread_mutex_lock(&fake_lock);
  assert_int_equal(fastboot_phone.out_count, 4);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(fastboot_phone.out_len[i], (int)sizes[i]);
    assert_int_equal((fastboot_phone.out_flags[i] & USBDEVFS_URB_ZERO_PACKET) != 0, want_zlp[i]);
  }
  pthread_mutex_unlock(&fake_lock);
  close_pipe(&p);
  df_usb_free(usb);
}

static void
test_multi_buffer_write_is_one_transfer(void **state)
{
  struct df_usb *usb;
  struct seen s;
  struct pipe_state p;
  struct df_buf parts[3] = {{"getvar", 6}, {":", 1}, {"product", 7}};

  plug_all_three();
  open_fastboot(&usb, &s, &p);
  assert_int_equal(df_transport_read_start(p.t), 0);
  assert_int_equal(df_transport_write(p.t, parts, 3, pipe_on_written, &p), 0);
  run_until_at_least(&p.reads, 1);
  assert_memory_equal(p.rx, "OKAYvermeer", 11);
  assert_int_equal(fake_get(&fastboot_phone.out_count), 1);
  close_pipe(&p);
  df_usb_free(usb);
}

static void
test_read_stop_holds_data_until_read_start(void **state)
{
  struct df_usb *usb;
  struct seen s;
  struct pipe_state p;
  struct df_buf cmd = {"getvar:product", 14};

  plug_all_three();
  open_fastboot(&usb, &s, &p);
  assert_int_equal(df_transport_read_start(p.t), 0);
  assert_int_equal(df_transport_read_stop(p.t), 0);
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), 0);
  /* The answer lands in the IN transfer already in flight... */
  run_until_fake(&fastboot_phone.in_reaped, 1);
  run_until_at_least(&p.writes_done, 1);
  for (int i = 0; i < 20; i++) uv_run(&loop.uv, UV_RUN_NOWAIT);
  /* ...but is not delivered while stopped, and no new IN is submitted. */
  assert_int_equal(p.reads, 0);
  pthread_mutex_lock(&fake_lock);
  assert_null(fastboot_phone.in_waiting);
  pthread_mutex_unlock(&fake_lock);

  assert_int_equal(df_transport_read_start(p.t), 0);
  assert_int_equal(p.reads, 0); /* delivered from the loop, not from read_start */
  run_until_at_least(&p.reads, 1);
  assert_int_equal(p.last_read_len, 11);
  assert_memory_equal(p.rx, "OKAYvermeer", 11);
  close_pipe(&p);
  df_usb_free(usb);
}

static void
test_claimed_interface_is_busy(void **state)
{
  struct df_usb *usb;
  struct seen s = {0};
  struct pipe_state p = {0};
  const struct df_usb_device_info *adb;

  adb_phone.busy = 1;
  plug_all_three();
  assert_int_equal(df_usb_init(&loop, &usb_cbs, &s, &usb), 0);
  assert_int_equal(df_usb_scan(usb), 0);
  adb = find_kind(&s, DF_USB_ADB);
  assert_non_null(adb);
  assert_int_equal(df_usb_open(usb, adb, &pipe_cbs, &p, &p.t), DF_EBUSY);
  assert_non_null(strstr(df_usb_error_hint(DF_EBUSY), "adb kill-server"));
  df_usb_free(usb);
}

static void
test_open_of_unknown_device_is_nodev(void **state)
{
  struct df_usb *usb;
  struct seen s = {0};
  struct pipe_state p = {0};
  struct df_usb_device_info ghost = {.bus = 1, .address = 99, .interface_number = 0};

  plug_all_three();
  assert_int_equal(df_usb_init(&loop, &usb_cbs, &s, &usb), 0);
  assert_int_equal(df_usb_open(usb, &ghost, &pipe_cbs, &p, &p.t), DF_ENODEV);
  /* The stick is there, but has no adb or fastboot interface. */
  ghost.address = 4;
  assert_int_equal(df_usb_open(usb, &ghost, &pipe_cbs, &p, &p.t), DF_ENODEV);
  df_usb_free(usb);
}

static void
test_device_gone_is_reported_once(void **state)
{
  struct df_usb *usb;
  struct seen s;
  struct pipe_state p;
  struct df_buf cmd = {"reboot", 6};

  fastboot_phone.hold_out = 1;
  plug_all_three();
  open_fastboot(&usb, &s, &p);
  assert_int_equal(df_transport_read_start(p.t), 0);
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), 0);
  run_until_fake(&fastboot_phone.out_count, 1);

  pthread_mutex_lock(&fake_lock);
  fastboot_phone.unplugged = 1; /* every URB now comes back with -ENODEV */
  pthread_mutex_unlock(&fake_lock);
  run_until_at_least(&p.gone_count, 1);
  run_until_at_least(&p.writes_done, 1);
  for (int i = 0; i < 20; i++) uv_run(&loop.uv, UV_RUN_NOWAIT);
  assert_int_equal(p.gone_count, 1);
  assert_int_equal(p.gone_err, DF_ENODEV);
  assert_int_equal(p.t->gone, 1);
  assert_int_equal(p.writes_other, 1); /* the write failed with DF_ENODEV */
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), DF_ENODEV);
  assert_int_equal(df_transport_read_start(p.t), DF_ENODEV);
  close_pipe(&p);
  assert_int_equal(p.gone_count, 1);
  df_usb_free(usb);
}

static void
test_close_cancels_pending_transfers_first(void **state)
{
  struct df_usb *usb;
  struct seen s;
  struct pipe_state p;
  struct df_buf cmd = {"flash:boot", 10};

  fastboot_phone.hold_out = 1; /* the device never takes these */
  plug_all_three();
  open_fastboot(&usb, &s, &p);
  assert_int_equal(df_transport_read_start(p.t), 0);
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), 0);
  assert_int_equal(df_transport_write(p.t, &cmd, 1, pipe_on_written, &p), 0);
  run_until_fake(&fastboot_phone.out_count, 2);
  assert_int_equal(df_transport_write_queue_size(p.t), 20);
  df_transport_close(p.t, pipe_on_closed);
  assert_int_equal(p.closed, 0); /* never from inside close */
  run_until_at_least(&p.closed, 1);
  assert_int_equal(p.writes_done_at_close, 2);
  assert_int_equal(p.writes_canceled, 2);
  assert_int_equal(p.gone_count, 0);
  assert_int_equal(fake_get(&fastboot_phone.releases), 1);
  df_usb_free(usb);
}

static void
test_hotplug_reports_arrival_and_departure_once(void **state)
{
  struct df_usb *usb;
  struct seen s = {0};

  fake_attach(&fastboot_phone);
  fake_attach(&usb_stick);
  fake_plug(&usb_stick);
  assert_int_equal(df_usb_init(&loop, &usb_cbs, &s, &usb), 0);
  if (!df_usb_has_hotplug(usb)) {
    df_usb_free(usb);
    skip();
  }
  assert_int_equal(df_usb_scan(usb), 0);
  assert_int_equal(s.arrived, 0); /* the stick is not ours */

  fake_plug(&fastboot_phone); /* emits an "add" uevent */
  run_until_at_least(&s.arrived, 1);
  assert_int_equal(s.info[0].kind, DF_USB_FASTBOOT);
  assert_string_equal(s.info[0].serial, "FB456");
  /* A scan after the hotplug event does not report it again. */
  assert_int_equal(df_usb_scan(usb), 0);
  assert_int_equal(s.arrived, 1);

  umockdev_testbed_uevent(testbed, "/sys/devices/usb1/1-2", "remove");
  run_until_at_least(&s.left, 1);
  assert_int_equal(s.left_info[0].address, 3);
  assert_string_equal(s.left_info[0].serial, "FB456");
  for (int i = 0; i < 20; i++) uv_run(&loop.uv, UV_RUN_NOWAIT);
  assert_int_equal(df_usb_scan(usb), 0);
  assert_int_equal(s.arrived, 1);
  assert_int_equal(s.left, 1);
  df_usb_free(usb);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_match_interface_is_by_class_only),
    cmocka_unit_test_setup_teardown(test_scan_reports_adb_and_fastboot_interfaces_only, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fastboot_getvar_over_bulk_transfers, setup, teardown),
    cmocka_unit_test_setup_teardown(test_each_in_transfer_is_one_read, setup, teardown),
    cmocka_unit_test_setup_teardown(test_zero_length_packet_ends_full_packet_writes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_multi_buffer_write_is_one_transfer, setup, teardown),
    cmocka_unit_test_setup_teardown(test_read_stop_holds_data_until_read_start, setup, teardown),
    cmocka_unit_test_setup_teardown(test_claimed_interface_is_busy, setup, teardown),
    cmocka_unit_test_setup_teardown(test_open_of_unknown_device_is_nodev, setup, teardown),
    cmocka_unit_test_setup_teardown(test_device_gone_is_reported_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_close_cancels_pending_transfers_first, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hotplug_reports_arrival_and_departure_once, setup, teardown),
  };

  /* umockdev_in_mock_environment() answered false under umockdev-wrapper
   * 0.17 here, so look for the preload the wrapper sets. */
  if (getenv("LD_PRELOAD") == NULL || strstr(getenv("LD_PRELOAD"), "umockdev") == NULL) {
    fprintf(stderr, "run this test under umockdev-wrapper\n");
    return 1;
  }
  return cmocka_run_group_tests(tests, NULL, NULL);
}
