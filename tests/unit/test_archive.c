/* Unit tests of core/archive's reader: .tgz and .zip made by GNU tar and
 * Info-ZIP in the test, listed and read back; truncated, corrupt and garbage
 * files must fail somewhere in the walk, never list short. */
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

#include <archive.h>
#include <archive_entry.h>

#include "core/archive.h"
#include "core/error.h"
#include "tests/unit/file_fixture.h"

#define DATA_SIZE (200u * 1024 + 17)

static char tmpdir[64];
static char tgz_path[128], zip_path[128], tar_path[128];
static unsigned char *pattern;

/* src/hello.txt, src/sub/data.bin (pattern), src/sub/empty, src/link ->
 * hello.txt, packed by tar czf, tar cf and zip -ry. */
static int
setup(void **state)
{
  char p[256];

  snprintf(tmpdir, sizeof(tmpdir), "/tmp/df-test-archive-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  pattern = malloc(DATA_SIZE);
  if (pattern == NULL) return -1;
  fx_fill_pattern(pattern, DATA_SIZE, 3);
  snprintf(p, sizeof(p), "%s/src/sub", tmpdir);
  if (fx_sh("mkdir -p '%s'", p) != 0) return -1;
  snprintf(p, sizeof(p), "%s/src/hello.txt", tmpdir);
  if (fx_write_file(p, "hello\n", 6) != 0) return -1;
  snprintf(p, sizeof(p), "%s/src/sub/data.bin", tmpdir);
  if (fx_write_file(p, pattern, DATA_SIZE) != 0) return -1;
  snprintf(p, sizeof(p), "%s/src/sub/empty", tmpdir);
  if (fx_write_file(p, "", 0) != 0) return -1;
  snprintf(p, sizeof(p), "%s/src/link", tmpdir);
  if (symlink("hello.txt", p) != 0) return -1;
  snprintf(tgz_path, sizeof(tgz_path), "%s/t.tgz", tmpdir);
  snprintf(zip_path, sizeof(zip_path), "%s/t.zip", tmpdir);
  snprintf(tar_path, sizeof(tar_path), "%s/t.tar", tmpdir);
  if (fx_sh("cd '%s' && tar czf t.tgz src && tar cf t.tar src && zip -qry t.zip src", tmpdir) != 0) {
    return -1;
  }
  return 0;
}

static int
teardown(void **state)
{
  fx_sh("rm -rf '%s'", tmpdir);
  free(pattern);
  return 0;
}

struct seen {
  int hello, data, empty, link, dirs, others;
  int bad_content; /* entries whose bytes differ from the source */
};

/* Walks a whole archive, reading every entry's data with reads of
 * piece bytes; checks the known entries' contents. Returns the walk's end
 * code: 0 for a clean end, or the first error. */
static int
walk(const char *path, size_t piece, struct seen *s)
{
  struct df_archive *a;
  struct df_archive_entry e;
  unsigned char *buf = malloc(DATA_SIZE + 1);
  int rc;

  assert_non_null(buf);
  memset(s, 0, sizeof(*s));
  rc = df_archive_open(path, &a);
  if (rc != 0) {
    free(buf);
    return rc;
  }
  while ((rc = df_archive_next(a, &e)) == 1) {
    size_t got = 0;
    ssize_t n = 0;

    while (got < DATA_SIZE + 1 &&
           (n = df_archive_read(a, buf + got, DATA_SIZE + 1 - got < piece ? DATA_SIZE + 1 - got : piece)) > 0) {
      got += (size_t)n;
    }
    if (n < 0) {
      rc = (int)n;
      break;
    }
    if (strcmp(e.path, "src/hello.txt") == 0) {
      assert_int_equal(e.type, DF_ARCHIVE_FILE);
      assert_true(e.size_known);
      assert_int_equal(e.size, 6);
      if (got != 6 || memcmp(buf, "hello\n", 6) != 0) s->bad_content++;
      assert_true(S_ISREG(e.mode));
      s->hello++;
    } else if (strcmp(e.path, "src/sub/data.bin") == 0) {
      assert_int_equal(e.type, DF_ARCHIVE_FILE);
      assert_int_equal(e.size, DATA_SIZE);
      /* A damaged stream may deliver wrong bytes before it reports the
       * damage (gzip's CRC covers the whole stream): counted, not asserted,
       * so the walk goes on to the error. */
      if (got != DATA_SIZE || memcmp(buf, pattern, DATA_SIZE) != 0) s->bad_content++;
      s->data++;
    } else if (strcmp(e.path, "src/sub/empty") == 0) {
      assert_int_equal(e.type, DF_ARCHIVE_FILE);
      if (got != 0) s->bad_content++;
      s->empty++;
    } else if (strcmp(e.path, "src/link") == 0) {
      assert_int_equal(e.type, DF_ARCHIVE_SYMLINK);
      assert_string_equal(e.link_target, "hello.txt");
      assert_int_equal(got, 0);
      s->link++;
    } else if (e.type == DF_ARCHIVE_DIR) {
      assert_null(e.link_target);
      s->dirs++;
    } else {
      s->others++;
    }
  }
  if (rc < 0) {
    /* An error always comes with words. */
    assert_true(strlen(df_archive_error_message(a)) > 0);
    /* and sticks */
    assert_int_equal(df_archive_next(a, &e), rc);
  }
  df_archive_close(a);
  free(buf);
  return rc;
}

static void
check_complete(const struct seen *s)
{
  assert_int_equal(s->hello, 1);
  assert_int_equal(s->data, 1);
  assert_int_equal(s->empty, 1);
  assert_int_equal(s->link, 1);
  assert_int_equal(s->dirs, 2); /* src/ and src/sub/ */
  assert_int_equal(s->others, 0);
  assert_int_equal(s->bad_content, 0);
}

static void
test_tgz_listing_and_content(void **state)
{
  struct seen s;

  assert_int_equal(walk(tgz_path, 1u << 20, &s), 0);
  check_complete(&s);
  /* Small reads give the same bytes. */
  assert_int_equal(walk(tgz_path, 7, &s), 0);
  check_complete(&s);
}

static void
test_tar_listing(void **state)
{
  struct seen s;

  assert_int_equal(walk(tar_path, 4096, &s), 0);
  check_complete(&s);
}

static void
test_zip_listing_and_content(void **state)
{
  struct seen s;
  struct df_archive *a;
  struct df_archive_entry e;

  assert_int_equal(walk(zip_path, 1u << 20, &s), 0);
  check_complete(&s);
  assert_int_equal(walk(zip_path, 1000, &s), 0);
  check_complete(&s);
  assert_int_equal(df_archive_open(zip_path, &a), 0);
  assert_string_equal(df_archive_format_name(a), "");
  assert_int_equal(df_archive_next(a, &e), 1);
  assert_non_null(strstr(df_archive_format_name(a), "ZIP"));
  df_archive_close(a);
}

/* Entries can be skipped without reading their data. */
static void
test_listing_without_reading(void **state)
{
  const char *paths[] = {tgz_path, zip_path, tar_path};

  for (size_t i = 0; i < 3; i++) {
    struct df_archive *a;
    struct df_archive_entry e;
    int n = 0, rc;

    assert_int_equal(df_archive_open(paths[i], &a), 0);
    while ((rc = df_archive_next(a, &e)) == 1) n++;
    if (rc != 0) fail_msg("%s: %d %s", paths[i], rc, df_archive_error_message(a));
    assert_int_equal(n, 6);
    /* The end is sticky too. */
    assert_int_equal(df_archive_next(a, &e), 0);
    df_archive_close(a);
  }
}

/* Writes the first len bytes of src to dst. */
static void
truncated_copy(const char *src, const char *dst, size_t len)
{
  size_t n;
  unsigned char *buf = fx_read_file(src, &n);

  assert_non_null(buf);
  assert_true(len <= n);
  assert_int_equal(fx_write_file(dst, buf, len), 0);
  free(buf);
}

static void
check_truncations_fail(const char *src)
{
  char dst[160];
  size_t n;
  unsigned char *buf = fx_read_file(src, &n);
  struct seen s;

  assert_non_null(buf);
  free(buf);
  snprintf(dst, sizeof(dst), "%s/cut", tmpdir);
  /* Every cut, from inside the first header to the last byte. */
  for (size_t cut = 1; cut < n; cut += (cut < 2048 ? 97 : 1531)) {
    truncated_copy(src, dst, cut);
    int rc = walk(dst, 1u << 20, &s);
    if (rc != DF_ECORRUPT) fail_msg("%s cut at %zu of %zu: walk gave %d", src, cut, n, rc);
  }
  for (size_t back = 1; back <= 40 && back < n; back++) {
    truncated_copy(src, dst, n - back);
    int rc = walk(dst, 1u << 20, &s);
    if (rc != DF_ECORRUPT) fail_msg("%s cut at %zu of %zu: walk gave %d", src, n - back, n, rc);
  }
  unlink(dst);
}

static void
test_truncated_tgz_fails(void **state)
{
  check_truncations_fail(tgz_path);
}

static void
test_truncated_zip_fails(void **state)
{
  check_truncations_fail(zip_path);
}

/* A plain tar cut exactly between entries looks like a shorter archive to
 * libarchive; the missing end-of-archive blocks give it away. */
static void
test_tar_cut_at_entry_boundary_fails(void **state)
{
  char path[160];
  struct archive *w = archive_write_new();
  struct archive_entry *ae = archive_entry_new();
  struct df_archive *a;
  struct df_archive_entry e;
  char body[100];
  int rc, n;

  memset(body, 'x', sizeof(body));
  snprintf(path, sizeof(path), "%s/two.tar", tmpdir);
  assert_int_equal(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(w, path), ARCHIVE_OK);
  for (int i = 0; i < 2; i++) {
    archive_entry_clear(ae);
    archive_entry_set_pathname(ae, i == 0 ? "a" : "b");
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, sizeof(body));
    assert_int_equal(archive_write_header(w, ae), ARCHIVE_OK);
    assert_int_equal(archive_write_data(w, body, sizeof(body)), sizeof(body));
  }
  archive_entry_free(ae);
  assert_int_equal(archive_write_free(w), ARCHIVE_OK);

  /* Whole: two entries and a clean end. */
  assert_int_equal(df_archive_open(path, &a), 0);
  for (n = 0; (rc = df_archive_next(a, &e)) == 1; n++) {}
  assert_int_equal(rc, 0);
  assert_int_equal(n, 2);
  df_archive_close(a);

  /* Cut after a (512 header + 512 data) and after b: an error, not 1 or 2
   * entries and a clean end. */
  {
    char cut[160];
    snprintf(cut, sizeof(cut), "%s/two-cut.tar", tmpdir);
    for (size_t len = 1024; len <= 2048; len += 1024) {
      truncated_copy(path, cut, len);
      assert_int_equal(df_archive_open(cut, &a), 0);
      while ((rc = df_archive_next(a, &e)) == 1) {}
      assert_int_equal(rc, DF_ECORRUPT);
      assert_non_null(strstr(df_archive_error_message(a), "end-of-archive"));
      df_archive_close(a);
    }
    /* With its end blocks (and the record padding cut off) it is whole. */
    truncated_copy(path, cut, 3072);
    assert_int_equal(df_archive_open(cut, &a), 0);
    for (n = 0; (rc = df_archive_next(a, &e)) == 1; n++) {}
    assert_int_equal(rc, 0);
    assert_int_equal(n, 2);
    df_archive_close(a);
    unlink(cut);
  }
  unlink(path);
}

