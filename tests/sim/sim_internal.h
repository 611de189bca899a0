/* Inside of the simulated phone: the state struct and the helpers shared by
 * phone.c, phone_state.c, model.c, vfs.c, shell*.c, faults.c and status.c.
 * The protocol servers (adbd*.c, fastbootd*.c) use phone.h only. */
#ifndef DF_SIM_INTERNAL_H
#define DF_SIM_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "tests/sim/phone.h"

struct lua_State;

/* ---- small containers ---- */

char *df_sim_strdup(const char *s);
char *df_sim_strndup(const char *s, size_t n);
void *df_sim_xrealloc(void *p, size_t n);

/* A string map kept sorted by key (getprop and settings list print in order). */
struct df_sim_kv {
  char *key;
  char *value;
};
struct df_sim_kvs {
  struct df_sim_kv *v;
  size_t n;
  size_t cap;
};
const char *df_sim_kvs_get(const struct df_sim_kvs *m, const char *key); /* NULL if absent */
void df_sim_kvs_set(struct df_sim_kvs *m, const char *key, const char *value);
bool df_sim_kvs_del(struct df_sim_kvs *m, const char *key);
void df_sim_kvs_free(struct df_sim_kvs *m);

/* ---- the model: facts read from a devices/ file ---- */

struct df_sim_model {
  char *id;          /* "xiaomi/redmi-k70" */
  char *vendor;      /* "xiaomi" */
  char *name;        /* "Redmi K70" */
  char *codename;    /* first of codenames */
  struct df_sim_kvs props;     /* properties = {...} */
  struct df_sim_kvs modes;     /* mode name -> "1" for each combination it has */
  struct df_sim_kvs packages;  /* role -> package name (factory_test, ...) */
  bool ab;
  bool dynamic;
  char *super_name;
  int anti_rollback; /* -1: the bootloader has no anti-rollback counter */
  uint64_t max_download_size;            /* bootloader */
  uint64_t fastbootd_max_download_size;  /* fastbootd */
  struct df_sim_partition *parts; /* physical and logical, as the file lists them */
  size_t nparts;
  bool from_fallback; /* no devices/ file: built from the sim's own defaults */
};

/* Loads devices/<id>.lua (with extends = "vendor/common" merged under it).
 * When the file is absent, a model of that id from phone_default.lua's
 * fallback_models is used and from_fallback is set. err gets a message. */
int df_sim_model_load(const char *devices_dir, const char *sim_dir, const char *id,
                      struct df_sim_model *model, char *err, size_t errlen);
void df_sim_model_free(struct df_sim_model *model);
bool df_sim_model_has_mode(const struct df_sim_model *model, const char *mode);

/* Runs a Lua data file in an empty environment and leaves its value (a table)
 * on the stack. Returns 0 or DF_ENOENT / DF_EINVAL with err filled. */
int df_sim_lua_load_data(struct lua_State *L, const char *path, char *err, size_t errlen);

/* ---- the phone's state ---- */

enum df_sim_enabled {
  DF_SIM_ENABLED_DEFAULT = 0, /* PackageManager.COMPONENT_ENABLED_STATE_* values */
  DF_SIM_ENABLED_ENABLED = 1,
  DF_SIM_ENABLED_DISABLED = 2,
  DF_SIM_ENABLED_DISABLED_USER = 3,
  DF_SIM_ENABLED_DISABLED_UNTIL_USED = 4,
};

struct df_sim_package {
  char *name;
  char *version_name;
  int64_t version_code;
  int uid;
  bool system;
  int enabled;          /* enum df_sim_enabled */
  bool stopped;
  bool appops_changed;  /* app-op modes differ from default (cmd appops reset) */
  char *code_path;      /* folder of the apk: /system/priv-app/X or /data/app/~~../pkg-.. */
  char *apk;            /* file name in code_path: base.apk, Phonesky.apk */
  int64_t first_install_ms;
  int64_t last_update_ms;
  int target_sdk;
  /* Bytes of data and cache beyond the real files under /data/data/<name>
   * (so a 3 GB cache does not need 3 GB on the host). */
  uint64_t data_bytes;
  uint64_t cache_bytes;
};

struct df_sim_account {
  char *name;
  char *type;
};

/* A crash (dropbox data_app_crash / system_app_crash and logcat's crash
 * buffer) or a log line; boot says during which boot it happened. */
