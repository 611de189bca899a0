/* Unit tests of core/gzip_stream.c and core/archive_index.c: a .tgz walked
 * to its end with df_archive_open_indexed, then its entries read back
 * through df_archive_span_open at any offset and compared byte for byte;
 * no index when the walk did not end cleanly or the file changed; gzip
 * headers with every optional field, a bad header CRC, a tar split across
 * two gzip members, and the pieces plugins/fastboot sends for an entry the
 * same through the index as from the archive's first byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "core/archive.h"
#include "core/archive_index.h"
#include "core/crc32.h"
#include "core/error.h"
#include "plugins/fastboot/archive_source.h"
#include "plugins/fastboot/image.h"
#include "tests/unit/file_fixture.h"

#define BIG_SIZE (40u * 1024 * 1024 + 4099) /* past the first 32 MiB access point */
#define SMALL_SIZE (300u * 1024 + 5)

static char tmpdir[64];
static unsigned char *big, *small;

static int
setup(void **state)
{
  char path[160];

  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/df-aidx-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  big = malloc(BIG_SIZE);
  small = malloc(SMALL_SIZE);
  if (big == NULL || small == NULL) return -1;
  fx_fill_pattern(big, BIG_SIZE, 7);
  /* compressible: real deflate blocks, not only stored ones */
  for (size_t i = 0; i < SMALL_SIZE; i++) small[i] = (unsigned char)("droidfix "[i % 9] + (i / 4096) % 3);
  snprintf(path, sizeof(path), "%s/pkg", tmpdir);
  if (fx_sh("mkdir -p %s/pkg/images", tmpdir) != 0) return -1;
  snprintf(path, sizeof(path), "%s/pkg/images/big.img", tmpdir);
  if (fx_write_file(path, big, BIG_SIZE) != 0) return -1;
  snprintf(path, sizeof(path), "%s/pkg/images/small.img", tmpdir);
  if (fx_write_file(path, small, SMALL_SIZE) != 0) return -1;
  snprintf(path, sizeof(path), "%s/pkg/flash_all.sh", tmpdir);
  if (fx_write_file(path, "fastboot flash boot images/small.img\n", 37) != 0) return -1;
  /* a sparse image (RAW, DONT_CARE/FILL, RAW chunks) after big.img */
  if (fx_sh("cd %s && { head -c 2097152 pkg/images/big.img; head -c 2097152 /dev/zero;"
          " head -c 2097152 pkg/images/small.img; head -c 2097152 pkg/images/small.img; } >sp.raw &&"
          " img2simg sp.raw pkg/images/sp.img >/dev/null 2>&1 && rm sp.raw",
          tmpdir) != 0)
    return -1;
  /* big first, the others after it (as in a Xiaomi ROM); one member, and
   * the same tar split into two members, the cut inside big.img */
  if (fx_sh("cd %s && tar -cf rom.tar pkg/images/big.img pkg/images/small.img pkg/images/sp.img pkg/flash_all.sh &&"
          " gzip -1 -c rom.tar >rom.tgz && head -c 30000000 rom.tar | gzip -1 -c >two.tgz &&"
          " tail -c +30000001 rom.tar | gzip -1 -c >>two.tgz",
          tmpdir) != 0)
    return -1;
  return 0;
}

static int
teardown(void **state)
{
  (void)state;
  fx_sh("rm -rf %s", tmpdir);
  free(big);
  free(small);
  return 0;
}

/* Walks path with df_archive_open_indexed: the status of the walk's end. */
static int
walk(const char *path)
{
  struct df_archive *a = NULL;
  struct df_archive_entry e;
  int rc = df_archive_open_indexed(path, &a);

  while (rc == DF_OK && (rc = df_archive_next(a, &e)) == 1) rc = DF_OK;
  df_archive_close(a);
  return rc;
}

/* Reads len bytes at off of the entry through a span; compares. */
static void
check_span_at(struct df_archive_span *s, const unsigned char *want, uint64_t size, uint64_t off,
              size_t len)
{
  unsigned char *buf = malloc(len);
  size_t have = 0;

  assert_non_null(buf);
  assert_int_equal(df_archive_span_seek(s, off), DF_OK);
  while (have < len && off + have < size) {
    ssize_t n = df_archive_span_read(s, buf + have, len - have);
    assert_true(n > 0);
    have += (size_t)n;
  }
  assert_memory_equal(buf, want + off, have);
  free(buf);
}

