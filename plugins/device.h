/* Phones as droidfix sees them: one device per serial number, reached over
 * ADB or fastboot through TCP endpoints (--connect) or USB, in one mode at a
 * time. A probe connects to an endpoint, tells ADB from fastboot by the
 * handshake, and learns the phone's serial, mode and model. The same phone
 * seen on two endpoints (its adb port and its fastboot port) is one device.
 * If a function that takes a callback returns an error, the callback is
 * never called. */
#ifndef DF_DEVICE_H
#define DF_DEVICE_H

#include <stdbool.h>

#include "core/loop.h"
#include "plugins/adb/adb_conn.h"
#include "plugins/adb/adb_key.h"
#include "plugins/fastboot/fastboot.h"

enum df_device_mode {
  DF_DEVICE_OFFLINE = 0,
  DF_DEVICE_SYSTEM,       /* adb "device" */
  DF_DEVICE_RECOVERY,
  DF_DEVICE_SIDELOAD,
  DF_DEVICE_BOOTLOADER,   /* fastboot, is-userspace no */
  DF_DEVICE_FASTBOOTD,    /* fastboot, is-userspace yes */
  DF_DEVICE_UNAUTHORIZED, /* adb, waiting for the user to allow the key */
};

const char *
df_device_mode_name(enum df_device_mode mode);

/* "system", "bootloader", ... -> mode; DF_EINVAL for anything else. */
int
df_device_mode_parse(const char *name, enum df_device_mode *mode);

enum df_endpoint_kind {
  DF_ENDPOINT_ANY = 0,  /* tell by the handshake */
  DF_ENDPOINT_ADB,
  DF_ENDPOINT_FASTBOOT,
};

/* "HOST:PORT", "adb:HOST:PORT" or "fastboot:HOST:PORT" (also "tcp:" as
 * fastboot -s spells it). */
struct df_endpoint {
  char host[256];
  int port;
  enum df_endpoint_kind kind;
};

int
df_endpoint_parse(const char *text, struct df_endpoint *ep);

/* A phone reached through one endpoint, with a live session. */
struct df_device {
  char serial[272];      /* getprop ro.serialno, getvar serialno, or HOST:PORT */
  enum df_device_mode mode;
  char model[64];        /* ro.product.model, or fastboot's product */
  char codename[64];     /* ro.product.device / fastboot product */
  char transport[128];   /* "tcp:127.0.0.1:40123" (the transport's description) */
  struct df_endpoint endpoint;
  struct df_adb_conn *adb;      /* set in adb modes */
  struct df_fastboot *fastboot; /* set in fastboot modes */
  void *probing;                /* internal: the probe under way, if any */
};

/* status 0: dev is filled and owns its session (close it with
 * df_device_close). Else why the endpoint gave no phone: DF_ECONNREFUSED
 * (nothing listening: the phone is not in a mode served there),
 * DF_EUNAUTHORIZED comes back as a device in mode UNAUTHORIZED. */
typedef void (*df_device_probe_cb)(void *userdata, int status, struct df_device *dev);

int
df_device_probe(struct df_loop *loop, const struct df_endpoint *ep,
                const struct df_adb_keys *keys, unsigned timeout_ms,
                df_device_probe_cb cb, void *userdata);

/* The same for a USB interface that df_usb reported: opens it (errors of
 * df_usb_open come back through cb, e.g. DF_EBUSY when Google's adb server
 * holds it) and talks ADB or fastboot as its interface class says. The
 * serial is the USB serial number until the phone tells its own. */
struct df_usb;
struct df_usb_device_info;

int
df_device_probe_usb(struct df_loop *loop, struct df_usb *usb,
                    const struct df_usb_device_info *info, const struct df_adb_keys *keys,
                    unsigned timeout_ms, df_device_probe_cb cb, void *userdata);

/* Closes the device's session and frees it. */
void
df_device_close(struct df_device *dev);

#endif
