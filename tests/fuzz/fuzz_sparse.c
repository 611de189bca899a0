/* Fuzzes the sparse image code (core/sparse.h): the file and chunk header
 * parsers, and the streaming decoder fed the input whole and in random
 * pieces. Checked: a header or chunk accepted obeys every rule sparse.h
 * states; the decoder reports the same events (writes joined) and the same
 * result however the bytes are cut; events come in image order without
 * overlapping and stay inside total_blks * blk_sz; write data is the bytes
 * of the input. */
#include "tests/fuzz/fuzz_util.h"

#include "core/error.h"
#include "core/sparse.h"

struct sparse_run {
  struct df_fuzz_log log;
  struct df_fuzz_log data;  /* the current run of writes */
  uint64_t data_offset;     /* where it starts */
  uint64_t next;            /* the lowest offset the next event may have */
  uint64_t image_size;
  bool have_header;
};

static void
flush(struct sparse_run *run)
{
  if (run->data.len == 0) return;
  df_fuzz_log_u64(&run->log, 'W');
  df_fuzz_log_u64(&run->log, run->data_offset);
  df_fuzz_log_u64(&run->log, run->data.len);
  df_fuzz_log_put(&run->log, run->data.p, run->data.len);
  run->data.len = 0;
}

static void
check_range(struct sparse_run *run, uint64_t offset, uint64_t len)
{
  DF_FUZZ_CHECK(run->have_header, "event before the header");
  DF_FUZZ_CHECK(len > 0, "empty event");
  DF_FUZZ_CHECK(offset >= run->next, "event at %llu before %llu", (unsigned long long)offset,
                (unsigned long long)run->next);
  DF_FUZZ_CHECK(len <= run->image_size && offset <= run->image_size - len,
                "event past the image's end");
  run->next = offset + len;
}

static int
on_header(void *ctx, const struct df_sparse_header *h)
{
  struct sparse_run *run = ctx;

  DF_FUZZ_CHECK(!run->have_header, "header twice");
  run->have_header = true;
  run->image_size = df_sparse_image_size(h);
  df_fuzz_log_put(&run->log, h, sizeof(*h));
  return 0;
}

static int
on_write(void *ctx, uint64_t offset, const void *data, size_t len)
{
  struct sparse_run *run = ctx;

  check_range(run, offset, len);
  if (run->data.len > 0 && run->data_offset + run->data.len != offset) flush(run);
  if (run->data.len == 0) run->data_offset = offset;
  df_fuzz_log_put(&run->data, data, len);
  return 0;
}

static int
on_fill(void *ctx, uint64_t offset, uint64_t len, uint32_t pattern)
{
  struct sparse_run *run = ctx;

  check_range(run, offset, len);
  flush(run);
  df_fuzz_log_u64(&run->log, 'F');
  df_fuzz_log_u64(&run->log, offset);
  df_fuzz_log_u64(&run->log, len);
  df_fuzz_log_u64(&run->log, pattern);
  return 0;
}

static int
on_skip(void *ctx, uint64_t offset, uint64_t len)
{
  struct sparse_run *run = ctx;

  check_range(run, offset, len);
  flush(run);
  df_fuzz_log_u64(&run->log, 'S');
  df_fuzz_log_u64(&run->log, offset);
  df_fuzz_log_u64(&run->log, len);
  return 0;
}

static const struct df_sparse_sink sink = {
  .header = on_header,
  .write = on_write,
  .fill = on_fill,
  .skip = on_skip,
};