struct df_sim_event {
  int64_t time_ms;
  int boot;
  int pid;
  int uid;
  char prio;      /* log priority letter; 'E' for crashes */
  char *tag;      /* dropbox tag for crashes, log tag for lines */
  char *process;  /* crashes: process name; lines: NULL */
  char *package;  /* crashes: package that hosts the process */
  char *text;     /* crash body or log message */
};
struct df_sim_events {
  struct df_sim_event *v;
  size_t n;
  size_t cap;
};

struct df_sim_logical {
  char full_name[80]; /* with slot suffix: system_a */
  struct df_sim_partition part; /* name without suffix, this slot's size */
};

/* A fault installed on the phone: the scenario's causes are written in
 * causes ("a,b,c"). active is the outcome of the last boot's evaluation. */
struct df_sim_fault {
  char *name;
  char *causes;
  bool active;
};

struct df_sim_phone {
  char state_dir[PATH_MAX - 512];
  char devices_dir[PATH_MAX - 512];
  char sim_dir[PATH_MAX - 512]; /* tests/sim: phone_default.lua, faults/ */
  struct df_sim_model model;

  /* saved state */
  char *serial;
  enum df_sim_mode mode;
  enum df_sim_mode boot_target; /* while OFF: where the boot goes */
  int boot_count;
  int64_t boot_time_ms;  /* phone clock at the last boot */
  bool rooted;
  bool unlocked;
  bool critical_unlocked;
  char slot[2];
  int anti_rollback;
  int64_t clock_offset_s; /* phone clock minus host clock */
  uint64_t storage_total;     /* bytes of /data */
  uint64_t storage_other;     /* bytes of /data used by the OS and media we do not model */
  bool master_sync;
  char *foreground;           /* activity in front, "pkg/.Activity" */
  struct df_sim_kvs props;
  struct df_sim_kvs settings[3]; /* system, secure, global */
  struct df_sim_kvs meta;        /* vfs path -> "uid gid mode" */
  struct df_sim_package *pkgs;
  size_t npkgs;
  struct df_sim_account *accounts;
  size_t naccounts;
  struct df_sim_events crashes;
  struct df_sim_events logs;
  struct df_sim_logical *logical;
  size_t nlogical;
  struct df_sim_fault *faults;
  size_t nfaults;
  int next_pid;

  /* runtime */
  enum df_sim_auth_policy auth;
  bool adbd_root;
  int boot_ms;
  struct df_loop *loop;
  struct df_sim_adbd *adbd;
  struct df_sim_fastbootd *fastbootd;
  uv_timer_t boot_timer;
  bool boot_timer_init;
  bool save_failed;
  /* DiskStatsLoggingService's job (shell_jobscheduler.c): phone clock of
   * its last run that wrote the file (0: none in this process), and of a
   * forced run still to finish (0: none), each with the boot_count it
   * belongs to. Not saved: JobScheduler keeps this job (not persisted) in
   * memory only. */
  int64_t diskstats_job_ok_ms;
  int64_t diskstats_job_due_ms;
  int diskstats_job_ok_boot;
  int diskstats_job_due_boot;
};

enum df_sim_settings_ns { DF_SIM_NS_SYSTEM = 0, DF_SIM_NS_SECURE, DF_SIM_NS_GLOBAL };
int df_sim_settings_ns_parse(const char *name); /* -1 if unknown */

/* state file */
int df_sim_state_save(struct df_sim_phone *phone);
int df_sim_state_load(struct df_sim_phone *phone, char *err, size_t errlen);
/* Saves; a failure is logged once and remembered. */
void df_sim_phone_changed(struct df_sim_phone *phone);

/* content of a new phone (phone_default.lua) */
int df_sim_phone_populate(struct df_sim_phone *phone, char *err, size_t errlen);
/* Wipes what a factory reset wipes (userdata): /data, /sdcard, accounts,
 * user-installed apps, settings back to defaults. */
void df_sim_phone_wipe_userdata(struct df_sim_phone *phone);

/* clock */
int64_t df_sim_host_now_ms(void);
int64_t df_sim_phone_now_ms(const struct df_sim_phone *phone);

