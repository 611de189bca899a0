/* What the phone's bootloader and fastbootd know: fastboot variables,
 * partitions (physical from the device file, logical inside super), slots,
 * the lock state, and the files that hold each partition's last image. */
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
#include "tests/sim/sim_internal.h"

static bool
in_fastbootd(const struct df_sim_phone *phone)
{
  return phone->mode == DF_SIM_MODE_FASTBOOTD;
}

const char *
df_sim_phone_current_slot(const struct df_sim_phone *phone)
{
  return phone->model.ab ? (phone->slot[0] == 'b' ? "b" : "a") : "";
}

int
df_sim_phone_set_active(struct df_sim_phone *phone, const char *slot)
{
  if (!phone->model.ab) {
    return DF_EUNSUPPORTED;
  }
  if (slot[0] == '_') {
    slot++;
  }
  if ((strcmp(slot, "a") != 0 && strcmp(slot, "b") != 0)) {
    return DF_EINVAL;
  }
  phone->slot[0] = slot[0];
  phone->slot[1] = '\0';
  df_sim_kvs_set(&phone->props, "ro.boot.slot_suffix", slot[0] == 'b' ? "_b" : "_a");
  df_sim_phone_changed(phone);
  return 0;
}

static const struct df_sim_partition *
model_part(const struct df_sim_phone *phone, const char *base)
{
  for (size_t i = 0; i < phone->model.nparts; i++) {
    if (strcmp(phone->model.parts[i].name, base) == 0) {
      return &phone->model.parts[i];
    }
  }
  return NULL;
}

static const struct df_sim_logical *
logical_find(const struct df_sim_phone *phone, const char *full_name)
{
  for (size_t i = 0; i < phone->nlogical; i++) {
    if (strcmp(phone->logical[i].full_name, full_name) == 0) {
      return &phone->logical[i];
    }
  }
  return NULL;
}

/* Splits "boot_a" into "boot" and "a" when the base partition has slots. */
static const struct df_sim_partition *
physical_lookup(const struct df_sim_phone *phone, const char *full_name, char *slot,
                size_t slotlen)
{
  const struct df_sim_partition *p = model_part(phone, full_name);
  if (p && !p->logical && !p->has_slot) {
    snprintf(slot, slotlen, "%s", "");
    return p;
  }
  size_t n = strlen(full_name);
  if (n > 2 && full_name[n - 2] == '_' && (full_name[n - 1] == 'a' || full_name[n - 1] == 'b')) {
    char base[64];
    snprintf(base, sizeof(base), "%.*s", (int)(n - 2), full_name);
    p = model_part(phone, base);
    if (p && !p->logical && p->has_slot) {
      snprintf(slot, slotlen, "%c", full_name[n - 1]);
      return p;
    }
  }
  return NULL;
}

const struct df_sim_partition *
df_sim_phone_partition(const struct df_sim_phone *phone, const char *full_name, char *slot,
                       size_t slotlen)
{
  char tmp[4];
  if (slot == NULL) {
    slot = tmp;
    slotlen = sizeof(tmp);
  }
  const struct df_sim_partition *p = physical_lookup(phone, full_name, slot, slotlen);
  if (p) {
    return p;
  }
  if (in_fastbootd(phone)) {
    const struct df_sim_logical *l = logical_find(phone, full_name);
    if (l) {
      size_t n = strlen(full_name);
      snprintf(slot, slotlen, "%s", (n > 2 && full_name[n - 2] == '_') ? full_name + n - 1 : "");
      return &l->part;
    }
  }
  return NULL;
}

void
df_sim_phone_partition_path(const struct df_sim_phone *phone, const char *full_name, char *out,
                            size_t outlen)
{
  snprintf(out, outlen, "%s/partitions/%s.img", phone->state_dir, full_name);
}

void
df_sim_phone_download_path(const struct df_sim_phone *phone, char *out, size_t outlen)
{
  snprintf(out, outlen, "%s/download.bin", phone->state_dir);
}

