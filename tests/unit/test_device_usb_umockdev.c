/* droidfix's real USB path end to end against droidfix-sim (run under
 * umockdev-wrapper): fake USB phones whose bulk endpoints are bridged to the
 * sim's adb and fastboot ports (tests/unit/usb_bridge.h), reached through
 * libusb by df_usb_scan, df_device_probe_usb, ADB (auth, shell) and
 * fastboot (getvar, download, flash, reboot), by the droidfix binary itself
 * (which scans USB when given no --connect), and by Google's fastboot.
 * The bridge also checks each transfer the way a phone's USB side would
 * take it (adb headers alone in their transfer, ZLPs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/loop.h"
#include "core/usb.h"
#include "plugins/adb/adb_key.h"
#include "plugins/adb/adb_shell.h"
#include "plugins/device.h"
#include "plugins/device_find.h"
#include "plugins/fastboot/fastboot.h"
#include "plugins/fastboot/flash.h"
#include "tests/unit/usb_bridge.h"
#include "tests/unit/usb_rig.h"
#include "tests/unit/usb_sims.h"

#define PHONE_SERIAL "SIMUSB42"

/* --- the simulated phone, a process of its own (usb_sims.h) -------------- */

static struct df_test_sim phone = {.serial = PHONE_SERIAL};

/* Runs the droidfix binary under this testbed. Its USB probe gives up after
 * 3 s (cli/session.c), which a loaded machine running ASan builds through
 * umockdev can exceed: a run that failed only because the phone "did not
 * answer: timed out" is tried again (up to three times). */
static int
run_droidfix(const char *name, char *const argv[], char *out, size_t outlen, char *err,
             size_t errlen)
{
  int rc = -1;

  for (int attempt = 0; attempt < 3; attempt++) {
    rc = df_test_run(name, argv, true, out, outlen, err, errlen);
    if (rc == 0 || strstr(err, "did not answer: timed out") == NULL) break;
    fprintf(stderr, "%s: the probe timed out; again\n", name);
  }
  return rc;
}

/* The sim's own account (droidfix-sim status) of a partition's SHA-256. */
static bool
sim_partition_sha(const char *partition, char *hex, size_t hexlen)
{
  static char json[1 << 16];
  char key[128];
  const char *p;

  if (df_test_sim_tool(&phone, "status", NULL, json, sizeof(json)) != 0) return false;
  snprintf(key, sizeof(key), "\"%s\": {", partition);
  p = strstr(json, key);
  if (p == NULL || (p = strstr(p, "\"sha256\": \"")) == NULL) return false;
  p += strlen("\"sha256\": \"");
  snprintf(hex, hexlen, "%.64s", p);
  return true;
}

static int
group_setup(void **state)
{
  (void)state;
  if (df_test_work_init("usb-bridge") != 0 || df_test_sim_start(&phone, "phone") != 0) return -1;
  if (phone.adb_port == 0) {
    fprintf(stderr, "droidfix-sim did not start (%s/droidfix-sim)\n", df_test_bin_dir());
    return -1;
  }
  return 0;
}

static int
group_teardown(void **state)
{
  (void)state;
  df_test_sim_stop(&phone);
  df_test_work_remove();
  return 0;
}

/* --- the loop side ---------------------------------------------------------- */

static struct df_test_rig rig; /* testbed, loop, guard, keys (usb_rig.h) */

static void
run_until(const bool *flag)
{
  df_test_rig_run_until(&rig, flag, 60000);
}

/* Runs the loop until the bridge's counter at offset in its stats reaches want. */
static void
run_until_stat(struct df_test_usb_bridge *b, size_t offset, int want)
{
  struct df_test_usb_stats s;

  df_test_rig_guard_start(&rig, 60000);
  for (;;) {
    df_test_usb_bridge_stats(b, &s);
    if (*(int *)((char *)&s + offset) >= want || rig.guard_fired) break;
    uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
  }
  df_test_rig_guard_end(&rig);
}

static int
setup(void **state)
{
  (void)state;
  df_test_rig_open(&rig);
  return 0;
}

static struct df_test_usb_bridge *bridge;
static struct df_test_usb_bridge *bridge2; /* the phone's next mode, as a new USB device */

static int
teardown(void **state)
{
  (void)state;
  df_test_rig_close(&rig);
  df_test_usb_bridge_free(bridge);
  df_test_usb_bridge_free(bridge2);
  bridge = bridge2 = NULL;
  return 0;
}

/* A phone in adb mode (an MTP interface first, as phones have) and the same
 * phone in the bootloader. The USB serial differs from the phone's own on
 * purpose: a device whose serial is the phone's came from the phone's
 * answers (getprop ro.serialno, getvar serialno), not from the descriptor. */
static const struct df_test_usb_dev_desc adb_desc = {
  .syspath = "/devices/usb1/1-1", .devnum = 2, .vid = 0x2717, .pid = 0xff48,
  .serial = "USBADB01", .n_ifaces = 2, .ifaces = {{0xff, 0xff, 0x00}, {0xff, 0x42, 0x01}}};
