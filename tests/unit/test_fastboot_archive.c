/* Unit tests of flashing straight out of an archive entry
 * (plugins/fastboot/archive_source.h): for the same content, the downloads
 * planned from a .tgz / .zip entry are byte for byte the downloads planned
 * from the file itself; decoded in order they give back the image (raw, or
 * what simg2img makes of a sparse one); damage, a missing entry, a folder
 * entry and a broken sparse entry are refused with their reason. */
#include <fcntl.h>
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

#include "core/error.h"
#include "core/sparse.h"
#include "plugins/fastboot/archive_source.h"
#include "plugins/fastboot/image.h"
#include "tests/unit/file_sink.h"

static char dir[128];

static int
setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/df-fbarch-XXXXXX");
  assert_non_null(mkdtemp(dir));
  return 0;
}

static int
teardown(void **state)
{
  char cmd[256];
  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd);
}

static void
run(const char *fmt, ...)
{
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  assert_int_equal(system(cmd), 0);
}

/* All pieces of the plan of img for limit, concatenated, in *out (each
 * piece checked against the limit). Returns the piece count. */
static long
all_pieces(struct df_image *img, uint64_t limit, uint8_t **out, size_t *out_len)
{
  long pieces = df_image_plan(img, limit);
  size_t cap = 1 << 20, len = 0;
  uint8_t *buf = malloc(cap);

  assert_true(pieces >= 1);
  for (long i = 0; i < pieces; i++) {
    struct df_fastboot_source src;
    uint64_t got = 0;
    assert_int_equal(df_image_piece_source(img, (size_t)i, &src), DF_OK);
    assert_true(src.size <= limit);
    while (got < src.size) {
      if (len + 65536 > cap) {
        cap *= 2;
        buf = realloc(buf, cap);
        assert_non_null(buf);
      }
      /* odd read sizes, as a transport asks */
      long n = src.read(src.ctx, buf + len, 65536 - (size_t)(i % 7));
      assert_true(n > 0);
      len += (size_t)n;
      got += (uint64_t)n;
    }
    assert_int_equal(got, src.size);
  }
  *out = buf;
  *out_len = len;
  return pieces;
}

/* The entry of archive and the file give the same plan and the same bytes. */
static long
same_as_file(const char *archive, const char *entry, const char *file, uint64_t limit)
{
  struct df_image *a, *f;
  uint8_t *abuf, *fbuf;
  size_t alen, flen;
  char why[256];
  long ap, fp;

  assert_int_equal(df_image_open_archive_entry(archive, entry, &a, why, sizeof(why)), DF_OK);
  assert_int_equal(df_image_open(file, &f), DF_OK);
  assert_int_equal(df_image_is_sparse(a), df_image_is_sparse(f));
  assert_int_equal(df_image_file_size(a), df_image_file_size(f));
  assert_int_equal(df_image_expanded_size(a), df_image_expanded_size(f));
  ap = all_pieces(a, limit, &abuf, &alen);
  fp = all_pieces(f, limit, &fbuf, &flen);
  assert_int_equal(ap, fp);
  assert_int_equal(alen, flen);
  assert_memory_equal(abuf, fbuf, alen);
  free(abuf);
  free(fbuf);
  df_image_free(a);
  df_image_free(f);
  return ap;
}

/* What the phone would hold after the pieces of entry, written to out. */
static long
flash_entry_into(const char *archive, const char *entry, uint64_t limit, const char *out)
{
  struct df_image *img;
  struct out_file o;
  uint8_t *buf = malloc(1 << 16);
  long pieces;

  assert_int_equal(df_image_open_archive_entry(archive, entry, &img, NULL, 0), DF_OK);
  pieces = df_image_plan(img, limit);
  assert_true(pieces >= 1);
  o.fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
  assert_true(o.fd >= 0);
  for (long i = 0; i < pieces; i++) {
    struct df_fastboot_source src;
    struct df_sparse_decoder d;
    uint64_t got = 0;
    bool sparse;
    assert_int_equal(df_image_piece_source(img, (size_t)i, &src), DF_OK);
    sparse = pieces > 1 || df_image_is_sparse(img);
    df_sparse_decoder_init(&d, &file_sink, &o);
    while (got < src.size) {
      long n = src.read(src.ctx, buf, 1 << 16);
      assert_true(n > 0);
      if (sparse)
        assert_int_equal(df_sparse_decoder_feed(&d, buf, (size_t)n), 0);
      else
        assert_int_equal(pwrite(o.fd, buf, (size_t)n, (off_t)got), n);
      got += (uint64_t)n;
    }
    if (sparse) assert_int_equal(df_sparse_decoder_finish(&d), 0);
  }
  close(o.fd);
  df_image_free(img);
  free(buf);
  return pieces;
}

