/* The fastboot protocol, host side, as pure functions: commands, responses,
 * and the TCP transport's handshake and framing. Facts: AOSP
 * fastboot/README.md, constants.h, fastboot_driver.cpp, tcp.cpp
 * (platform-tools 29.0.6). */
#ifndef DF_FASTBOOT_PROTOCOL_H
#define DF_FASTBOOT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DF_FASTBOOT_COMMAND_MAX 64    /* 29.0.6 refuses longer commands */
#define DF_FASTBOOT_RESPONSE_MAX 256
#define DF_FASTBOOT_TCP_HANDSHAKE "FB01"
#define DF_FASTBOOT_TCP_PORT 5554

enum df_fastboot_reply_kind {
  DF_FASTBOOT_INFO,
  DF_FASTBOOT_OKAY,
  DF_FASTBOOT_FAIL,
  DF_FASTBOOT_DATA,
  DF_FASTBOOT_TEXT, /* 2023+ devices; accepted like INFO */
};

struct df_fastboot_reply {
  enum df_fastboot_reply_kind kind;
  char message[DF_FASTBOOT_RESPONSE_MAX + 1]; /* the text after the 4-byte tag */
  uint32_t data_size;                          /* DATA: bytes the device wants */
};

/* Parses one response packet. DF_EPROTO for an unknown tag, a response over
 * 256 bytes or a DATA size that is not 8 hex digits. */
int
df_fastboot_reply_parse(const uint8_t *data, size_t len, struct df_fastboot_reply *r);

/* Formats "download:%08x" and the like into out; DF_ETOOBIG over 64 bytes. */
int
df_fastboot_command_format(char *out, size_t outlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Parses a variable's number as fastboot does: "0x..." hex, else decimal. */
int
df_fastboot_parse_number(const char *text, uint64_t *value);

/* TCP: the 4-byte reply to "FB01" must be "FB" + a version >= 1 (two ASCII
 * digits). */
int
df_fastboot_tcp_check_handshake(const uint8_t reply[4], int *version);

void
df_fastboot_tcp_frame_header(uint8_t out[8], uint64_t len);

uint64_t
df_fastboot_tcp_frame_length(const uint8_t in[8]);

#endif