static const struct df_test_usb_dev_desc fastboot_desc = {
  .syspath = "/devices/usb1/1-2", .devnum = 3, .vid = 0x18d1, .pid = 0xd00d,
  .serial = "USBFB01", .n_ifaces = 1, .ifaces = {{0xff, 0x42, 0x03}}};

struct seen {
  int arrived;
  struct df_usb_device_info info;
};

static void
on_arrived(void *ud, const struct df_usb_device_info *info)
{
  struct seen *s = ud;
  if (s->arrived++ == 0) s->info = *info;
}

static void
on_left(void *ud, const struct df_usb_device_info *info)
{
  (void)ud;
  (void)info;
}

static const struct df_usb_callbacks usb_cbs = {.arrived = on_arrived, .left = on_left};

struct probe {
  bool done;
  int status;
  struct df_device *dev;
};

static void
on_probe(void *ud, int status, struct df_device *dev)
{
  struct probe *p = ud;
  p->status = status;
  p->dev = dev;
  p->done = true;
}

/* Scans, expects exactly the one phone, and probes it. */
static struct df_device *
scan_and_probe(struct df_usb **usb, enum df_usb_kind kind, const struct df_test_usb_dev_desc *desc)
{
  struct seen s = {0};
  struct probe p = {0};

  assert_int_equal(df_usb_init(&rig.loop, &usb_cbs, &s, usb), 0);
  assert_int_equal(df_usb_scan(*usb), 0);
  assert_int_equal(s.arrived, 1);
  assert_int_equal(s.info.kind, kind);
  assert_int_equal(s.info.vid, desc->vid);
  assert_int_equal(s.info.pid, desc->pid);
  assert_string_equal(s.info.serial, desc->serial);
  assert_int_equal(s.info.interface_number, desc->n_ifaces - 1);
  assert_int_equal(df_device_probe_usb(&rig.loop, *usb, &s.info, &rig.keys, 20000, on_probe, &p), 0);
  run_until(&p.done);
  assert_int_equal(p.status, 0);
  assert_non_null(p.dev);
  return p.dev;
}

/* Closes the device, then the USB context once the transport is gone: it
 * releases the interface as its last act before freeing itself. */
static void
close_all(struct df_device *dev, struct df_usb *usb)
{
  struct df_test_usb_stats s;

  df_test_usb_bridge_stats(bridge, &s);
  df_device_close(dev);
  run_until_stat(bridge, offsetof(struct df_test_usb_stats, releases), s.releases + 1);
  df_usb_free(usb);
  for (int i = 0; i < 10; i++) uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
}

static void
assert_phone_like(struct df_test_usb_bridge *b)
{
  struct df_test_usb_stats s;

  df_test_usb_bridge_stats(b, &s);
  if (s.violations != 0)
    fail_msg("%d transfers a phone would refuse; first: %s", s.violations, s.first_violation);
}

/* --- adb ---------------------------------------------------------------------- */

struct capture {
  bool done;
  int status, exit_code;
  char out[1024];
};

static void
on_capture(void *ud, int status, int exit_code, const char *out, size_t out_len, const char *err,
           size_t err_len)
{
  struct capture *c = ud;

  (void)err;
  (void)err_len;
  c->status = status;
  c->exit_code = exit_code;
  snprintf(c->out, sizeof(c->out), "%.*s", (int)out_len, out);
  c->done = true;
}

