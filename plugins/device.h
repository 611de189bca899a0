/* Phones as droidfix sees them: one device per serial number, reached over
 * ADB or fastboot through TCP endpoints (--connect) or USB, in one mode at a
 * time. A probe connects to an endpoint, tells ADB from fastboot by the
 * handshake, and learns the phone's serial, mode and model. The same phone
 * seen on two endpoints (its adb port and its fastboot port) is one device.
 * An endpoint may also name a transport a plugin added (SCHEME:ADDRESS):
 * its stream comes from the plugin and the same handshakes run over it.
 * If a function that takes a callback returns an error, the callback is
 * never called. */
#ifndef DF_DEVICE_H
#define DF_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

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
 * fastboot -s spells it); or "SCHEME:ADDRESS" (with the same optional
 * "adb:" / "fastboot:" in front) for a transport a plugin registered with
 * df_device_scheme_add: then scheme is set, host holds ADDRESS and port is
 * 0. */
struct df_endpoint {
  char host[256];
  int port;
  enum df_endpoint_kind kind;
  char scheme[32]; /* "" for TCP */
};

/* DF_EINVAL: not an endpoint. DF_ENOENT: it reads as SCHEME:ADDRESS but no
 * registered transport has that scheme (its name is in ep->scheme). */
int
df_endpoint_parse(const char *text, struct df_endpoint *ep);

/* "127.0.0.1:5555", "[::1]:5555" or "acme:phone-7", for messages. */
void
df_endpoint_format(const struct df_endpoint *ep, char *out, size_t outlen);

/* The serial a device found at ep has until the phone tells its own (and
 * keeps when it cannot: a phone still starting whose getprop fails):
 * "HOST:PORT", or the formatted endpoint of a plugin transport. */
void
df_endpoint_stand_in_serial(const struct df_endpoint *ep, char *out, size_t outlen);

/* Transports added by plugins (lua-api/droidfix_plugin.h). open runs on a
 * worker thread of the loop's thread pool (uv_queue_work) and returns a
 * connected stream socket, which the probe then owns, or a negative errno
 * value with a one-line reason in err. */
typedef int (*df_device_scheme_open_fn)(const char *address, char *err, size_t errlen);

#define DF_DEVICE_SCHEME_MAX 16

/* Registers SCHEME for --connect SCHEME:ADDRESS, opened by open; kind says
 * what the streams carry (DF_ENDPOINT_ANY: tell by the handshake). owner
 * names who added it (a plugin's name) for messages. DF_EINVAL (bad or
 * reserved scheme name: see droidfix_plugin.h), DF_EEXIST, DF_ENOSPC. Not
 * thread-safe: call before any probe. The strings must outlive the process
 * (a plugin's static data). */
int
df_device_scheme_add(const char *scheme, enum df_endpoint_kind kind,
                     df_device_scheme_open_fn open, const char *owner);

/* The owner of a registered scheme, or NULL. */
const char *
df_device_scheme_owner(const char *scheme);

/* Why the last open of this scheme endpoint failed ("connect: Connection
 * refused", from the plugin), or NULL if it did not. Loop thread only. */
const char *
df_device_scheme_last_error(const struct df_endpoint *ep);

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
