/* CRC-32 (the gzip and zip one, IEEE 802.3), as fast as this machine
 * allows: libdeflate's PCLMUL/AVX routine when libdeflate is installed
 * (loaded on first use; about 2.5x Debian 12 zlib 1.2.13's crc32 here),
 * otherwise zlib's. Same results either way. */
#ifndef DF_CORE_CRC32_H
#define DF_CORE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of buf appended to data whose CRC is crc (0 to start).
 * Thread-safe. */
uint32_t
df_crc32(uint32_t crc, const void *buf, size_t len);

/* Which routine df_crc32 uses: "libdeflate" or "zlib". */
const char *
df_crc32_impl(void);

#endif