static void
test_adb_auth_and_shell_through_libusb(void **state)
{
  struct df_usb *usb;
  struct df_device *dev;
  struct capture c = {0};
  struct df_test_usb_stats s;

  (void)state;
  df_test_sim_wait_mode(&phone, "system", phone.adb_port);
  bridge = df_test_usb_bridge_new(rig.testbed, &adb_desc, DF_TEST_USB_ADB, phone.adb_port);
  dev = scan_and_probe(&usb, DF_USB_ADB, &adb_desc);
  assert_int_equal(dev->mode, DF_DEVICE_SYSTEM);
  assert_string_equal(dev->serial, PHONE_SERIAL); /* getprop ro.serialno, over USB */
  assert_string_equal(dev->codename, "vermeer");  /* the CNXN banner */
  assert_string_equal(dev->transport, "usb:1-1 2717:ff48");

  assert_int_equal(
    df_adb_shell_capture(dev->adb, "getprop ro.product.device", 4096, on_capture, &c), 0);
  run_until(&c.done);
  assert_int_equal(c.status, 0);
  assert_int_equal(c.exit_code, 0);
  assert_string_equal(c.out, "vermeer\n");

  /* An OPEN whose payload ("shell,v2,raw:" + command + NUL) is exactly one
   * 512-byte packet: adbd learns where it ends only from a zero-length
   * packet after it. */
  {
    char cmd[512 - 14 + 1];
    size_t n = sizeof(cmd) - 1;
    memcpy(cmd, "echo ", 5);
    memset(cmd + 5, 'z', n - 5);
    cmd[n] = '\0';
    memset(&c, 0, sizeof(c));
    assert_int_equal(df_adb_shell_capture(dev->adb, cmd, 4096, on_capture, &c), 0);
    run_until(&c.done);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.exit_code, 0);
    assert_int_equal(strlen(c.out), n - 5 + 1);
    df_test_usb_bridge_stats(bridge, &s);
    assert_int_equal(s.zero_packets, 1);
  }

  df_test_usb_bridge_stats(bridge, &s);
  assert_int_equal(s.sessions, 1);
  assert_int_equal(s.adb_out[DF_TEST_ADB_CNXN], 1);
  /* The phone asked (AUTH token), droidfix signed or offered its key, and
   * the phone let it in (CNXN). */
  assert_true(s.adb_in[DF_TEST_ADB_AUTH] >= 1);
  assert_true(s.adb_out[DF_TEST_ADB_AUTH] >= 1);
  assert_int_equal(s.adb_in[DF_TEST_ADB_CNXN], 1);
  assert_true(s.adb_out[DF_TEST_ADB_OPEN] >= 3); /* ro.serialno, ro.product.device, echo */
  assert_true(s.adb_in[DF_TEST_ADB_WRTE] >= 2);
  assert_int_equal(s.bulk_ioctls, 0); /* all of it through libusb's URBs */
  assert_phone_like(bridge);
  close_all(dev, usb);
}

static void
test_droidfix_binary_shell_over_usb(void **state)
{
  char droidfix[600], out[4096], err[4096];
  char *shell[] = {droidfix, "shell", "getprop", "ro.product.device", NULL};
  char *devices[] = {droidfix, "devices", NULL};
  struct df_test_usb_stats s;

  (void)state;
  snprintf(droidfix, sizeof(droidfix), "%s/droidfix", df_test_bin_dir());
  df_test_sim_wait_mode(&phone, "system", phone.adb_port);
  bridge = df_test_usb_bridge_new(rig.testbed, &adb_desc, DF_TEST_USB_ADB, phone.adb_port);
  /* No --connect: droidfix looks over USB, and under umockdev finds the
   * fake phone. */
  if (run_droidfix("droidfix-shell", shell, out, sizeof(out), err, sizeof(err)) != 0 ||
      strcmp(out, "vermeer\n") != 0)
    fail_msg("droidfix shell printed '%s' (%s)", out, err);
  if (run_droidfix("droidfix-devices", devices, out, sizeof(out), err, sizeof(err)) != 0 ||
      strstr(out, PHONE_SERIAL) == NULL || strstr(out, "system") == NULL ||
      strstr(out, "usb:1-1 2717:ff48") == NULL)
    fail_msg("droidfix devices printed:\n%s\n%s", out, err);
  df_test_usb_bridge_stats(bridge, &s);
  assert_int_equal(s.sessions, 2);
  assert_int_equal(s.adb_out[DF_TEST_ADB_CNXN], 2);
  assert_phone_like(bridge);
}

/* --- fastboot ------------------------------------------------------------------ */

struct done {
  bool done;
  int status;
  char message[256];
  struct df_fastboot_flash_report report;
};

static void
on_command(void *ud, int status, const char *message)
{
  struct done *d = ud;
  d->status = status;
  snprintf(d->message, sizeof(d->message), "%s", message);
  d->done = true;
}

static void
on_flash(void *ud, int status, const char *message, const struct df_fastboot_flash_report *report)
{
  struct done *d = ud;
  d->status = status;
  snprintf(d->message, sizeof(d->message), "%s", message != NULL ? message : "");
  if (report != NULL) d->report = *report;
  d->done = true;
}

static void
fastboot_command(struct df_device *dev, const char *command, struct done *d)
{
  memset(d, 0, sizeof(*d));
  assert_int_equal(df_fastboot_command(dev->fastboot, command, NULL, on_command, d), 0);
  run_until(&d->done);
}

/* An image of size bytes of a pattern (not zeros: a lost or doubled chunk
 * would show); returns its SHA-256. */
static void
make_image(const char *path, size_t size, unsigned seed, char *sha, size_t shalen)
{
  FILE *f = fopen(path, "wb");
  uint32_t x = seed * 2654435761u + 1;

  assert_non_null(f);
  for (size_t i = 0; i < size; i += 4) {
    x = x * 1664525u + 1013904223u;
    fwrite(&x, 1, size - i < 4 ? size - i : 4, f);
  }
  fclose(f);
  assert_int_equal(df_hash_file_sync(path, DF_HASH_SHA256, sha, shalen), 0);
}

static void
to_bootloader(void)
{
  if (!df_test_sim_mode_is(&phone, "bootloader")) assert_int_equal(df_test_sim_tool(&phone, "press", "fastboot", NULL, 0), 0);
  df_test_sim_wait_mode(&phone, "bootloader", phone.fb_port);
}