int
df_sim_phone_partition_written(struct df_sim_phone *phone, const char *full_name)
{
  char slot[4];
  const struct df_sim_partition *p = df_sim_phone_partition(phone, full_name, slot, sizeof(slot));
  if (p == NULL) {
    return DF_ENOENT;
  }
  /* A new userdata image (erase, -w, flash) is a factory reset of what the
   * phone stores for its user; metadata goes with it (encryption keys). */
  if (strcmp(p->name, "userdata") == 0) {
    df_sim_phone_wipe_userdata(phone);
  }
  /* Root (Magisk) lives in the image it patched: init_boot where the phone
   * has one, else boot. Writing that partition of the slot the phone runs
   * puts a stock image there (a ROM's flash_all does), so su is gone until
   * the person roots it again (`serve --rooted` stands for flashing a
   * patched image). */
  const char *root_part = model_part(phone, "init_boot") != NULL ? "init_boot" : "boot";
  if (phone->rooted && strcmp(p->name, root_part) == 0 &&
      (!p->has_slot || strcmp(slot, df_sim_phone_current_slot(phone)) == 0)) {
    phone->rooted = false;
    phone->adbd_root = false;
    df_log_info("droidfix-sim %s: %s written: the phone has no root now (Magisk was in the old "
                "image)", phone->serial, full_name);
  }
  df_sim_phone_changed(phone);
  return 0;
}

bool
df_sim_phone_boot_image_ok(const struct df_sim_phone *phone, const char *slot)
{
  const struct df_sim_partition *p = model_part(phone, "boot");
  if (p == NULL) {
    return true;
  }
  char name[80], path[PATH_MAX];
  if (p->has_slot) {
    snprintf(name, sizeof(name), "boot_%s", slot[0] ? slot : "a");
  } else {
    snprintf(name, sizeof(name), "boot");
  }
  df_sim_phone_partition_path(phone, name, path, sizeof(path));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char magic[8];
  ssize_t n = read(fd, magic, sizeof(magic));
  close(fd);
  /* AOSP system/tools/mkbootimg bootimg.h: BOOT_MAGIC "ANDROID!". */
  return n == 8 && memcmp(magic, "ANDROID!", 8) == 0;
}

bool
df_sim_phone_unlocked(const struct df_sim_phone *phone)
{
  return phone->unlocked;
}

bool
df_sim_phone_critical_unlocked(const struct df_sim_phone *phone)
{
  return phone->critical_unlocked;
}

int
df_sim_phone_set_unlocked(struct df_sim_phone *phone, bool unlocked, bool critical)
{
  bool changed;
  if (critical) {
    changed = phone->critical_unlocked != unlocked;
    phone->critical_unlocked = unlocked;
  } else {
    changed = phone->unlocked != unlocked;
    phone->unlocked = unlocked;
  }
  if (changed) {
    /* Phones wipe userdata on a lock state change (fastboot/README.md). */
    df_sim_phone_wipe_userdata(phone);
  }
  df_sim_kvs_set(&phone->props, "ro.boot.flash.locked", phone->unlocked ? "0" : "1");
  df_sim_kvs_set(&phone->props, "ro.boot.verifiedbootstate", phone->unlocked ? "orange" : "green");
  df_sim_phone_changed(phone);
  return 0;
}

/* ---- logical partitions ---- */

static void
split_slot(const char *full_name, char *base, size_t baselen)
{
  size_t n = strlen(full_name);
  if (n > 2 && full_name[n - 2] == '_' && (full_name[n - 1] == 'a' || full_name[n - 1] == 'b')) {
    n -= 2;
  }
  snprintf(base, baselen, "%.*s", (int)n, full_name);
}

int
df_sim_phone_logical_create(struct df_sim_phone *phone, const char *name, uint64_t size)
{
  if (!phone->model.dynamic) {
    return DF_EUNSUPPORTED;
  }
  if (strlen(name) == 0 || strlen(name) >= 64 || strchr(name, '/')) {
    return DF_EINVAL;
  }
  if (logical_find(phone, name) || physical_lookup(phone, name, (char[4]){0}, 4)) {
    return DF_EEXIST;
  }
  phone->logical = df_sim_xrealloc(phone->logical, (phone->nlogical + 1) * sizeof(*phone->logical));
  struct df_sim_logical *l = &phone->logical[phone->nlogical++];
  memset(l, 0, sizeof(*l));
  snprintf(l->full_name, sizeof(l->full_name), "%s", name);
  split_slot(name, l->part.name, sizeof(l->part.name));
  l->part.size = size;
  l->part.has_slot = strcmp(l->part.name, name) != 0;
  l->part.logical = true;
  char path[PATH_MAX];
  df_sim_phone_partition_path(phone, name, path, sizeof(path));
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
  }
  df_sim_phone_changed(phone);
  return 0;
}

