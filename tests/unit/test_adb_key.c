/* Unit tests of the host's ADB keys: created in Google's formats, read back,
 * and encoded exactly as Google's adb encodes them (checked against
 * `adb keygen` on the same machine). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/base64.h"
#include "core/error.h"
#include "plugins/adb/adb_key.h"

static char tmpdir[256];

static int
setup(void **state)
{
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/df-adbkey-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  unsetenv("ADB_VENDOR_KEYS");
  return 0;
}

static int
teardown(void **state)
{
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd);
}

static void
read_file(const char *path, char *buf, size_t len)
{
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, len - 1, f);
  buf[n] = '\0';
  fclose(f);
}

static void
test_creates_key_in_google_format(void **state)
{
  struct df_adb_keys keys;
  char dir[300], path[400], pub[2048];
  struct stat st;
  uint8_t blob[DF_ADB_PUBKEY_SIZE + 4];

  snprintf(dir, sizeof(dir), "%s/android", tmpdir);
  assert_int_equal(df_adb_keys_load(&keys, dir), DF_OK);
  assert_int_equal(keys.count, 1);

  snprintf(path, sizeof(path), "%s/adbkey", dir);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  snprintf(path, sizeof(path), "%s/adbkey.pub", dir);
  read_file(path, pub, sizeof(pub));
  assert_null(strchr(pub, '\n')); /* no newline, as adb writes it */
  assert_non_null(strchr(pub, ' '));
  assert_non_null(strchr(pub, '@'));
  long n = df_base64_decode(pub, strlen(pub), blob, sizeof(blob));
  assert_int_equal(n, DF_ADB_PUBKEY_SIZE);
  assert_int_equal(blob[0], 64); /* modulus size in words */
  assert_int_equal(blob[520] | blob[521] << 8 | blob[522] << 16, 65537);
  df_adb_keys_free(&keys);

  /* A second load reads the same key instead of making a new one. */
  char pub2[2048];
  assert_int_equal(df_adb_keys_load(&keys, dir), DF_OK);
  assert_int_equal(df_adb_key_public_text(keys.keys[0], pub2, sizeof(pub2)), DF_OK);
  assert_memory_equal(pub, pub2, strchr(pub, ' ') - pub);
  df_adb_keys_free(&keys);
}

static void
test_public_key_matches_google_adb(void **state)
{
  char cmd[600], path[400], theirs[2048], ours[2048];
  struct df_rsa *key;

  if (system("command -v adb >/dev/null 2>&1") != 0) {
    fail_msg("Google's adb is not installed (make test installs it): cannot cross-check");
  }
  snprintf(path, sizeof(path), "%s/google_key", tmpdir);
  snprintf(cmd, sizeof(cmd), "adb keygen '%s' >/dev/null 2>&1", path);
  assert_int_equal(system(cmd), 0);

  assert_int_equal(df_rsa_load_pem(path, &key), DF_OK);
  assert_int_equal(df_adb_key_public_text(key, ours, sizeof(ours)), DF_OK);
  snprintf(cmd, sizeof(cmd), "%s.pub", path);
  read_file(cmd, theirs, sizeof(theirs));
  /* The base64 of the 524-byte struct must be the same to the byte. */
  size_t b64len = (size_t)(strchr(theirs, ' ') - theirs);
  assert_int_equal(strchr(ours, ' ') - ours, (long)b64len);
  assert_memory_equal(ours, theirs, b64len);
  df_rsa_free(key);
}

static void
test_signature_verifies_as_adbd_checks_it(void **state)
{
  struct df_adb_keys keys;
  uint8_t token[20], sig[512];
  size_t siglen = 0;
  char path[400];

  for (int i = 0; i < 20; i++) token[i] = (uint8_t)(i * 13 + 7);
  assert_int_equal(df_adb_keys_load(&keys, tmpdir), DF_OK);
  assert_int_equal(df_rsa_sign_sha1_digest(keys.keys[0], token, sig, &siglen), DF_OK);
  assert_int_equal(siglen, 256);

  /* adbd: RSA_verify(NID_sha1, token, 20, sig, len, key). */
  snprintf(path, sizeof(path), "%s/adbkey", tmpdir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  assert_non_null(pkey);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
  assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
  assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
  assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha1()), 1);
  assert_int_equal(EVP_PKEY_verify(ctx, sig, siglen, token, 20), 1);
  token[0] ^= 1;
  assert_int_not_equal(EVP_PKEY_verify(ctx, sig, siglen, token, 20), 1);
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  df_adb_keys_free(&keys);
}

static void
test_vendor_keys_and_bad_files(void **state)
{
  struct df_adb_keys keys;
  char vdir[300], cmd[1200], env[700];

  snprintf(vdir, sizeof(vdir), "%s/vendor", tmpdir);
  mkdir(vdir, 0700);
  snprintf(cmd, sizeof(cmd), "adb keygen '%s/one.adb_key' >/dev/null 2>&1 && "
           "echo garbage > '%s/two.adb_key' && echo x > '%s/ignored.txt'", vdir, vdir, vdir);
  assert_int_equal(system(cmd), 0);
  snprintf(env, sizeof(env), "%s:%s/missing", vdir, tmpdir);
  setenv("ADB_VENDOR_KEYS", env, 1);
  assert_int_equal(df_adb_keys_load(&keys, tmpdir), DF_OK);
  /* the user key and one.adb_key; the garbage one is skipped with a warning */
  assert_int_equal(keys.count, 2);
  df_adb_keys_free(&keys);
  unsetenv("ADB_VENDOR_KEYS");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_creates_key_in_google_format, setup, teardown),
    cmocka_unit_test_setup_teardown(test_public_key_matches_google_adb, setup, teardown),
    cmocka_unit_test_setup_teardown(test_signature_verifies_as_adbd_checks_it, setup, teardown),
    cmocka_unit_test_setup_teardown(test_vendor_keys_and_bad_files, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
