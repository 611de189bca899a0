/* fastboot commands as the simulated phone answers them: in the bootloader
 * with the texts of Qualcomm's ABL (edk2 QcomModulePkg FastbootCmds.c, what
 * Xiaomi's bootloaders run), in fastbootd with the texts of AOSP
 * fastboot/device/commands.cpp and flashing.cpp. Where a text is not read
 * from one of those, the comment says so.
 *
 * Flashing: a raw download becomes the partition's file by a hard link (no
 * copy); a sparse download is decoded with core/sparse into the partition
 * file with pwrite, FILL as pattern writes (zero fills punch holes),
 * DONT_CARE leaving what was there, as a real partition would. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/sparse.h"
#include "tests/sim/fastbootd_internal.h"

/* The texts each kind of device gives. */
struct fb_texts {
  const char *unknown_command;   /* followed by the command name in fastbootd */
  bool unknown_names_command;
  const char *unknown_variable;
  const char *download_too_big;
  const char *no_data;
  const char *flash_locked;
  const char *erase_locked;
  const char *slot_locked;
  const char *bad_slot;
};

static const struct fb_texts abl_texts = {
  .unknown_command = "unknown command",
  .unknown_names_command = false,
  .unknown_variable = "GetVar Variable Not found",
  /* ABL has "\n" at the end of this one; left out so it prints on one line. */
  .download_too_big = "Requested download size is more than max allowed",
  .no_data = "No data to flash",
  .flash_locked = "Flashing is not allowed in Lock State",
  .erase_locked = "Erase is not allowed in Lock State",
  .slot_locked = "Slot Change is not allowed in Lock State",
  .bad_slot = "Invalid Slot Suffix",
};

static const struct fb_texts fastbootd_texts = {
  .unknown_command = "Unrecognized command ",
  .unknown_names_command = true,
  .unknown_variable = "Unknown variable",
  .download_too_big = "Invalid size",
  .no_data = "No data available",
  .flash_locked = "Flashing is not allowed on locked devices",
  .erase_locked = "Erase is not allowed on locked devices",
  .slot_locked = "set_active command is not allowed on locked devices",
  .bad_slot = "Bad slot suffix",
};

/* ABL's CriticalPartitions: refused while flashing is not critical-unlocked
 * (matched as prefixes, as ABL does). */
static const char *const critical_partitions[] = {
  "abl", "rpm", "tz", "sdi", "xbl", "hyp", "pmic", "bootloader", "devinfo", "partition",
  "devcfg", "ddr", "frp", "cdt", "cmnlib", "cmnlib64", "keymaster", "mdtp", "aop",
  "multiimgoem", "secdata", "imagefv", "qupfw", "uefisecapp",
};

static bool
in_fastbootd(const struct df_sim_fb_conn *conn)
{
  return df_sim_phone_mode(conn->fb->phone) == DF_SIM_MODE_FASTBOOTD;
}

static const struct fb_texts *
texts(const struct df_sim_fb_conn *conn)
{
  return in_fastbootd(conn) ? &fastbootd_texts : &abl_texts;
}

static void
fail_unknown(struct df_sim_fb_conn *conn, const char *command)
{
  const struct fb_texts *t = texts(conn);
  size_t n = strcspn(command, ": ");

  if (t->unknown_names_command)
    df_sim_fb_reply(conn, "FAIL", "%s%.*s", t->unknown_command, (int)n, command);
  else
    df_sim_fb_reply(conn, "FAIL", "%s", t->unknown_command);
}

int
df_sim_fb_parse_u64(const char *text, uint64_t *out)
{
  char *end;
  unsigned long long v;

  if (text == NULL || *text == '\0' || *text == '-' || *text == '+')
    return DF_EINVAL;
  errno = 0;
  v = strtoull(text, &end, 0);
  if (errno != 0 || *end != '\0')
    return DF_EINVAL;
  *out = v;
  return 0;
}

