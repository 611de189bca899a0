/* The libusb context inside the libuv loop: libusb's file descriptors are
 * watched with uv_poll (libusb_get_pollfds plus the pollfd notifiers), its
 * timeouts run on a uv_timer fed by libusb_get_next_timeout, and events are
 * handled with a zero timeout, all on the loop thread. On top of that:
 * enumeration, hotplug, and matching adb/fastboot interfaces.
 *
 * Why not an event thread handing results over with df_loop_schedule: libusb
 * exposes its fds for exactly this, everything then stays on one thread (no
 * locks around transports), and a transfer callback costs no thread hop. */
#include "core/usb_private.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* How often the loop hands libusb a turn while an fd it cannot poll is open.
 * That only happens under umockdev, whose device nodes are plain files; real
 * usbfs nodes are character devices that epoll watches. */
#define DF_USB_SPIN_MS 1

struct df_usb_watch {
  uv_poll_t poll;
  struct df_usb *usb;
  struct df_usb_watch *next;
  int fd;
  int polled; /* 0: uv_poll refused the fd; the spin timer stands in */
};

struct df_usb_known {
  struct df_usb_known *next;
  libusb_device *dev; /* referenced */
  struct df_usb_device_info info;
  int seen; /* marked during a scan */
};

struct df_usb_hotplug_event {
  struct df_usb_deferred node; /* first */
  struct df_usb *usb;
  libusb_device *dev; /* referenced */
  int arrived;
};

static const char df_usb_busy_hint[] =
  "held by another program (is Google's adb server running? try: adb kill-server)";
static const char df_usb_access_hint[] =
  "no permission to open the USB device (install udev rules for it, e.g. Debian's "
  "android-sdk-platform-tools-common, then replug)";

int
df_usb_match_interface(uint8_t cls, uint8_t subclass, uint8_t protocol, enum df_usb_kind *kind)
{
  if (cls != 0xff || subclass != 0x42) return 0;
  if (protocol == 0x01) {
    *kind = DF_USB_ADB;
    return 1;
  }
  if (protocol == 0x03) {
    *kind = DF_USB_FASTBOOT;
    return 1;
  }
  return 0;
}

const char *
df_usb_kind_name(enum df_usb_kind kind)
{
  return kind == DF_USB_FASTBOOT ? "fastboot" : "adb";
}

const char *
df_usb_error_hint(int err)
{
  if (err == DF_EBUSY) return df_usb_busy_hint;
  if (err == DF_EACCES) return df_usb_access_hint;
  return NULL;
}

int
df_usb_error_from_libusb(int err)
{
  switch (err) {
  case LIBUSB_SUCCESS: return DF_OK;
  case LIBUSB_ERROR_ACCESS: return DF_EACCES;
  case LIBUSB_ERROR_NO_DEVICE:
  case LIBUSB_ERROR_NOT_FOUND: return DF_ENODEV;
  case LIBUSB_ERROR_BUSY: return DF_EBUSY;
  case LIBUSB_ERROR_TIMEOUT: return DF_ETIMEDOUT;
  case LIBUSB_ERROR_NO_MEM: return DF_ENOMEM;
  case LIBUSB_ERROR_INVALID_PARAM: return DF_EINVAL;
  case LIBUSB_ERROR_NOT_SUPPORTED: return DF_EUNSUPPORTED;
  case LIBUSB_ERROR_IO: return DF_EIO;
  default: return DF_EUSB;
  }
}

/* --- the deferred queue -------------------------------------------------- */

static void
df_usb_drain(struct df_usb *usb)
{
  struct df_usb_deferred *d;

  if (usb->draining) return; /* the running drain picks up what was added */
  usb->draining = 1;
  while ((d = usb->queue_head) != NULL) {
    usb->queue_head = d->next;
    if (usb->queue_head == NULL) usb->queue_tail = NULL;
    d->next = NULL;
    d->queued = 0;
    d->run(d);
  }
  usb->draining = 0;
  uv_idle_stop(&usb->drain_idle);
}

