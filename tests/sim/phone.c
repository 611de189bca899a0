/* The simulated phone's life: opening (create or load), identity, the clock,
 * packages, events, and reboots driven by a timer on the sim's loop. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/sim_internal.h"

/* ---- buffers ---- */

void
df_sim_buf_append(struct df_sim_buf *b, const void *data, size_t len)
{
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + len + 1) {
      cap *= 2;
    }
    b->data = df_sim_xrealloc(b->data, cap);
    b->cap = cap;
  }
  if (len > 0) {
    memcpy(b->data + b->len, data, len);
  }
  b->len += len;
  b->data[b->len] = '\0';
}

void
df_sim_buf_printf(struct df_sim_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    va_end(ap2);
    return;
  }
  df_sim_buf_append(b, "", 0);
  if (b->len + (size_t)n + 1 > b->cap) {
    size_t cap = b->cap;
    while (cap < b->len + (size_t)n + 1) {
      cap *= 2;
    }
    b->data = df_sim_xrealloc(b->data, cap);
    b->cap = cap;
  }
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  b->len += (size_t)n;
}

void
df_sim_buf_free(struct df_sim_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void
df_sim_output_free(struct df_sim_output *o)
{
  df_sim_buf_free(&o->out);
  df_sim_buf_free(&o->err);
  o->exit_code = 0;
}

/* ---- small containers ---- */

void *
df_sim_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (q == NULL) {
    /* The sim is a test tool: running out of memory ends it. */
    fprintf(stderr, "droidfix-sim: out of memory\n");
    abort();
  }
  return q;
}