int
df_sim_phone_logical_resize(struct df_sim_phone *phone, const char *name, uint64_t size)
{
  for (size_t i = 0; i < phone->nlogical; i++) {
    if (strcmp(phone->logical[i].full_name, name) == 0) {
      phone->logical[i].part.size = size;
      char path[PATH_MAX];
      df_sim_phone_partition_path(phone, name, path, sizeof(path));
      struct stat st;
      /* A shrink below the image cuts it, as on a phone. */
      if (stat(path, &st) == 0 && (uint64_t)st.st_size > size) {
        if (truncate(path, (off_t)size) < 0) {
          return df_error_from_errno(errno);
        }
      }
      df_sim_phone_changed(phone);
      return 0;
    }
  }
  return DF_ENOENT;
}

int
df_sim_phone_logical_delete(struct df_sim_phone *phone, const char *name)
{
  for (size_t i = 0; i < phone->nlogical; i++) {
    if (strcmp(phone->logical[i].full_name, name) == 0) {
      char path[PATH_MAX];
      df_sim_phone_partition_path(phone, name, path, sizeof(path));
      unlink(path);
      memmove(&phone->logical[i], &phone->logical[i + 1],
              (phone->nlogical - i - 1) * sizeof(*phone->logical));
      phone->nlogical--;
      df_sim_phone_changed(phone);
      return 0;
    }
  }
  return DF_ENOENT;
}

/* ---- update-super: the partition table of a super_empty image, read by
 * fastbootd_super.c (df_sim_lp_read_partitions). ---- */

int
df_sim_phone_update_super(struct df_sim_phone *phone, const char *image_path, bool wipe)
{
  if (!phone->model.dynamic) {
    return DF_EUNSUPPORTED;
  }
  struct df_sim_lp_partition *parts = NULL;
  size_t count = 0;
  int r = df_sim_lp_read_partitions(image_path, &parts, &count);
  if (r < 0) {
    return r;
  }
  /* The new table replaces the old one. Content survives for names that
   * stay, unless wipe (fastboot's update-super:NAME:wipe). */
  struct df_sim_logical *old = phone->logical;
  size_t nold = phone->nlogical;
  phone->logical = NULL;
  phone->nlogical = 0;
  for (size_t i = 0; i < count; i++) {
    const char *name = parts[i].name;
    if (name[0] == '\0' || strlen(name) >= 64 || strchr(name, '/') || logical_find(phone, name)) {
      continue;
    }
    phone->logical = df_sim_xrealloc(phone->logical, (phone->nlogical + 1) * sizeof(*phone->logical));
    struct df_sim_logical *l = &phone->logical[phone->nlogical++];
    memset(l, 0, sizeof(*l));
    snprintf(l->full_name, sizeof(l->full_name), "%s", name);
    split_slot(name, l->part.name, sizeof(l->part.name));
    l->part.size = parts[i].size;
    l->part.has_slot = strcmp(l->part.name, name) != 0;
    l->part.logical = true;
  }
  free(parts);
  for (size_t i = 0; i < nold; i++) {
    if (wipe || !logical_find(phone, old[i].full_name)) {
      char path[PATH_MAX];
      df_sim_phone_partition_path(phone, old[i].full_name, path, sizeof(path));
      unlink(path);
    }
  }
  free(old);
  df_sim_phone_changed(phone);
  return 0;
}

/* ---- fastboot variables ---- */