static void
test_fastboot_getvar_and_flash_through_libusb(void **state)
{
  struct df_usb *usb;
  struct df_device *dev;
  struct done d;
  struct df_test_usb_stats s;
  char image[200], want[DF_HASH_HEX_MAX], have[DF_HASH_HEX_MAX];

  (void)state;
  to_bootloader();
  bridge = df_test_usb_bridge_new(rig.testbed, &fastboot_desc, DF_TEST_USB_FASTBOOT, phone.fb_port);
  dev = scan_and_probe(&usb, DF_USB_FASTBOOT, &fastboot_desc);
  assert_int_equal(dev->mode, DF_DEVICE_BOOTLOADER);       /* getvar:is-userspace */
  assert_string_equal(dev->serial, PHONE_SERIAL);          /* getvar:serialno */
  assert_string_equal(dev->codename, "vermeer");           /* getvar:product */
  assert_string_equal(dev->transport, "usb:1-2 18d1:d00d");

  fastboot_command(dev, "getvar:product", &d);
  assert_int_equal(d.status, 0);
  assert_string_equal(d.message, "vermeer");
  fastboot_command(dev, "getvar:no-such-variable", &d);
  assert_int_equal(d.status, DF_EDEVFAIL); /* FAIL comes through as the phone wrote it */
  fastboot_command(dev, "flashing unlock", &d);
  assert_true(d.status == 0 || strstr(d.message, "already") != NULL);

  /* 2 MiB + 512: full 1 MiB chunks and a last one that fills its packet,
   * each of which drew a zero-length packet before fastboot's transport
   * stopped sending them. The phone's OKAY is given back before the last
   * chunk's own completion: droidfix once dropped it so and timed out. */
  df_test_usb_bridge_reply_overtakes_download(bridge, true);
  snprintf(image, sizeof(image), "%s/dtbo.img", df_test_work());
  make_image(image, 2 * 1024 * 1024 + 512, 1, want, sizeof(want));
  memset(&d, 0, sizeof(d));
  assert_int_equal(
    df_fastboot_flash(dev->fastboot, "dtbo", image, NULL, NULL, NULL, on_flash, &d), 0);
  run_until(&d.done);
  if (d.status != 0) fail_msg("flash failed: %s (%s)", df_strerror(d.status), d.message);
  assert_int_equal(d.report.pieces, 1);
  assert_int_equal(d.report.bytes, 2 * 1024 * 1024 + 512);
  assert_true(sim_partition_sha(d.report.partition, have, sizeof(have)));
  assert_string_equal(have, want);

  df_test_usb_bridge_stats(bridge, &s);
  assert_int_equal(s.sessions, 1);
  assert_int_equal(s.fb_downloads, 1);
  assert_int_equal(s.zero_packets, 0);
  assert_true(s.bytes_out > 2 * 1024 * 1024);
  assert_int_equal(s.bulk_ioctls, 0);
  assert_phone_like(bridge);
  close_all(dev, usb);
}

static void
test_droidfix_binary_getvar_and_flash_over_usb(void **state)
{
  char droidfix[600], out[4096], err[4096], image[200];
  char want[DF_HASH_HEX_MAX], have[DF_HASH_HEX_MAX];
  char partition[64];
  char *getvar[] = {droidfix, "getvar", "product", NULL};
  char *slot[] = {droidfix, "getvar", "current-slot", NULL};
  char *flash[] = {droidfix, "flash", "-q", "boot", image, NULL};
  struct df_test_usb_stats s;

  (void)state;
  snprintf(droidfix, sizeof(droidfix), "%s/droidfix", df_test_bin_dir());
  snprintf(image, sizeof(image), "%s/boot.img", df_test_work());
  to_bootloader();
  bridge = df_test_usb_bridge_new(rig.testbed, &fastboot_desc, DF_TEST_USB_FASTBOOT, phone.fb_port);
  if (run_droidfix("droidfix-getvar", getvar, out, sizeof(out), err, sizeof(err)) != 0 ||
      strcmp(out, "product: vermeer\n") != 0)
    fail_msg("getvar printed '%s' (%s)", out, err);
  if (run_droidfix("droidfix-slot", slot, out, sizeof(out), err, sizeof(err)) != 0)
    fail_msg("getvar current-slot failed: %s%s", out, err);
  assert_true(strncmp(out, "current-slot: ", 14) == 0);
  snprintf(partition, sizeof(partition), "boot_%c", out[14]);

  make_image(image, 1024 * 1024 + 512, 2, want, sizeof(want));
  if (run_droidfix("droidfix-flash", flash, out, sizeof(out), err, sizeof(err)) != 0)
    fail_msg("droidfix flash failed: %s%s", out, err);
  assert_true(sim_partition_sha(partition, have, sizeof(have)));
  assert_string_equal(have, want);
  df_test_usb_bridge_stats(bridge, &s);
  assert_int_equal(s.sessions, 3);
  assert_int_equal(s.fb_downloads, 1);
  assert_int_equal(s.zero_packets, 0);
  assert_phone_like(bridge);
}

