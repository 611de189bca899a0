/* Faults: data files tests/sim/faults/NAME.lua, each a set of causes. A cause
 * has setup operations (what breaks the phone), a condition on the phone's
 * state (is the cause still there?), and effects at boot while it is there
 * (crash records, log lines, the mode the phone ends up in). Whether a
 * fault is fixed is never a flag: it is the condition, evaluated on the
 * phone's state at every boot.
 *
 * Operations:  { write = PATH, content = S, owner = "package:P" | uid = N, gid = N, mode = "0600" }
 *              { setting = "global/auto_time", value = S }
 *              { clock_offset = SECONDS }
 *              { package = P, enabled = N | version_code = N, version_name = S | cache_bytes = N }
 *              { fill_cache_of = P, leave_free = BYTES }
 *              { fill_other_leave_free = BYTES }  (media not modeled file by file)
 *              { install = P, version_name = S, version_code = N, installed_days_ago = N,
 *                data_bytes = N, cache_bytes = N }  (a third-party app)
 *              { corrupt_partition = "boot" }   (every slot)
 * Conditions (a list: all must hold):
 *              { file_contains = PATH, text = S }   { file_exists = PATH }
 *              { setting = "ns/key", equals = S }    { clock_skew_over = SECONDS }
 *              { package_disabled = P }              { package = P, version_code_below = N }
 *              { package_enabled = P }  (installed and not disabled)
 *              { data_free_below = BYTES }           { boot_image_bad = true }
 *              { hardware = true }  (always there: no software fix)
 *              { any = { cond, ... } }
 * Cause fields: setup, present, heal (operations when heals_when_alone),
 * renew_while_others, heals_when_alone, third_party (no effects in safe
 * mode), and effects: mode ("bootloop", "factory-mode"), foreground,
 * crash = { process, package, text, per_boot }, log = { {prio, tag, msg} }.
 * Scenarios: lists of causes; "default.<vendor>" is tried before "default".
 * In paths and names: ${media_provider}, ${media_process}, ${factory_test},
 * ${factory_activity}. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/sim_internal.h"

static void
expand(struct df_sim_phone *phone, const char *in, char *out, size_t outlen)
{
  size_t o = 0;
  while (*in && o + 1 < outlen) {
    if (in[0] == '$' && in[1] == '{') {
      const char *end = strchr(in, '}');
      if (end) {
        char var[64];
        snprintf(var, sizeof(var), "%.*s", (int)(end - in - 2), in + 2);
        const char *val = "";
        const char *fp = df_sim_kvs_get(&phone->model.packages, "factory_test");
        if (strcmp(var, "media_provider") == 0) {
          val = df_sim_media_provider(phone);
        } else if (strcmp(var, "media_process") == 0) {
          int sdk = atoi(df_sim_phone_getprop(phone, "ro.build.version.sdk"));
          val = sdk >= 30 ? df_sim_media_provider(phone) : "android.process.media";
        } else if (strcmp(var, "factory_test") == 0) {
          val = fp ? fp : "com.android.factorytest";
        } else if (strcmp(var, "factory_activity") == 0) {
          val = strcmp(phone->model.vendor, "xiaomi") == 0 ? "com.miui.cit/.home.CitLauncherActivity"
                : strcmp(phone->model.vendor, "samsung") == 0
                  ? "com.sem.factoryapp/.FactoryTestMainActivity"
                  : "com.android.factorytest/.FactoryTestActivity";
        }
        int n = snprintf(out + o, outlen - o, "%s", val);
        o += n > 0 ? (size_t)n : 0;
        if (o >= outlen) {
          o = outlen - 1;
        }
        in = end + 1;
        continue;
      }
    }
    out[o++] = *in++;
  }
  out[o] = '\0';
}

static const char *
fstr(lua_State *L, int t, const char *k)
{
  lua_getfield(L, t, k);
  const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1);
  return s;
}

static bool
fint(lua_State *L, int t, const char *k, int64_t *v)
{
  lua_getfield(L, t, k);
  bool ok = lua_isinteger(L, -1);
  if (ok) {
    *v = (int64_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return ok;
}

static bool
split_setting(const char *spec, int *ns, char *key, size_t keylen)
{
  const char *slash = strchr(spec, '/');
  if (slash == NULL) {
    return false;
  }
  char nsname[16];
  snprintf(nsname, sizeof(nsname), "%.*s", (int)(slash - spec), spec);
  *ns = df_sim_settings_ns_parse(nsname);
  snprintf(key, keylen, "%s", slash + 1);
  return *ns >= 0;
}

/* ---- operations ---- */