static uint64_t
max_download_size(const struct df_sim_fb_conn *conn)
{
  char value[64];
  uint64_t v;

  if (df_sim_phone_getvar(conn->fb->phone, "max-download-size", value, sizeof(value)) &&
      df_sim_fb_parse_u64(value, &v) == 0)
    return v;
  return 0x10000000; /* fastbootd's default (PROTOCOLS.md) */
}

/* ---- getvar ---- */

static void
send_var_line(void *ctx, const char *name, const char *value)
{
  df_sim_fb_reply(ctx, "INFO", "%s:%s", name, value);
}

static void
cmd_getvar(struct df_sim_fb_conn *conn, const char *name)
{
  char value[DF_SIM_FB_RESPONSE_MAX];

  if (strcmp(name, "all") == 0) {
    df_sim_phone_getvar_all(conn->fb->phone, send_var_line, conn);
    df_sim_fb_reply(conn, "OKAY", "%s", "");
    return;
  }
  if (!df_sim_phone_getvar(conn->fb->phone, name, value, sizeof(value))) {
    df_sim_fb_reply(conn, "FAIL", "%s", texts(conn)->unknown_variable);
    return;
  }
  df_sim_fb_reply(conn, "OKAY", "%s", value);
}

/* ---- download ---- */

static void
cmd_download(struct df_sim_fb_conn *conn, const char *arg)
{
  char *end;
  unsigned long long size;
  int err;

  /* fastboot sends exactly 8 lowercase hex digits; take 1 to 8 hex digits
   * and nothing else (no sign, no "0x", no spaces). */
  bool hex_only = *arg != '\0' && strlen(arg) <= 8;
  for (const char *c = arg; hex_only && *c != '\0'; c++)
    hex_only = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F');
  errno = 0;
  size = hex_only ? strtoull(arg, &end, 16) : 0;
  if (!hex_only || *end != '\0' || errno != 0) {
    df_sim_fb_reply(conn, "FAIL", "Invalid size");
    return;
  }
  if (size == 0) {
    df_sim_fb_reply(conn, "FAIL", "Invalid size (0)"); /* fastbootd's text */
    return;
  }
  if (size > max_download_size(conn)) {
    df_sim_fb_reply(conn, "FAIL", "%s", texts(conn)->download_too_big);
    return;
  }
  err = df_sim_fb_download_begin(conn, size);
  if (err != 0) {
    df_log_warn("fastboot: cannot start a download: %s", df_strerror(err));
    df_sim_fb_reply(conn, "FAIL", "Couldn't download data");
    return;
  }
  df_sim_fb_reply(conn, "DATA", "%08llx", size);
}

/* ---- partitions ---- */

struct target {
  const struct df_sim_partition *part;
  char full[96];   /* name with slot suffix, as stored */
  char path[PATH_MAX];
};

/* Finds the partition; an A/B partition named without a suffix means the
 * current slot's, as ABL's GetPartitionHasSlot does. */
static bool
resolve(struct df_sim_fb_conn *conn, const char *name, struct target *t)
{
  struct df_sim_phone *phone = conn->fb->phone;
  char slot[8] = "";

  t->part = df_sim_phone_partition(phone, name, slot, sizeof(slot));
  if (t->part == NULL)
    return false;
  if (t->part->has_slot && slot[0] == '\0') {
    snprintf(t->full, sizeof(t->full), "%s_%s", name, df_sim_phone_current_slot(phone));
    t->part = df_sim_phone_partition(phone, t->full, slot, sizeof(slot));
    if (t->part == NULL)
      return false;
  } else {
    snprintf(t->full, sizeof(t->full), "%s", name);
  }
  df_sim_phone_partition_path(phone, t->full, t->path, sizeof(t->path));
  return true;
}

static bool
is_critical(const char *name)
{
  for (size_t i = 0; i < sizeof(critical_partitions) / sizeof(critical_partitions[0]); i++)
    if (strncmp(name, critical_partitions[i], strlen(critical_partitions[i])) == 0)
      return true;
  return false;
}