/* Google's fastboot 29 over the same fake device: raw usbfs, synchronous
 * USBDEVFS_BULK in 16 KiB pieces, the device found through sysfs and the
 * descriptors read from the device node. */
static void
test_google_fastboot_over_the_same_usb(void **state)
{
  char out[4096], err[8192], image[200], want[DF_HASH_HEX_MAX], have[DF_HASH_HEX_MAX];
  char partition[64];
  char *fastboot = NULL;
  const char *candidates[] = {"/usr/bin/fastboot", "/usr/lib/android-sdk/platform-tools/fastboot"};
  struct df_test_usb_stats s;

  (void)state;
  for (size_t i = 0; i < 2 && fastboot == NULL; i++)
    if (access(candidates[i], X_OK) == 0) fastboot = (char *)candidates[i];
  if (fastboot == NULL) {
    fprintf(stderr, "Google's fastboot is not installed: skipped\n");
    skip();
  }
  snprintf(image, sizeof(image), "%s/vendor_boot.img", df_test_work());
  to_bootloader();
  bridge = df_test_usb_bridge_new(rig.testbed, &fastboot_desc, DF_TEST_USB_FASTBOOT, phone.fb_port);
  {
    char *devices[] = {fastboot, "devices", NULL};
    assert_int_equal(df_test_run("fastboot-devices", devices, true, out, sizeof(out), err, sizeof(err)), 0);
    /* fastboot names a USB device by its USB serial (sysfs) */
    if (strstr(out, "USBFB01") == NULL) fail_msg("fastboot devices printed '%s' (%s)", out, err);
  }
  {
    char *getvar[] = {fastboot, "getvar", "product", NULL};
    assert_int_equal(df_test_run("fastboot-getvar", getvar, true, out, sizeof(out), err, sizeof(err)), 0);
    if (strstr(err, "product: vermeer") == NULL) fail_msg("fastboot getvar printed '%s'", err);
  }
  {
    char *getvar[] = {fastboot, "getvar", "current-slot", NULL};
    const char *p;
    assert_int_equal(df_test_run("fastboot-slot", getvar, true, out, sizeof(out), err, sizeof(err)), 0);
    p = strstr(err, "current-slot: ");
    assert_non_null(p);
    snprintf(partition, sizeof(partition), "vendor_boot_%c", p[14]);
  }
  make_image(image, 1024 * 1024 + 100, 3, want, sizeof(want));
  {
    char *flash[] = {fastboot, "flash", "vendor_boot", image, NULL};
    if (df_test_run("fastboot-flash", flash, true, out, sizeof(out), err, sizeof(err)) != 0)
      fail_msg("fastboot flash failed: %s", err);
  }
  assert_true(sim_partition_sha(partition, have, sizeof(have)));
  assert_string_equal(have, want);
  df_test_usb_bridge_stats(bridge, &s);
  assert_true(s.bulk_ioctls > 1024 * 1024 / 16384);
  assert_int_equal(s.fb_downloads, 1);
  assert_int_equal(s.zero_packets, 0);
  assert_phone_like(bridge);
}

/* reboot-bootloader over USB: the phone answers OKAY and goes away (the
 * USB device with it: the session hears ENODEV), comes back and answers a
 * new probe over the same USB device.
 * (Not a reboot to system: the random images flashed above make the sim's
 * phone bootloop, as a real one would.) */
static void
test_fastboot_reboot_over_usb(void **state)
{
  struct df_usb *usb;
  struct df_device *dev;
  struct probe p = {0};
  struct done d;
  struct df_test_usb_stats s;

  (void)state;
  to_bootloader();
  bridge = df_test_usb_bridge_new(rig.testbed, &fastboot_desc, DF_TEST_USB_FASTBOOT, phone.fb_port);
  dev = scan_and_probe(&usb, DF_USB_FASTBOOT, &fastboot_desc);
  fastboot_command(dev, "reboot-bootloader", &d);
  assert_int_equal(d.status, 0);
  run_until_stat(bridge, offsetof(struct df_test_usb_stats, sim_closed), 1);
  df_test_usb_bridge_stats(bridge, &s);
  assert_string_equal(s.fb_last_command, "reboot-bootloader");
  for (int i = 0; i < 5000 && dev->mode != DF_DEVICE_OFFLINE; i++) {
    uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
    df_test_sleep_ms(1);
  }
  assert_int_equal(dev->mode, DF_DEVICE_OFFLINE); /* the transport reported the device gone */
  close_all(dev, usb);

  df_test_sim_wait_mode(&phone, "bootloader", phone.fb_port);
  df_test_usb_bridge_replug(bridge);
  {
    struct seen sn = {0};
    assert_int_equal(df_usb_init(&rig.loop, &usb_cbs, &sn, &usb), 0);
    assert_int_equal(df_usb_scan(usb), 0);
    assert_int_equal(sn.arrived, 1);
    assert_int_equal(df_device_probe_usb(&rig.loop, usb, &sn.info, &rig.keys, 20000, on_probe, &p), 0);
    run_until(&p.done);
    assert_int_equal(p.status, 0);
    assert_string_equal(p.dev->serial, PHONE_SERIAL);
    assert_int_equal(p.dev->mode, DF_DEVICE_BOOTLOADER);
  }
  df_test_usb_bridge_stats(bridge, &s);
  assert_int_equal(s.sessions, 2);
  assert_phone_like(bridge);
  close_all(p.dev, usb);
}