static void
run_op(struct df_sim_phone *phone, lua_State *L, int t)
{
  char buf[PATH_MAX];
  const char *s;
  int64_t v;
  if ((s = fstr(L, t, "write")) != NULL) {
    char canon[PATH_MAX];
    expand(phone, s, buf, sizeof(buf));
    df_sim_vfs_canon(buf, canon, sizeof(canon));
    size_t len = 0;
    lua_getfield(L, t, "content");
    const char *content = lua_tolstring(L, -1, &len);
    uint32_t uid = 0, gid = 0, perm = 0600;
    const char *owner = fstr(L, t, "owner");
    if (owner && strncmp(owner, "package:", 8) == 0) {
      char pk[256];
      expand(phone, owner + 8, pk, sizeof(pk));
      struct df_sim_package *p = df_sim_pkg_find(phone, pk);
      uid = gid = p ? (uint32_t)p->uid : 1000;
    }
    if (fint(L, t, "uid", &v)) {
      uid = (uint32_t)v;
    }
    if (fint(L, t, "gid", &v)) {
      gid = (uint32_t)v;
    }
    const char *mode = fstr(L, t, "mode");
    if (mode) {
      perm = (uint32_t)strtoul(mode, NULL, 8);
    }
    df_sim_vfs_write_file(phone, canon, content ? content : "", content ? len : 0, uid, gid, perm,
                          false);
    df_sim_vfs_meta_set(phone, canon, uid, gid, perm);
    lua_pop(L, 1);
  } else if ((s = fstr(L, t, "setting")) != NULL) {
    int ns;
    char key[128];
    const char *value = fstr(L, t, "value");
    if (split_setting(s, &ns, key, sizeof(key))) {
      df_sim_kvs_set(&phone->settings[ns], key, value);
    }
  } else if (fint(L, t, "clock_offset", &v)) {
    phone->clock_offset_s = v;
  } else if ((s = fstr(L, t, "package")) != NULL) {
    expand(phone, s, buf, sizeof(buf));
    struct df_sim_package *p = df_sim_pkg_find(phone, buf);
    if (p == NULL) {
      return;
    }
    if (fint(L, t, "enabled", &v)) {
      p->enabled = (int)v;
    }
    if (fint(L, t, "version_code", &v)) {
      p->version_code = v;
    }
    const char *vn = fstr(L, t, "version_name");
    if (vn) {
      free(p->version_name);
      p->version_name = df_sim_strdup(vn);
    }
    if (fint(L, t, "cache_bytes", &v)) {
      p->cache_bytes = (uint64_t)v;
    }
  } else if ((s = fstr(L, t, "fill_cache_of")) != NULL) {
    struct df_sim_package *p = df_sim_pkg_find(phone, s);
    int64_t leave = 0;
    fint(L, t, "leave_free", &leave);
    uint64_t free_now = df_sim_data_free(phone);
    if (p && free_now > (uint64_t)leave) {
      p->cache_bytes += free_now - (uint64_t)leave;
    }
  } else if ((s = fstr(L, t, "install")) != NULL) {
    /* A third-party app the user installed (from the Play Store): its code
     * in /data/app, its data folder, its install time. */
    if (df_sim_pkg_find(phone, s) == NULL) {
      struct df_sim_package *p = df_sim_pkg_add(phone, s);
      int uid = 10240;
      for (size_t k = 0; k < phone->npkgs; k++) {
        if (phone->pkgs[k].uid >= uid) {
          uid = phone->pkgs[k].uid + 1;
        }
      }
      p->uid = uid;
      p->system = false;
      const char *vn = fstr(L, t, "version_name");
      if (vn) {
        free(p->version_name);
        p->version_name = df_sim_strdup(vn);
      }
      if (fint(L, t, "version_code", &v)) {
        p->version_code = v;
      }
      int64_t days = 1;
      fint(L, t, "installed_days_ago", &days);
      p->first_install_ms = df_sim_phone_now_ms(phone) - days * 86400000;
      p->last_update_ms = p->first_install_ms;
      if (fint(L, t, "data_bytes", &v)) {
        p->data_bytes = (uint64_t)v;
      }
      if (fint(L, t, "cache_bytes", &v)) {
        p->cache_bytes = (uint64_t)v;
      }
      /* Android 11+: /data/app/~~<random>==/<package>-<random>== */
      unsigned h = 2166136261u;
      for (const char *c = s; *c; c++) {
        h = (h ^ (unsigned char)*c) * 16777619u;
      }
      snprintf(buf, sizeof(buf), "/data/app/~~%08xQk3ZbW9rTn1A==/%s-%08xVt0yPq2Lm8c==", h, s, h * 31u);
      p->code_path = df_sim_strdup(buf);
      p->apk = df_sim_strdup("base.apk");
      char canon[PATH_MAX];
      snprintf(canon, sizeof(canon), "/data/data/%s", s);
      df_sim_vfs_mkdir_p(phone, canon, (uint32_t)uid, (uint32_t)uid, 0700);
    }
  } else if (fint(L, t, "fill_other_leave_free", &v)) {
    /* Photos, videos and files the sim does not model one by one fill
     * /data up to v bytes free. */
    uint64_t free_now = df_sim_data_free(phone);
    if (free_now > (uint64_t)v) {
      phone->storage_other += free_now - (uint64_t)v;
    }
  } else if ((s = fstr(L, t, "corrupt_partition")) != NULL) {
    for (int slot = 0; slot < 3; slot++) {
      char full[80], path[PATH_MAX];
      if (slot < 2) {
        snprintf(full, sizeof(full), "%s_%c", s, slot ? 'b' : 'a');
      } else {
        snprintf(full, sizeof(full), "%s", s);
      }
      df_sim_phone_partition_path(phone, full, path, sizeof(path));
      int fd = open(path, O_WRONLY | O_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      /* An interrupted OTA leaves a torn image: the header is gone. */
      static const char junk[4096] = {0};
      ssize_t w = write(fd, junk, sizeof(junk));
      (void)w;
      close(fd);
    }
  }
}

static void
run_ops(struct df_sim_phone *phone, lua_State *L, int cause, const char *field)
{
  lua_getfield(L, cause, field);
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      if (lua_istable(L, -1)) {
        run_op(phone, L, lua_gettop(L));
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* ---- conditions ---- */

static bool cond_all(struct df_sim_phone *phone, lua_State *L, int list);

static bool
cond_one(struct df_sim_phone *phone, lua_State *L, int t)
{
  char buf[PATH_MAX], canon[PATH_MAX];
  const char *s;
  int64_t v;
  lua_getfield(L, t, "any");
  if (lua_istable(L, -1)) {
    int list = lua_gettop(L);
    lua_Integer n = luaL_len(L, list);
    bool any = false;
    for (lua_Integer i = 1; i <= n && !any; i++) {
      lua_rawgeti(L, list, i);
      any = lua_istable(L, -1) && cond_one(phone, L, lua_gettop(L));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return any;
  }
  lua_pop(L, 1);
  if ((s = fstr(L, t, "file_contains")) != NULL || (s = fstr(L, t, "file_exists")) != NULL) {
    expand(phone, s, buf, sizeof(buf));
    df_sim_vfs_canon(buf, canon, sizeof(canon));
    const char *text = fstr(L, t, "text");
    if (fstr(L, t, "file_exists")) {
      return df_sim_vfs_exists(phone, canon);
    }
    char *data;
    size_t len;
    if (df_sim_vfs_read_file(phone, canon, &data, &len) < 0) {
      return false;
    }
    bool found = text && memmem(data, len, text, strlen(text)) != NULL;
    free(data);
    return found;
  }
  if ((s = fstr(L, t, "setting")) != NULL) {
    int ns;
    char key[128];
    if (!split_setting(s, &ns, key, sizeof(key))) {
      return false;
    }
    const char *cur = df_sim_kvs_get(&phone->settings[ns], key);
    const char *want = fstr(L, t, "equals");
    return want && cur && strcmp(cur, want) == 0;
  }
  if (fint(L, t, "clock_skew_over", &v)) {
    int64_t off = phone->clock_offset_s < 0 ? -phone->clock_offset_s : phone->clock_offset_s;
    return off > v;
  }
  if ((s = fstr(L, t, "package_disabled")) != NULL) {
    expand(phone, s, buf, sizeof(buf));
    struct df_sim_package *p = df_sim_pkg_find(phone, buf);
    return p && !df_sim_pkg_is_enabled(p);
  }
  if ((s = fstr(L, t, "package_enabled")) != NULL) {
    expand(phone, s, buf, sizeof(buf));
    struct df_sim_package *p = df_sim_pkg_find(phone, buf);
    return p && df_sim_pkg_is_enabled(p);
  }
  if ((s = fstr(L, t, "package")) != NULL && fint(L, t, "version_code_below", &v)) {
    struct df_sim_package *p = df_sim_pkg_find(phone, s);
    return p && p->version_code < v;
  }
  if (fint(L, t, "data_free_below", &v)) {
    return df_sim_data_free(phone) < (uint64_t)v;
  }
  lua_getfield(L, t, "boot_image_bad");
  bool bib = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (bib) {
    return !df_sim_phone_boot_image_ok(phone, df_sim_phone_current_slot(phone));
  }
  lua_getfield(L, t, "hardware");
  bool hw = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return hw;
}

static bool
cond_all(struct df_sim_phone *phone, lua_State *L, int list)
{
  if (!lua_istable(L, list)) {
    return false;
  }
  lua_Integer n = luaL_len(L, list);
  if (n == 0) {
    return false;
  }
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    bool ok = lua_istable(L, -1) && cond_one(phone, L, lua_gettop(L));
    lua_pop(L, 1);
    if (!ok) {
      return false;
    }
  }
  return true;
}

static bool
cause_present(struct df_sim_phone *phone, lua_State *L, int cause)
{
  lua_getfield(L, cause, "present");
  bool p = cond_all(phone, L, lua_gettop(L));
  lua_pop(L, 1);
  return p;
}

/* ---- fault files ---- */

static int
load_fault(const struct df_sim_phone *phone, lua_State *L, const char *name, char *err,
           size_t errlen)
{
  for (const char *p = name; *p; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
      snprintf(err, errlen, "bad fault name '%s'", name);
      return DF_EINVAL;
    }
  }
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/faults/%s.lua", phone->sim_dir, name);
  return df_sim_lua_load_data(L, path, err, errlen);
}

void
df_sim_fault_list(const struct df_sim_phone *phone, char *out, size_t outlen)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/faults", phone ? phone->sim_dir : DF_SOURCE_DIR "/tests/sim");
  out[0] = '\0';
  DIR *d = opendir(dir);
  if (d == NULL) {
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 64) {
    size_t l = strlen(e->d_name);
    if (l > 4 && strcmp(e->d_name + l - 4, ".lua") == 0) {
      names[n++] = df_sim_strndup(e->d_name, l - 4);
    }
  }
  closedir(d);
  for (int i = 0; i < n; i++) {
    for (int k = i + 1; k < n; k++) {
      if (strcmp(names[k], names[i]) < 0) {
        char *tmp = names[i];
        names[i] = names[k];
        names[k] = tmp;
      }
    }
  }
  size_t used = 0;
  for (int i = 0; i < n; i++) {
    int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", names[i]);
    if (w > 0 && (size_t)w < outlen - used) {
      used += (size_t)w;
    }
    free(names[i]);
  }
}

/* Resolves the causes a spec asks for into "a,b,c". */
static int
resolve_causes(struct df_sim_phone *phone, lua_State *L, int root, const char *fault,
               const char *scenario, char *out, size_t outlen, char *err, size_t errlen)
{
  lua_getfield(L, root, "causes");
  int causes = lua_gettop(L);
  lua_getfield(L, root, "scenarios");
  int scenarios = lua_gettop(L);
  out[0] = '\0';
  int r = 0;
  char key[128];
  bool found = false;
  if (scenario == NULL) {
    snprintf(key, sizeof(key), "default.%s", phone->model.vendor);
    lua_getfield(L, scenarios, key);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      lua_getfield(L, scenarios, "default");
    }
    found = lua_istable(L, -1);
  } else {
    lua_getfield(L, scenarios, scenario);
    found = lua_istable(L, -1);
  }
  if (found) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      if (lua_type(L, -1) == LUA_TSTRING) {
        size_t used = strlen(out);
        snprintf(out + used, outlen - used, "%s%s", used ? "," : "", lua_tostring(L, -1));
      }
      lua_pop(L, 1);
    }
  } else if (scenario) {
    /* "cause+cause" */
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", scenario);
    char *save = NULL;
    for (char *c = strtok_r(tmp, "+,", &save); c; c = strtok_r(NULL, "+,", &save)) {
      lua_getfield(L, causes, c);
      bool ok = lua_istable(L, -1);
      lua_pop(L, 1);
      if (!ok) {
        snprintf(err, errlen, "fault %s has no scenario or cause '%s' (see tests/sim/faults/%s.lua)",
                 fault, c, fault);
        r = DF_EINVAL;
        break;
      }
      size_t used = strlen(out);
      snprintf(out + used, outlen - used, "%s%s", used ? "," : "", c);
    }
  } else {
    snprintf(err, errlen, "fault %s has no default scenario", fault);
    r = DF_EINVAL;
  }
  lua_settop(L, root);
  return r;
}

