/* Fake USB phones for tests run under umockdev-wrapper (test_*_umockdev.c).
 *
 * Two layers:
 * - df_test_usb_dev: one USB device in a umockdev testbed (sysfs entry,
 *   descriptors, device node) with an ioctl handler that plays usbfs: the
 *   asynchronous URBs libusb submits and reaps, the synchronous
 *   USBDEVFS_BULK Google's fastboot uses, string descriptors for the serial
 *   number, claiming. What the device does with bulk data is up to its ops.
 * - df_test_usb_bridge: a df_test_usb_dev whose bulk endpoints are a bridge
 *   to droidfix-sim's TCP port, so the host talks over USB to the same
 *   simulated phone as everywhere else. Each claim of the interface opens a
 *   new TCP connection (a new session, as a host's new USB session is to a
 *   phone) and a release closes it; when the sim closes it (the phone
 *   rebooted), the device answers ENODEV like an unplugged one.
 *   - fastboot: the bridge does the FB01 handshake itself, frames every
 *     command with the 8-byte big-endian length, sends a download's data as
 *     the one frame the DATA reply announced, and serves each reply frame as
 *     one IN transfer.
 *   - adb: bytes go through as they are; IN transfers carry one 24-byte
 *     header or one payload each, as adbd writes them.
 *   It checks what a phone's USB side would refuse and counts it as a
 *   violation (see df_test_usb_stats): an adb header not alone in its
 *   transfer (adbd CHECKs it), an adb transfer that fills its last packet
 *   without a zero-length packet, any zero-length packet toward fastboot
 *   (LK and ABL stop reading a download at a short packet).
 *
 * Locks: umockdev runs the handlers on its own thread and the bridge reads
 * the sim on another; every function here may be called from the test's
 * thread at any time. */
#ifndef DF_TEST_USB_BRIDGE_H
#define DF_TEST_USB_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <umockdev.h>

/* ---- one fake device ---- */

#define DF_TEST_USB_PACKET 512 /* wMaxPacketSize of the bulk endpoints (high speed) */

struct df_test_usb_dev;

/* What the device does with its bulk endpoints; called on umockdev's thread
 * without the device's lock held. */
struct df_test_usb_dev_ops {
  /* The interface is claimed: 0, or an errno to refuse (EBUSY, ENODEV). */
  int (*claim)(void *ctx, unsigned interface_number);
  void (*release)(void *ctx, unsigned interface_number);
  /* A bulk OUT transfer of len bytes; zero_packet: a zero-length packet
   * follows it on the wire (USBDEVFS_URB_ZERO_PACKET). 0 or an errno. */
  int (*out)(void *ctx, const uint8_t *data, size_t len, bool zero_packet);
};

struct df_test_usb_dev_desc {
  const char *syspath; /* "/devices/usb1/1-2" (port path 1-2) */
  int devnum;          /* address on bus 1 */
  uint16_t vid, pid;
  const char *serial;  /* iSerialNumber, and the sysfs serial fastboot reads */
  int n_ifaces;
  uint8_t ifaces[4][3]; /* class, subclass, protocol */
};

/* Attaches the handler to /dev/bus/usb/001/DEVNUM, then adds the device
 * (so it can be opened as soon as it appears). ops may be NULL (OUT data is
 * taken and dropped). Aborts the test on failure. */
struct df_test_usb_dev *
df_test_usb_dev_new(UMockdevTestbed *tb, const struct df_test_usb_dev_desc *desc,
                    const struct df_test_usb_dev_ops *ops, void *ctx);

/* The device has len bytes for the host: one IN transfer (cut if the
 * host's transfer is smaller; the rest goes in the next). */
void
df_test_usb_dev_send(struct df_test_usb_dev *d, const void *data, size_t len);

/* Every URB in flight and every later one fails with ENODEV, as when the
 * cable is pulled; df_test_usb_dev_replug undoes it. */
void
df_test_usb_dev_unplug(struct df_test_usb_dev *d);
void
df_test_usb_dev_replug(struct df_test_usb_dev *d);

/* Frees the device; call after the testbed is gone. */
void
df_test_usb_dev_free(struct df_test_usb_dev *d);

/* ---- a bridge to droidfix-sim ---- */

enum df_test_usb_proto {
  DF_TEST_USB_ADB,
  DF_TEST_USB_FASTBOOT,
};

/* Counted command index of an adb packet: CNXN, AUTH, OPEN, OKAY, CLSE,
 * WRTE, anything else. */
enum {
  DF_TEST_ADB_CNXN,
  DF_TEST_ADB_AUTH,
  DF_TEST_ADB_OPEN,
  DF_TEST_ADB_OKAY,
  DF_TEST_ADB_CLSE,
  DF_TEST_ADB_WRTE,
  DF_TEST_ADB_OTHER,
  DF_TEST_ADB_NCMDS,
};

struct df_test_usb_stats {
  int claims, releases;
  int sessions;              /* TCP connections the claims opened */
  int out_transfers;         /* bulk OUT transfers with data */
  int in_transfers;          /* bulk IN transfers given back with data */
  int bulk_ioctls;           /* of those, synchronous USBDEVFS_BULK (Google's fastboot) */
  int zero_packets;          /* zero-length packets that reached the device */
  uint64_t bytes_out, bytes_in;
  int adb_out[DF_TEST_ADB_NCMDS]; /* packets by command, host to phone */
  int adb_in[DF_TEST_ADB_NCMDS];  /* phone to host */
  int fb_commands;           /* fastboot commands (download data not counted) */
  int fb_downloads;          /* DATA replies whose data all arrived */
  char fb_last_command[65];
  int violations;            /* transfers a phone's USB side would refuse */
  char first_violation[256];
  int sim_closed;            /* the sim ended a session by itself */
};

struct df_test_usb_bridge;

/* A fake phone (desc) bridged to 127.0.0.1:port, speaking proto. */
struct df_test_usb_bridge *
df_test_usb_bridge_new(UMockdevTestbed *tb, const struct df_test_usb_dev_desc *desc,
                       enum df_test_usb_proto proto, int port);

/* on: the phone's answer to a download is given back to the host before
 * the OUT transfer that ended the download. usbfs gives completions back in
 * the order they happen (that transfer first), but libusb promises no order
 * between two endpoints, and other systems differ. Off by default. */
void
df_test_usb_bridge_reply_overtakes_download(struct df_test_usb_bridge *b, bool on);

/* The phone is back after a reboot: the device answers again (a real one
 * comes back as a new device; here the same one is plugged in again). */
void
df_test_usb_bridge_replug(struct df_test_usb_bridge *b);

void
df_test_usb_bridge_stats(struct df_test_usb_bridge *b, struct df_test_usb_stats *out);

/* Closes the session and frees the bridge and its device; after the
 * testbed is gone. */
void
df_test_usb_bridge_free(struct df_test_usb_bridge *b);

#endif