/* --- following a phone across a reboot over USB ------------------------------ */

/* Back to system over the sim's fastboot TCP port (not through USB: this is
 * the test's own doing), unless it is there. */
static void
to_system(void)
{
  char droidfix[600], connect[64];
  char *argv[] = {droidfix, "reboot", "system", "-q", "--connect", connect, NULL};

  if (df_test_sim_mode_is(&phone, "system")) return;
  snprintf(droidfix, sizeof(droidfix), "%s/droidfix", df_test_bin_dir());
  snprintf(connect, sizeof(connect), "fastboot:127.0.0.1:%d", phone.fb_port);
  assert_int_equal(df_test_run("to-system", argv, false, NULL, 0, NULL, 0), 0);
  df_test_sim_wait_mode(&phone, "system", phone.adb_port);
}

/* The phone left USB: a "remove" uevent (what libusb's hotplug hears; its
 * own tests do the same) and the device gone from sysfs. */
static void
unplug_device(const char *syspath)
{
  char sys[128];

  snprintf(sys, sizeof(sys), "/sys%s", syspath);
  umockdev_testbed_uevent(rig.testbed, sys, "remove");
  umockdev_testbed_remove_device(rig.testbed, sys);
}

/* What a phone rebooting from system to the bootloader does on USB: its adb
 * device goes away once adbd is down (the sim closed the session) and, the
 * bootloader up, a fastboot device with another address and ids appears. */
static void
phone_moves_to_bootloader_on_usb(void)
{
  df_test_sim_wait_mode(&phone, "bootloader", phone.fb_port);
  unplug_device(adb_desc.syspath);
  bridge2 = df_test_usb_bridge_new(rig.testbed, &fastboot_desc, DF_TEST_USB_FASTBOOT, phone.fb_port);
}

struct wait_result {
  bool done;
  int status;
  struct df_device *dev;
};

static void
on_wait(void *ud, int status, struct df_device *dev)
{
  struct wait_result *w = ud;
  w->status = status;
  w->dev = dev;
  w->done = true;
}

struct reboot_stream {
  bool done;
  int status;
};

static void
on_reboot_open(void *ud, int status)
{
  struct reboot_stream *r = ud;
  r->status = status;
  r->done = true;
}

static void
on_reboot_data(void *ud, const uint8_t *data, size_t len)
{
  (void)ud;
  (void)data;
  (void)len;
}

static void
on_reboot_close(void *ud, int status)
{
  (void)ud;
  (void)status;
}

static const struct df_adb_stream_callbacks reboot_cbs = {
  .on_open = on_reboot_open, .on_data = on_reboot_data, .on_close = on_reboot_close};

static void
test_wait_follows_the_phone_from_adb_to_the_bootloader(void **state)
{
  struct df_usb *usb;
  struct df_device *dev;
  struct reboot_stream r = {0};
  struct df_adb_stream *stream;
  struct wait_result w = {0};
  struct df_test_usb_stats s;

  (void)state;
  to_system();
  bridge = df_test_usb_bridge_new(rig.testbed, &adb_desc, DF_TEST_USB_ADB, phone.adb_port);
  dev = scan_and_probe(&usb, DF_USB_ADB, &adb_desc);
  assert_string_equal(dev->serial, PHONE_SERIAL);
  fprintf(stderr, "libusb hotplug under umockdev: %s\n", df_usb_has_hotplug(usb) ? "yes" : "no");

  assert_int_equal(df_adb_stream_open(dev->adb, "reboot:bootloader", &reboot_cbs, &r, &stream), 0);
  run_until(&r.done);
  assert_int_equal(r.status, 0);
  /* As df_cli_session_wait_for and dev:wait_for do: the old session goes
   * first, then the wait starts. */
  df_device_close(dev);
  assert_int_equal(df_device_wait_usb(&rig.loop, usb, &rig.keys, PHONE_SERIAL,
                                      DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 60000, on_wait,
                                      &w),
                   0);
  run_until_stat(bridge, offsetof(struct df_test_usb_stats, sim_closed), 1);
  /* The wait keeps looking while the phone is away, and finds nothing. */
  for (int i = 0; i < 50; i++) {
    uv_run(&rig.loop.uv, UV_RUN_NOWAIT);
    df_test_sleep_ms(2);
  }
  assert_false(w.done);
  phone_moves_to_bootloader_on_usb();
  run_until(&w.done);
  if (w.status != 0) fail_msg("the wait ended with %s", df_strerror(w.status));
  assert_non_null(w.dev);
  assert_string_equal(w.dev->serial, PHONE_SERIAL); /* getvar serialno, not the USB serial */
  assert_int_equal(w.dev->mode, DF_DEVICE_BOOTLOADER);
  assert_string_equal(w.dev->transport, "usb:1-2 18d1:d00d");
  assert_non_null(w.dev->fastboot);
  df_test_usb_bridge_stats(bridge2, &s);
  assert_int_equal(s.sessions, 1);
  assert_phone_like(bridge);
  assert_phone_like(bridge2);
  {
    struct df_test_usb_bridge *first = bridge;
    bridge = bridge2; /* close_all waits for this one's release */
    bridge2 = first;
    close_all(w.dev, usb);
  }
}

