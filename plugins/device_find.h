/* Finding phones among endpoints: probe every endpoint at once and gather
 * the devices that answer, merging the endpoints of one phone (same
 * serial); and waiting for a given phone to come back in a given mode after
 * a reboot, by probing again until it answers or time runs out, at TCP
 * endpoints or over USB.
 * If a function that takes a callback returns an error, the callback is
 * never called. */
#ifndef DF_DEVICE_FIND_H
#define DF_DEVICE_FIND_H

#include <stdint.h>

#include "plugins/device.h"

#define DF_DEVICE_FIND_MAX 64

struct df_device_list {
  struct df_device *devices[DF_DEVICE_FIND_MAX];
  int count;
  /* endpoints that gave no phone, and why (for "nothing found" messages) */
  int errors[DF_DEVICE_FIND_MAX];
  struct df_endpoint failed[DF_DEVICE_FIND_MAX];
  int failed_count;
};

/* The list is the callback's to keep; free it with df_device_list_free. */
typedef void (*df_device_find_cb)(void *userdata, struct df_device_list *list);

int
df_device_find(struct df_loop *loop, const struct df_endpoint *eps, int neps,
               const struct df_adb_keys *keys, unsigned timeout_ms,
               df_device_find_cb cb, void *userdata);

void
df_device_list_free(struct df_device_list *list);

/* Takes a device out of the list (the caller owns it then). */
struct df_device *
df_device_list_take(struct df_device_list *list, int index);

/* Which phone answered last at each endpoint (by serial). A run that
 * waits for several phones at once (run --all) keeps one for all its
 * waits: a wait then leaves out the endpoints where another phone answered,
 * except in every DF_DEVICE_WAIT_SWEEP-th round, which probes them all (an
 * endpoint may have changed hands). Without it, 16 phones each waiting out
 * a reboot signed in to the 15 others every 250 ms (ADB's RSA signature per
 * connection): measured, 1045 signatures in a 16-phone repair round where
 * 64 are needed. Zero it to start; it belongs to the loop's thread. */
#define DF_DEVICE_WAIT_SWEEP 8

struct df_endpoint_owners {
  int count;
  struct {
    struct df_endpoint ep;
    char serial[272];
  } at[DF_DEVICE_FIND_MAX];
};

/* Waits until the phone with this serial answers on one of the endpoints
 * in one of the modes in `modes` (a bit per enum df_device_mode), probing
 * every interval_ms; status DF_ETIMEDOUT after timeout_ms. owners may be
 * NULL (every endpoint every round); else it must outlive the wait, which
 * reads and updates it. */
typedef void (*df_device_wait_cb)(void *userdata, int status, struct df_device *dev);

int
df_device_wait(struct df_loop *loop, const struct df_endpoint *eps, int neps,
               const struct df_adb_keys *keys, const char *serial, unsigned modes,
               unsigned timeout_ms, struct df_endpoint_owners *owners, df_device_wait_cb cb,
               void *userdata);

#define DF_DEVICE_MODE_BIT(m) (1u << (m))

/* The same over USB: takes over usb's arrivals (df_usb_set_callbacks) until
 * cb, and probes every adb or fastboot interface that can be in one of
 * `modes` as it appears, through libusb hotplug where the system has it and
 * a rescan every few hundred ms in any case (also the retry of a phone that
 * was not ready yet). Interfaces present at the start are looked at too: the
 * phone may already be there. The phone is matched by the serial it gives
 * (getprop ro.serialno, getvar serialno), not by the USB serial. A phone
 * that comes back "unauthorized" is kept open until its user allows the key.
 * status: 0; or at the timeout DF_EUNAUTHORIZED (the phone came back but
 * its user has not allowed this computer), DF_EBUSY / DF_EACCES (an adb or
 * fastboot interface that might be the phone's could not be opened: see
 * df_usb_error_hint), else DF_ETIMEDOUT. */
struct df_usb;

int
df_device_wait_usb(struct df_loop *loop, struct df_usb *usb, const struct df_adb_keys *keys,
                   const char *serial, unsigned modes, unsigned timeout_ms,
                   df_device_wait_cb cb, void *userdata);

/* Waits for a phone droidfix has not seen yet over USB: a run that started
 * with no phone answering (`droidfix run RECIPE --model ID`), while its
 * user brings the phone into a mode with its buttons. The adb and fastboot
 * interfaces plugged in at the call are noted first and never probed: only
 * an interface that appears afterwards (hotplug, or the rescan every few
 * hundred ms), that can be in one of `modes` and, when nids > 0, whose
 * vendor:product is one of ids (the model's USB ids from its device file),
 * is probed. A phone that answers in one of `modes` is a candidate; the
 * wait then goes on for DF_DEVICE_WAIT_NEW_SETTLE_MS (and until the probes
 * under way end) to see whether a second phone answers too. Which model
 * the phone is (getvar product, ro.product.device: dev->codename) is the
 * caller's to check.
 * cb: status 0 with the phone (the callee's to close); DF_EBUSY when two
 * or more phones answered, candidates naming them ("SER1, SER2"); at the
 * timeout DF_EUNAUTHORIZED, DF_EBUSY / DF_EACCES with candidates "" (an
 * interface could not be opened: see df_usb_error_hint) or DF_ETIMEDOUT.
 * Takes over usb's arrivals until cb, as df_device_wait_usb does.
 * Returns DF_EINVAL, DF_ENOMEM, or df_usb_scan's error for the first look;
 * then cb is never called. */
#define DF_DEVICE_WAIT_NEW_SETTLE_MS 1000
#define DF_DEVICE_WAIT_NEW_IDS 16

struct df_device_usb_id {
  uint16_t vid, pid;
};

typedef void (*df_device_wait_new_cb)(void *userdata, int status, struct df_device *dev,
                                      const char *candidates);

int
df_device_wait_usb_new(struct df_loop *loop, struct df_usb *usb, const struct df_adb_keys *keys,
                       const struct df_device_usb_id *ids, int nids, unsigned modes,
                       unsigned timeout_ms, df_device_wait_new_cb cb, void *userdata);

#endif