static void
partition_type(const struct df_sim_partition *p, char *value, size_t valuelen)
{
  /* Xiaomi formats userdata as f2fs and metadata as ext4 (flash_all.sh
   * erases them; fastboot -w formats by this type). Others are raw. */
  if (strcmp(p->name, "userdata") == 0) {
    snprintf(value, valuelen, "f2fs");
  } else if (strcmp(p->name, "metadata") == 0 || strcmp(p->name, "cache") == 0) {
    snprintf(value, valuelen, "ext4");
  } else {
    snprintf(value, valuelen, "raw");
  }
}

static bool
base_known(const struct df_sim_phone *phone, const char *base, bool *has_slot)
{
  const struct df_sim_partition *p = model_part(phone, base);
  if (p) {
    *has_slot = p->has_slot;
    return true;
  }
  for (size_t i = 0; i < phone->nlogical; i++) {
    if (strcmp(phone->logical[i].part.name, base) == 0) {
      *has_slot = phone->logical[i].part.has_slot;
      return true;
    }
  }
  return false;
}

bool
df_sim_phone_getvar(const struct df_sim_phone *phone, const char *name, char *value,
                    size_t valuelen)
{
  const bool fbd = in_fastbootd(phone);
  const char *colon = strchr(name, ':');
  if (colon) {
    const char *arg = colon + 1;
    size_t klen = (size_t)(colon - name);
    char slot[4];
    if (klen == 8 && strncmp(name, "has-slot", 8) == 0) {
      bool has;
      if (!base_known(phone, arg, &has)) {
        return false;
      }
      snprintf(value, valuelen, "%s", has ? "yes" : "no");
      return true;
    }
    const struct df_sim_partition *p = df_sim_phone_partition(phone, arg, slot, sizeof(slot));
    if (p == NULL) {
      return false;
    }
    if (klen == 14 && strncmp(name, "partition-size", 14) == 0) {
      /* fastboot prints sizes as 0x + 16 hex digits (AOSP fastboot/device
       * variables.cpp GetPartitionSize). */
      snprintf(value, valuelen, "0x%016" PRIX64, p->size);
      return true;
    }
    if (klen == 14 && strncmp(name, "partition-type", 14) == 0) {
      partition_type(p, value, valuelen);
      return true;
    }
    if (klen == 10 && strncmp(name, "is-logical", 10) == 0) {
      snprintf(value, valuelen, "%s", p->logical ? "yes" : "no");
      return true;
    }
    return false;
  }
  const char *prop;
  if (strcmp(name, "version") == 0) {
    snprintf(value, valuelen, "0.4");
  } else if (strcmp(name, "version-bootloader") == 0) {
    prop = df_sim_phone_getprop(phone, "ro.bootloader");
    snprintf(value, valuelen, "%s", prop[0] ? prop : "unknown");
  } else if (strcmp(name, "version-baseband") == 0) {
    prop = df_sim_phone_getprop(phone, "gsm.version.baseband");
    snprintf(value, valuelen, "%s", prop);
  } else if (strcmp(name, "product") == 0) {
    snprintf(value, valuelen, "%s", phone->model.codename);
  } else if (strcmp(name, "serialno") == 0) {
    snprintf(value, valuelen, "%s", phone->serial);
  } else if (strcmp(name, "secure") == 0) {
    snprintf(value, valuelen, "yes");
  } else if (strcmp(name, "unlocked") == 0) {
    snprintf(value, valuelen, "%s", phone->unlocked ? "yes" : "no");
  } else if (strcmp(name, "current-slot") == 0) {
    if (!phone->model.ab) {
      return false;
    }
    snprintf(value, valuelen, "%s", df_sim_phone_current_slot(phone));
  } else if (strcmp(name, "slot-count") == 0) {
    snprintf(value, valuelen, "%d", phone->model.ab ? 2 : 0);
  } else if (strcmp(name, "max-download-size") == 0) {
    uint64_t sz = fbd ? phone->model.fastbootd_max_download_size : phone->model.max_download_size;
    snprintf(value, valuelen, "0x%" PRIx64, sz);
  } else if (strcmp(name, "is-userspace") == 0) {
    snprintf(value, valuelen, "%s", fbd ? "yes" : "no");
  } else if (strcmp(name, "super-partition-name") == 0) {
    if (!phone->model.dynamic) {
      return false;
    }
    snprintf(value, valuelen, "%s", phone->model.super_name ? phone->model.super_name : "super");
  } else if (strcmp(name, "snapshot-update-status") == 0) {
    snprintf(value, valuelen, "none");
  } else if (strcmp(name, "hw-revision") == 0) {
    prop = df_sim_phone_getprop(phone, "ro.boot.hwversion");
    snprintf(value, valuelen, "%s", prop[0] ? prop : "10000");
  } else if (strcmp(name, "variant") == 0) {
    prop = df_sim_phone_getprop(phone, "ro.boot.hardware.sku");
    snprintf(value, valuelen, "%s", prop[0] ? prop : "UFS");
  } else if (strcmp(name, "off-mode-charge") == 0) {
    snprintf(value, valuelen, "0");
  } else if (strcmp(name, "battery-voltage") == 0) {
    snprintf(value, valuelen, "4221");
  } else if (strcmp(name, "battery-soc-ok") == 0) {
    snprintf(value, valuelen, "yes");
  } else if (strcmp(name, "anti") == 0 && !fbd) {
    /* Xiaomi bootloaders answer getvar anti with the anti-rollback version
     * flash_all.sh compares against images/anti_version.txt (the phone's
     * counter: the device file's anti_rollback, else 0, or --anti-rollback). */
    if (phone->model.anti_rollback < 0 && strcmp(phone->model.vendor, "xiaomi") != 0) {
      return false;
    }
    snprintf(value, valuelen, "%d", phone->anti_rollback);
  } else if (strcmp(name, "crc") == 0 && !fbd && strcmp(phone->model.vendor, "xiaomi") == 0) {
    /* "1": the bootloader checks crclist files; the sim does not. */
    snprintf(value, valuelen, "0");
  } else if (strcmp(name, "token") == 0 && !fbd && strcmp(phone->model.vendor, "xiaomi") == 0) {
    snprintf(value, valuelen, "VQEBAAEAAAA%s", phone->serial);
  } else {
    return false;
  }
  return true;
}