/* A phone that does not come back: the wait ends with DF_ETIMEDOUT, and a
 * phone already there in the wanted mode is found at once. */
static void
test_wait_times_out_and_finds_a_phone_already_there(void **state)
{
  struct df_usb *usb;
  struct seen sn = {0};
  struct wait_result w = {0};

  (void)state;
  to_bootloader();
  bridge = df_test_usb_bridge_new(rig.testbed, &fastboot_desc, DF_TEST_USB_FASTBOOT, phone.fb_port);
  assert_int_equal(df_usb_init(&rig.loop, &usb_cbs, &sn, &usb), 0);
  assert_int_equal(df_usb_scan(usb), 0);
  assert_int_equal(sn.arrived, 1);
  /* the phone is in the bootloader, not in recovery: no adb interface */
  assert_int_equal(df_device_wait_usb(&rig.loop, usb, &rig.keys, PHONE_SERIAL,
                                      DF_DEVICE_MODE_BIT(DF_DEVICE_RECOVERY), 600, on_wait, &w),
                   0);
  run_until(&w.done);
  assert_int_equal(w.status, DF_ETIMEDOUT);
  assert_null(w.dev);
  /* another serial in the right mode is not the phone */
  memset(&w, 0, sizeof(w));
  assert_int_equal(df_device_wait_usb(&rig.loop, usb, &rig.keys, "NOT-THIS-ONE",
                                      DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER), 1500, on_wait, &w),
                   0);
  run_until(&w.done);
  assert_int_equal(w.status, DF_ETIMEDOUT);
  /* the phone itself, there already */
  memset(&w, 0, sizeof(w));
  assert_int_equal(df_device_wait_usb(&rig.loop, usb, &rig.keys, PHONE_SERIAL,
                                      DF_DEVICE_MODE_BIT(DF_DEVICE_BOOTLOADER) |
                                        DF_DEVICE_MODE_BIT(DF_DEVICE_FASTBOOTD),
                                      20000, on_wait, &w),
                   0);
  run_until(&w.done);
  assert_int_equal(w.status, 0);
  assert_string_equal(w.dev->serial, PHONE_SERIAL);
  assert_int_equal(w.dev->mode, DF_DEVICE_BOOTLOADER);
  /* the callbacks given to df_usb_init are back in place */
  {
    const struct df_usb_callbacks *cbs;
    void *ud;
    df_usb_get_callbacks(usb, &cbs, &ud);
    assert_ptr_equal(cbs, &usb_cbs);
    assert_ptr_equal(ud, &sn);
  }
  assert_phone_like(bridge);
  close_all(w.dev, usb);
}

/* The droidfix binary, no --connect: reboot bootloader --wait over USB. The
 * binary runs on its own; this test plays the USB side of the reboot. */
