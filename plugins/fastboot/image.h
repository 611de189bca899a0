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
