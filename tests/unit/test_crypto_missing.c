/* Unit tests of what core/hash and core/rsa return when libcrypto cannot be
 * loaded: this executable is built with its own copy of core/crypto_lib.c
 * whose run-time library name exists nowhere (tests/CMakeLists.txt), so
 * dlopen fails as it would on a machine without OpenSSL 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/crypto_lib.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/loop.h"
#include "core/rsa.h"

static void
test_library_reported_missing(void **state)
{
  (void)state;
  assert_int_equal(df_crypto_lib_load(), DF_EUNSUPPORTED);
  /* asked again: the same answer, no retry */
  assert_int_equal(df_crypto_lib_load(), DF_EUNSUPPORTED);
}

static void
test_hash_unsupported(void **state)
{
  struct df_hash *h = NULL;
  char hex[DF_HASH_HEX_MAX];
  enum df_hash_algo algo;

  (void)state;
  assert_int_equal(df_hash_new(DF_HASH_SHA256, &h), DF_EUNSUPPORTED);
  assert_null(h);
  assert_int_equal(df_hash_buffer_hex(DF_HASH_MD5, "abc", 3, hex, sizeof(hex)), DF_EUNSUPPORTED);
  assert_int_equal(df_hash_file_sync("/proc/self/exe", DF_HASH_SHA1, hex, sizeof(hex)),
                   DF_EUNSUPPORTED);
  /* no library needed to name an algorithm */
  assert_int_equal(df_hash_algo_parse("SHA-256", &algo), DF_OK);
  assert_int_equal(algo, DF_HASH_SHA256);
}

struct file_result {
  int calls;
  int status;
  const char *hex;
};

static void
on_file_hashed(void *data, int status, const char *hex)
{
  struct file_result *r = data;

  r->calls++;
  r->status = status;
  r->hex = hex;
}

static void
on_stream_done(void *data, int status, const char *hex)
{
  (void)data;
  (void)status;
  (void)hex;
  fail_msg("a stream that could not be made called back");
}

static void
test_async_unsupported(void **state)
{
  static const struct df_hash_stream_callbacks cbs = {NULL, on_stream_done};
  struct df_loop loop;
  struct df_hash_stream *s = NULL;
  struct file_result r = {0, 0, "unset"};

  (void)state;
  assert_int_equal(df_loop_init(&loop), 0);
  assert_int_equal(df_hash_stream_new(&loop, DF_HASH_SHA256, 0, &cbs, NULL, &s), DF_EUNSUPPORTED);
  assert_null(s);
  /* df_hash_file hashes on the thread pool: the error comes through cb */
  assert_int_equal(df_hash_file(&loop, "/proc/self/exe", DF_HASH_SHA256, on_file_hashed, &r), 0);
  assert_int_equal(df_loop_run(&loop), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, DF_EUNSUPPORTED);
  assert_null(r.hex);
  assert_int_equal(df_loop_close(&loop), 0);
}

static void
test_rsa_unsupported(void **state)
{
  struct df_rsa *key = NULL;

  (void)state;
  assert_int_equal(df_rsa_generate(2048, &key), DF_EUNSUPPORTED);
  assert_null(key);
  assert_int_equal(df_rsa_load_pem("/nonexistent/adbkey", &key), DF_EUNSUPPORTED);
  assert_null(key);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_library_reported_missing),
    cmocka_unit_test(test_hash_unsupported),
    cmocka_unit_test(test_async_unsupported),
    cmocka_unit_test(test_rsa_unsupported),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