static void
test_raw_entry_that_fits_goes_whole(void **state)
{
  char tgz[256], out[256], file[256];
  (void)state;

  run("mkdir -p '%s/rom/images' && head -c 10007 /dev/urandom > '%s/rom/images/boot.img'", dir, dir);
  run("head -c 5000 /dev/urandom > '%s/rom/images/dtbo.img'", dir);
  snprintf(tgz, sizeof(tgz), "%s/rom.tgz", dir);
  snprintf(out, sizeof(out), "%s/out.img", dir);
  snprintf(file, sizeof(file), "%s/rom/images/boot.img", dir);
  run("tar -C '%s' -czf '%s' rom", dir, tgz);
  assert_int_equal(same_as_file(tgz, "rom/images/boot.img", file, 1 << 20), 1);
  assert_int_equal(flash_entry_into(tgz, "rom/images/boot.img", 1 << 20, out), 1);
  run("cmp -s '%s' '%s'", file, out);
  /* "./" prefixes on either side do not matter */
  run("tar -C '%s' -czf '%s/dot.tgz' ./rom", dir, dir);
  snprintf(tgz, sizeof(tgz), "%s/dot.tgz", dir);
  assert_int_equal(flash_entry_into(tgz, "rom/images/dtbo.img", 1 << 20, out), 1);
  assert_int_equal(flash_entry_into(tgz, "./rom/images/boot.img", 1 << 20, out), 1);
  run("cmp -s '%s' '%s'", file, out);
}

static void
test_raw_entry_bigger_than_a_download_is_cut_in_order(void **state)
{
  char tgz[256], out[256], file[256];
  (void)state;

  run("mkdir -p '%s/big/images' && head -c 4000 /dev/urandom > '%s/big/images/a.img'", dir, dir);
  run("head -c 3000123 /dev/urandom > '%s/big/images/vendor_boot.img'", dir);
  run("head -c 9000 /dev/urandom > '%s/big/images/z.img'", dir);
  snprintf(tgz, sizeof(tgz), "%s/big.tgz", dir);
  snprintf(out, sizeof(out), "%s/big.out", dir);
  snprintf(file, sizeof(file), "%s/big/images/vendor_boot.img", dir);
  run("tar -C '%s' -czf '%s' big", dir, tgz);
  long pieces = same_as_file(tgz, "big/images/vendor_boot.img", file, 512 << 10);
  assert_true(pieces >= 6);
  assert_int_equal(flash_entry_into(tgz, "big/images/vendor_boot.img", 512 << 10, out), pieces);
  /* the phone gets the image, padded with zeros to a whole block */
  run("cmp -s -n 3000123 '%s' '%s'", file, out);
  run("test $(stat -c %%s '%s') -eq %d", out, (3000123 + 4095) / 4096 * 4096);
}