static void
check_entries(const char *path)
{
  struct df_archive_span *s = NULL;
  uint64_t size = 0;
  unsigned char *buf = malloc(1u << 20);
  uint64_t got = 0;
  ssize_t n;

  assert_non_null(buf);
  /* the whole of big.img, in order */
  assert_int_equal(df_archive_span_open(path, "./pkg/images/big.img", &s, &size), DF_OK);
  assert_int_equal(size, BIG_SIZE);
  while ((n = df_archive_span_read(s, buf, 1u << 20)) > 0) {
    assert_memory_equal(buf, big + got, (size_t)n);
    got += (uint64_t)n;
  }
  assert_int_equal(n, 0);
  assert_int_equal(got, BIG_SIZE);
  /* then anywhere: back, forward over an access point, the very end */
  check_span_at(s, big, size, 5, 4096);
  check_span_at(s, big, size, 36u * 1024 * 1024 + 3, 70000);
  check_span_at(s, big, size, 33u * 1024 * 1024, 10);
  check_span_at(s, big, size, BIG_SIZE - 100, 100);
  df_archive_span_close(s);
  /* an entry after big.img, compressible data */
  assert_int_equal(df_archive_span_open(path, "pkg/images/small.img/", &s, &size), DF_OK);
  assert_int_equal(size, SMALL_SIZE);
  check_span_at(s, small, size, 0, SMALL_SIZE);
  check_span_at(s, small, size, 1234, 5000);
  df_archive_span_close(s);
  /* no such entry, a directory: not in the index */
  assert_int_equal(df_archive_span_open(path, "pkg/images/none.img", &s, &size), DF_ENOENT);
  free(buf);
}

static void
test_span_after_walk(void **state)
{
  char path[160];
  struct df_archive_span *s = NULL;
  uint64_t size;

  (void)state;
  snprintf(path, sizeof(path), "%s/rom.tgz", tmpdir);
  /* never walked: no index */
  assert_int_equal(df_archive_span_open(path, "pkg/images/small.img", &s, &size), DF_ENOENT);
  assert_int_equal(walk(path), 0);
  check_entries(path);
}

static void
test_span_across_members(void **state)
{
  char path[160];

  (void)state;
  snprintf(path, sizeof(path), "%s/two.tgz", tmpdir);
  assert_int_equal(walk(path), 0);
  check_entries(path);
}

static void
test_no_index_once_changed(void **state)
{
  char path[160];
  struct df_archive_span *s = NULL;
  uint64_t size;
  struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};

  (void)state;
  snprintf(path, sizeof(path), "%s/changed.tgz", tmpdir);
  assert_int_equal(fx_sh("cp %s/rom.tgz %s", tmpdir, path), 0);
  assert_int_equal(walk(path), 0);
  assert_int_equal(df_archive_span_open(path, "pkg/images/small.img", &s, &size), DF_OK);
  df_archive_span_close(s);
  assert_int_equal(utimes(path, tv), 0); /* same bytes, but not the file walked */
  assert_int_equal(df_archive_span_open(path, "pkg/images/small.img", &s, &size), DF_ENOENT);
}

static void
test_no_index_when_damaged(void **state)
{
  char path[160];
  struct df_archive_span *s = NULL;
  uint64_t size;
  size_t len;
  unsigned char *data;

  (void)state;
  /* the trailer's CRC flipped: every entry reads, the end fails */
  snprintf(path, sizeof(path), "%s/badcrc.tgz", tmpdir);
  assert_int_equal(fx_sh("cp %s/rom.tgz %s", tmpdir, path), 0);
  data = fx_read_file(path, &len);
  assert_non_null(data);
  data[len - 8] ^= 0xff;
  assert_int_equal(fx_write_file(path, data, len), 0);
  free(data);
  assert_int_equal(walk(path), DF_ECORRUPT);
  assert_int_equal(df_archive_span_open(path, "pkg/images/small.img", &s, &size), DF_ENOENT);
  /* cut short */
  snprintf(path, sizeof(path), "%s/cut.tgz", tmpdir);
  assert_int_equal(fx_sh("head -c 35000000 %s/rom.tgz >%s", tmpdir, path), 0);
  assert_int_not_equal(walk(path), 0);
  assert_int_equal(df_archive_span_open(path, "pkg/images/big.img", &s, &size), DF_ENOENT);
  /* a walk stopped before the end leaves nothing either */
  {
    struct df_archive *a = NULL;
    struct df_archive_entry e;
    snprintf(path, sizeof(path), "%s/stopped.tgz", tmpdir);
    assert_int_equal(fx_sh("cp %s/rom.tgz %s", tmpdir, path), 0);
    assert_int_equal(df_archive_open_indexed(path, &a), DF_OK);
    assert_int_equal(df_archive_next(a, &e), 1);
    df_archive_close(a);
    assert_int_equal(df_archive_span_open(path, "pkg/images/big.img", &s, &size), DF_ENOENT);
  }
}

/* A gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC around raw deflate
 * of data (RFC 1952), header CRC right or wrong. */
