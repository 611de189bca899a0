/* The simulated phone's model: what it is (from a devices/ file), what state
 * it is in (mode, properties, packages, settings, accounts, files, partitions,
 * faults), and the operations its protocol servers call. The state lives in a
 * state directory and survives restarts; every change is saved before the
 * operation that made it answers.
 *
 * Contract between the parts of droidfix-sim:
 *   phone.c, vfs.c, shell*.c, faults.c, sim_main.c  - the phone (this header)
 *   adbd*.c                                          - the ADB device side
 *   fastbootd*.c                                     - the fastboot device side
 * The protocol servers only use what this header declares. */
#ifndef DF_SIM_PHONE_H
#define DF_SIM_PHONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/loop.h"

enum df_sim_mode {
  DF_SIM_MODE_OFF = 0,      /* rebooting: silent for --boot-ms */
  DF_SIM_MODE_SYSTEM,
  DF_SIM_MODE_SAFE_MODE,
  DF_SIM_MODE_RECOVERY,
  DF_SIM_MODE_SIDELOAD,
  DF_SIM_MODE_BOOTLOADER,
  DF_SIM_MODE_FASTBOOTD,
  DF_SIM_MODE_FACTORY_MODE, /* booted, but into the factory test app/screen */
  DF_SIM_MODE_BOOTLOOP,     /* never finishes booting: no adb, no fastboot */
  DF_SIM_MODE_DOWNLOAD,     /* Samsung download (Odin) mode: no adb, no fastboot */
};

/* "system", "safe-mode", "recovery", "sideload", "bootloader", "fastbootd",
 * "factory-mode", "bootloop", "download", "off". */
const char *
df_sim_mode_name(enum df_sim_mode mode);

/* True in the modes where adbd runs (system, safe-mode, factory-mode,
 * recovery, sideload), and where fastboot answers (bootloader, fastbootd). */
bool
df_sim_mode_has_adb(enum df_sim_mode mode);
bool
df_sim_mode_has_fastboot(enum df_sim_mode mode);

enum df_sim_auth_policy {
  DF_SIM_AUTH_ACCEPT = 0, /* a new key is accepted as if the user tapped Allow */
  DF_SIM_AUTH_PROMPT,     /* a new key stays unauthorized (the prompt is open) */
  DF_SIM_AUTH_REJECT,     /* a new key is refused */
};

/* A growable byte buffer for command output. */
struct df_sim_buf {
  char *data;
  size_t len;
  size_t cap;
};