static void
fail_no_partition(struct df_sim_fb_conn *conn, const char *name)
{
  if (in_fastbootd(conn))
    df_sim_fb_reply(conn, "FAIL", "%s", strerror(ENOENT)); /* Flash() returns -ENOENT */
  else
    df_sim_fb_reply(conn, "FAIL", "(%s) No such partition", name);
}

static void
fail_too_big(struct df_sim_fb_conn *conn)
{
  if (in_fastbootd(conn))
    df_sim_fb_reply(conn, "FAIL", "%s", strerror(EOVERFLOW)); /* flashing.cpp -EOVERFLOW */
  else /* ABL: "%a : %r" with EFI_VOLUME_FULL (inferred, not read) */
    df_sim_fb_reply(conn, "FAIL", "Error flashing partition : Volume Full");
}

/* Makes sure writing into the partition file changes nothing else: a file
 * hard-linked from a raw flash of the same download to two partitions is
 * copied before it is written in place. */
static int
own_file(const char *path)
{
  struct stat st;
  char tmp[PATH_MAX + 8];
  int in, out, err = 0;
  off_t off = 0;

  if (stat(path, &st) != 0 || st.st_nlink <= 1)
    return 0;
  snprintf(tmp, sizeof(tmp), "%s.own", path);
  in = open(path, O_RDONLY | O_CLOEXEC);
  out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0) {
    err = df_error_from_errno(errno);
  } else {
    while (off < st.st_size) {
      ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(st.st_size - off), 0);
      if (n <= 0) {
        err = n < 0 ? df_error_from_errno(errno) : DF_EIO;
        break;
      }
      off += n;
    }
  }
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  if (err == 0 && rename(tmp, path) != 0)
    err = df_error_from_errno(errno);
  if (err != 0)
    unlink(tmp);
  return err;
}

struct sparse_target {
  int fd;
  uint64_t partition_size;
  char *pattern;       /* 1 MiB of the current fill value */
  uint32_t pattern_value;
  bool pattern_ready;
};

#define FILL_BUF_SIZE (1024u * 1024)

static int
pwrite_all(int fd, const void *data, size_t len, uint64_t offset)
{
  const char *p = data;

  while (len > 0) {
    ssize_t n = pwrite(fd, p, len, (off_t)offset);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return df_error_from_errno(errno);
    }
    p += n;
    len -= (size_t)n;
    offset += (uint64_t)n;
  }
  return 0;
}

static int
sparse_header(void *ctx, const struct df_sparse_header *h)
{
  struct sparse_target *t = ctx;
  uint64_t size = df_sparse_image_size(h);

  if (size > t->partition_size)
    return DF_ETOOBIG;
  /* Every piece of a resparsed image has the same total_blks: the partition
   * ends up exactly that long, whatever it held before. */
  if (ftruncate(t->fd, (off_t)size) != 0)
    return df_error_from_errno(errno);
  return 0;
}

static int
sparse_write(void *ctx, uint64_t offset, const void *data, size_t len)
{
  struct sparse_target *t = ctx;

  return pwrite_all(t->fd, data, len, offset);
}

static int
sparse_fill(void *ctx, uint64_t offset, uint64_t len, uint32_t value)
{
  struct sparse_target *t = ctx;

  if (value == 0 &&
      fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) == 0)
    return 0; /* reads back as zeros, costs nothing */
  if (!t->pattern_ready || t->pattern_value != value) {
    for (size_t i = 0; i < FILL_BUF_SIZE; i += 4)
      memcpy(t->pattern + i, &value, 4); /* host order = the image's LE */
    t->pattern_value = value;
    t->pattern_ready = true;
  }
  while (len > 0) {
    size_t n = len < FILL_BUF_SIZE ? (size_t)len : FILL_BUF_SIZE;
    int err = pwrite_all(t->fd, t->pattern, n, offset);
    if (err != 0)
      return err;
    offset += n;
    len -= n;
  }
  return 0;
}

