/* Images read straight out of an archive entry (a firmware .tgz's
 * images/super.img), with no temporary file and nothing extracted: the
 * entry is decompressed as it is sent. An entry that fits the phone's
 * max-download-size goes as one download (its size is in the entry header);
 * a bigger raw entry is cut into sparse pieces that consume the stream in
 * order; a sparse entry is validated whole first (its chunk headers), then
 * read again for sending, regrouped into pieces like a file
 * (plugins/fastboot/image.h).
 *
 * When the package was walked to its clean end in this process with
 * df_archive_open_indexed (df.firmware.inspect does: every gzip CRC and
 * length checked) and the file is still the same (core/archive_index.h),
 * the entry is read from the access point nearest its start, and the
 * validation of a sparse entry jumps from chunk header to chunk header by
 * access points (every 32 MiB) instead of inflating its data. Otherwise the
 * archive is read from its first byte: forward only, opened again to go
 * back. Memory stays bounded: the chunk list of a sparse entry, a 4 KiB
 * head, a scratch buffer, the index's windows and libarchive's own.
 *
 * What is NOT checked here: a .tgz has one CRC for the whole stream, after
 * its last entry, so damage is only certain to show when the whole archive
 * has been walked (core/archive.h). Callers check the package first (walk it
 * with df_archive_next to its end, or compare a published hash) before
 * flashing anything from it. */
#ifndef DF_FASTBOOT_ARCHIVE_SOURCE_H
#define DF_FASTBOOT_ARCHIVE_SOURCE_H

#include <stddef.h>

#include "plugins/fastboot/image.h"

/* Opens entry_path of the archive at archive_path as an image to flash.
 * entry_path matches the stored path with any leading "./" or "/" and a
 * trailing "/" ignored.
 * Blocking (it decompresses up to the entry, or from the access point
 * before it, and validates a sparse entry): call it off the loop thread. Errors, with a sentence in why (may be
 * NULL): DF_ENOENT (no archive, or no such entry), DF_EINVAL (the entry is
 * not a regular file, is empty, or its size is not in its header),
 * DF_ECORRUPT (a damaged archive or sparse image), DF_ENOMEM, DF_EIO.
 * On success *out is the caller's (df_image_free); reading its pieces
 * reads the archive (on the calling thread). To flash it:
 * df_fastboot_flash_image (flash.h); lua-api/df_device_flash_entry.c opens
 * the entry on the thread pool, then flashes it on the loop. */
int
df_image_open_archive_entry(const char *archive_path, const char *entry_path,
                            struct df_image **out, char *why, size_t why_len);

#endif