void df_sim_buf_append(struct df_sim_buf *b, const void *data, size_t len);
void df_sim_buf_printf(struct df_sim_buf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
void df_sim_buf_free(struct df_sim_buf *b);

/* What a shell command produced. */
struct df_sim_output {
  struct df_sim_buf out;
  struct df_sim_buf err;
  int exit_code;
};

void df_sim_output_free(struct df_sim_output *o);

struct df_sim_phone;

/* ---- identity and state ---- */

enum df_sim_mode df_sim_phone_mode(const struct df_sim_phone *phone);
const char *df_sim_phone_serial(const struct df_sim_phone *phone);
enum df_sim_auth_policy df_sim_phone_auth_policy(const struct df_sim_phone *phone);

/* A system property ("ro.product.device", "ro.build.version.sdk", ...);
 * "" when unset. Never NULL. */
const char *df_sim_phone_getprop(const struct df_sim_phone *phone, const char *name);

/* Absolute path of a file in the state directory ("adb_keys", ...). */
void df_sim_phone_state_path(const struct df_sim_phone *phone, const char *name,
                             char *out, size_t outlen);

/* Whether su exists (a rooted phone) and whether adbd runs as root now
 * (after root:, until unroot: or a reboot). */
bool df_sim_phone_rooted(const struct df_sim_phone *phone);
bool df_sim_phone_adbd_root(const struct df_sim_phone *phone);
void df_sim_phone_set_adbd_root(struct df_sim_phone *phone, bool root);

/* ---- shell ---- */

/* Runs one shell command line as the shell user (uid 2000) or as root, the
 * way /system/bin/sh on the phone would, and fills out. Returns 0; the
 * command's own failure is its exit code. A command that reboots the phone
 * (reboot, svc power reboot) schedules the reboot after it returns. */
int df_sim_shell_run(struct df_sim_phone *phone, const char *command_line, bool as_root,
                     struct df_sim_output *out);

/* ---- files (what adb sync sees) ---- */

struct df_sim_stat {
  uint32_t mode;   /* st_mode: type and permission bits */
  uint64_t size;
  int64_t mtime;   /* seconds */
  uint32_t uid, gid;
};

/* DF_ENOENT if absent, DF_EACCES if the caller may not see it. */
int df_sim_vfs_stat(struct df_sim_phone *phone, const char *path, bool as_root,
                    struct df_sim_stat *st);

typedef void (*df_sim_vfs_entry_fn)(void *ctx, const char *name, const struct df_sim_stat *st);
int df_sim_vfs_list(struct df_sim_phone *phone, const char *path, bool as_root,
                    df_sim_vfs_entry_fn fn, void *ctx);

/* Opens a regular file for reading; *fd is a host file descriptor the caller
 * reads and closes. */
int df_sim_vfs_open_read(struct df_sim_phone *phone, const char *path, bool as_root, int *fd);

/* Writing is atomic, as adbd's is: begin gives a host fd to a temporary file
 * (parent folders are created as adb push's fixed_push_mkdir does); finish
 * with ok=true puts it at path with mode and mtime, ok=false removes it. */
struct df_sim_vfs_write;
int df_sim_vfs_write_begin(struct df_sim_phone *phone, const char *path, uint32_t mode,
                           bool as_root, struct df_sim_vfs_write **w, int *fd);
int df_sim_vfs_write_finish(struct df_sim_phone *phone, struct df_sim_vfs_write *w, bool ok,
                            int64_t mtime);

/* ---- reboots ---- */

/* target: "" (system), "bootloader", "recovery", "sideload",
 * "sideload-auto-reboot", "fastboot" (fastbootd), "safe-mode". Drops every
 * connection, stays silent for --boot-ms, then comes up in the new mode (a
 * fault may decide otherwise: a bootloop never reaches system). DF_EINVAL for
 * an unknown target. Safe to call from inside a protocol handler: the drop
 * happens on a later loop turn. */
int df_sim_phone_reboot(struct df_sim_phone *phone, const char *target);

/* ---- fastboot facts and partitions ---- */

struct df_sim_partition {
  char name[64];     /* without slot suffix: "boot", "super", "system" */
  uint64_t size;     /* partition size in bytes */
  bool has_slot;     /* A/B: exists as name_a and name_b */
  bool logical;      /* inside super (fastbootd only) */
};

/* A fastboot variable as this phone's bootloader (or fastbootd) answers it,
 * e.g. "product" -> "vermeer", "has-slot:boot" -> "yes", "anti" -> "1".
 * Returns false for an unknown variable. */
bool df_sim_phone_getvar(const struct df_sim_phone *phone, const char *name,
                         char *value, size_t valuelen);

/* Calls fn for every variable getvar:all prints, as "name", "value". */
void df_sim_phone_getvar_all(const struct df_sim_phone *phone,
                             void (*fn)(void *ctx, const char *name, const char *value),
                             void *ctx);

/* Looks up a partition by its full name ("boot_a", "super", "system_b").
 * *slot gets "a", "b" or "" . Returns NULL if the phone has no such
 * partition in the current mode (logical ones exist only in fastbootd). */
const struct df_sim_partition *df_sim_phone_partition(const struct df_sim_phone *phone,
                                                      const char *full_name,
                                                      char *slot, size_t slotlen);

/* Host path of the file that holds a partition's content. */
void df_sim_phone_partition_path(const struct df_sim_phone *phone, const char *full_name,
                                 char *out, size_t outlen);

/* Records that the partition file now holds a new image (after a flash or an
 * erase): faults and boot checks look at it, the state is saved. */
int df_sim_phone_partition_written(struct df_sim_phone *phone, const char *full_name);

bool df_sim_phone_unlocked(const struct df_sim_phone *phone);
bool df_sim_phone_critical_unlocked(const struct df_sim_phone *phone);
/* flashing unlock/lock: unlocking or locking wipes userdata, as phones do. */
int df_sim_phone_set_unlocked(struct df_sim_phone *phone, bool unlocked, bool critical);

const char *df_sim_phone_current_slot(const struct df_sim_phone *phone);
int df_sim_phone_set_active(struct df_sim_phone *phone, const char *slot);

/* fastbootd logical partitions: names include the slot suffix. */
int df_sim_phone_logical_create(struct df_sim_phone *phone, const char *name, uint64_t size);
int df_sim_phone_logical_resize(struct df_sim_phone *phone, const char *name, uint64_t size);
int df_sim_phone_logical_delete(struct df_sim_phone *phone, const char *name);
/* update-super: replaces the logical partition table with the one described
 * by the super_empty image at path (the sim only needs its partition names
 * and sizes; see fastbootd_super.c). wipe: drop the content too. */
int df_sim_phone_update_super(struct df_sim_phone *phone, const char *image_path, bool wipe);

/* Where the fastboot side keeps the bytes of the last download. */
void df_sim_phone_download_path(const struct df_sim_phone *phone, char *out, size_t outlen);

/* ---- protocol servers, as the phone drives them ---- */

/* Each server listens on one port for the life of the process, answering
 * only while the phone's mode has its protocol: outside those modes the port
 * is closed (connection refused, as a phone that is not there) and reopened
 * on the same port number when the mode comes back. */
struct df_sim_adbd;
struct df_sim_fastbootd;

/* port 0: any free port. *bound_port gets the port number. */
int df_sim_adbd_new(struct df_loop *loop, struct df_sim_phone *phone, int port,
                    struct df_sim_adbd **out, int *bound_port);
/* Opens or closes the port and drops every connection when closing. */
void df_sim_adbd_set_enabled(struct df_sim_adbd *adbd, bool enabled);
void df_sim_adbd_free(struct df_sim_adbd *adbd);

int df_sim_fastbootd_new(struct df_loop *loop, struct df_sim_phone *phone, int port,
                         struct df_sim_fastbootd **out, int *bound_port);
void df_sim_fastbootd_set_enabled(struct df_sim_fastbootd *fb, bool enabled);
void df_sim_fastbootd_free(struct df_sim_fastbootd *fb);

/* ---- logical partition metadata (fastbootd_super.c) ---- */

/* One partition of a super_empty.img's LP metadata (first metadata slot). */
struct df_sim_lp_partition {
  char name[37];      /* NUL-terminated, as in the table ("system_a") */
  char group[37];     /* its group's name ("main_a", "default") */
  uint64_t size;      /* bytes: sum of its extents (0 in a super_empty.img) */
  uint32_t attributes;/* LP_PARTITION_ATTR_* (1: readonly) */
};

/* Reads the LP metadata of the file at path: a super_empty.img (geometry at
 * offset 0, as liblp's WriteToImageFile makes it) or a raw super image
 * (geometry at 4096). Checks magics and the SHA-256 checksums. *parts is
 * malloc'd (the caller frees it; NULL when *count is 0). DF_ECORRUPT for
 * anything that is not valid LP metadata, DF_EIO/DF_ENOENT for file errors.
 * For df_sim_phone_update_super. */
int df_sim_lp_read_partitions(const char *path, struct df_sim_lp_partition **parts,
                              size_t *count);

/* ---- lifecycle (sim_main.c and tests) ---- */

struct df_sim_phone_options {
  const char *state_dir;      /* required */
  const char *model;          /* "vendor/model"; NULL: xiaomi/redmi-k70 (new phone) */
  const char *devices_dir;    /* NULL: DF_SOURCE_DIR/devices */
  const char *sim_dir;        /* NULL: DF_SOURCE_DIR/tests/sim (faults/, phone_default.lua) */
  const char *serial;         /* NULL: keep the saved one, or make one */
  const char *const *faults;  /* "NAME" or "NAME:SCENARIO" or "NAME:cause+cause" */
  size_t nfaults;
  int boot_ms;                /* silence of a reboot; 0: none */
  enum df_sim_auth_policy auth;
  bool rooted;                /* give the phone su (saved) */
  bool read_only;             /* status: load only, never create, boot or save */
};

/* Creates the phone in state_dir on first use (from the model's devices/
 * file) or loads it, installs the requested faults, and boots it into the
 * mode it was in (faults decide). err gets a message a user can act on. */
int df_sim_phone_open(const struct df_sim_phone_options *opts, struct df_sim_phone **out,
                      char *err, size_t errlen);

/* Gives the phone its loop and servers, so reboots run on timers and open
 * and close the right port. Without a loop a reboot completes at once. */
void df_sim_phone_attach(struct df_sim_phone *phone, struct df_loop *loop,
                         struct df_sim_adbd *adbd, struct df_sim_fastbootd *fastbootd);

/* Frees the phone. With a loop attached, its timer is closed first: run the
 * loop (or df_loop_close) afterwards so the close completes. */
void df_sim_phone_free(struct df_sim_phone *phone);

/* The user holds a button combination ("fastboot", "recovery", "download",
 * "safe-mode"): DF_EUNSUPPORTED if the model has none, else reboots. */
int df_sim_phone_press(struct df_sim_phone *phone, const char *combo);

/* The status object of `droidfix-sim status` (one JSON object and "\n"). */
int df_sim_phone_status_json(struct df_sim_phone *phone, struct df_sim_buf *out);

/* user_data_sha256 alone (hex, 65 bytes). */
int df_sim_phone_user_data_sha256(struct df_sim_phone *phone, char hex[65]);

/* Names of the faults active after the last boot, ',' separated. */
void df_sim_phone_active_faults(const struct df_sim_phone *phone, char *out, size_t outlen);

/* ---- phone_sysdata.c: what system services keep under /data/system ---- */

/* Where DiskStatsLoggingService writes its daily snapshot, and where
 * SyncStorageEngine keeps master sync (AOSP paths). */
#define DF_SIM_DISKSTATS_CACHE "/data/system/diskstats_cache.json"
#define DF_SIM_SYNC_ACCOUNTS "/data/system/sync/accounts.xml"

/* The daily job (DiskStatsLoggingService): writes DF_SIM_DISKSTATS_CACHE
 * from the sizes of now. `dumpsys diskstats` prints its per-package lists
 * from that file, so they stay as they were until the job runs again. */
int df_sim_phone_diskstats_job(struct df_sim_phone *phone);

/* Master sync of user 0 as SyncManager reports it: the
 * <listenForTickles user="0" enabled="..."/> of DF_SIM_SYNC_ACCOUNTS when
 * the file has one (Settings writes it when the person flips "Automatically
 * sync data"; a test plays that hand by writing the file), else the saved
 * state (true on a new phone). */
bool df_sim_phone_master_sync(const struct df_sim_phone *phone);

#endif