static void
test_garbage_fails(void **state)
{
  char path[160], gz[200];
  unsigned char junk[70000];
  struct seen s;

  snprintf(path, sizeof(path), "%s/junk.bin", tmpdir);
  fx_fill_pattern(junk, sizeof(junk), 11);
  assert_int_equal(fx_write_file(path, junk, sizeof(junk)), 0);
  assert_int_equal(walk(path, 4096, &s), DF_ECORRUPT);
  /* Text is not an archive either. */
  assert_int_equal(fx_write_file(path, "just some words\n", 16), 0);
  assert_int_equal(walk(path, 4096, &s), DF_ECORRUPT);
  /* Nor is an empty file. */
  assert_int_equal(fx_write_file(path, "", 0), 0);
  assert_int_equal(walk(path, 4096, &s), DF_ECORRUPT);
  /* Nor a valid gzip of random bytes. */
  assert_int_equal(fx_write_file(path, junk, sizeof(junk)), 0);
  assert_int_equal(fx_sh("gzip -kf '%s'", path), 0);
  snprintf(gz, sizeof(gz), "%s.gz", path);
  assert_int_equal(walk(gz, 4096, &s), DF_ECORRUPT);
  unlink(gz);
  unlink(path);
}

/* One flipped byte inside compressed data: inflate or the CRC notices by
 * the time every entry is read. */