/* packages */
struct df_sim_package *df_sim_pkg_find(struct df_sim_phone *phone, const char *name);
struct df_sim_package *df_sim_pkg_add(struct df_sim_phone *phone, const char *name);
void df_sim_pkg_remove(struct df_sim_phone *phone, const char *name);
/* Bytes the package's data and cache take (real files + virtual bytes). */
uint64_t df_sim_pkg_data_size(struct df_sim_phone *phone, const struct df_sim_package *p);
uint64_t df_sim_pkg_cache_size(struct df_sim_phone *phone, const struct df_sim_package *p);
/* pm clear: all data, or only the cache folders. */
void df_sim_pkg_clear(struct df_sim_phone *phone, struct df_sim_package *p, bool cache_only);
bool df_sim_pkg_is_enabled(const struct df_sim_package *p);
const char *df_sim_enabled_name(int state);
/* The media provider package of this Android version (module on 11+). */
const char *df_sim_media_provider(struct df_sim_phone *phone);

/* storage of /data */
uint64_t df_sim_data_used(struct df_sim_phone *phone);
uint64_t df_sim_data_free(struct df_sim_phone *phone);

/* events */
void df_sim_events_add(struct df_sim_events *ev, const struct df_sim_event *e); /* copies strings */
void df_sim_events_free(struct df_sim_events *ev);

/* ---- vfs ---- */

/* Canonical phone path ("/sdcard/x" -> "/storage/emulated/0/x"); "" if the
 * path escapes the root. */
void df_sim_vfs_canon(const char *path, char *out, size_t outlen);
/* The folder a canonical path is in ("/a/b" -> "/a", "/a" -> "/"). */
void df_sim_vfs_parent(const char *canon, char *out, size_t outlen);
/* Host path of a canonical phone path. */
void df_sim_vfs_host(const struct df_sim_phone *phone, const char *canon, char *out,
                     size_t outlen);
/* Owner and mode of a node (from meta, else inherited from its parent). */
void df_sim_vfs_meta_get(const struct df_sim_phone *phone, const char *canon, uint32_t *uid,
                         uint32_t *gid, uint32_t *perm);
void df_sim_vfs_meta_set(struct df_sim_phone *phone, const char *canon, uint32_t uid,
                         uint32_t gid, uint32_t perm);
/* access check for uid 2000 (shell) or 0; want: 4 read, 2 write, 1 exec. */
int df_sim_vfs_access(const struct df_sim_phone *phone, const char *canon, bool as_root,
                      int want);
/* Writes a whole file (creating parents owned as the file). */
int df_sim_vfs_write_file(struct df_sim_phone *phone, const char *canon, const void *data,
                          size_t len, uint32_t uid, uint32_t gid, uint32_t perm, bool append);
int df_sim_vfs_mkdir_p(struct df_sim_phone *phone, const char *canon, uint32_t uid,
                       uint32_t gid, uint32_t perm);
/* Removes a node and everything under it, with its metadata. */
int df_sim_vfs_remove_tree(struct df_sim_phone *phone, const char *canon);
/* Reads a whole file (no permission check); *data is malloc'd. */
int df_sim_vfs_read_file(const struct df_sim_phone *phone, const char *canon, char **data,
                         size_t *len);
bool df_sim_vfs_exists(const struct df_sim_phone *phone, const char *canon);
/* Total bytes of regular files under a canonical path (0 if absent). */
uint64_t df_sim_vfs_tree_size(const struct df_sim_phone *phone, const char *canon);
/* Creates the folder skeleton of a phone (/data, /sdcard, /efs, ...). */
int df_sim_vfs_init_skeleton(struct df_sim_phone *phone);

/* ---- faults ---- */

/* Installs NAME or NAME:SCENARIO or NAME:cause+cause. */
int df_sim_fault_install(struct df_sim_phone *phone, const char *spec, char *err, size_t errlen);
/* At boot: regrows and heals causes, decides the mode (bootloop,
 * factory-mode), writes crash records and log lines, marks faults active. */
enum df_sim_mode df_sim_faults_boot(struct df_sim_phone *phone, enum df_sim_mode target);
/* Names of the fault files in faults/ (for --help and errors). */
void df_sim_fault_list(const struct df_sim_phone *phone, char *out, size_t outlen);

/* ---- boot ---- */