void
df_sim_phone_getvar_all(const struct df_sim_phone *phone,
                        void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
  static const char *const plain[] = {
    "version", "version-bootloader", "version-baseband", "product", "serialno", "secure",
    "unlocked", "current-slot", "slot-count", "max-download-size", "is-userspace",
    "super-partition-name", "snapshot-update-status", "hw-revision", "variant",
    "off-mode-charge", "battery-voltage", "battery-soc-ok", "anti", "crc", "token",
  };
  char value[256], name[128];
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
    if (df_sim_phone_getvar(phone, plain[i], value, sizeof(value))) {
      fn(ctx, plain[i], value);
    }
  }
  static const char *const per_part[] = {"has-slot", "partition-size", "partition-type",
                                         "is-logical"};
  for (size_t i = 0; i < phone->model.nparts; i++) {
    const struct df_sim_partition *p = &phone->model.parts[i];
    if (p->logical) {
      continue;
    }
    for (int s = 0; s < (p->has_slot ? 2 : 1); s++) {
      char full[80];
      if (p->has_slot) {
        snprintf(full, sizeof(full), "%s_%c", p->name, s ? 'b' : 'a');
      } else {
        snprintf(full, sizeof(full), "%s", p->name);
      }
      for (size_t k = 0; k < 4; k++) {
        const char *arg = k == 0 ? p->name : full;
        if (k == 0 && s == 1) {
          continue;
        }
        snprintf(name, sizeof(name), "%s:%s", per_part[k], arg);
        if (df_sim_phone_getvar(phone, name, value, sizeof(value))) {
          fn(ctx, name, value);
        }
      }
    }
  }
  if (in_fastbootd(phone)) {
    for (size_t i = 0; i < phone->nlogical; i++) {
      for (size_t k = 1; k < 4; k++) {
        snprintf(name, sizeof(name), "%s:%s", per_part[k], phone->logical[i].full_name);
        if (df_sim_phone_getvar(phone, name, value, sizeof(value))) {
          fn(ctx, name, value);
        }
      }
    }
  }
}
