/* What core/archive.c and core/archive_write.c share, and nothing else
 * includes: libarchive's functions, reached through a table filled by
 * dlopen on first use. libarchive pulls libxml2, ICU, libstdc++ and seven
 * compression libraries into the process; linked at start-up they made up
 * about 40% of `droidfix --version`, a verb that never reads a package.
 * libarchive types may appear here because this header never leaves
 * core/archive*.c. */
#ifndef DF_CORE_ARCHIVE_LIB_H
#define DF_CORE_ARCHIVE_LIB_H

#include <archive.h>
#include <archive_entry.h>

/* Every libarchive function droidfix calls. A new call needs its name here
 * first; the table's field has the function's own name and type, so the
 * compiler checks each call against archive.h. */
#define DF_ARCHIVE_LIB_FUNCS(X)                                                 \
  X(archive_entry_filetype)                                                     \
  X(archive_entry_free)                                                         \
  X(archive_entry_hardlink)                                                     \
  X(archive_entry_mode)                                                         \
  X(archive_entry_new)                                                          \
  X(archive_entry_pathname)                                                     \
  X(archive_entry_pathname_utf8)                                                \
  X(archive_entry_set_filetype)                                                 \
  X(archive_entry_set_mtime)                                                    \
  X(archive_entry_set_pathname)                                                 \
  X(archive_entry_set_perm)                                                     \
  X(archive_entry_set_size)                                                     \
  X(archive_entry_size)                                                         \
  X(archive_entry_size_is_set)                                                  \
  X(archive_entry_symlink)                                                      \
  X(archive_entry_symlink_utf8)                                                 \
  X(archive_errno)                                                              \
  X(archive_error_string)                                                       \
  X(archive_filter_bytes)                                                       \
  X(archive_format)                                                             \
  X(archive_format_name)                                                        \
  X(archive_read_data)                                                          \
  X(archive_read_data_skip)                                                     \
  X(archive_read_free)                                                          \
  X(archive_read_new)                                                           \
  X(archive_read_next_header)                                                   \
  X(archive_read_open)                                                          \
  X(archive_read_open_filename)                                                 \
  X(archive_read_set_format_option)                                             \
  X(archive_read_support_filter_bzip2)                                          \
  X(archive_read_support_filter_compress)                                       \
  X(archive_read_support_filter_gzip)                                           \
  X(archive_read_support_filter_lz4)                                            \
  X(archive_read_support_filter_lzip)                                           \
  X(archive_read_support_filter_lzma)                                           \
  X(archive_read_support_filter_xz)                                             \
  X(archive_read_support_filter_zstd)                                           \
  X(archive_read_support_format_7zip)                                           \
  X(archive_read_support_format_ar)                                             \
  X(archive_read_support_format_cab)                                            \
  X(archive_read_support_format_cpio)                                           \
  X(archive_read_support_format_iso9660)                                        \
  X(archive_read_support_format_lha)                                            \
  X(archive_read_support_format_rar)                                            \
  X(archive_read_support_format_rar5)                                           \
  X(archive_read_support_format_tar)                                            \
  X(archive_read_support_format_warc)                                           \
  X(archive_read_support_format_xar)                                            \
  X(archive_read_support_format_zip_seekable)                                   \
  X(archive_set_error)                                                          \
  X(archive_write_close)                                                        \
  X(archive_write_data)                                                         \
  X(archive_write_free)                                                         \
  X(archive_write_header)                                                       \
  X(archive_write_new)                                                          \
  X(archive_write_open_fd)                                                      \
  X(archive_write_set_format_pax_restricted)

struct df_archive_lib {
#define DF_ARCHIVE_LIB_FIELD(name) __typeof__(name) *name;
  DF_ARCHIVE_LIB_FUNCS(DF_ARCHIVE_LIB_FIELD)
#undef DF_ARCHIVE_LIB_FIELD
};

/* The table; every field is set once df_archive_lib_load returned DF_OK,
 * and not before. */
extern struct df_archive_lib df_la;

/* Loads libarchive and fills df_la, once per process (thread-safe; later
 * calls return the first call's result at once). DF_OK, or
 * DF_EUNSUPPORTED when the library or one of its functions is missing: the
 * reason, naming the library and the package to install, is logged as an
 * error once. Called by every function that creates a libarchive object
 * (df_archive_open, df_archive_writer_begin); the others work on objects
 * that exist only if it succeeded. */
int
df_archive_lib_load(void);

#endif