static void
test_sparse_entry_planned_from_its_chunk_headers(void **state)
{
  char tgz[256], out[256], simg[256], expect[256];
  (void)state;

  run("mkdir -p '%s/sp/images'", dir);
  run("(head -c 1048576 /dev/urandom; head -c 2097152 /dev/zero; "
      "yes ABCD | tr -d '\\n' | head -c 1048576; head -c 1048576 /dev/urandom) > '%s/sp.raw'", dir);
  snprintf(simg, sizeof(simg), "%s/sp/images/super.img", dir);
  snprintf(expect, sizeof(expect), "%s/sp.expect", dir);
  run("img2simg '%s/sp.raw' '%s' && simg2img '%s' '%s'", dir, simg, simg, expect);
  run("head -c 777 /dev/urandom > '%s/sp/images/after.img'", dir);
  snprintf(tgz, sizeof(tgz), "%s/sp.tgz", dir);
  snprintf(out, sizeof(out), "%s/sp.out", dir);
  run("tar -C '%s' -czf '%s' sp", dir, tgz);
  /* fits: the sparse file goes as it is */
  assert_int_equal(same_as_file(tgz, "sp/images/super.img", simg, 64 << 20), 1);
  /* does not: regrouped into pieces, as from the file */
  long pieces = same_as_file(tgz, "sp/images/super.img", simg, 256 << 10);
  assert_true(pieces > 4);
  assert_int_equal(flash_entry_into(tgz, "sp/images/super.img", 256 << 10, out), pieces);
  run("cmp -s '%s' '%s'", expect, out);
}

static void
test_a_piece_read_again_reopens_the_archive(void **state)
{
  char tgz[256];
  struct df_image *img;
  struct df_fastboot_source src;
  uint8_t *first = malloc(300 << 10), *again = malloc(300 << 10);
  uint64_t size0;
  (void)state;

  run("mkdir -p '%s/re' && head -c 1000000 /dev/urandom > '%s/re/x.img'", dir, dir);
  snprintf(tgz, sizeof(tgz), "%s/re.tgz", dir);
  run("tar -C '%s' -czf '%s' re", dir, tgz);
  assert_int_equal(df_image_open_archive_entry(tgz, "re/x.img", &img, NULL, 0), DF_OK);
  assert_true(df_image_plan(img, 256 << 10) > 3);
  for (int round = 0; round < 2; round++) {
    uint64_t got = 0;
    /* piece 1, then 2, then 1 again (a retry): the stream must go back */
    assert_int_equal(df_image_piece_source(img, round == 0 ? 1 : 2, &src), DF_OK);
    while (got < src.size) {
      long n = src.read(src.ctx, first + got, (size_t)(src.size - got));
      assert_true(n > 0);
      got += (uint64_t)n;
    }
  }
  assert_int_equal(df_image_piece_source(img, 1, &src), DF_OK);
  size0 = src.size;
  {
    uint64_t got = 0;
    while (got < src.size) {
      long n = src.read(src.ctx, again + got, (size_t)(src.size - got));
      assert_true(n > 0);
      got += (uint64_t)n;
    }
  }
  /* piece 1 read again equals piece 1 from a fresh open */
  df_image_free(img);
  assert_int_equal(df_image_open_archive_entry(tgz, "re/x.img", &img, NULL, 0), DF_OK);
  assert_true(df_image_plan(img, 256 << 10) > 3);
  assert_int_equal(df_image_piece_source(img, 1, &src), DF_OK);
  assert_int_equal(src.size, size0);
  {
    uint64_t got = 0;
    while (got < src.size) {
      long n = src.read(src.ctx, first + got, (size_t)(src.size - got));
      assert_true(n > 0);
      got += (uint64_t)n;
    }
  }
  assert_memory_equal(first, again, size0);
  df_image_free(img);
  free(first);
  free(again);
}

static void
test_zip_entry(void **state)
{
  char zip[256], out[256], file[256];
  (void)state;

  run("mkdir -p '%s/zz/images' && head -c 700000 /dev/urandom > '%s/zz/images/boot.img'", dir, dir);
  snprintf(zip, sizeof(zip), "%s/zz.zip", dir);
  snprintf(out, sizeof(out), "%s/zz.out", dir);
  snprintf(file, sizeof(file), "%s/zz/images/boot.img", dir);
  run("cd '%s' && python3 -c \"import zipfile; z=zipfile.ZipFile('zz.zip','w',zipfile.ZIP_DEFLATED); "
      "z.write('zz/images/boot.img'); z.close()\"", dir);
  assert_true(same_as_file(zip, "zz/images/boot.img", file, 128 << 10) > 4);
  assert_int_equal(flash_entry_into(zip, "zz/images/boot.img", 1 << 20, out), 1);
  run("cmp -s '%s' '%s'", file, out);
}