static const struct df_sparse_sink sparse_sink = {
  .header = sparse_header, .write = sparse_write, .fill = sparse_fill, .skip = NULL,
};

/* Decodes the sparse download into the partition file. */
static int
flash_sparse(const char *download, const struct target *tg)
{
  struct sparse_target st = {.fd = -1, .partition_size = tg->part->size};
  struct df_sparse_decoder dec;
  char *buf = NULL;
  int in = -1, err;

  err = own_file(tg->path);
  if (err != 0)
    return err;
  in = open(download, O_RDONLY | O_CLOEXEC);
  st.fd = open(tg->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  buf = malloc(FILL_BUF_SIZE);
  st.pattern = malloc(FILL_BUF_SIZE);
  if (in < 0 || st.fd < 0) {
    err = df_error_from_errno(errno);
    goto out;
  }
  if (buf == NULL || st.pattern == NULL) {
    err = DF_ENOMEM;
    goto out;
  }
  df_sparse_decoder_init(&dec, &sparse_sink, &st);
  for (;;) {
    ssize_t n = read(in, buf, FILL_BUF_SIZE);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = df_error_from_errno(errno);
      goto out;
    }
    if (n == 0)
      break;
    err = df_sparse_decoder_feed(&dec, buf, (size_t)n);
    if (err != 0)
      goto out;
  }
  err = df_sparse_decoder_finish(&dec);
out:
  if (in >= 0)
    close(in);
  if (st.fd >= 0)
    close(st.fd);
  free(buf);
  free(st.pattern);
  return err;
}

/* A raw download becomes the partition's content without a copy. */
static int
flash_raw(struct df_sim_fastbootd *fb, const char *download, const struct target *tg)
{
  int err = df_sim_fb_retire_file(fb, tg->path);

  if (err != 0)
    return err;
  if (link(download, tg->path) == 0)
    return 0;
  /* Another file system (no hard links): copy. */
  int in = open(download, O_RDONLY | O_CLOEXEC);
  int out = open(tg->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0) {
    err = df_error_from_errno(errno);
  } else {
    for (;;) {
      ssize_t n = copy_file_range(in, NULL, out, NULL, 1u << 30, 0);
      if (n < 0) {
        err = df_error_from_errno(errno);
        break;
      }
      if (n == 0)
        break;
    }
  }
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  return err;
}

static bool
refuse_locked(struct df_sim_fb_conn *conn, const char *name, bool erase)
{
  struct df_sim_phone *phone = conn->fb->phone;
  const struct fb_texts *t = texts(conn);

  if (!df_sim_phone_unlocked(phone)) {
    df_sim_fb_reply(conn, "FAIL", "%s", erase ? t->erase_locked : t->flash_locked);
    return true;
  }
  if (!in_fastbootd(conn) && !df_sim_phone_critical_unlocked(phone) && is_critical(name)) {
    df_sim_fb_reply(conn, "FAIL", "%s is not allowed for Critical Partitions",
                    erase ? "Erase" : "Flashing");
    return true;
  }
  return false;
}