/* Completes a boot into target right now (no timer): faults decide the mode. */
void df_sim_phone_boot(struct df_sim_phone *phone, enum df_sim_mode target);
/* True if boot_<slot> holds a boot image ("ANDROID!" magic). */
bool df_sim_phone_boot_image_ok(const struct df_sim_phone *phone, const char *slot);

/* ---- shell internals ---- */

struct df_sim_sh {
  struct df_sim_phone *phone;
  bool root;
  const char *in;     /* stdin of this command (a pipe's left side) */
  size_t inlen;
  struct df_sim_output *o;
};

/* A command: argv[0] is the name. Returns the exit code. */
typedef int (*df_sim_cmd_fn)(struct df_sim_sh *sh, int argc, char **argv);

int df_sim_cmd_pm(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_cmd(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_am(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_settings(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_getprop(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_setprop(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_dumpsys(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_logcat(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_ls(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_cat(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_rm(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_mkdir(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_chmod(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_chown(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_touch(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_hashsum(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_df(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_date(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_grep(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_head(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_wc(struct df_sim_sh *sh, int argc, char **argv);

/* Writes data to a redirect target (">" or ">>") as the shell user would. */
int df_sim_sh_redirect(struct df_sim_sh *sh, const char *path, const char *data, size_t len,
                       bool append);

/* Text of a byte count the way toybox's human_readable() prints it ("1.5G"). */
void df_sim_human_size(uint64_t bytes, char *out, size_t outlen);

/* ---- apps' files and account databases (phone_appdata.c, shell_tar.c,
 * shell_pm_install.c) ---- */

/* The sim's stand-in for an APK file of p (text naming the package and
 * version), and its parse (DF_EINVAL: not an APK). */
void df_sim_apk_text(const struct df_sim_package *p, struct df_sim_buf *out);
int df_sim_apk_parse(const char *data, size_t len, char *name, size_t namelen,
                     int64_t *version_code, char *version_name, size_t vnlen, int *target_sdk);
/* A split's name from an APK stand-in's "split=" line ("" for a base) and
 * whether a base says isSplitRequired=true. */
int df_sim_apk_split(const char *data, size_t len, char *split, size_t splitlen,
                     bool *split_required);
/* The group of an app's cache folders (multiuser_get_cache_gid; uid itself
 * outside the app range), and installd's preparation of cache/ and
 * code_cache/ (02771, uid:cache gid) when /data/data/PKG exists. */
uint32_t df_sim_app_cache_gid(int uid);
void df_sim_appdata_prepare(struct df_sim_phone *phone, const struct df_sim_package *p);
/* Writes p's APK at code_path/apk (folders owned by system). */
int df_sim_apk_write(struct df_sim_phone *phone, const struct df_sim_package *p);
/* At a boot into Android: user apps' APK files exist; accounts are read
 * from /data/system_{de,ce}/0/accounts_{de,ce}.db and written back. */
void df_sim_appdata_boot(struct df_sim_phone *phone);
/* chown -R: the owner of a node and everything under it. */
void df_sim_vfs_chown_tree(struct df_sim_phone *phone, const char *canon, uint32_t uid,
                           uint32_t gid, bool set_uid, bool set_gid);
/* pm install [options] PATH... (argv[i] is the first option or the path). */
int df_sim_pm_install(struct df_sim_sh *sh, int argc, char **argv, int i);
/* pm install-create / install-write / install-commit / install-abandon
 * (argv[1] is the verb). */
int df_sim_pm_session(struct df_sim_sh *sh, int argc, char **argv);
/* pm path's lines for p: base, then split_*.apk in name order. */
void df_sim_pm_path_lines(struct df_sim_sh *sh, const struct df_sim_package *p);
int df_sim_cmd_tar(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_cmd_restorecon(struct df_sim_sh *sh, int argc, char **argv);
/* shell_jobscheduler.c: `cmd jobscheduler` (argv[0] = "jobscheduler"),
 * `dumpsys jobscheduler` (argv[0] = "dumpsys"), and finishing a forced run
 * of the DiskStats job once its time has come (the readers call it). */
int df_sim_cmd_jobscheduler(struct df_sim_sh *sh, int argc, char **argv);
int df_sim_dump_jobscheduler(struct df_sim_sh *sh, int argc, char **argv);
void df_sim_jobscheduler_settle(struct df_sim_phone *phone);

#endif