static void
test_refusals_name_the_reason(void **state)
{
  char tgz[256], why[256];
  struct df_image *img = NULL;
  (void)state;

  run("mkdir -p '%s/rf/images' && head -c 5000 /dev/urandom > '%s/rf/images/boot.img'", dir, dir);
  /* a file with the sparse magic whose chunks are missing */
  run("printf '\\072\\377\\046\\355\\001\\000\\000\\000\\034\\000\\014\\000\\000\\020\\000\\000"
      "\\020\\000\\000\\000\\002\\000\\000\\000\\000\\000\\000\\000' > '%s/rf/images/bad.img'", dir);
  run("head -c 100 /dev/urandom >> '%s/rf/images/bad.img'", dir);
  run(": > '%s/rf/images/empty.img'", dir);
  snprintf(tgz, sizeof(tgz), "%s/rf.tgz", dir);
  run("tar -C '%s' -czf '%s' rf", dir, tgz);

  assert_int_equal(df_image_open_archive_entry(tgz, "rf/images/none.img", &img, why, sizeof(why)),
                   DF_ENOENT);
  assert_null(img);
  assert_non_null(strstr(why, "rf/images/none.img"));
  assert_int_equal(df_image_open_archive_entry(tgz, "rf/images", &img, why, sizeof(why)), DF_EINVAL);
  assert_non_null(strstr(why, "not a regular file"));
  assert_int_equal(df_image_open_archive_entry(tgz, "rf/images/empty.img", &img, why, sizeof(why)),
                   DF_EINVAL);
  assert_int_equal(df_image_open_archive_entry(tgz, "rf/images/bad.img", &img, why, sizeof(why)),
                   DF_ECORRUPT);
  assert_non_null(strstr(why, "sparse"));
  snprintf(why, sizeof(why), "x");
  assert_int_equal(df_image_open_archive_entry("/nonexistent/rom.tgz", "a", &img, why, sizeof(why)),
                   DF_ENOENT);
  assert_non_null(strstr(why, "/nonexistent/rom.tgz"));
}

static void
test_damage_is_an_error_never_short_data(void **state)
{
  char tgz[256], cut[256], why[256];
  struct df_image *img;
  uint8_t *buf = malloc(1 << 16);
  bool failed = false;
  (void)state;

  run("mkdir -p '%s/dm/images' && head -c 2000000 /dev/urandom > '%s/dm/images/super.img'", dir, dir);
  snprintf(tgz, sizeof(tgz), "%s/dm.tgz", dir);
  snprintf(cut, sizeof(cut), "%s/cut.tgz", dir);
  run("tar -C '%s' -czf '%s' dm", dir, tgz);
  /* truncated in the middle of the entry's data */
  run("head -c 1200000 '%s' > '%s'", tgz, cut);
  int rc = df_image_open_archive_entry(cut, "dm/images/super.img", &img, why, sizeof(why));
  if (rc == DF_OK) {
    long pieces = df_image_plan(img, 256 << 10);
    assert_true(pieces > 1);
    for (long i = 0; i < pieces && !failed; i++) {
      struct df_fastboot_source src;
      uint64_t got = 0;
      assert_int_equal(df_image_piece_source(img, (size_t)i, &src), DF_OK);
      while (got < src.size) {
        long n = src.read(src.ctx, buf, 1 << 16);
        if (n <= 0) {
          assert_true(n < 0); /* an error, never a silent end */
          failed = true;
          break;
        }
        got += (uint64_t)n;
      }
    }
    df_image_free(img);
  } else {
    failed = rc == DF_ECORRUPT;
  }
  assert_true(failed);
  free(buf);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_raw_entry_that_fits_goes_whole),
    cmocka_unit_test(test_raw_entry_bigger_than_a_download_is_cut_in_order),
    cmocka_unit_test(test_sparse_entry_planned_from_its_chunk_headers),
    cmocka_unit_test(test_a_piece_read_again_reopens_the_archive),
    cmocka_unit_test(test_zip_entry),
    cmocka_unit_test(test_refusals_name_the_reason),
    cmocka_unit_test(test_damage_is_an_error_never_short_data),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