static void
cmd_flash(struct df_sim_fb_conn *conn, const char *name)
{
  struct df_sim_fastbootd *fb = conn->fb;
  char download[PATH_MAX];
  uint8_t head[DF_SPARSE_HEADER_SIZE];
  struct target tg;
  struct df_sparse_header sh;
  ssize_t n = 0;
  int fd, err;

  if (!fb->have_download) {
    df_sim_fb_reply(conn, "FAIL", "%s", texts(conn)->no_data);
    return;
  }
  if (refuse_locked(conn, name, false))
    return;
  if (!resolve(conn, name, &tg)) {
    fail_no_partition(conn, name);
    return;
  }
  df_sim_phone_download_path(fb->phone, download, sizeof(download));
  fd = open(download, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    n = read(fd, head, sizeof(head));
    close(fd);
  }
  if (fd < 0 || n < 0) {
    df_log_warn("fastboot: the download at %s is gone: %s", download, strerror(errno));
    df_sim_fb_reply(conn, "FAIL", "%s", texts(conn)->no_data);
    return;
  }
  if (df_sparse_is_sparse(head, (size_t)n)) {
    if (df_sparse_header_parse(head, (size_t)n, &sh) != 0) {
      df_sim_fb_reply(conn, "FAIL", "Invalid sparse file format"); /* libsparse's wording */
      return;
    }
    err = flash_sparse(download, &tg);
  } else {
    err = fb->download_size > tg.part->size ? DF_ETOOBIG : flash_raw(fb, download, &tg);
  }
  if (err == DF_ETOOBIG) {
    fail_too_big(conn);
    return;
  }
  if (err == DF_ECORRUPT) {
    df_sim_fb_reply(conn, "FAIL", "Invalid sparse file format");
    return;
  }
  if (err != 0) {
    df_log_warn("fastboot: flashing %s failed: %s", tg.full, df_strerror(err));
    df_sim_fb_reply(conn, "FAIL", "Error flashing partition : %s", df_strerror(err));
    return;
  }
  err = df_sim_phone_partition_written(fb->phone, tg.full);
  if (err != 0)
    df_log_warn("fastboot: recording the flash of %s failed: %s", tg.full, df_strerror(err));
  df_log_info("fastboot: flashed %s", tg.full);
  if (in_fastbootd(conn))
    df_sim_fb_reply(conn, "OKAY", "Flashing succeeded");
  else
    df_sim_fb_reply(conn, "OKAY", "%s", "");
}

static void
cmd_erase(struct df_sim_fb_conn *conn, const char *name)
{
  struct target tg;
  int fd, err;

  if (refuse_locked(conn, name, true))
    return;
  if (!resolve(conn, name, &tg)) {
    if (in_fastbootd(conn))
      df_sim_fb_reply(conn, "FAIL", "Partition doesn't exist");
    else
      df_sim_fb_reply(conn, "FAIL", "Check device console."); /* ABL CmdErase */
    return;
  }
  /* A new empty file: an erased partition reads as empty (issue 3). */
  if (df_sim_fb_retire_file(conn->fb, tg.path) != 0) {
    df_sim_fb_reply(conn, "FAIL", "Erasing failed");
    return;
  }
  fd = open(tg.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    df_sim_fb_reply(conn, "FAIL", "Erasing failed");
    return;
  }
  close(fd);
  err = df_sim_phone_partition_written(conn->fb->phone, tg.full);
  if (err != 0)
    df_log_warn("fastboot: recording the erase of %s failed: %s", tg.full, df_strerror(err));
  if (in_fastbootd(conn))
    df_sim_fb_reply(conn, "OKAY", "Erasing succeeded");
  else
    df_sim_fb_reply(conn, "OKAY", "%s", "");
}

static void
cmd_set_active(struct df_sim_fb_conn *conn, const char *slot)
{
  struct df_sim_phone *phone = conn->fb->phone;
  const struct fb_texts *t = texts(conn);

  if (!df_sim_phone_unlocked(phone)) {
    df_sim_fb_reply(conn, "FAIL", "%s", t->slot_locked);
    return;
  }
  if (slot[0] == '_')
    slot++;
  if (slot[0] == '\0' || df_sim_phone_set_active(phone, slot) != 0) {
    df_sim_fb_reply(conn, "FAIL", "%s", t->bad_slot);
    return;
  }
  df_sim_fb_reply(conn, "OKAY", "%s", "");
}

/* ---- reboots ---- */

static void
cmd_reboot(struct df_sim_fb_conn *conn, const char *target, const char *fastbootd_text)
{
  struct df_sim_phone *phone = conn->fb->phone;

  /* OKAY first: the phone drops the connection on a later loop turn. */
  df_sim_fb_reply(conn, "OKAY", "%s", in_fastbootd(conn) ? fastbootd_text : "");
  if (df_sim_phone_reboot(phone, target) != 0)
    df_log_warn("fastboot: the phone refused to reboot to '%s'", target);
}