int
df_sim_fault_install(struct df_sim_phone *phone, const char *spec, char *err, size_t errlen)
{
  char name[128];
  const char *colon = strchr(spec, ':');
  snprintf(name, sizeof(name), "%.*s", (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
  const char *scenario = colon ? colon + 1 : NULL;
  for (size_t i = 0; i < phone->nfaults; i++) {
    if (strcmp(phone->faults[i].name, name) == 0 && phone->faults[i].active) {
      /* Already broken that way: a restart with the same flags keeps it. */
      return 0;
    }
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    return DF_ENOMEM;
  }
  char lerr[512];
  int r = load_fault(phone, L, name, lerr, sizeof(lerr));
  if (r < 0) {
    char list[512];
    df_sim_fault_list(phone, list, sizeof(list));
    if (r == DF_ENOENT) {
      snprintf(err, errlen, "unknown fault '%s': known faults are %s", name, list);
    } else {
      snprintf(err, errlen, "fault %s: %s", name, lerr);
    }
    lua_close(L);
    return r;
  }
  int root = lua_gettop(L);
  char causes[512];
  r = resolve_causes(phone, L, root, name, scenario, causes, sizeof(causes), err, errlen);
  if (r < 0) {
    lua_close(L);
    return r;
  }
  lua_getfield(L, root, "causes");
  int ctab = lua_gettop(L);
  char tmp[512];
  snprintf(tmp, sizeof(tmp), "%s", causes);
  char *save = NULL;
  for (char *c = strtok_r(tmp, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
    lua_getfield(L, ctab, c);
    if (lua_istable(L, -1)) {
      run_ops(phone, L, lua_gettop(L), "setup");
    }
    lua_pop(L, 1);
  }
  lua_close(L);
  struct df_sim_fault *f = NULL;
  for (size_t i = 0; i < phone->nfaults; i++) {
    if (strcmp(phone->faults[i].name, name) == 0) {
      f = &phone->faults[i];
      free(f->causes);
      break;
    }
  }
  if (f == NULL) {
    phone->faults = df_sim_xrealloc(phone->faults, (phone->nfaults + 1) * sizeof(*phone->faults));
    f = &phone->faults[phone->nfaults++];
    f->name = df_sim_strdup(name);
  }
  f->causes = df_sim_strdup(causes);
  f->active = true;
  df_log_info("droidfix-sim %s: fault %s installed (causes: %s)", phone->serial, name, causes);
  df_sim_phone_changed(phone);
  return 0;
}

/* ---- boot ---- */

static void
boot_effects(struct df_sim_phone *phone, lua_State *L, int cause, enum df_sim_mode *mode)
{
  char buf[1024], proc[256], pkg[256];
  const char *s = fstr(L, cause, "mode");
  if (s && strcmp(s, "bootloop") == 0) {
    *mode = DF_SIM_MODE_BOOTLOOP;
  } else if (s && strcmp(s, "factory-mode") == 0 && *mode != DF_SIM_MODE_BOOTLOOP) {
    *mode = DF_SIM_MODE_FACTORY_MODE;
    const char *fg = fstr(L, cause, "foreground");
    if (fg) {
      expand(phone, fg, buf, sizeof(buf));
      free(phone->foreground);
      phone->foreground = df_sim_strdup(buf);
    }
  }
  int64_t now = df_sim_phone_now_ms(phone);
  lua_getfield(L, cause, "crash");
  if (lua_istable(L, -1)) {
    int c = lua_gettop(L);
    const char *p = fstr(L, c, "process");
    const char *pk = fstr(L, c, "package");
    const char *text = fstr(L, c, "text");
    int64_t count = 1;
    fint(L, c, "per_boot", &count);
    expand(phone, p ? p : "", proc, sizeof(proc));
    expand(phone, pk ? pk : "", pkg, sizeof(pkg));
    struct df_sim_package *pp = df_sim_pkg_find(phone, pkg);
    for (int64_t i = 0; i < count; i++) {
      struct df_sim_event e = {0};
      e.time_ms = now + 2500 + i * 1100;
      e.boot = phone->boot_count;
      e.pid = phone->next_pid++;
      e.uid = pp ? pp->uid : 1000;
      e.prio = 'E';
      /* ActivityManagerService.addErrorToDropBox: "system_app_crash" for
       * apps with FLAG_SYSTEM, "data_app_crash" for the others. */
      e.tag = (pp && pp->system) ? "system_app_crash" : "data_app_crash";
      e.process = proc;
      e.package = pkg;
      e.text = (char *)(text ? text : "java.lang.RuntimeException");
      df_sim_events_add(&phone->crashes, &e);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, cause, "log");
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      int t = lua_gettop(L);
      if (lua_istable(L, t)) {
        const char *prio = fstr(L, t, "prio");
        const char *tag = fstr(L, t, "tag");
        const char *msg = fstr(L, t, "msg");
        struct df_sim_event e = {0};
        e.time_ms = now + 1500 + i * 700;
        e.boot = phone->boot_count;
        e.pid = 3000 + (int)i;
        e.uid = 10000;
        e.prio = prio ? prio[0] : 'I';
        e.tag = (char *)(tag ? tag : "droidfix-sim");
        expand(phone, msg ? msg : "", buf, sizeof(buf));
        e.text = buf;
        df_sim_events_add(&phone->logs, &e);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static bool
flag(lua_State *L, int t, const char *k)
{
  lua_getfield(L, t, k);
  bool b = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

static bool
evaluate_fault(struct df_sim_phone *phone, struct df_sim_fault *f, enum df_sim_mode *mode)
{
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    return f->active;
  }
  char err[512];
  if (load_fault(phone, L, f->name, err, sizeof(err)) < 0) {
    df_log_warn("droidfix-sim: fault %s: %s", f->name, err);
    lua_close(L);
    return f->active;
  }
  int root = lua_gettop(L);
  lua_getfield(L, root, "causes");
  int ctab = lua_gettop(L);
  char *names[32];
  int n = 0;
  char tmp[512];
  snprintf(tmp, sizeof(tmp), "%s", f->causes);
  char *save = NULL;
  for (char *c = strtok_r(tmp, ",", &save); c && n < 32; c = strtok_r(NULL, ",", &save)) {
    names[n++] = c;
  }
  bool present[32] = {0};
  for (int i = 0; i < n; i++) {
    lua_getfield(L, ctab, names[i]);
    present[i] = lua_istable(L, -1) && cause_present(phone, L, lua_gettop(L));
    lua_pop(L, 1);
  }
  /* Causes that regrow while another cause is there (a queue cleared while
   * the clock is still wrong fills up again), and causes the phone fixes by
   * itself once nothing else blocks it (the Play Store updates itself). */
  /* The phone first fixes what it can by itself once nothing else blocks
   * it (the Play Store updates itself), then causes regrow while another
   * cause is still there (a queue cleared while the clock is still wrong
   * fills up again). Causes that regrow do not block each other. */
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < n; i++) {
      bool others = false;
      for (int k = 0; k < n; k++) {
        if (k != i && present[k]) {
          lua_getfield(L, ctab, names[k]);
          bool renews = flag(L, lua_gettop(L), "renew_while_others");
          lua_pop(L, 1);
          others = others || !renews;
        }
      }
      lua_getfield(L, ctab, names[i]);
      int c = lua_gettop(L);
      if (lua_istable(L, c)) {
        if (pass == 0 && present[i] && !others && flag(L, c, "heals_when_alone")) {
          run_ops(phone, L, c, "heal");
          present[i] = cause_present(phone, L, c);
        }
        if (pass == 1 && !present[i] && others && flag(L, c, "renew_while_others")) {
          run_ops(phone, L, c, "setup");
          present[i] = cause_present(phone, L, c);
        }
      }
      lua_pop(L, 1);
    }
  }
  bool active = false;
  for (int i = 0; i < n; i++) {
    if (!present[i]) {
      continue;
    }
    active = true;
    lua_getfield(L, ctab, names[i]);
    int c = lua_gettop(L);
    bool skip = *mode == DF_SIM_MODE_SAFE_MODE && flag(L, c, "third_party");
    if (!skip) {
      boot_effects(phone, L, c, mode);
    }
    lua_pop(L, 1);
  }
  lua_close(L);
  return active;
}

enum df_sim_mode
df_sim_faults_boot(struct df_sim_phone *phone, enum df_sim_mode target)
{
  phone->boot_count++;
  /* Automatic time: the phone takes the network's time as it boots. */
  const char *at = df_sim_kvs_get(&phone->settings[DF_SIM_NS_GLOBAL], "auto_time");
  if (at && strcmp(at, "1") == 0) {
    phone->clock_offset_s = 0;
  }
  phone->boot_time_ms = df_sim_phone_now_ms(phone);
  char bc[32];
  snprintf(bc, sizeof(bc), "%d", phone->boot_count);
  df_sim_kvs_set(&phone->settings[DF_SIM_NS_GLOBAL], "boot_count", bc);

  /* Safe mode: asked for by the buttons, or by persist.sys.safemode, which
   * the framework consumes (WindowManagerService.detectSafeMode). */
  enum df_sim_mode mode = target;
  const char *sm = df_sim_kvs_get(&phone->props, "persist.sys.safemode");
  if (sm && strcmp(sm, "1") == 0) {
    mode = DF_SIM_MODE_SAFE_MODE;
  }
  df_sim_kvs_set(&phone->props, "persist.sys.safemode", NULL);
  df_sim_kvs_set(&phone->props, "ro.sys.safemode", mode == DF_SIM_MODE_SAFE_MODE ? "1" : "0");
  for (size_t i = 0; i < phone->npkgs; i++) {
    phone->pkgs[i].stopped = false;
  }
  /* Back to the home screen unless a fault puts something else in front. */
  free(phone->foreground);
  phone->foreground = NULL;
  for (size_t i = 0; i < phone->npkgs; i++) {
    const char *n = phone->pkgs[i].name;
    if (strcmp(n, "com.miui.home") == 0) {
      phone->foreground = df_sim_strdup("com.miui.home/.launcher.Launcher");
    } else if (strcmp(n, "com.sec.android.app.launcher") == 0) {
      phone->foreground =
        df_sim_strdup("com.sec.android.app.launcher/com.android.launcher3.uioverrides.QuickstepLauncher");
    }
  }
  if (phone->foreground == NULL) {
    phone->foreground = df_sim_strdup("com.android.launcher3/.uioverrides.QuickstepLauncher");
  }
  for (size_t i = 0; i < phone->nfaults; i++) {
    phone->faults[i].active = evaluate_fault(phone, &phone->faults[i], &mode);
  }
  /* A phone that cannot load its boot image never gets to Android, fault
   * installed or not (a bad flash does this too). */
  if (!df_sim_phone_boot_image_ok(phone, df_sim_phone_current_slot(phone))) {
    mode = DF_SIM_MODE_BOOTLOOP;
  }
  df_sim_kvs_set(&phone->props, "sys.boot_completed", mode == DF_SIM_MODE_BOOTLOOP ? NULL : "1");
  /* The daily storage snapshot (DiskStatsLoggingService): the sim takes it
   * at the first boot into Android that finds none (a new phone, or one
   * just reset), after the faults are in place; from then on `dumpsys
   * diskstats` shows those sizes however the apps change, as a phone does
   * until its next idle-and-charging run. */
  if ((mode == DF_SIM_MODE_SYSTEM || mode == DF_SIM_MODE_SAFE_MODE ||
       mode == DF_SIM_MODE_FACTORY_MODE) &&
      !df_sim_vfs_exists(phone, DF_SIM_DISKSTATS_CACHE)) {
    int r = df_sim_phone_diskstats_job(phone);
    if (r < 0) {
      df_log_warn("droidfix-sim: cannot write %s: %s", DF_SIM_DISKSTATS_CACHE, df_strerror(r));
    }
  }
  return mode;
}
