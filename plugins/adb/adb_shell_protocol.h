/* The shell v2 protocol inside an ADB stream: packets of u8 id + u32 LE
 * length + payload, independent of WRTE boundaries. Pure functions.
 * Facts: AOSP adb/shell_protocol.h (platform-tools 29.0.6). */
#ifndef DF_ADB_SHELL_PROTOCOL_H
#define DF_ADB_SHELL_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

enum df_shell_id {
  DF_SHELL_STDIN = 0,
  DF_SHELL_STDOUT = 1,
  DF_SHELL_STDERR = 2,
  DF_SHELL_EXIT = 3,
  DF_SHELL_CLOSE_STDIN = 4,
  DF_SHELL_WINDOW_SIZE = 5,
};

#define DF_SHELL_HEADER_SIZE 5

/* Writes the 5-byte header of a packet of len payload bytes. */
void
df_shell_header_encode(uint8_t out[DF_SHELL_HEADER_SIZE], enum df_shell_id id, uint32_t len);

/* Incremental decoder: payload bytes are handed over as they arrive, in
 * pieces (never buffered whole), with the packet's id. */
struct df_shell_decoder {
  uint8_t header[DF_SHELL_HEADER_SIZE];
  size_t header_have;
  uint8_t id;
  uint32_t remaining;
};

/* on_data(ctx, id, data, len) for each piece; a zero-length packet gives
 * one call with len 0. Returns 0 or what on_data returned (non-zero stops). */
typedef int (*df_shell_data_fn)(void *ctx, uint8_t id, const uint8_t *data, size_t len);

void
df_shell_decoder_init(struct df_shell_decoder *d);

int
df_shell_decoder_feed(struct df_shell_decoder *d, const uint8_t *data, size_t len,
                      df_shell_data_fn on_data, void *ctx);

#endif
