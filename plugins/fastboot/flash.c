/* The flash sequence: variables, plan, then download + flash per piece. */
#include "plugins/fastboot/flash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "plugins/fastboot/fastboot_protocol.h"
#include "plugins/fastboot/image.h"

enum df_flash_step {
  DF_FLASH_HAS_SLOT,
  DF_FLASH_CURRENT_SLOT,
  DF_FLASH_MAX_DOWNLOAD,
  DF_FLASH_DOWNLOAD,
  DF_FLASH_FLASH,
};

struct df_flash {
  struct df_fastboot *fb;
  struct df_image *img;
  char partition[64];
  bool follow_slot;
  enum df_flash_step step;
  long pieces;
  long piece;
  uint64_t max_download;
  struct df_progress *progress;
  df_fastboot_info_cb info;
  df_fastboot_flash_cb done;
  void *userdata;
  struct df_fastboot_flash_report report;
};

static void df_flash_on_reply(void *userdata, int status, const char *message);

static void
df_flash_end(struct df_flash *f, int status, const char *message)
{
  if (status != DF_OK) f->report.failed_step = (int)f->step + 1;
  if (f->progress != NULL) df_progress_finish(f->progress, status);
  df_image_free(f->img);
  f->done(f->userdata, status, message, &f->report);
  free(f);
}

static void
df_flash_info(void *userdata, const char *text)
{
  struct df_flash *f = userdata;
  if (f->info != NULL) f->info(f->userdata, text);
}

static int
df_flash_command(struct df_flash *f, const char *fmt, const char *arg)
{
  char cmd[DF_FASTBOOT_COMMAND_MAX + 1];
  int rc = df_fastboot_command_format(cmd, sizeof(cmd), fmt, arg);

  if (rc != DF_OK) return rc;
  snprintf(f->report.step, sizeof(f->report.step), "%s", cmd);
  return df_fastboot_command(f->fb, cmd, df_flash_info, df_flash_on_reply, f);
}

static int
df_flash_next_download(struct df_flash *f)
{
  struct df_fastboot_source src;
  int rc = df_image_piece_source(f->img, (size_t)f->piece, &src);

  if (rc != DF_OK) return rc;
  f->step = DF_FLASH_DOWNLOAD;
  snprintf(f->report.step, sizeof(f->report.step), "download %ld/%ld", f->piece + 1, f->pieces);
  f->report.bytes += src.size;
  /* One progress over all pieces, so that a 5-piece flash shows one bar. */
  return df_fastboot_download(f->fb, &src, f->progress, df_flash_info, df_flash_on_reply, f);
}

static void
df_flash_on_reply(void *userdata, int status, const char *message)
{
  struct df_flash *f = userdata;
  int rc = DF_OK;

  switch (f->step) {
  case DF_FLASH_HAS_SLOT:
    /* A bootloader that does not know has-slot answers FAIL: no slots. */
    if (status == DF_OK && strcmp(message, "yes") == 0) {
      f->step = DF_FLASH_CURRENT_SLOT;
      rc = df_flash_command(f, "getvar:%s", "current-slot");
      break;
    }
    if (status != DF_OK && status != DF_EDEVFAIL) {
      df_flash_end(f, status, message);
      return;
    }
    f->step = DF_FLASH_MAX_DOWNLOAD;
    rc = df_flash_command(f, "getvar:%s", "max-download-size");
    break;
  case DF_FLASH_CURRENT_SLOT:
    if (status != DF_OK || message[0] == '\0') {
      df_flash_end(f, status != DF_OK ? status : DF_EPROTO,
                   status != DF_OK ? message : "the phone has slots but no current slot");
      return;
    }
    if (strlen(f->partition) + 1 + strlen(message) >= sizeof(f->partition)) {
      df_flash_end(f, DF_ETOOBIG, "partition name too long");
      return;
    }
    strcat(f->partition, "_");
    strcat(f->partition, message[0] == '_' ? message + 1 : message);
    f->step = DF_FLASH_MAX_DOWNLOAD;
    rc = df_flash_command(f, "getvar:%s", "max-download-size");
    break;
  case DF_FLASH_MAX_DOWNLOAD:
    if (status != DF_OK || df_fastboot_parse_number(message, &f->max_download) != DF_OK ||
        f->max_download == 0) {
      df_flash_end(f, status != DF_OK ? status : DF_EPROTO,
                   status != DF_OK ? message : "the phone gave no usable max-download-size");
      return;
    }
    f->pieces = df_image_plan(f->img, f->max_download);
    if (f->pieces < 0) {
      df_flash_end(f, (int)f->pieces, "the image cannot be cut to the phone's download size");
      return;
    }
    f->report.pieces = f->pieces;
    snprintf(f->report.partition, sizeof(f->report.partition), "%s", f->partition);
    if (f->progress != NULL) {
      /* what goes over the wire: the file, plus the headers of the pieces */
      f->progress->total = df_image_file_size(f->img) + (f->pieces > 1 ? (uint64_t)f->pieces * 64 : 0);
    }
    f->piece = 0;
    rc = df_flash_next_download(f);
    break;
  case DF_FLASH_DOWNLOAD:
    if (status != DF_OK) {
      df_flash_end(f, status, message);
      return;
    }
    f->step = DF_FLASH_FLASH;
    rc = df_flash_command(f, "flash:%s", f->partition);
    break;
  case DF_FLASH_FLASH:
    if (status != DF_OK) {
      df_flash_end(f, status, message);
      return;
    }
    if (++f->piece < f->pieces) {
      rc = df_flash_next_download(f);
      break;
    }
    df_flash_end(f, DF_OK, message);
    return;
  }
  if (rc != DF_OK) df_flash_end(f, rc, "");
}

int
df_fastboot_flash(struct df_fastboot *fb, const char *partition, const char *image_path,
                  const char *slot, struct df_progress *progress, df_fastboot_info_cb info,
                  df_fastboot_flash_cb done, void *userdata)
{
  struct df_image *img;
  int rc;

  if (strlen(partition) == 0 || strlen(partition) > 40) return DF_EINVAL;
  rc = df_image_open(image_path, &img);
  if (rc != DF_OK) return rc;
  rc = df_fastboot_flash_image(fb, partition, img, slot, progress, info, done, userdata);
  if (rc != DF_OK) df_image_free(img);
  return rc;
}

int
df_fastboot_flash_image(struct df_fastboot *fb, const char *partition, struct df_image *img,
                        const char *slot, struct df_progress *progress, df_fastboot_info_cb info,
                        df_fastboot_flash_cb done, void *userdata)
{
  struct df_flash *f;
  int rc;

  if (strlen(partition) == 0 || strlen(partition) > 40) return DF_EINVAL;
  f = calloc(1, sizeof(*f));
  if (f == NULL) return DF_ENOMEM;
  f->img = img;
  f->fb = fb;
  f->progress = progress;
  f->info = info;
  f->done = done;
  f->userdata = userdata;
  if (slot != NULL && slot[0] != '\0')
    snprintf(f->partition, sizeof(f->partition), "%s_%s", partition, slot);
  else
    snprintf(f->partition, sizeof(f->partition), "%s", partition);
  if (slot == NULL) {
    f->step = DF_FLASH_HAS_SLOT;
    rc = df_flash_command(f, "getvar:has-slot:%s", partition);
  } else {
    f->step = DF_FLASH_MAX_DOWNLOAD;
    rc = df_flash_command(f, "getvar:%s", "max-download-size");
  }
  if (rc != DF_OK) free(f); /* the image stays the caller's */
  return rc;
}
