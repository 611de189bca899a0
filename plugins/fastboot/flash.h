/* Flashing one partition, as fastboot 29 does it: has-slot decides the slot
 * suffix (current-slot), max-download-size decides whether the image goes
 * whole or in sparse pieces, and each download is followed by flash:NAME.
 * INFO lines reach info() as they arrive; a FAIL stops the flash with the
 * phone's own text. If this returns an error, done is never called. */
#ifndef DF_FASTBOOT_FLASH_H
#define DF_FASTBOOT_FLASH_H

#include "core/progress.h"
#include "plugins/fastboot/fastboot.h"

struct df_fastboot_flash_report {
  char partition[80];   /* the name flashed, slot suffix included */
  long pieces;          /* downloads it took */
  uint64_t bytes;       /* bytes downloaded */
  int failed_step;      /* for messages: 0 none, else which step failed */
  char step[96];        /* "download 2/5", "flash:boot_a", "getvar:max-download-size" */
};

typedef void (*df_fastboot_flash_cb)(void *userdata, int status, const char *message,
                                     const struct df_fastboot_flash_report *report);

/* slot: NULL to follow has-slot/current-slot, "" for no suffix, or "a"/"b".
 * progress may be NULL. */
int
df_fastboot_flash(struct df_fastboot *fb, const char *partition, const char *image_path,
                  const char *slot, struct df_progress *progress, df_fastboot_info_cb info,
                  df_fastboot_flash_cb done, void *userdata);

/* The same for an image already opened (plugins/fastboot/image.h), e.g.
 * one read straight out of an archive (archive_source.h). Takes ownership
 * of img on success (freed when done has been called); on an error it
 * stays the caller's. */
struct df_image;

int
df_fastboot_flash_image(struct df_fastboot *fb, const char *partition, struct df_image *img,
                        const char *slot, struct df_progress *progress, df_fastboot_info_cb info,
                        df_fastboot_flash_cb done, void *userdata);

#endif
