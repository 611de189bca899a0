/* Fuzzes the images droidfix flashes (plugins/fastboot/image.h): the input
 * (after a first byte that picks the phone's max-download-size) is written to
 * a file, opened, planned into downloads, and every piece is read.
 * Checked:
 *   - a sparse file is accepted by df_image_open exactly when the streaming
 *     decoder of core/sparse.h accepts it (two validators of one format);
 *   - the plan fails only with DF_ETOOBIG; every piece is no bigger than
 *     max-download-size and yields exactly the size its source announced;
 *   - a cut-up image's pieces are each a valid sparse image of the same
 *     block size and block count, and together they write exactly what the
 *     image holds (RAW data and FILL runs, in order; a raw file's last
 *     partial block padded with zeros). */
#include "tests/fuzz/fuzz_util.h"

#include "core/error.h"
#include "core/sparse.h"
#include "plugins/fastboot/image.h"

/* What a run of sparse images writes: RAW bytes joined while contiguous,
 * FILL runs as they come. DONT_CARE is not content. */
struct extents {
  struct df_fuzz_log log;
  struct df_fuzz_log data;
  uint64_t data_offset;
  /* the piece being decoded */
  const struct df_sparse_header *want; /* NULL: any header */
  bool header_ok;
};

static void
ext_flush(struct extents *e)
{
  if (e->data.len == 0) return;
  df_fuzz_log_u64(&e->log, 'W');
  df_fuzz_log_u64(&e->log, e->data_offset);
  df_fuzz_log_u64(&e->log, e->data.len);
  df_fuzz_log_put(&e->log, e->data.p, e->data.len);
  e->data.len = 0;
}

static void
ext_write(struct extents *e, uint64_t offset, const void *data, size_t len)
{
  if (e->data.len > 0 && e->data_offset + e->data.len != offset) ext_flush(e);
  if (e->data.len == 0) e->data_offset = offset;
  df_fuzz_log_put(&e->data, data, len);
}

static int
on_header(void *ctx, const struct df_sparse_header *h)
{
  struct extents *e = ctx;

  e->header_ok = e->want == NULL ||
                 (h->blk_sz == e->want->blk_sz && h->total_blks == e->want->total_blks);
  return 0;
}

static int
on_write(void *ctx, uint64_t offset, const void *data, size_t len)
{
  ext_write(ctx, offset, data, len);
  return 0;
}

static int
on_fill(void *ctx, uint64_t offset, uint64_t len, uint32_t pattern)
{
  struct extents *e = ctx;

  ext_flush(e);
  df_fuzz_log_u64(&e->log, 'F');
  df_fuzz_log_u64(&e->log, offset);
  df_fuzz_log_u64(&e->log, len);
  df_fuzz_log_u64(&e->log, pattern);
  return 0;
}

static const struct df_sparse_sink sink = {
  .header = on_header,
  .write = on_write,
  .fill = on_fill,
};

/* max-download-size values worth trying, from "nothing fits" to "all". */
static const uint64_t limits[] = {
  64, 100, 256, 1000, 4160, 10000, 70000, UINT64_MAX,
};