static void
write_fancy_gzip(const char *path, const unsigned char *data, size_t len, int good_hcrc)
{
  unsigned char hdr[64];
  size_t h = 0;
  z_stream zs;
  unsigned char *out = malloc(len + 1024);
  uint32_t crc, hcrc;
  FILE *f;

  assert_non_null(out);
  hdr[h++] = 0x1f;
  hdr[h++] = 0x8b;
  hdr[h++] = 8;
  hdr[h++] = 4 | 8 | 16 | 2;
  memset(hdr + h, 0, 6); /* mtime, xfl, os */
  h += 6;
  hdr[h++] = 4; /* XLEN */
  hdr[h++] = 0;
  memcpy(hdr + h, "DFxx", 4);
  h += 4;
  memcpy(hdr + h, "rom.tar", 8);
  h += 8;
  memcpy(hdr + h, "a comment", 10);
  h += 10;
  hcrc = df_crc32(0, hdr, h) & 0xffffu;
  if (!good_hcrc) hcrc ^= 1;
  hdr[h++] = (unsigned char)hcrc;
  hdr[h++] = (unsigned char)(hcrc >> 8);
  memset(&zs, 0, sizeof(zs));
  assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = (unsigned char *)data;
  zs.avail_in = (uInt)len;
  zs.next_out = out;
  zs.avail_out = (uInt)(len + 1024);
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  crc = df_crc32(0, data, len);
  f = fopen(path, "wb");
  assert_non_null(f);
  fwrite(hdr, 1, h, f);
  fwrite(out, 1, zs.total_out, f);
  for (int i = 0; i < 4; i++) fputc((int)(crc >> (8 * i)) & 0xff, f);
  for (int i = 0; i < 4; i++) fputc((int)((uint32_t)len >> (8 * i)) & 0xff, f);
  fclose(f);
  deflateEnd(&zs);
  free(out);
}

static void
test_gzip_header_fields(void **state)
{
  char tar[160], path[160];
  unsigned char *data;
  size_t len;
  struct df_archive_span *s = NULL;
  uint64_t size;

  (void)state;
  assert_int_equal(fx_sh("cd %s && tar -cf small.tar pkg/images/small.img", tmpdir), 0);
  snprintf(tar, sizeof(tar), "%s/small.tar", tmpdir);
  data = fx_read_file(tar, &len);
  assert_non_null(data);
  snprintf(path, sizeof(path), "%s/fancy.tgz", tmpdir);
  write_fancy_gzip(path, data, len, 1);
  assert_int_equal(walk(path), 0);
  assert_int_equal(df_archive_span_open(path, "pkg/images/small.img", &s, &size), DF_OK);
  check_span_at(s, small, size, 0, SMALL_SIZE);
  df_archive_span_close(s);
  snprintf(path, sizeof(path), "%s/fancy-bad.tgz", tmpdir);
  write_fancy_gzip(path, data, len, 0);
  assert_int_equal(walk(path), DF_ECORRUPT);
  free(data);
}

/* Every piece of an image opened from the archive for a phone taking
 * max bytes a download, concatenated (a fresh buffer, *len bytes). */
static unsigned char *
image_pieces(const char *archive, const char *entry, uint64_t max, size_t *len, long *pieces)
{
  struct df_image *img = NULL;
  char why[256];
  unsigned char *all = NULL;
  size_t have = 0;

  assert_int_equal(df_image_open_archive_entry(archive, entry, &img, why, sizeof(why)), DF_OK);
  *pieces = df_image_plan(img, max);
  assert_true(*pieces > 0);
  for (long i = 0; i < *pieces; i++) {
    struct df_fastboot_source src;
    assert_int_equal(df_image_piece_source(img, (size_t)i, &src), DF_OK);
    all = realloc(all, have + src.size);
    assert_non_null(all);
    for (uint64_t got = 0; got < src.size;) {
      long n = src.read(src.ctx, all + have + got, (size_t)(src.size - got));
      assert_true(n > 0);
      got += (uint64_t)n;
    }
    have += src.size;
  }
  df_image_free(img);
  *len = have;
  return all;
}

/* The pieces sent to a phone are the same bytes whether the entry is read
 * through the index or from the archive's first byte. */
static void
test_flash_pieces_same_both_ways(void **state)
{
  char walked[160], fresh[160];
  const char *entries[] = {"pkg/images/sp.img", "pkg/images/small.img"};

  (void)state;
  snprintf(walked, sizeof(walked), "%s/walked.tgz", tmpdir);
  snprintf(fresh, sizeof(fresh), "%s/fresh.tgz", tmpdir);
  assert_int_equal(fx_sh("cp %s/rom.tgz %s && cp %s/rom.tgz %s", tmpdir, walked, tmpdir, fresh), 0);
  assert_int_equal(walk(walked), 0);
  for (size_t k = 0; k < 2; k++) {
    size_t la, lb;
    long pa, pb;
    unsigned char *a = image_pieces(walked, entries[k], 256u * 1024, &la, &pa);
    unsigned char *b = image_pieces(fresh, entries[k], 256u * 1024, &lb, &pb);
    assert_int_equal(pa, pb);
    assert_true(pa > 1);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
  }
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_span_after_walk),
    cmocka_unit_test(test_span_across_members),
    cmocka_unit_test(test_no_index_once_changed),
    cmocka_unit_test(test_no_index_when_damaged),
    cmocka_unit_test(test_gzip_header_fields),
    cmocka_unit_test(test_flash_pieces_same_both_ways),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