static void
test_droidfix_binary_reboot_wait_over_usb(void **state)
{
  char droidfix[600], out[4096], err[8192], out_path[256], err_path[256];
  char *reboot[] = {droidfix, "reboot", "bootloader", "--wait", "--timeout", "60", "--json", NULL};
  struct df_test_usb_stats s;
  pid_t pid;
  int status = 0;

  (void)state;
  snprintf(droidfix, sizeof(droidfix), "%s/droidfix", df_test_bin_dir());
  to_system();
  bridge = df_test_usb_bridge_new(rig.testbed, &adb_desc, DF_TEST_USB_ADB, phone.adb_port);
  snprintf(out_path, sizeof(out_path), "%s/reboot-wait.out", df_test_work());
  snprintf(err_path, sizeof(err_path), "%s/reboot-wait.err", df_test_work());
  pid = df_test_spawn(reboot, true, out_path, err_path);
  assert_true(pid > 0);
  /* The sim ends the adb session when the phone goes down. */
  for (int i = 0; i < 6000; i++) {
    df_test_usb_bridge_stats(bridge, &s);
    if (s.sim_closed > 0 || waitpid(pid, &status, WNOHANG) != 0) break;
    df_test_sleep_ms(10);
  }
  if (s.sim_closed == 0) {
    df_test_slurp(err_path, err, sizeof(err));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("droidfix did not reboot the phone: %s", err);
  }
  phone_moves_to_bootloader_on_usb();
  if (!df_test_wait_exit(pid, &status, 9000))
    fail_msg("droidfix reboot --wait hangs");
  df_test_slurp(out_path, out, sizeof(out));
  df_test_slurp(err_path, err, sizeof(err));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("droidfix reboot bootloader --wait failed:\n%s\n%s", out, err);
  if (strstr(out, "\"mode\": \"bootloader\"") == NULL && strstr(out, "\"mode\":\"bootloader\"") == NULL)
    fail_msg("droidfix reboot --wait printed '%s' (%s)", out, err);
  if (strstr(out, PHONE_SERIAL) == NULL) fail_msg("no serial in '%s'", out);
  df_test_usb_bridge_stats(bridge2, &s);
  assert_int_equal(s.sessions, 1); /* the binary's probe of the fastboot device */
  assert_true(s.fb_commands >= 3);  /* getvar serialno, product, is-userspace */
  assert_phone_like(bridge);
  assert_phone_like(bridge2);
}

/* Google's adb 29 over the same fake adb device, with its libusb backend
 * (ADB_LIBUSB=1: its usbdevfs one reads the serial from sysfs in a way
 * umockdev does not serve). A server of the test's own on a port of its
 * own, killed at the end. */
static void
test_google_adb_over_the_same_usb(void **state)
{
  char out[4096], err[4096], port[16];
  char *adb = NULL;
  const char *candidates[] = {"/usr/bin/adb", "/usr/lib/android-sdk/platform-tools/adb"};
  struct df_test_usb_stats s;
  int rc;

  (void)state;
  for (size_t i = 0; i < 2 && adb == NULL; i++)
    if (access(candidates[i], X_OK) == 0) adb = (char *)candidates[i];
  if (adb == NULL) {
    fprintf(stderr, "Google's adb is not installed: skipped\n");
    skip();
  }
  to_system();
  bridge = df_test_usb_bridge_new(rig.testbed, &adb_desc, DF_TEST_USB_ADB, phone.adb_port);
  /* a port outside 5037 and the emulator range, unlikely to be taken */
  snprintf(port, sizeof(port), "%d", 20000 + (int)(getpid() % 20000));
  setenv("ADB_LIBUSB", "1", 1);
  {
    char *start[] = {adb, "-P", port, "start-server", NULL};
    char *devices[] = {adb, "-P", port, "wait-for-device", "devices", NULL};
    char *shell[] = {adb, "-P", port, "-s", "USBADB01", "shell", "getprop", "ro.product.device",
                     NULL};
    char *kill_server[] = {adb, "-P", port, "kill-server", NULL};
    rc = df_test_run("adb-start", start, true, out, sizeof(out), err, sizeof(err));
    if (rc == 0) rc = df_test_run("adb-devices", devices, true, out, sizeof(out), err, sizeof(err));
    if (rc == 0 && strstr(out, "USBADB01\tdevice") == NULL) rc = -2;
    if (rc == 0) rc = df_test_run("adb-shell", shell, true, out, sizeof(out), err, sizeof(err));
    df_test_run("adb-kill", kill_server, true, NULL, 0, NULL, 0);
    unsetenv("ADB_LIBUSB");
    if (rc != 0 || strcmp(out, "vermeer\n") != 0)
      fail_msg("Google's adb over fake USB: rc %d, out '%s', err '%s'", rc, out, err);
  }
  df_test_usb_bridge_stats(bridge, &s);
  assert_true(s.adb_out[DF_TEST_ADB_CNXN] >= 1);
  assert_true(s.adb_out[DF_TEST_ADB_OPEN] >= 1);
  assert_phone_like(bridge);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_adb_auth_and_shell_through_libusb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_droidfix_binary_shell_over_usb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_google_adb_over_the_same_usb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_droidfix_binary_reboot_wait_over_usb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_wait_follows_the_phone_from_adb_to_the_bootloader, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_wait_times_out_and_finds_a_phone_already_there, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_fastboot_getvar_and_flash_through_libusb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_droidfix_binary_getvar_and_flash_over_usb, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_google_fastboot_over_the_same_usb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fastboot_reboot_over_usb, setup, teardown),
  };

  /* umockdev_in_mock_environment() answered false under umockdev-wrapper
   * 0.17, so look for the preload the wrapper sets. */
  if (getenv("LD_PRELOAD") == NULL || strstr(getenv("LD_PRELOAD"), "umockdev") == NULL) {
    fprintf(stderr, "run this test under umockdev-wrapper\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