/* Reads a whole piece through its source in uneven reads. */
static uint8_t *
read_piece(const struct df_fastboot_source *src, struct df_fuzz_rng *rng)
{
  uint8_t *buf = malloc(src->size > 0 ? src->size : 1);
  uint64_t have = 0;
  uint8_t extra[16];

  DF_FUZZ_CHECK(buf != NULL, "piece of %llu bytes", (unsigned long long)src->size);
  while (have < src->size) {
    size_t want = df_fuzz_piece(rng, (size_t)(src->size - have));
    long n = src->read(src->ctx, buf + have, want);
    DF_FUZZ_CHECK(n > 0 && (size_t)n <= want, "read %ld of %zu at %llu/%llu", n, want,
                  (unsigned long long)have, (unsigned long long)src->size);
    have += (uint64_t)n;
  }
  DF_FUZZ_CHECK(src->read(src->ctx, extra, sizeof(extra)) == 0, "more than the size");
  return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char path[512];
  struct df_image *img = NULL;
  struct df_fuzz_rng rng;
  struct extents ref = {0}, got = {0};
  struct df_sparse_header hdr = {0};
  struct df_sparse_decoder d;
  uint64_t limit;
  bool sparse;
  long npieces;
  int rc, dec;

  if (size < 1) return 0;
  limit = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
  data++;
  size--;
  snprintf(path, sizeof(path), "%s/image", df_fuzz_tmpdir());
  df_fuzz_write_file(path, data, size);
  df_fuzz_rng_seed(&rng, data, size);

  rc = df_image_open(path, &img);
  sparse = df_sparse_is_sparse(data, size);
  /* The reference: what the image writes, by the decoder or as raw bytes. */
  if (sparse) {
    df_sparse_decoder_init(&d, &sink, &ref);
    df_sparse_decoder_feed(&d, data, size);
    dec = df_sparse_decoder_finish(&d);
    ext_flush(&ref);
    DF_FUZZ_CHECK((rc == DF_OK) == (dec == 0), "df_image_open %d but the decoder %d", rc, dec);
    if (dec == 0) hdr = *df_sparse_decoder_header(&d);
  } else if (size == 0) {
    DF_FUZZ_CHECK(rc == DF_EINVAL, "empty file: %d", rc);
  } else {
    DF_FUZZ_CHECK(rc == DF_OK, "raw file refused: %d", rc);
    hdr.blk_sz = DF_IMAGE_BLOCK_SIZE;
    hdr.total_blks = (uint32_t)((size + DF_IMAGE_BLOCK_SIZE - 1) / DF_IMAGE_BLOCK_SIZE);
    ext_write(&ref, 0, data, size);
    static const uint8_t zeros[DF_IMAGE_BLOCK_SIZE];
    if (size % DF_IMAGE_BLOCK_SIZE != 0)
      ext_write(&ref, size, zeros, DF_IMAGE_BLOCK_SIZE - size % DF_IMAGE_BLOCK_SIZE);
    ext_flush(&ref);
  }
  if (rc != DF_OK) goto out;

  DF_FUZZ_CHECK(df_image_is_sparse(img) == sparse, "sparse flag");
  DF_FUZZ_CHECK(df_image_file_size(img) == size, "file size");
  DF_FUZZ_CHECK(df_image_expanded_size(img) ==
                  (sparse ? (uint64_t)hdr.total_blks * hdr.blk_sz : size), "expanded size");

  npieces = df_image_plan(img, limit);
  if (npieces < 0) {
    DF_FUZZ_CHECK(npieces == DF_ETOOBIG, "plan: %ld", npieces);
    goto out;
  }
  DF_FUZZ_CHECK(size <= limit ? npieces == 1 : npieces >= 0, "%ld pieces for a file that fits",
                npieces);
  got.want = &hdr;
  for (long i = 0; i < npieces; i++) {
    struct df_fastboot_source src;
    uint8_t *piece;

    DF_FUZZ_CHECK(df_image_piece_source(img, (size_t)i, &src) == DF_OK, "piece %ld", i);
    DF_FUZZ_CHECK(src.size <= limit, "piece %ld: %llu bytes over %llu", i,
                  (unsigned long long)src.size, (unsigned long long)limit);
    piece = read_piece(&src, &rng);
    if (size <= limit) {
      DF_FUZZ_CHECK(src.size == size && memcmp(piece, data, size) == 0,
                    "a file that fits is not sent as it is");
      free(piece);
      break;
    }
    got.header_ok = false;
    df_sparse_decoder_init(&d, &sink, &got);
    df_sparse_decoder_feed(&d, piece, (size_t)src.size);
    dec = df_sparse_decoder_finish(&d);
    DF_FUZZ_CHECK(dec == 0, "piece %ld of %ld is not a valid sparse image (%d)", i, npieces, dec);
    DF_FUZZ_CHECK(got.header_ok, "piece %ld has another block size or count", i);
    free(piece);
  }
  DF_FUZZ_CHECK(df_image_piece_source(img, (size_t)npieces, &(struct df_fastboot_source){0}) ==
                  DF_EINVAL, "a piece past the plan");
  if (size > limit) {
    ext_flush(&got);
    DF_FUZZ_CHECK(df_fuzz_log_equal(&ref.log, &got.log),
                  "the %ld pieces do not write what the image holds", npieces);
  }

out:
  df_image_free(img);
  df_fuzz_log_free(&ref.log);
  df_fuzz_log_free(&ref.data);
  df_fuzz_log_free(&got.log);
  df_fuzz_log_free(&got.data);
  return 0;
}