static void
test_flipped_byte_fails(void **state)
{
  const char *srcs[] = {tgz_path, zip_path};
  char dst[160];
  struct seen s;

  snprintf(dst, sizeof(dst), "%s/flipped", tmpdir);
  for (size_t i = 0; i < 2; i++) {
    size_t n;
    unsigned char *buf = fx_read_file(srcs[i], &n);

    assert_non_null(buf);
    /* Inside data.bin's compressed bytes (the bulk of both files). */
    buf[n / 2] ^= 0x55;
    assert_int_equal(fx_write_file(dst, buf, n), 0);
    free(buf);
    assert_int_equal(walk(dst, 1u << 20, &s), DF_ECORRUPT);
  }
  unlink(dst);
}

/* A zip's stored entry with one byte changed: nothing to inflate, only the
 * CRC can tell, and it is checked when the entry is read to its end. */
static void
test_zip_stored_crc_mismatch(void **state)
{
  char path[160];
  size_t n;
  unsigned char *buf;
  unsigned char *hit;
  struct df_archive *a;
  struct df_archive_entry e;
  char data[64];
  ssize_t r;
  size_t got = 0;

  snprintf(path, sizeof(path), "%s/stored.zip", tmpdir);
  assert_int_equal(fx_sh("cd '%s' && printf 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' > s.txt && zip -q -0 stored.zip s.txt",
                       tmpdir), 0);
  buf = fx_read_file(path, &n);
  assert_non_null(buf);
  hit = memmem(buf, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26);
  assert_non_null(hit);
  hit[5] = 'f';
  assert_int_equal(fx_write_file(path, buf, n), 0);
  free(buf);
  assert_int_equal(df_archive_open(path, &a), 0);
  assert_int_equal(df_archive_next(a, &e), 1);
  assert_string_equal(e.path, "s.txt");
  while ((r = df_archive_read(a, data + got, sizeof(data) - got)) > 0) got += (size_t)r;
  assert_int_equal(r, DF_ECORRUPT);
  assert_non_null(strstr(df_archive_error_message(a), "CRC"));
  df_archive_close(a);
}