static void
df_usb_on_drain_idle(uv_idle_t *idle)
{
  df_usb_drain(idle->data);
}

void
df_usb_defer(struct df_usb *usb, struct df_usb_deferred *d)
{
  if (d->queued) return;
  d->queued = 1;
  d->next = NULL;
  if (usb->queue_tail != NULL)
    usb->queue_tail->next = d;
  else
    usb->queue_head = d;
  usb->queue_tail = d;
  if (!usb->draining) uv_idle_start(&usb->drain_idle, df_usb_on_drain_idle);
}

/* --- driving libusb from the loop ---------------------------------------- */

static void
df_usb_pump(struct df_usb *usb)
{
  struct timeval zero = {0, 0};

  /* Errors here (LIBUSB_ERROR_INTERRUPTED, a failed poll) are transient: the
   * next readiness or timeout calls in again. Transfers report their own. */
  libusb_handle_events_timeout_completed(usb->ctx, &zero, NULL);
  df_usb_drain(usb);
  df_usb_timeouts_changed(usb);
}

static void
df_usb_on_timeout(uv_timer_t *timer)
{
  df_usb_pump(timer->data);
}

void
df_usb_timeouts_changed(struct df_usb *usb)
{
  struct timeval tv;

  if (libusb_get_next_timeout(usb->ctx, &tv) == 1) {
    uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
    uv_timer_start(&usb->timeout_timer, df_usb_on_timeout, ms, 0);
  } else {
    uv_timer_stop(&usb->timeout_timer);
  }
}

static void
df_usb_on_poll(uv_poll_t *poll, int status, int events)
{
  struct df_usb_watch *w = poll->data;

  (void)status; /* on POLLERR libuv stops the watch; libusb sees the error itself */
  (void)events;
  df_usb_pump(w->usb);
}

static void
df_usb_on_watch_closed(uv_handle_t *handle)
{
  free(handle->data);
}

static void
df_usb_on_fd_added(int fd, short events, void *user_data)
{
  struct df_usb *usb = user_data;
  struct df_usb_watch *w = calloc(1, sizeof(*w));
  int uvev = 0;

  if (w == NULL) return; /* cannot report from here; the spin timer cannot help either */
  w->usb = usb;
  w->fd = fd;
  w->poll.data = w;
  if (events & POLLIN) uvev |= UV_READABLE;
  if (events & POLLOUT) uvev |= UV_WRITABLE;
  if (uvev == 0) uvev = UV_READABLE;
  if (uv_poll_init(&usb->loop->uv, &w->poll, fd) == 0) {
    w->polled = 1;
    uv_poll_start(&w->poll, uvev, df_usb_on_poll);
    /* libusb's own fds (present before any device is open) must not keep the
     * loop alive; a device's fd does, like a TCP socket that is reading. */
    if (!usb->context_fds_done) uv_unref((uv_handle_t *)&w->poll);
  } else {
    if (usb->unwatchable++ == 0)
      uv_timer_start(&usb->spin_timer, df_usb_on_timeout, DF_USB_SPIN_MS, DF_USB_SPIN_MS);
  }
  w->next = usb->watches;
  usb->watches = w;
}

static void
df_usb_watch_close(struct df_usb *usb, struct df_usb_watch *w)
{
  if (w->polled) {
    /* uv_close drops the fd from epoll at once, before libusb closes it. */
    uv_close((uv_handle_t *)&w->poll, df_usb_on_watch_closed);
    return;
  }
  if (--usb->unwatchable == 0) uv_timer_stop(&usb->spin_timer);
  free(w);
}

static void
df_usb_on_fd_removed(int fd, void *user_data)
{
  struct df_usb *usb = user_data;
  struct df_usb_watch **pw;

  for (pw = &usb->watches; *pw != NULL; pw = &(*pw)->next) {
    if ((*pw)->fd == fd) {
      struct df_usb_watch *w = *pw;
      *pw = w->next;
      df_usb_watch_close(usb, w);
      return;
    }
  }
}

