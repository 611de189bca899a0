/* The sync protocol inside an ADB "sync:" stream, host side: request
 * encoding and an incremental decoder of the phone's replies. Pure
 * functions. Facts: AOSP adb/file_sync_protocol.h, client/file_sync_client.cpp
 * (platform-tools 29.0.6): ids are 4 ASCII bytes; STAT answers 16 bytes,
 * STA2/LST2 72, LIST a series of 20-byte DENT + name ending with a 20-byte
 * DONE; RECV a series of DATA (8 + <= 64 KiB) ending with DONE (8) or FAIL;
 * SEND ... DONE is answered OKAY or FAIL + message. */
#ifndef DF_ADB_SYNC_PROTOCOL_H
#define DF_ADB_SYNC_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DF_SYNC_ID(a, b, c, d) \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define DF_SYNC_STAT DF_SYNC_ID('S', 'T', 'A', 'T')
#define DF_SYNC_STA2 DF_SYNC_ID('S', 'T', 'A', '2')
#define DF_SYNC_LST2 DF_SYNC_ID('L', 'S', 'T', '2')
#define DF_SYNC_LIST DF_SYNC_ID('L', 'I', 'S', 'T')
#define DF_SYNC_SEND DF_SYNC_ID('S', 'E', 'N', 'D')
#define DF_SYNC_RECV DF_SYNC_ID('R', 'E', 'C', 'V')
#define DF_SYNC_DENT DF_SYNC_ID('D', 'E', 'N', 'T')
#define DF_SYNC_DONE DF_SYNC_ID('D', 'O', 'N', 'E')
#define DF_SYNC_DATA DF_SYNC_ID('D', 'A', 'T', 'A')
#define DF_SYNC_OKAY DF_SYNC_ID('O', 'K', 'A', 'Y')
#define DF_SYNC_FAIL DF_SYNC_ID('F', 'A', 'I', 'L')
#define DF_SYNC_QUIT DF_SYNC_ID('Q', 'U', 'I', 'T')

#define DF_SYNC_DATA_MAX (64 * 1024)
#define DF_SYNC_PATH_MAX 1024

/* Writes id + u32 length + path into out (8 + strlen(path) bytes); returns
 * the size, or DF_ETOOBIG for a path over 1024 bytes or a small buffer. */
long
df_sync_request_encode(uint8_t *out, size_t outlen, uint32_t id, const char *path);

/* An 8-byte id + u32 header (DATA length, DONE mtime, QUIT 0). */
void
df_sync_header_encode(uint8_t out[8], uint32_t id, uint32_t value);

struct df_sync_stat {
  bool exists;
  uint32_t error;  /* STA2: the phone's errno (0 if it could stat) */
  uint32_t mode;
  uint64_t size;
  int64_t mtime;
  uint32_t uid, gid;
};

/* What the decoder expects next; the same id means different sizes in
 * different replies (DONE is 20 bytes after LIST, 8 after RECV). */
enum df_sync_expect {
  DF_SYNC_EXPECT_STAT,   /* STAT v1 */
  DF_SYNC_EXPECT_STAT2,  /* STA2 or LST2 */
  DF_SYNC_EXPECT_LIST,   /* DENT... DONE */
  DF_SYNC_EXPECT_RECV,   /* DATA... DONE | FAIL */
  DF_SYNC_EXPECT_STATUS, /* OKAY | FAIL after SEND's DONE */
};

struct df_sync_events {
  void (*on_stat)(void *ctx, const struct df_sync_stat *st);
  void (*on_dent)(void *ctx, const char *name, const struct df_sync_stat *st);
  void (*on_data)(void *ctx, const uint8_t *data, size_t len);
  void (*on_done)(void *ctx);  /* end of LIST or RECV, or OKAY after SEND */
  void (*on_fail)(void *ctx, const char *message);
};

struct df_sync_decoder {
  enum df_sync_expect expect;
  uint8_t header[72];
  size_t header_have;
  size_t header_need;
  uint32_t id;
  uint32_t remaining;      /* payload bytes left (DATA, FAIL message, name) */
  char text[1025];         /* FAIL message or DENT name being gathered */
  size_t text_have;
  struct df_sync_stat pending_dent;
  bool finished;           /* the reply is complete; feed no more */
};

void
df_sync_decoder_expect(struct df_sync_decoder *d, enum df_sync_expect expect);

/* Feeds reply bytes; events fire as replies complete (DATA pieces as they
 * come). Returns the number of bytes consumed (less than len once the reply
 * is finished), or DF_EPROTO on an id or size that does not fit. */
long
df_sync_decoder_feed(struct df_sync_decoder *d, const uint8_t *data, size_t len,
                     const struct df_sync_events *ev, void *ctx);

#endif
