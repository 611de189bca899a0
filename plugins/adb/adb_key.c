/* Loading, creating and encoding the host's ADB keys. */
#include "plugins/adb/adb_key.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/error.h"
#include "core/log.h"

int
df_adb_key_dir(char *out, size_t outlen)
{
  const char *user_home = getenv("ANDROID_USER_HOME");
  const char *home = getenv("HOME");
  int n;

  if (user_home != NULL && *user_home != '\0')
    n = snprintf(out, outlen, "%s", user_home);
  else if (home != NULL && *home != '\0')
    n = snprintf(out, outlen, "%s/.android", home);
  else
    return DF_ENOENT;
  return n < 0 || (size_t)n >= outlen ? DF_ETOOBIG : DF_OK;
}

static void
df_put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* Big-endian bytes to little-endian bytes, as android_pubkey stores them. */
static void
df_reverse_into(uint8_t *dst, const uint8_t *src, size_t n)
{
  for (size_t i = 0; i < n; i++) dst[i] = src[n - 1 - i];
}

int
df_adb_key_encode_public(const struct df_rsa *key, uint8_t out[DF_ADB_PUBKEY_SIZE])
{
  uint8_t n_be[256], rr_be[256];
  uint32_t n0inv, exponent;
  int rc;

  if (df_rsa_size(key) != 256) return DF_EUNSUPPORTED; /* phones take RSA-2048 only */
  rc = df_rsa_public_numbers(key, n_be, &exponent);
  if (rc == DF_OK) rc = df_rsa_montgomery(key, &n0inv, rr_be);
  if (rc != DF_OK) return rc;
  df_put_le32(out, 256 / 4);
  df_put_le32(out + 4, n0inv);
  df_reverse_into(out + 8, n_be, 256);
  df_reverse_into(out + 8 + 256, rr_be, 256);
  df_put_le32(out + 8 + 512, exponent);
  return DF_OK;
}

/* " user@host" as adb writes it: LOGNAME, else getlogin; HOSTNAME, else
 * gethostname; "unknown" where neither is known. */
static void
df_adb_user_info(char *out, size_t outlen)
{
  char host[256] = "";
  const char *user = getenv("LOGNAME");
  const char *h = getenv("HOSTNAME");

  if (h != NULL && *h != '\0')
    snprintf(host, sizeof(host), "%s", h);
  else if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
    snprintf(host, sizeof(host), "unknown");
  if (user == NULL || *user == '\0') user = getlogin();
  if (user == NULL || *user == '\0') user = "unknown";
  snprintf(out, outlen, " %s@%s", user, host);
}

int
df_adb_key_public_text(const struct df_rsa *key, char *out, size_t outlen)
{
  uint8_t blob[DF_ADB_PUBKEY_SIZE];
  char info[300];
  size_t len;
  int rc;

  if (outlen < df_base64_encoded_size(sizeof(blob)) + sizeof(info)) return DF_ETOOBIG;
  rc = df_adb_key_encode_public(key, blob);
  if (rc != DF_OK) return rc;
  len = df_base64_encode(blob, sizeof(blob), out);
  df_adb_user_info(info, sizeof(info));
  snprintf(out + len, outlen - len, "%s", info);
  return DF_OK;
}

static int
df_adb_write_public(const struct df_rsa *key, const char *path)
{
  char text[1024];
  FILE *f;
  int rc;

  rc = df_adb_key_public_text(key, text, sizeof(text));
  if (rc != DF_OK) return rc;
  f = fopen(path, "w");
  if (f == NULL) return df_error_from_errno(errno);
  /* adb writes the .pub without a newline. */
  fputs(text, f);
  return fclose(f) == 0 ? DF_OK : DF_EIO;
}

static int
df_adb_create_user_key(const char *dir, const char *path)
{
  char pub[600];
  struct df_rsa *key;
  int rc;

  if (mkdir(dir, 0750) != 0 && errno != EEXIST) return df_error_from_errno(errno);
  rc = df_rsa_generate(2048, &key);
  if (rc != DF_OK) return rc;
  rc = df_rsa_save_pem(key, path);
  snprintf(pub, sizeof(pub), "%s.pub", path);
  if (rc == DF_OK) rc = df_adb_write_public(key, pub);
  df_rsa_free(key);
  if (rc == DF_OK) df_log_info("created ADB key %s (and %s)", path, pub);
  return rc;
}

static void
df_adb_warn_if_exposed(const char *path)
{
  struct stat st;

  if (stat(path, &st) == 0 && (st.st_mode & 0077) != 0)
    df_log_warn("ADB key %s can be read by other users (mode %03o): run chmod 600 %s",
                path, (unsigned)(st.st_mode & 0777), path);
}

static int
df_adb_keys_add_file(struct df_adb_keys *keys, const char *path)
{
  struct df_rsa *key;
  int rc;

  if (keys->count >= DF_ADB_MAX_KEYS) {
    df_log_warn("more than %d ADB keys: ignoring %s", DF_ADB_MAX_KEYS, path);
    return DF_ETOOBIG;
  }
  rc = df_rsa_load_pem(path, &key);
  if (rc != DF_OK) {
    df_log_warn("cannot use ADB key %s: %s", path, df_strerror(rc));
    return rc;
  }
  df_adb_warn_if_exposed(path);
  keys->keys[keys->count] = key;
  snprintf(keys->paths[keys->count], sizeof(keys->paths[0]), "%s", path);
  keys->count++;
  return DF_OK;
}

static void
df_adb_keys_add_vendor_path(struct df_adb_keys *keys, const char *path)
{
  struct stat st;
  DIR *d;
  struct dirent *de;

  if (stat(path, &st) != 0) {
    df_log_warn("ADB_VENDOR_KEYS names %s, which does not exist", path);
    return;
  }
  if (S_ISREG(st.st_mode)) {
    df_adb_keys_add_file(keys, path);
    return;
  }
  if (!S_ISDIR(st.st_mode) || (d = opendir(path)) == NULL) return;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    char file[1024];
    if (len <= 8 || strcmp(de->d_name + len - 8, ".adb_key") != 0) continue;
    snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
    df_adb_keys_add_file(keys, file);
  }
  closedir(d);
}

int
df_adb_keys_load(struct df_adb_keys *keys, const char *dir)
{
  char path[512];
  const char *vendor;
  int rc;

  memset(keys, 0, sizeof(*keys));
  if (snprintf(path, sizeof(path), "%s/adbkey", dir) >= (int)sizeof(path)) return DF_ETOOBIG;
  if (access(path, F_OK) != 0) {
    rc = df_adb_create_user_key(dir, path);
    if (rc != DF_OK) {
      df_log_error("cannot create the ADB key %s: %s", path, df_strerror(rc));
      return rc;
    }
  }
  rc = df_adb_keys_add_file(keys, path);
  if (rc != DF_OK) return rc;

  vendor = getenv("ADB_VENDOR_KEYS");
  if (vendor != NULL) {
    char *copy = strdup(vendor), *save = NULL;
    if (copy == NULL) return DF_ENOMEM;
    for (char *p = strtok_r(copy, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
      if (*p != '\0') df_adb_keys_add_vendor_path(keys, p);
    free(copy);
  }
  return DF_OK;
}

void
df_adb_keys_free(struct df_adb_keys *keys)
{
  for (int i = 0; i < keys->count; i++) df_rsa_free(keys->keys[i]);
  keys->count = 0;
}