/* --- describing devices -------------------------------------------------- */

static void
df_usb_port_path(libusb_device *dev, char *out, size_t outlen)
{
  uint8_t ports[8];
  int n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
  size_t len;

  snprintf(out, outlen, "%u", libusb_get_bus_number(dev));
  for (int i = 0; i < n; i++) {
    len = strlen(out);
    snprintf(out + len, outlen - len, "%c%u", i == 0 ? '-' : '.', ports[i]);
  }
}

/* Reads iSerialNumber with a synchronous control transfer. Returns 0 or a df
 * error; DF_ENODEV means the device is already gone. */
static int
df_usb_read_serial(libusb_device *dev, uint8_t index, char *out, size_t outlen)
{
  libusb_device_handle *h;
  int r;

  out[0] = '\0';
  if (index == 0) return DF_OK;
  r = libusb_open(dev, &h);
  if (r != 0) return df_usb_error_from_libusb(r);
  r = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)out, (int)outlen);
  libusb_close(h);
  if (r < 0) {
    out[0] = '\0';
    return df_usb_error_from_libusb(r);
  }
  out[r < (int)outlen ? r : (int)outlen - 1] = '\0';
  return DF_OK;
}

static struct df_usb_known *
df_usb_known_by_dev(struct df_usb *usb, libusb_device *dev)
{
  struct df_usb_known *k;

  for (k = usb->known; k != NULL; k = k->next)
    if (k->dev == dev) return k;
  return NULL;
}

/* Reports the matching interfaces of a device not seen before. */
static void
df_usb_consider(struct df_usb *usb, libusb_device *dev)
{
  struct libusb_device_descriptor desc;
  struct libusb_config_descriptor *cfg;
  struct df_usb_device_info base, *found;
  int nfound = 0, status;

  if (df_usb_known_by_dev(usb, dev) != NULL) return;
  if (libusb_get_device_descriptor(dev, &desc) != 0) return;
  /* Unconfigured devices have no active configuration; a later scan or the
   * hotplug event after configuration finds them. */
  if (libusb_get_active_config_descriptor(dev, &cfg) != 0) return;

  found = calloc(cfg->bNumInterfaces > 0 ? cfg->bNumInterfaces : 1, sizeof(*found));
  if (found == NULL) {
    libusb_free_config_descriptor(cfg);
    return;
  }
  memset(&base, 0, sizeof(base));
  base.bus = libusb_get_bus_number(dev);
  base.address = libusb_get_device_address(dev);
  base.vid = desc.idVendor;
  base.pid = desc.idProduct;
  df_usb_port_path(dev, base.port_path, sizeof(base.port_path));
  for (int i = 0; i < cfg->bNumInterfaces; i++) {
    const struct libusb_interface *itf = &cfg->interface[i];
    const struct libusb_interface_descriptor *alt;
    enum df_usb_kind kind;

    if (itf->num_altsetting < 1) continue;
    alt = &itf->altsetting[0];
    if (!df_usb_match_interface(alt->bInterfaceClass, alt->bInterfaceSubClass,
                                alt->bInterfaceProtocol, &kind))
      continue;
    found[nfound] = base;
    found[nfound].kind = kind;
    found[nfound].interface_number = alt->bInterfaceNumber;
    nfound++;
  }
  libusb_free_config_descriptor(cfg);
  if (nfound == 0) {
    free(found);
    return;
  }

  status = df_usb_read_serial(dev, desc.iSerialNumber, base.serial, sizeof(base.serial));
  if (status == DF_ENODEV) { /* left while we looked: nothing to report */
    free(found);
    return;
  }
  for (int i = 0; i < nfound; i++) {
    struct df_usb_known *k = calloc(1, sizeof(*k));

    memcpy(found[i].serial, base.serial, sizeof(base.serial));
    found[i].serial_status = status;
    if (k == NULL) continue;
    k->dev = libusb_ref_device(dev);
    k->info = found[i];
    k->seen = 1;
    k->next = usb->known;
    usb->known = k;
  }
  /* Callbacks get copies: they may scan again, which may free entries. */
  for (int i = 0; i < nfound; i++)
    if (usb->cbs->arrived != NULL) usb->cbs->arrived(usb->ud, &found[i]);
  free(found);
}

