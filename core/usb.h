/* USB for droidfix: one libusb context driven from the libuv loop, finding
 * the interfaces adb (FF/42/01) and fastboot (FF/42/03) speak on, reporting
 * their arrival and departure (hotplug where libusb has it), and opening one
 * as a df_transport. Interfaces are matched by class/subclass/protocol only,
 * never by vendor id: vendor tables live in devices/.
 *
 * Every callback of this module (arrived, left, and those of the transports
 * it opens) runs on the loop thread, from the loop itself or from df_usb_scan
 * (arrived/left only): never from inside another df_usb or df_transport call. */
#ifndef DF_CORE_USB_H
#define DF_CORE_USB_H

#include <stdint.h>

#include "core/loop.h"
#include "core/transport.h"

enum df_usb_kind {
  DF_USB_ADB,      /* interface class/subclass/protocol FF/42/01 */
  DF_USB_FASTBOOT, /* FF/42/03 */
};

struct df_usb_device_info {
  uint8_t bus;
  uint8_t address;
  char port_path[32]; /* "1-4.2": bus, then the hub ports down to the device */
  uint16_t vid;
  uint16_t pid;
  char serial[128]; /* iSerialNumber as ASCII; "" if the device has none or it
                       could not be read (see serial_status) */
  int serial_status; /* 0, or why serial is empty: DF_EACCES (no permission to
                        open the device: udev rules), DF_ENODEV, DF_EUSB... */
  enum df_usb_kind kind;
  uint8_t interface_number;
};

struct df_usb_callbacks {
  /* A matching interface appeared; info is valid during the call only. */
  void (*arrived)(void *ud, const struct df_usb_device_info *info);
  /* An interface reported by arrived went away (same info as it arrived). */
  void (*left)(void *ud, const struct df_usb_device_info *info);
};

struct df_usb;

/* Which kind an interface triple is. Returns 1 and sets *kind for FF/42/01
 * and FF/42/03, else 0. */
int
df_usb_match_interface(uint8_t cls, uint8_t subclass, uint8_t protocol, enum df_usb_kind *kind);

/* "adb" or "fastboot". */
const char *
df_usb_kind_name(enum df_usb_kind kind);

/* What to tell a person after df_usb_open failed with err, or NULL when
 * df_strerror says enough. DF_EBUSY: the interface is "held by another
 * program (is Google's adb server running? try: adb kill-server)". */
const char *
df_usb_error_hint(int err);

/* Creates the libusb context and hooks it into loop. With hotplug (see
 * df_usb_has_hotplug), arrivals and departures are reported as they happen;
 * call df_usb_scan once for what is plugged in already. cbs must stay valid
 * until df_usb_free. An idle df_usb does not keep df_loop_run running; an
 * open transport does. Returns DF_EUSB when libusb cannot start (no usbfs),
 * DF_ENOMEM. On success *out is owned by the caller (df_usb_free). */
int
df_usb_init(struct df_loop *loop, const struct df_usb_callbacks *cbs, void *ud,
            struct df_usb **out);

/* 1 when libusb reports arrivals and departures by itself on this system. */
int
df_usb_has_hotplug(const struct df_usb *usb);

/* Enumerates now: calls arrived for each matching interface not reported yet
 * and left for each reported one that is gone, before returning. Each
 * interface is reported once, whether found here or by hotplug. Without
 * hotplug, call it periodically. Reads serial numbers, which blocks the loop
 * for up to a second per unresponsive device. */
int
df_usb_scan(struct df_usb *usb);

/* Opens and claims the interface info names (bus, address, interface_number
 * are what count) as a transport; cbs/userdata as in df_transport_callbacks,
 * reading not started. Errors: DF_ENODEV (gone), DF_EACCES (no permission:
 * udev rules), DF_EBUSY (claimed by another program, see df_usb_error_hint),
 * DF_EUSB, DF_ENOMEM. On success *out is owned by the caller
 * (df_transport_close). */
int
df_usb_open(struct df_usb *usb, const struct df_usb_device_info *info,
            const struct df_transport_callbacks *cbs, void *userdata,
            struct df_transport **out);

/* Makes t's writes follow the way kind's host tools cut bulk transfers,
 * which phones rely on:
 * - DF_USB_ADB: each buffer of a write is a transfer of its own (adbd takes
 *   the 24-byte header alone, then the payload; adb/daemon/usb.cpp checks
 *   it), and one that fills its last packet ends with a zero-length packet.
 * - DF_USB_FASTBOOT: one transfer per write, never a zero-length packet, as
 *   Google's fastboot writes: bootloaders (LK, ABL) read a download by its
 *   size and stop at a short packet, so a ZLP after each full chunk would
 *   cut the download short.
 * df_usb_open starts a transport as df_transport_write says (one transfer,
 * a ZLP after a full last packet); call this before the first write. Does
 * nothing to a transport that is not from df_usb_open. */
void
df_usb_transport_set_kind(struct df_transport *t, enum df_usb_kind kind);

/* Hands arrivals and departures to cbs/ud from now on, in place of those
 * given to df_usb_init (one who waits for a phone takes them over for a
 * while, then gives them back). cbs must stay valid while it is in place. */
void
df_usb_set_callbacks(struct df_usb *usb, const struct df_usb_callbacks *cbs, void *ud);

/* The callbacks in place now (to give them back later). */
void
df_usb_get_callbacks(const struct df_usb *usb, const struct df_usb_callbacks **cbs, void **ud);

/* Forgets that the interfaces of a device were reported (bus and address
 * count), without calling left: the next df_usb_scan reports it again if
 * it is still there. For a caller that looked at it too early (a phone
 * still starting up) and wants another look. A NULL info forgets every
 * reported interface. */
void
df_usb_forget(struct df_usb *usb, const struct df_usb_device_info *info);

/* How many transports opened from usb have not finished closing (their
 * close callback has not run): run the loop until it is 0, then free. */
int
df_usb_open_transports(const struct df_usb *usb);

/* Ends the context. Call it after every transport it opened has finished
 * closing (its close callback ran), and not from one of its callbacks. The
 * memory goes when the loop has closed the context's handles. */
void
df_usb_free(struct df_usb *usb);

#endif
