/* An image to flash, and how it goes to the phone in downloads no bigger
 * than the phone's max-download-size: as it is when it fits, otherwise as a
 * series of sparse pieces, each a whole sparse file with the image's block
 * size and total blocks, DONT_CARE covering what it does not carry (as
 * fastboot's resparse does, AOSP fastboot/fastboot.cpp and libsparse).
 * A raw image is cut into RAW chunks; a sparse image's chunks are regrouped
 * (a RAW chunk split across pieces where it must be). Nothing is copied to a
 * temporary file: each piece is read from the image as it is sent, so memory
 * stays bounded whatever the image size. */
#ifndef DF_FASTBOOT_IMAGE_H
#define DF_FASTBOOT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sparse.h"
#include "plugins/fastboot/fastboot.h"

#define DF_IMAGE_BLOCK_SIZE 4096u          /* for raw images cut into pieces */
#define DF_IMAGE_PIECE_LIMIT (1024u * 1024u * 1024u) /* fastboot's 1 GiB cap */

struct df_image;

/* Opens path; a sparse image is validated whole (every chunk header) before
 * anything is sent. DF_ECORRUPT names a bad sparse image. */
int
df_image_open(const char *path, struct df_image **out);

/* Where the bytes of an image that is not a plain file come from (an
 * archive entry, plugins/fastboot/archive_source.h). read_at gives up to len
 * bytes at offset: how many (> 0), 0 past the end, or a negative df error.
 * Offsets come in increasing order while an image is validated and while
 * the pieces of a plan are read in order (0, 1, 2 ...): a reader that can
 * only go forward serves them without seeking; it needs to go back only
 * once, from the end of the validation of a sparse image to its start, and
 * when a piece is read again. close (may be NULL) frees ctx. */
struct df_image_reader {
  long (*read_at)(void *ctx, void *buf, size_t len, uint64_t offset);
  void (*close)(void *ctx);
  void *ctx;
  uint64_t size; /* bytes of the image as stored (raw or sparse) */
};

/* The same as df_image_open for an image read through reader. Takes
 * ownership of reader->ctx on success (df_image_free closes it); on an
 * error it stays the caller's. */
int
df_image_open_reader(const struct df_image_reader *reader, struct df_image **out);

void
df_image_free(struct df_image *img);

bool
df_image_is_sparse(const struct df_image *img);

/* Bytes of the file, and of the image once unsparsed. */
uint64_t
df_image_file_size(const struct df_image *img);

uint64_t
df_image_expanded_size(const struct df_image *img);

/* Plans the downloads for a phone that takes at most max_download bytes:
 * returns the number of pieces (1 when the file is sent as it is), or a df
 * error (DF_ETOOBIG when even one block does not fit). */
long
df_image_plan(struct df_image *img, uint64_t max_download);

/* A source for df_fastboot_download that reads piece i of the plan (0-based).
 * Only one piece's source is in use at a time per image. */
int
df_image_piece_source(struct df_image *img, size_t i, struct df_fastboot_source *src);

#endif