/* Reports and forgets every interface of dev (or of all devices not seen,
 * when dev is NULL). */
static void
df_usb_depart(struct df_usb *usb, libusb_device *dev)
{
  struct df_usb_known **pk = &usb->known, *gone = NULL, *k;

  while ((k = *pk) != NULL) {
    if (dev != NULL ? k->dev == dev : !k->seen) {
      *pk = k->next;
      k->next = gone;
      gone = k;
    } else {
      pk = &k->next;
    }
  }
  while ((k = gone) != NULL) {
    gone = k->next;
    if (usb->cbs->left != NULL) usb->cbs->left(usb->ud, &k->info);
    libusb_unref_device(k->dev);
    free(k);
  }
}

/* --- hotplug ------------------------------------------------------------- */

static void
df_usb_run_hotplug(struct df_usb_deferred *d)
{
  struct df_usb_hotplug_event *ev = (struct df_usb_hotplug_event *)d;

  if (ev->arrived)
    df_usb_consider(ev->usb, ev->dev);
  else
    df_usb_depart(ev->usb, ev->dev);
  libusb_unref_device(ev->dev);
  free(ev);
}

static int LIBUSB_CALL
df_usb_on_hotplug(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event,
                  void *user_data)
{
  struct df_usb *usb = user_data;
  struct df_usb_hotplug_event *ev = calloc(1, sizeof(*ev));

  (void)ctx;
  if (ev == NULL) return 0; /* lost: the next df_usb_scan catches up */
  ev->node.run = df_usb_run_hotplug;
  ev->usb = usb;
  ev->dev = libusb_ref_device(dev);
  ev->arrived = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED;
  df_usb_defer(usb, &ev->node);
  return 0; /* stay registered */
}

/* --- public -------------------------------------------------------------- */

int
df_usb_init(struct df_loop *loop, const struct df_usb_callbacks *cbs, void *ud,
            struct df_usb **out)
{
  struct df_usb *usb;
  const struct libusb_pollfd **fds;
  int r;

  if (loop == NULL || cbs == NULL || out == NULL) return DF_EINVAL;
  usb = calloc(1, sizeof(*usb));
  if (usb == NULL) return DF_ENOMEM;
  usb->loop = loop;
  usb->cbs = cbs;
  usb->ud = ud;
  r = libusb_init(&usb->ctx);
  if (r != 0) {
    free(usb);
    return r == LIBUSB_ERROR_NO_MEM ? DF_ENOMEM : DF_EUSB;
  }
  uv_timer_init(&loop->uv, &usb->timeout_timer);
  uv_timer_init(&loop->uv, &usb->spin_timer);
  uv_idle_init(&loop->uv, &usb->drain_idle);
  usb->timeout_timer.data = usb->spin_timer.data = usb->drain_idle.data = usb;

  fds = libusb_get_pollfds(usb->ctx);
  if (fds != NULL) {
    for (int i = 0; fds[i] != NULL; i++) df_usb_on_fd_added(fds[i]->fd, fds[i]->events, usb);
    libusb_free_pollfds(fds);
  }
  usb->context_fds_done = 1;
  libusb_set_pollfd_notifiers(usb->ctx, df_usb_on_fd_added, df_usb_on_fd_removed, usb);

  if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
      libusb_hotplug_register_callback(
        usb->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
        LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
        df_usb_on_hotplug, usb, &usb->hotplug_handle) == 0)
    usb->hotplug = 1;
  *out = usb;
  return DF_OK;
}

int
df_usb_has_hotplug(const struct df_usb *usb)
{
  return usb->hotplug;
}

