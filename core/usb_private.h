/* What core/usb.c and core/transport_usb.c share, and nothing else includes:
 * the context struct and the deferred-completion queue. libusb types may
 * appear here because this header never leaves core/usb*.c.
 *
 * The rule that keeps callbacks sane: a libusb callback (transfer done,
 * hotplug) never runs droidfix code beyond queueing a df_usb_deferred.
 * The queue is drained at the top of a loop callback, where calling user
 * callbacks is safe. libusb runs its callbacks from inside
 * libusb_handle_events, which synchronous calls (reading a serial number)
 * also enter, so without the queue a user's on_read could run in the middle
 * of df_usb_scan. */
#ifndef DF_CORE_USB_PRIVATE_H
#define DF_CORE_USB_PRIVATE_H

#include <libusb.h>

#include "core/usb.h"

struct df_usb_deferred {
  struct df_usb_deferred *next;
  void (*run)(struct df_usb_deferred *d);
  int queued;
};

struct df_usb_watch;
struct df_usb_known;

struct df_usb {
  struct df_loop *loop;
  libusb_context *ctx;
  const struct df_usb_callbacks *cbs;
  void *ud;

  uv_timer_t timeout_timer; /* libusb_get_next_timeout, when libusb has no timerfd */
  uv_timer_t spin_timer;    /* ticks while an fd epoll cannot watch is open */
  uv_idle_t drain_idle;     /* runs the queue soon when it filled outside the loop */
  int handles_to_close;

  struct df_usb_watch *watches;
  int unwatchable; /* fds uv_poll refused: plain files under umockdev */
  int context_fds_done; /* fds added later belong to open devices */

  struct df_usb_deferred *queue_head;
  struct df_usb_deferred *queue_tail;
  int draining;

  struct df_usb_known *known; /* interfaces reported through arrived */
  int hotplug; /* registered with libusb */
  libusb_hotplug_callback_handle hotplug_handle;
  int open_transports;
};

/* Queues d to run on the loop thread at the top level (never nested). */
void
df_usb_defer(struct df_usb *usb, struct df_usb_deferred *d);

/* Re-arms the timeout timer after a transfer was submitted. */
void
df_usb_timeouts_changed(struct df_usb *usb);

/* A referenced libusb_device for bus/address, or NULL when it is not there. */
libusb_device *
df_usb_find_device(struct df_usb *usb, uint8_t bus, uint8_t address);

/* Maps a LIBUSB_ERROR_* code to a df error. */
int
df_usb_error_from_libusb(int err);

#endif
