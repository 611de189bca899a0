/* A fastboot session with a phone over any transport: commands with their
 * INFO lines as they arrive, and downloads streamed from any source in
 * bounded memory. Over TCP it speaks the FB01 handshake and 8-byte framing;
 * over USB one transfer is one message. One command at a time.
 * If a function that takes a callback returns an error, the callback is
 * never called. */
#ifndef DF_FASTBOOT_H
#define DF_FASTBOOT_H

#include <stdint.h>

#include "core/loop.h"
#include "core/progress.h"
#include "core/transport.h"

enum df_fastboot_link {
  DF_FASTBOOT_LINK_TCP,
  DF_FASTBOOT_LINK_USB,
};

struct df_fastboot;

/* status 0 when the session is ready (after the TCP handshake). */
typedef void (*df_fastboot_ready_cb)(void *userdata, int status);
/* The transport is gone (once), outside any command. */
typedef void (*df_fastboot_gone_cb)(void *userdata, int err);
/* An INFO (or TEXT) line, shown as it arrives. */
typedef void (*df_fastboot_info_cb)(void *userdata, const char *text);
/* The command ended: status 0 with OKAY's text, DF_EDEVFAIL with FAIL's
 * text as the phone wrote it, or another error with "". */
typedef void (*df_fastboot_done_cb)(void *userdata, int status, const char *message);

/* Where download bytes come from: read fills buf with up to len bytes and
 * returns how many (0 only at the end), or a negative df error. */
struct df_fastboot_source {
  long (*read)(void *ctx, uint8_t *buf, size_t len);
  void *ctx;
  uint64_t size;
};

/* Takes ownership of t on success (on an error t stays the caller's). */
int
df_fastboot_start(struct df_loop *loop, struct df_transport *t, enum df_fastboot_link link,
                  df_fastboot_ready_cb ready, df_fastboot_gone_cb gone, void *userdata,
                  struct df_fastboot **out);

/* Sends one command (<= 64 bytes). info may be NULL. */
int
df_fastboot_command(struct df_fastboot *fb, const char *command, df_fastboot_info_cb info,
                    df_fastboot_done_cb done, void *userdata);

/* download:%08x, then the source's bytes, then the phone's OKAY or FAIL.
 * The source must give exactly size bytes. progress may be NULL; it is
 * advanced from where it stands (so several downloads can share one) and
 * never finished here: its owner finishes it. */
int
df_fastboot_download(struct df_fastboot *fb, const struct df_fastboot_source *src,
                     struct df_progress *progress, df_fastboot_info_cb info,
                     df_fastboot_done_cb done, void *userdata);

/* Seconds to wait for each reply (30 by default, as fastboot; INFO resets
 * the wait). */
void
df_fastboot_set_timeout(struct df_fastboot *fb, unsigned seconds);

/* Closes the session; a command in progress ends without its callback. */
void
df_fastboot_close(struct df_fastboot *fb);

#endif