int
df_usb_scan(struct df_usb *usb)
{
  libusb_device **list;
  struct df_usb_known *k;
  ssize_t n;

  n = libusb_get_device_list(usb->ctx, &list);
  if (n < 0) return df_usb_error_from_libusb((int)n);
  for (k = usb->known; k != NULL; k = k->next) k->seen = 0;
  for (ssize_t i = 0; i < n; i++) {
    int was_known = 0;
    for (k = usb->known; k != NULL; k = k->next) {
      if (k->dev == list[i]) {
        k->seen = 1;
        was_known = 1;
      }
    }
    if (!was_known) df_usb_consider(usb, list[i]);
  }
  /* Entries added by df_usb_consider are marked seen; the rest left. */
  df_usb_depart(usb, NULL);
  libusb_free_device_list(list, 1);
  return DF_OK;
}

void
df_usb_set_callbacks(struct df_usb *usb, const struct df_usb_callbacks *cbs, void *ud)
{
  usb->cbs = cbs;
  usb->ud = ud;
}

void
df_usb_get_callbacks(const struct df_usb *usb, const struct df_usb_callbacks **cbs, void **ud)
{
  *cbs = usb->cbs;
  *ud = usb->ud;
}

void
df_usb_forget(struct df_usb *usb, const struct df_usb_device_info *info)
{
  struct df_usb_known **pk = &usb->known, *k;

  while ((k = *pk) != NULL) {
    if (info == NULL || (k->info.bus == info->bus && k->info.address == info->address)) {
      *pk = k->next;
      libusb_unref_device(k->dev);
      free(k);
    } else {
      pk = &k->next;
    }
  }
}

int
df_usb_open_transports(const struct df_usb *usb)
{
  return usb->open_transports;
}

libusb_device *
df_usb_find_device(struct df_usb *usb, uint8_t bus, uint8_t address)
{
  libusb_device **list, *found = NULL;
  struct df_usb_known *k;
  ssize_t n;

  for (k = usb->known; k != NULL; k = k->next)
    if (k->info.bus == bus && k->info.address == address) return libusb_ref_device(k->dev);
  n = libusb_get_device_list(usb->ctx, &list);
  if (n < 0) return NULL;
  for (ssize_t i = 0; i < n && found == NULL; i++)
    if (libusb_get_bus_number(list[i]) == bus && libusb_get_device_address(list[i]) == address)
      found = libusb_ref_device(list[i]);
  libusb_free_device_list(list, 1);
  return found;
}

static void
df_usb_on_handle_closed(uv_handle_t *handle)
{
  struct df_usb *usb = handle->data;

  if (--usb->handles_to_close == 0) free(usb);
}

void
df_usb_free(struct df_usb *usb)
{
  struct df_usb_deferred *d;
  struct df_usb_known *k;

  if (usb == NULL) return;
  if (usb->hotplug) libusb_hotplug_deregister_callback(usb->ctx, usb->hotplug_handle);
  /* Only hotplug events can be queued now: transports are closed. */
  while ((d = usb->queue_head) != NULL) {
    struct df_usb_hotplug_event *ev = (struct df_usb_hotplug_event *)d;
    usb->queue_head = d->next;
    libusb_unref_device(ev->dev);
    free(ev);
  }
  usb->queue_tail = NULL;
  while ((k = usb->known) != NULL) {
    usb->known = k->next;
    libusb_unref_device(k->dev);
    free(k);
  }
  libusb_set_pollfd_notifiers(usb->ctx, NULL, NULL, NULL);
  while (usb->watches != NULL) {
    struct df_usb_watch *w = usb->watches;
    usb->watches = w->next;
    df_usb_watch_close(usb, w);
  }
  libusb_exit(usb->ctx);
  usb->ctx = NULL;
  usb->handles_to_close = 3;
  uv_close((uv_handle_t *)&usb->timeout_timer, df_usb_on_handle_closed);
  uv_close((uv_handle_t *)&usb->spin_timer, df_usb_on_handle_closed);
  uv_close((uv_handle_t *)&usb->drain_idle, df_usb_on_handle_closed);
}