static void
test_open_errors(void **state)
{
  struct df_archive *a = NULL;
  char path[160];

  snprintf(path, sizeof(path), "%s/no-such.tgz", tmpdir);
  assert_int_equal(df_archive_open(path, &a), DF_ENOENT);
  assert_null(a);
  assert_int_equal(df_archive_open(tmpdir, &a), DF_EIO);
  if (geteuid() != 0) {
    snprintf(path, sizeof(path), "%s/locked.tgz", tmpdir);
    assert_int_equal(fx_sh("cp '%s' '%s' && chmod 000 '%s'", tgz_path, path, path), 0);
    assert_int_equal(df_archive_open(path, &a), DF_EACCES);
    unlink(path);
  }
  df_archive_close(NULL);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tgz_listing_and_content),
    cmocka_unit_test(test_tar_listing),
    cmocka_unit_test(test_zip_listing_and_content),
    cmocka_unit_test(test_listing_without_reading),
    cmocka_unit_test(test_truncated_tgz_fails),
    cmocka_unit_test(test_truncated_zip_fails),
    cmocka_unit_test(test_tar_cut_at_entry_boundary_fails),
    cmocka_unit_test(test_garbage_fails),
    cmocka_unit_test(test_flipped_byte_fails),
    cmocka_unit_test(test_zip_stored_crc_mismatch),
    cmocka_unit_test(test_open_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
