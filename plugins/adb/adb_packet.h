/* ADB packets, host side: the 24-byte header, checksums, the connection
 * banner, and an incremental reader that turns a byte stream into packets.
 * Pure functions; no I/O. Facts: AOSP adb/adb.h, adb/types.h, protocol.txt
 * (platform-tools 29.0.6). */
#ifndef DF_ADB_PACKET_H
#define DF_ADB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DF_ADB_CNXN 0x4e584e43u
#define DF_ADB_AUTH 0x48545541u
#define DF_ADB_OPEN 0x4e45504fu
#define DF_ADB_OKAY 0x59414b4fu
#define DF_ADB_WRTE 0x45545257u
#define DF_ADB_CLSE 0x45534c43u
#define DF_ADB_STLS 0x534c5453u

#define DF_ADB_HEADER_SIZE 24
#define DF_ADB_VERSION_MIN 0x01000000u
#define DF_ADB_VERSION_SKIP_CHECKSUM 0x01000001u
#define DF_ADB_MAX_PAYLOAD (1024u * 1024u)   /* what we offer, as adb 29 does */
#define DF_ADB_MAX_PAYLOAD_LEGACY 4096u      /* CNXN and AUTH must fit this */

#define DF_ADB_AUTH_TOKEN 1u
#define DF_ADB_AUTH_SIGNATURE 2u
#define DF_ADB_AUTH_RSAPUBLICKEY 3u
#define DF_ADB_AUTH_TOKEN_SIZE 20u

struct df_adb_header {
  uint32_t command;
  uint32_t arg0;
  uint32_t arg1;
  uint32_t data_length;
  uint32_t data_check;
  uint32_t magic;
};

/* The u32 sum of the payload bytes (not a CRC). */
uint32_t
df_adb_checksum(const void *data, size_t len);

/* Fills a header for command/args/payload; with_checksum computes
 * data_check (needed until the peer is known to be >= 0x01000001). */
void
df_adb_header_make(struct df_adb_header *h, uint32_t command, uint32_t arg0, uint32_t arg1,
                   const void *payload, uint32_t len, bool with_checksum);

void
df_adb_header_encode(const struct df_adb_header *h, uint8_t out[DF_ADB_HEADER_SIZE]);

/* Decodes and checks a header: DF_EPROTO on a bad magic, an unknown command
 * or data_length over max_payload. */
int
df_adb_header_decode(const uint8_t in[DF_ADB_HEADER_SIZE], uint32_t max_payload,
                     struct df_adb_header *h);

/* "ABCD" name of a command for logs; "????" if unknown. */
const char *
df_adb_command_name(uint32_t command);

/* The connection banner "<state>:<serial>:<props>", props split on ';',
 * each "key=value". Unknown keys are ignored; strings are cut to fit. */
struct df_adb_banner {
  char state[16];          /* device, bootloader, recovery, sideload, rescue, host */
  char product_name[64];   /* ro.product.name */
  char model[64];          /* ro.product.model */
  char device[64];         /* ro.product.device */
  char features[1024];     /* comma-separated */
};

/* DF_EPROTO when there is no state piece. */
int
df_adb_banner_parse(const char *data, size_t len, struct df_adb_banner *b);

bool
df_adb_banner_has_feature(const struct df_adb_banner *b, const char *feature);

/* Incremental reader: feed bytes in any pieces; each complete packet is
 * handed to on_packet (payload valid only during the call). The payload is
 * assembled in a buffer of at most max_payload bytes, allocated once. */
struct df_adb_reader {
  uint8_t header_bytes[DF_ADB_HEADER_SIZE];
  size_t header_have;
  struct df_adb_header header;
  uint8_t *payload;
  size_t payload_have;
  uint32_t max_payload;
  bool verify_checksum;
};

typedef int (*df_adb_packet_fn)(void *ctx, const struct df_adb_header *h, const uint8_t *payload);

int
df_adb_reader_init(struct df_adb_reader *r, uint32_t max_payload);

/* Raises the limit after CNXN negotiation (reallocates once). */
int
df_adb_reader_set_max_payload(struct df_adb_reader *r, uint32_t max_payload);

/* Returns 0, the first non-zero value on_packet returned (the reader stops
 * there; the rest of data is not consumed), or DF_EPROTO / DF_ECORRUPT. */
int
df_adb_reader_feed(struct df_adb_reader *r, const uint8_t *data, size_t len,
                   df_adb_packet_fn on_packet, void *ctx);

void
df_adb_reader_free(struct df_adb_reader *r);

#endif