char *
df_sim_strndup(const char *s, size_t n)
{
  char *d = df_sim_xrealloc(NULL, n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *
df_sim_strdup(const char *s)
{
  return s ? df_sim_strndup(s, strlen(s)) : NULL;
}

static size_t
kvs_find(const struct df_sim_kvs *m, const char *key, bool *found)
{
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(m->v[mid].key, key);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *found = false;
  return lo;
}

const char *
df_sim_kvs_get(const struct df_sim_kvs *m, const char *key)
{
  bool found;
  size_t i = kvs_find(m, key, &found);
  return found ? m->v[i].value : NULL;
}

void
df_sim_kvs_set(struct df_sim_kvs *m, const char *key, const char *value)
{
  if (value == NULL) {
    df_sim_kvs_del(m, key);
    return;
  }
  bool found;
  size_t i = kvs_find(m, key, &found);
  if (found) {
    char *v = df_sim_strdup(value);
    free(m->v[i].value);
    m->v[i].value = v;
    return;
  }
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 16;
    m->v = df_sim_xrealloc(m->v, m->cap * sizeof(*m->v));
  }
  memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
  m->v[i].key = df_sim_strdup(key);
  m->v[i].value = df_sim_strdup(value);
  m->n++;
}

bool
df_sim_kvs_del(struct df_sim_kvs *m, const char *key)
{
  bool found;
  size_t i = kvs_find(m, key, &found);
  if (!found) {
    return false;
  }
  free(m->v[i].key);
  free(m->v[i].value);
  memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
  m->n--;
  return true;
}

void
df_sim_kvs_free(struct df_sim_kvs *m)
{
  for (size_t i = 0; i < m->n; i++) {
    free(m->v[i].key);
    free(m->v[i].value);
  }
  free(m->v);
  memset(m, 0, sizeof(*m));
}

void
df_sim_events_add(struct df_sim_events *ev, const struct df_sim_event *e)
{
  /* Old records roll off, as dropbox and the log buffers do. */
  if (ev->n >= 200) {
    struct df_sim_event *o = &ev->v[0];
    free(o->tag);
    free(o->process);
    free(o->package);
    free(o->text);
    memmove(&ev->v[0], &ev->v[1], (ev->n - 1) * sizeof(*ev->v));
    ev->n--;
  }
  if (ev->n == ev->cap) {
    ev->cap = ev->cap ? ev->cap * 2 : 16;
    ev->v = df_sim_xrealloc(ev->v, ev->cap * sizeof(*ev->v));
  }
  struct df_sim_event *d = &ev->v[ev->n++];
  *d = *e;
  d->tag = df_sim_strdup(e->tag);
  d->process = df_sim_strdup(e->process);
  d->package = df_sim_strdup(e->package);
  d->text = df_sim_strdup(e->text);
}

void
df_sim_events_free(struct df_sim_events *ev)
{
  for (size_t i = 0; i < ev->n; i++) {
    free(ev->v[i].tag);
    free(ev->v[i].process);
    free(ev->v[i].package);
    free(ev->v[i].text);
  }
  free(ev->v);
  memset(ev, 0, sizeof(*ev));
}

/* ---- modes ---- */

const char *
df_sim_mode_name(enum df_sim_mode mode)
{
  switch (mode) {
  case DF_SIM_MODE_OFF: return "off";
  case DF_SIM_MODE_SYSTEM: return "system";
  case DF_SIM_MODE_SAFE_MODE: return "safe-mode";
  case DF_SIM_MODE_RECOVERY: return "recovery";
  case DF_SIM_MODE_SIDELOAD: return "sideload";
  case DF_SIM_MODE_BOOTLOADER: return "bootloader";
  case DF_SIM_MODE_FASTBOOTD: return "fastbootd";
  case DF_SIM_MODE_FACTORY_MODE: return "factory-mode";
  case DF_SIM_MODE_BOOTLOOP: return "bootloop";
  case DF_SIM_MODE_DOWNLOAD: return "download";
  }
  return "off";
}

bool
df_sim_mode_has_adb(enum df_sim_mode mode)
{
  return mode == DF_SIM_MODE_SYSTEM || mode == DF_SIM_MODE_SAFE_MODE ||
         mode == DF_SIM_MODE_FACTORY_MODE || mode == DF_SIM_MODE_RECOVERY ||
         mode == DF_SIM_MODE_SIDELOAD;
}

bool
df_sim_mode_has_fastboot(enum df_sim_mode mode)
{
  return mode == DF_SIM_MODE_BOOTLOADER || mode == DF_SIM_MODE_FASTBOOTD;
}

/* ---- identity ---- */

enum df_sim_mode
df_sim_phone_mode(const struct df_sim_phone *phone)
{
  return phone->mode;
}

const char *
df_sim_phone_serial(const struct df_sim_phone *phone)
{
  return phone->serial;
}

enum df_sim_auth_policy
df_sim_phone_auth_policy(const struct df_sim_phone *phone)
{
  return phone->auth;
}

const char *
df_sim_phone_getprop(const struct df_sim_phone *phone, const char *name)
{
  const char *v = df_sim_kvs_get(&phone->props, name);
  return v ? v : "";
}

void
df_sim_phone_state_path(const struct df_sim_phone *phone, const char *name, char *out,
                        size_t outlen)
{
  snprintf(out, outlen, "%s/%s", phone->state_dir, name);
}

bool
df_sim_phone_rooted(const struct df_sim_phone *phone)
{
  return phone->rooted;
}

bool
df_sim_phone_adbd_root(const struct df_sim_phone *phone)
{
  return phone->adbd_root;
}

void
df_sim_phone_set_adbd_root(struct df_sim_phone *phone, bool root)
{
  phone->adbd_root = root && phone->rooted;
}

void
df_sim_phone_active_faults(const struct df_sim_phone *phone, char *out, size_t outlen)
{
  out[0] = '\0';
  size_t used = 0;
  for (size_t i = 0; i < phone->nfaults; i++) {
    if (!phone->faults[i].active) {
      continue;
    }
    int n = snprintf(out + used, outlen - used, "%s%s", used ? "," : "", phone->faults[i].name);
    if (n < 0 || (size_t)n >= outlen - used) {
      break;
    }
    used += (size_t)n;
  }
}

/* ---- clock ---- */

int64_t
df_sim_host_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
df_sim_phone_now_ms(const struct df_sim_phone *phone)
{
  return df_sim_host_now_ms() + phone->clock_offset_s * 1000;
}

/* ---- packages ---- */

struct df_sim_package *
df_sim_pkg_find(struct df_sim_phone *phone, const char *name)
{
  for (size_t i = 0; i < phone->npkgs; i++) {
    if (strcmp(phone->pkgs[i].name, name) == 0) {
      return &phone->pkgs[i];
    }
  }
  return NULL;
}

struct df_sim_package *
df_sim_pkg_add(struct df_sim_phone *phone, const char *name)
{
  struct df_sim_package *p = df_sim_pkg_find(phone, name);
  if (p) {
    return p;
  }
  phone->pkgs = df_sim_xrealloc(phone->pkgs, (phone->npkgs + 1) * sizeof(*phone->pkgs));
  p = &phone->pkgs[phone->npkgs++];
  memset(p, 0, sizeof(*p));
  p->name = df_sim_strdup(name);
  p->version_name = df_sim_strdup("1.0");
  p->version_code = 1;
  p->target_sdk = 34;
  return p;
}

static void
pkg_free(struct df_sim_package *p)
{
  free(p->name);
  free(p->version_name);
  free(p->code_path);
  free(p->apk);
}

void
df_sim_pkg_remove(struct df_sim_phone *phone, const char *name)
{
  for (size_t i = 0; i < phone->npkgs; i++) {
    if (strcmp(phone->pkgs[i].name, name) == 0) {
      char canon[PATH_MAX];
      snprintf(canon, sizeof(canon), "/data/data/%s", name);
      df_sim_vfs_remove_tree(phone, canon);
      pkg_free(&phone->pkgs[i]);
      memmove(&phone->pkgs[i], &phone->pkgs[i + 1],
              (phone->npkgs - i - 1) * sizeof(*phone->pkgs));
      phone->npkgs--;
      return;
    }
  }
}

bool
df_sim_pkg_is_enabled(const struct df_sim_package *p)
{
  return p->enabled == DF_SIM_ENABLED_DEFAULT || p->enabled == DF_SIM_ENABLED_ENABLED;
}

/* PackageManagerShellCommand.enabledSettingToString (AOSP frameworks/base). */
const char *
df_sim_enabled_name(int state)
{
  switch (state) {
  case DF_SIM_ENABLED_DEFAULT: return "default";
  case DF_SIM_ENABLED_ENABLED: return "enabled";
  case DF_SIM_ENABLED_DISABLED: return "disabled";
  case DF_SIM_ENABLED_DISABLED_USER: return "disabled-user";
  case DF_SIM_ENABLED_DISABLED_UNTIL_USED: return "disabled-until-used";
  }
  return "unknown";
}

static bool
is_cache_dir(const char *name)
{
  return strcmp(name, "cache") == 0 || strcmp(name, "code_cache") == 0;
}

uint64_t
df_sim_pkg_cache_size(struct df_sim_phone *phone, const struct df_sim_package *p)
{
  char canon[PATH_MAX];
  uint64_t total = p->cache_bytes;
  snprintf(canon, sizeof(canon), "/data/data/%s/cache", p->name);
  total += df_sim_vfs_tree_size(phone, canon);
  snprintf(canon, sizeof(canon), "/data/data/%s/code_cache", p->name);
  total += df_sim_vfs_tree_size(phone, canon);
  return total;
}

uint64_t
df_sim_pkg_data_size(struct df_sim_phone *phone, const struct df_sim_package *p)
{
  char canon[PATH_MAX];
  snprintf(canon, sizeof(canon), "/data/data/%s", p->name);
  uint64_t all = df_sim_vfs_tree_size(phone, canon);
  uint64_t cache = df_sim_pkg_cache_size(phone, p) - p->cache_bytes;
  return all - cache + p->data_bytes;
}

void
df_sim_pkg_clear(struct df_sim_phone *phone, struct df_sim_package *p, bool cache_only)
{
  char canon[PATH_MAX];
  if (cache_only) {
    /* deleteApplicationCacheFilesAsUser: cache/ and code_cache/ emptied. */
    const char *dirs[] = {"cache", "code_cache"};
    for (size_t i = 0; i < 2; i++) {
      snprintf(canon, sizeof(canon), "/data/data/%s/%s", p->name, dirs[i]);
      df_sim_vfs_remove_tree(phone, canon);
    }
    p->cache_bytes = 0;
    return;
  }
  /* clearApplicationUserData: everything the app stored, and the app is
   * stopped (AOSP ActivityManagerService.clearApplicationUserData). */
  snprintf(canon, sizeof(canon), "/data/data/%s", p->name);
  uint32_t uid, gid, perm;
  df_sim_vfs_meta_get(phone, canon, &uid, &gid, &perm);
  df_sim_vfs_remove_tree(phone, canon);
  df_sim_vfs_mkdir_p(phone, canon, uid, gid, 0700);
  p->data_bytes = 0;
  p->cache_bytes = 0;
  p->stopped = true;
  (void)is_cache_dir;
}

const char *
df_sim_media_provider(struct df_sim_phone *phone)
{
  int sdk = atoi(df_sim_phone_getprop(phone, "ro.build.version.sdk"));
  if (sdk >= 30) {
    if (df_sim_pkg_find(phone, "com.google.android.providers.media.module")) {
      return "com.google.android.providers.media.module";
    }
    return "com.android.providers.media.module";
  }
  return "com.android.providers.media";
}

/* ---- storage ---- */

uint64_t
df_sim_data_used(struct df_sim_phone *phone)
{
  uint64_t used = phone->storage_other;
  used += df_sim_vfs_tree_size(phone, "/data");
  used += df_sim_vfs_tree_size(phone, "/storage/emulated/0");
  for (size_t i = 0; i < phone->npkgs; i++) {
    used += phone->pkgs[i].data_bytes + phone->pkgs[i].cache_bytes;
  }
  return used;
}

uint64_t
df_sim_data_free(struct df_sim_phone *phone)
{
  uint64_t used = df_sim_data_used(phone);
  return used >= phone->storage_total ? 0 : phone->storage_total - used;
}

/* ---- saving ---- */

void
df_sim_phone_changed(struct df_sim_phone *phone)
{
  int r = df_sim_state_save(phone);
  if (r < 0 && !phone->save_failed) {
    df_log_error("droidfix-sim: cannot save the phone's state in %s: %s", phone->state_dir,
                 df_strerror(r));
    phone->save_failed = true;
  } else if (r == 0) {
    phone->save_failed = false;
  }
}

/* ---- boots and reboots ---- */

static void
servers_follow_mode(struct df_sim_phone *phone)
{
  if (phone->adbd) {
    df_sim_adbd_set_enabled(phone->adbd, df_sim_mode_has_adb(phone->mode));
  }
  if (phone->fastbootd) {
    df_sim_fastbootd_set_enabled(phone->fastbootd, df_sim_mode_has_fastboot(phone->mode));
  }
}

void
df_sim_phone_boot(struct df_sim_phone *phone, enum df_sim_mode target)
{
  phone->adbd_root = false;
  if (target == DF_SIM_MODE_SYSTEM || target == DF_SIM_MODE_SAFE_MODE) {
    phone->mode = df_sim_faults_boot(phone, target);
    df_sim_appdata_boot(phone); /* APK files, account databases */
  } else {
    phone->mode = target;
  }
  phone->boot_target = phone->mode;
  df_log_info("droidfix-sim %s: now in %s", phone->serial, df_sim_mode_name(phone->mode));
  df_sim_phone_changed(phone);
  servers_follow_mode(phone);
}

static void
on_boot_timer(uv_timer_t *t)
{
  struct df_sim_phone *phone = t->data;
  if (phone->mode != DF_SIM_MODE_OFF) {
    /* First tick: the old mode's connections dropped; now stay silent. */
    return;
  }
  df_sim_phone_boot(phone, phone->boot_target);
}

static void
on_off_timer(uv_timer_t *t)
{
  struct df_sim_phone *phone = t->data;
  /* The phone went dark on this later loop turn: the handler that asked for
   * the reboot has answered by now. */
  servers_follow_mode(phone);
  uv_timer_start(&phone->boot_timer, on_boot_timer, (uint64_t)phone->boot_ms, 0);
}

static int
reboot_to(struct df_sim_phone *phone, enum df_sim_mode target)
{
  phone->mode = DF_SIM_MODE_OFF;
  phone->boot_target = target;
  phone->adbd_root = false;
  df_sim_phone_changed(phone);
  if (phone->loop == NULL) {
    df_sim_phone_boot(phone, target);
    return 0;
  }
  if (!phone->boot_timer_init) {
    uv_timer_init(&phone->loop->uv, &phone->boot_timer);
    phone->boot_timer.data = phone;
    phone->boot_timer_init = true;
  }
  uv_timer_stop(&phone->boot_timer);
  uv_timer_start(&phone->boot_timer, on_off_timer, 0, 0);
  return 0;
}

int
df_sim_phone_reboot(struct df_sim_phone *phone, const char *target)
{
  enum df_sim_mode m;
  if (target == NULL || target[0] == '\0') {
    m = DF_SIM_MODE_SYSTEM;
  } else if (strcmp(target, "bootloader") == 0) {
    m = DF_SIM_MODE_BOOTLOADER;
  } else if (strcmp(target, "recovery") == 0) {
    m = DF_SIM_MODE_RECOVERY;
  } else if (strcmp(target, "sideload") == 0 || strcmp(target, "sideload-auto-reboot") == 0) {
    m = DF_SIM_MODE_SIDELOAD;
  } else if (strcmp(target, "fastboot") == 0) {
    /* reboot fastboot is recovery's fastbootd on phones with dynamic
     * partitions (Android 10+); older phones go to the bootloader. */
    m = phone->model.dynamic ? DF_SIM_MODE_FASTBOOTD : DF_SIM_MODE_BOOTLOADER;
  } else if (strcmp(target, "safe-mode") == 0) {
    m = DF_SIM_MODE_SAFE_MODE;
  } else if (strcmp(target, "download") == 0 && df_sim_model_has_mode(&phone->model, "download")) {
    m = DF_SIM_MODE_DOWNLOAD;
  } else {
    return DF_EINVAL;
  }
  return reboot_to(phone, m);
}

int
df_sim_phone_press(struct df_sim_phone *phone, const char *combo)
{
  if (strcmp(combo, "wipe-data") == 0) {
    /* The person picks "Wipe data / factory reset" in the recovery menu,
     * then "Reboot system now". */
    if (phone->mode != DF_SIM_MODE_RECOVERY) {
      return DF_EINVAL;
    }
    df_sim_phone_wipe_userdata(phone);
    return reboot_to(phone, DF_SIM_MODE_SYSTEM);
  }
  if (!df_sim_model_has_mode(&phone->model, combo)) {
    return DF_EUNSUPPORTED;
  }
  enum df_sim_mode m;
  if (strcmp(combo, "fastboot") == 0) {
    m = DF_SIM_MODE_BOOTLOADER;
  } else if (strcmp(combo, "recovery") == 0) {
    m = DF_SIM_MODE_RECOVERY;
  } else if (strcmp(combo, "download") == 0) {
    m = DF_SIM_MODE_DOWNLOAD;
  } else if (strcmp(combo, "safe-mode") == 0) {
    m = DF_SIM_MODE_SAFE_MODE;
  } else {
    return DF_EUNSUPPORTED;
  }
  return reboot_to(phone, m);
}

/* ---- open, attach, free ---- */

static int
mkdir_one(const char *path)
{
  if (mkdir(path, 0755) < 0 && errno != EEXIST) {
    return df_error_from_errno(errno);
  }
  return 0;
}

static void
make_serial(char *out, size_t outlen)
{
  /* Xiaomi serials are 8 hex digits; unique enough per state directory. */
  unsigned v = (unsigned)(df_sim_host_now_ms() ^ ((int64_t)getpid() << 16));
  v = v * 2654435761u;
  snprintf(out, outlen, "%08x", v);
}

static void
apply_boot_defaults(struct df_sim_phone *phone)
{
  df_sim_kvs_set(&phone->props, "ro.serialno", phone->serial);
  df_sim_kvs_set(&phone->props, "ro.boot.serialno", phone->serial);
  df_sim_kvs_set(&phone->props, "ro.boot.slot_suffix",
                 phone->model.ab ? (phone->slot[0] == 'b' ? "_b" : "_a") : NULL);
  df_sim_kvs_set(&phone->props, "ro.boot.flash.locked", phone->unlocked ? "0" : "1");
  df_sim_kvs_set(&phone->props, "ro.boot.verifiedbootstate", phone->unlocked ? "orange" : "green");
}

int
df_sim_phone_open(const struct df_sim_phone_options *opts, struct df_sim_phone **out,
                  char *err, size_t errlen)
{
  *out = NULL;
  err[0] = '\0';
  if (opts->state_dir == NULL || opts->state_dir[0] == '\0') {
    snprintf(err, errlen, "no state directory given (--state-dir DIR)");
    return DF_EUSAGE;
  }
  struct df_sim_phone *phone = calloc(1, sizeof(*phone));
  if (phone == NULL) {
    return DF_ENOMEM;
  }
  phone->boot_ms = opts->boot_ms;
  phone->auth = opts->auth;
  phone->next_pid = 4000;
  snprintf(phone->state_dir, sizeof(phone->state_dir), "%s", opts->state_dir);
  snprintf(phone->devices_dir, sizeof(phone->devices_dir), "%s",
           opts->devices_dir ? opts->devices_dir : DF_SOURCE_DIR "/devices");
  snprintf(phone->sim_dir, sizeof(phone->sim_dir), "%s",
           opts->sim_dir ? opts->sim_dir : DF_SOURCE_DIR "/tests/sim");

  char path[PATH_MAX];
  df_sim_phone_state_path(phone, "state.lua", path, sizeof(path));
  bool exists = access(path, F_OK) == 0;
  int r;
  if (exists) {
    r = df_sim_state_load(phone, err, errlen);
    if (r < 0) {
      goto fail;
    }
    if (opts->model && strcmp(opts->model, phone->model.id) != 0) {
      snprintf(err, errlen,
               "the phone in %s is a %s, not a %s: use another --state-dir for another model",
               opts->state_dir, phone->model.id, opts->model);
      r = DF_EINVAL;
      goto fail;
    }
  } else if (opts->read_only) {
    snprintf(err, errlen, "no simulated phone in %s: start one with 'droidfix-sim serve --state-dir %s'",
             opts->state_dir, opts->state_dir);
    r = DF_ENOENT;
    goto fail;
  } else {
    r = mkdir_one(opts->state_dir);
    if (r < 0) {
      snprintf(err, errlen, "cannot create %s: %s", opts->state_dir, df_strerror(r));
      goto fail;
    }
    const char *model = opts->model ? opts->model : "xiaomi/redmi-k70";
    r = df_sim_model_load(phone->devices_dir, phone->sim_dir, model, &phone->model, err, errlen);
    if (r < 0) {
      goto fail;
    }
    char serial[32];
    make_serial(serial, sizeof(serial));
    phone->serial = df_sim_strdup(opts->serial ? opts->serial : serial);
    r = df_sim_phone_populate(phone, err, errlen);
    if (r < 0) {
      goto fail;
    }
  }
  if (opts->read_only) {
    *out = phone;
    return 0;
  }
  if (opts->serial && strcmp(opts->serial, phone->serial) != 0) {
    free(phone->serial);
    phone->serial = df_sim_strdup(opts->serial);
  }
  if (opts->rooted) {
    phone->rooted = true;
  }
  apply_boot_defaults(phone);
  for (size_t i = 0; i < opts->nfaults; i++) {
    r = df_sim_fault_install(phone, opts->faults[i], err, errlen);
    if (r < 0) {
      goto fail;
    }
  }
  /* Power on: the phone comes back where it was (a bootloader, recovery or
   * fastbootd stays there); a phone that was running Android, or was cut
   * off mid-reboot, boots Android again and the faults are evaluated. */
  enum df_sim_mode target = phone->mode == DF_SIM_MODE_OFF ? phone->boot_target : phone->mode;
  switch (target) {
  case DF_SIM_MODE_FACTORY_MODE:
  case DF_SIM_MODE_BOOTLOOP:
  case DF_SIM_MODE_SAFE_MODE:
  case DF_SIM_MODE_OFF:
    target = DF_SIM_MODE_SYSTEM;
    break;
  default:
    break;
  }
  df_sim_phone_boot(phone, target);
  *out = phone;
  return 0;
fail:
  df_sim_phone_free(phone);
  return r;
}

void
df_sim_phone_attach(struct df_sim_phone *phone, struct df_loop *loop, struct df_sim_adbd *adbd,
                    struct df_sim_fastbootd *fastbootd)
{
  phone->loop = loop;
  phone->adbd = adbd;
  phone->fastbootd = fastbootd;
  servers_follow_mode(phone);
}

static void
phone_release(struct df_sim_phone *phone)
{
  df_sim_model_free(&phone->model);
  free(phone->serial);
  free(phone->foreground);
  df_sim_kvs_free(&phone->props);
  for (int i = 0; i < 3; i++) {
    df_sim_kvs_free(&phone->settings[i]);
  }
  df_sim_kvs_free(&phone->meta);
  for (size_t i = 0; i < phone->npkgs; i++) {
    pkg_free(&phone->pkgs[i]);
  }
  free(phone->pkgs);
  for (size_t i = 0; i < phone->naccounts; i++) {
    free(phone->accounts[i].name);
    free(phone->accounts[i].type);
  }
  free(phone->accounts);
  df_sim_events_free(&phone->crashes);
  df_sim_events_free(&phone->logs);
  free(phone->logical);
  for (size_t i = 0; i < phone->nfaults; i++) {
    free(phone->faults[i].name);
    free(phone->faults[i].causes);
  }
  free(phone->faults);
  free(phone);
}

static void
on_timer_closed(uv_handle_t *h)
{
  phone_release(h->data);
}

void
df_sim_phone_free(struct df_sim_phone *phone)
{
  if (phone == NULL) {
    return;
  }
  if (phone->boot_timer_init) {
    uv_close((uv_handle_t *)&phone->boot_timer, on_timer_closed);
    return;
  }
  phone_release(phone);
}