/* ---- flashing lock / unlock (bootloader) ---- */

static void
set_lock(struct df_sim_fb_conn *conn, bool unlock, bool critical)
{
  struct df_sim_phone *phone = conn->fb->phone;
  bool now = critical ? df_sim_phone_critical_unlocked(phone) : df_sim_phone_unlocked(phone);
  int err;

  if (now == unlock) {
    /* ABL SetDeviceUnlock: FAIL with a tab before the text. */
    df_sim_fb_reply(conn, "FAIL", "\tDevice already : %s", unlock ? "unlocked!" : "locked!");
    return;
  }
  err = df_sim_phone_set_unlocked(phone, unlock, critical);
  if (err != 0) {
    df_sim_fb_reply(conn, "FAIL", "%s", unlock ? "Flashing Unlock is not allowed" :
                                                 "Flashing lock failed");
    return;
  }
  df_sim_fb_reply(conn, "OKAY", "%s", "");
}

static void
cmd_flashing(struct df_sim_fb_conn *conn, const char *command, const char *arg)
{
  if (in_fastbootd(conn)) {
    fail_unknown(conn, command);
    return;
  }
  if (strcmp(arg, "unlock") == 0)
    set_lock(conn, true, false);
  else if (strcmp(arg, "lock") == 0)
    set_lock(conn, false, false);
  else if (strcmp(arg, "unlock_critical") == 0)
    set_lock(conn, true, true);
  else if (strcmp(arg, "lock_critical") == 0)
    set_lock(conn, false, true);
  else if (strcmp(arg, "get_unlock_ability") == 0) {
    df_sim_fb_reply(conn, "INFO", "get_unlock_ability: %d", 1);
    df_sim_fb_reply(conn, "OKAY", "%s", "");
  } else
    fail_unknown(conn, command);
}

static void
cmd_oem(struct df_sim_fb_conn *conn, const char *command, const char *arg)
{
  struct df_sim_phone *phone = conn->fb->phone;

  if (in_fastbootd(conn)) {
    /* No fastboot HAL in the sim's fastbootd. */
    df_sim_fb_reply(conn, "FAIL", "Unable to open fastboot HAL");
    return;
  }
  if (strcmp(arg, "device-info") == 0) { /* ABL CmdOemDevinfo */
    df_sim_fb_reply(conn, "INFO", "Verity mode: true");
    df_sim_fb_reply(conn, "INFO", "Device unlocked: %s",
                    df_sim_phone_unlocked(phone) ? "true" : "false");
    df_sim_fb_reply(conn, "INFO", "Device critical unlocked: %s",
                    df_sim_phone_critical_unlocked(phone) ? "true" : "false");
    df_sim_fb_reply(conn, "INFO", "Charger screen enabled: false");
    df_sim_fb_reply(conn, "OKAY", "%s", "");
    return;
  }
  fail_unknown(conn, command);
}

/* ---- fastbootd: logical partitions and super ---- */

static bool
logical_allowed(struct df_sim_fb_conn *conn, const char *command)
{
  if (!in_fastbootd(conn)) {
    fail_unknown(conn, command);
    return false;
  }
  if (!df_sim_phone_unlocked(conn->fb->phone)) {
    df_sim_fb_reply(conn, "FAIL", "Command not available on locked devices");
    return false;
  }
  return true;
}

/* "NAME:SIZE" -> name and size (AOSP ParseUint: decimal or 0x hex). */
static bool
split_name_size(const char *arg, char *name, size_t namelen, uint64_t *size)
{
  const char *colon = strrchr(arg, ':');

  if (colon == NULL || (size_t)(colon - arg) >= namelen || colon == arg)
    return false;
  memcpy(name, arg, (size_t)(colon - arg));
  name[colon - arg] = '\0';
  return df_sim_fb_parse_u64(colon + 1, size) == 0;
}