static void
check_headers(const uint8_t *data, size_t size)
{
  struct df_sparse_header h, fixed = {1, 0, 28, 12, 4096, 1024, 8, 0};
  struct df_sparse_chunk_header c;
  uint64_t before;
  int rc;

  rc = df_sparse_header_parse(data, size, &h);
  if (size < DF_SPARSE_HEADER_SIZE) {
    DF_FUZZ_CHECK(rc == DF_EINVAL, "short header: %d", rc);
    return;
  }
  if (rc == 0) {
    DF_FUZZ_CHECK(df_sparse_is_sparse(data, size), "no magic");
    DF_FUZZ_CHECK(h.major_version == 1 && h.file_hdr_sz >= 28 && h.chunk_hdr_sz >= 12 &&
                  h.blk_sz != 0 && h.blk_sz % 4 == 0, "bad header accepted");
  } else {
    DF_FUZZ_CHECK(rc == DF_ECORRUPT, "header: %d", rc);
    h = fixed;
  }
  if (size < DF_SPARSE_HEADER_SIZE + DF_SPARSE_CHUNK_HEADER_SIZE + 1) return;
  before = data[DF_SPARSE_HEADER_SIZE + DF_SPARSE_CHUNK_HEADER_SIZE] % 4 == 0
             ? h.total_blks
             : data[DF_SPARSE_HEADER_SIZE + DF_SPARSE_CHUNK_HEADER_SIZE];
  rc = df_sparse_chunk_parse(data + DF_SPARSE_HEADER_SIZE, DF_SPARSE_CHUNK_HEADER_SIZE, &h,
                             before, &c);
  if (rc != 0) {
    DF_FUZZ_CHECK(rc == DF_ECORRUPT, "chunk: %d", rc);
    return;
  }
  uint64_t data_sz = df_sparse_chunk_data_size(&h, &c);
  DF_FUZZ_CHECK(c.total_sz >= h.chunk_hdr_sz, "total_sz below the header");
  DF_FUZZ_CHECK(before + c.chunk_sz <= h.total_blks, "chunk past total_blks");
  switch (c.type) {
  case DF_SPARSE_CHUNK_RAW:
    DF_FUZZ_CHECK(data_sz == (uint64_t)c.chunk_sz * h.blk_sz, "RAW size");
    break;
  case DF_SPARSE_CHUNK_FILL: DF_FUZZ_CHECK(data_sz == 4, "FILL size"); break;
  case DF_SPARSE_CHUNK_DONT_CARE: DF_FUZZ_CHECK(data_sz == 0, "DONT_CARE size"); break;
  case DF_SPARSE_CHUNK_CRC32: DF_FUZZ_CHECK(data_sz == 4 && c.chunk_sz == 0, "CRC32"); break;
  default: DF_FUZZ_CHECK(false, "unknown type %#x accepted", c.type);
  }
}

static int
run_decoder(struct sparse_run *run, const uint8_t *data, size_t size, struct df_fuzz_rng *rng)
{
  struct df_sparse_decoder d;
  int rc = 0, fin;

  df_sparse_decoder_init(&d, &sink, run);
  if (rng == NULL) {
    rc = df_sparse_decoder_feed(&d, data, size);
  } else {
    for (size_t off = 0; off < size && rc == 0;) {
      size_t n = df_fuzz_piece(rng, size - off);
      rc = df_sparse_decoder_feed(&d, data + off, n);
      off += n;
    }
  }
  flush(run);
  fin = df_sparse_decoder_finish(&d);
  DF_FUZZ_CHECK(rc == 0 || fin == rc, "finish %d after feed %d", fin, rc);
  DF_FUZZ_CHECK(rc == 0 || df_sparse_decoder_feed(&d, data, size) == rc, "error not sticky");
  DF_FUZZ_CHECK((df_sparse_decoder_header(&d) != NULL) == run->have_header, "header()");
  if (fin == 0) DF_FUZZ_CHECK(run->next <= run->image_size, "events past the end");
  df_fuzz_log_u64(&run->log, (uint64_t)(int64_t)fin);
  return fin;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct df_fuzz_rng rng;
  struct sparse_run whole = {0}, cut = {0};
  int rc_whole, rc_cut;

  check_headers(data, size);
  df_fuzz_rng_seed(&rng, data, size);
  rc_whole = run_decoder(&whole, data, size, NULL);
  rc_cut = run_decoder(&cut, data, size, &rng);
  DF_FUZZ_CHECK(rc_whole == rc_cut, "whole %d, in pieces %d", rc_whole, rc_cut);
  DF_FUZZ_CHECK(rc_whole == 0 || rc_whole == DF_ECORRUPT, "unexpected result %d", rc_whole);
  DF_FUZZ_CHECK(df_fuzz_log_equal(&whole.log, &cut.log), "different events in pieces");
  df_fuzz_log_free(&whole.log);
  df_fuzz_log_free(&whole.data);
  df_fuzz_log_free(&cut.log);
  df_fuzz_log_free(&cut.data);
  return 0;
}