static void
cmd_logical(struct df_sim_fb_conn *conn, const char *command, const char *arg)
{
  struct df_sim_phone *phone = conn->fb->phone;
  char name[64];
  uint64_t size = 0;
  int err;

  if (!logical_allowed(conn, command))
    return;
  if (strncmp(command, "delete-logical-partition", 24) == 0) {
    if (arg[0] == '\0') {
      df_sim_fb_reply(conn, "FAIL", "Invalid partition name and size");
      return;
    }
    err = df_sim_phone_logical_delete(phone, arg);
    if (err != 0)
      df_sim_fb_reply(conn, "FAIL", "Failed to write partition table");
    else
      df_sim_fb_reply(conn, "OKAY", "Partition deleted");
    return;
  }
  if (!split_name_size(arg, name, sizeof(name), &size)) {
    df_sim_fb_reply(conn, "FAIL", "Invalid partition name and size");
    return;
  }
  if (strncmp(command, "create-logical-partition", 24) == 0) {
    err = df_sim_phone_logical_create(phone, name, size);
    if (err == DF_EEXIST)
      df_sim_fb_reply(conn, "FAIL", "Partition already exists");
    else if (err == DF_ENOSPC)
      df_sim_fb_reply(conn, "FAIL", "Not enough space for partition");
    else if (err != 0)
      df_sim_fb_reply(conn, "FAIL", "Failed to add partition");
    else
      df_sim_fb_reply(conn, "OKAY", "Partition created");
    return;
  }
  err = df_sim_phone_logical_resize(phone, name, size);
  if (err == DF_ENOENT)
    df_sim_fb_reply(conn, "FAIL", "Partition does not exist");
  else if (err == DF_ENOSPC)
    df_sim_fb_reply(conn, "FAIL", "Not enough space to resize partition");
  else if (err != 0)
    df_sim_fb_reply(conn, "FAIL", "Failed to write partition table");
  else
    df_sim_fb_reply(conn, "OKAY", "Partition resized");
}

static void
cmd_update_super(struct df_sim_fb_conn *conn, const char *command, const char *arg)
{
  struct df_sim_fastbootd *fb = conn->fb;
  char super_name[64], value[64], download[PATH_MAX];
  const char *colon;
  bool wipe = false;
  int err;

  if (!logical_allowed(conn, command))
    return;
  colon = strchr(arg, ':');
  if (colon != NULL) {
    wipe = strcmp(colon + 1, "wipe") == 0;
    snprintf(super_name, sizeof(super_name), "%.*s", (int)(colon - arg), arg);
  } else {
    snprintf(super_name, sizeof(super_name), "%s", arg);
  }
  if (super_name[0] == '\0') {
    df_sim_fb_reply(conn, "FAIL", "Invalid arguments");
    return;
  }
  if (!df_sim_phone_getvar(fb->phone, "super-partition-name", value, sizeof(value)) ||
      strcmp(value, super_name) != 0) {
    df_sim_fb_reply(conn, "FAIL", "Could not find partition: %s", super_name);
    return;
  }
  if (!fb->have_download) {
    df_sim_fb_reply(conn, "FAIL", "No data available");
    return;
  }
  df_sim_phone_download_path(fb->phone, download, sizeof(download));
  err = df_sim_phone_update_super(fb->phone, download, wipe);
  /* fastbootd moves the download buffer out: it is used up. */
  fb->have_download = false;
  if (err == DF_ECORRUPT || err == DF_EINVAL) {
    df_sim_fb_reply(conn, "FAIL", "Data is not a valid logical partition metadata image");
    return;
  }
  if (err != 0) {
    df_sim_fb_reply(conn, "FAIL", "Unable to flash new partition table");
    return;
  }
  df_sim_fb_reply(conn, "OKAY", "Successfully flashed partition table");
}

static void
cmd_snapshot_update(struct df_sim_fb_conn *conn, const char *arg)
{
  char status[64] = "none";

  df_sim_phone_getvar(conn->fb->phone, "snapshot-update-status", status, sizeof(status));
  if (arg[0] == '\0') {
    df_sim_fb_reply(conn, "INFO", "%s", status);
    df_sim_fb_reply(conn, "OKAY", "%s", "");
  } else if (strcmp(arg, "cancel") == 0) {
    if (strcmp(status, "none") != 0 && strcmp(status, "cancelled") != 0) {
      /* phone.h has no way to change the merge state. */
      df_sim_fb_reply(conn, "FAIL", "droidfix-sim cannot cancel a snapshot update (state %s)",
                      status);
      return;
    }
    df_sim_fb_reply(conn, "OKAY", "%s", in_fastbootd(conn) ? "Success" : "");
  } else if (strcmp(arg, "merge") == 0) {
    df_sim_fb_reply(conn, "FAIL", "No snapshot merge is in progress");
  } else {
    df_sim_fb_reply(conn, "FAIL", "Invalid parameter to snapshot-update");
  }
}

/* ---- dispatch ---- */

/* If command is "prefix" or "prefix<sep>...", *arg gets what follows sep. */
static bool
match(const char *command, const char *prefix, char sep, const char **arg)
{
  size_t n = strlen(prefix);

  if (strncmp(command, prefix, n) != 0)
    return false;
  if (command[n] == '\0') {
    *arg = command + n;
    return true;
  }
  if (command[n] != sep)
    return false;
  *arg = command + n + 1;
  return true;
}

void
df_sim_fb_dispatch(struct df_sim_fb_conn *conn, const char *command)
{
  const char *arg = "";

  df_log_debug("fastboot: <- %s", command);
  if (match(command, "getvar", ':', &arg))
    cmd_getvar(conn, arg);
  else if (match(command, "download", ':', &arg))
    cmd_download(conn, arg);
  else if (match(command, "flash", ':', &arg))
    cmd_flash(conn, arg);
  else if (match(command, "erase", ':', &arg))
    cmd_erase(conn, arg);
  else if (match(command, "set_active", ':', &arg))
    cmd_set_active(conn, arg);
  else if (strcmp(command, "reboot") == 0)
    cmd_reboot(conn, "", "Rebooting");
  else if (strcmp(command, "reboot-bootloader") == 0 || strcmp(command, "reboot:bootloader") == 0)
    cmd_reboot(conn, "bootloader", "Rebooting bootloader");
  else if (strcmp(command, "reboot-fastboot") == 0 || strcmp(command, "reboot:fastboot") == 0)
    cmd_reboot(conn, "fastboot", "Rebooting fastboot");
  else if (strcmp(command, "reboot-recovery") == 0 || strcmp(command, "reboot:recovery") == 0)
    cmd_reboot(conn, "recovery", "Rebooting to recovery");
  else if (strcmp(command, "continue") == 0)
    cmd_reboot(conn, "", "Continuing boot");
  else if (match(command, "flashing", ' ', &arg))
    cmd_flashing(conn, command, arg);
  else if (match(command, "oem", ' ', &arg))
    cmd_oem(conn, command, arg);
  else if (match(command, "create-logical-partition", ':', &arg) ||
           match(command, "resize-logical-partition", ':', &arg) ||
           match(command, "delete-logical-partition", ':', &arg))
    cmd_logical(conn, command, arg);
  else if (match(command, "update-super", ':', &arg))
    cmd_update_super(conn, command, arg);
  else if (match(command, "snapshot-update", ':', &arg))
    cmd_snapshot_update(conn, arg);
  else if (match(command, "boot", ':', &arg))
    df_sim_fb_reply(conn, "FAIL", "droidfix-sim cannot boot an image: flash it instead");
  else
    fail_unknown(conn, command);
}
