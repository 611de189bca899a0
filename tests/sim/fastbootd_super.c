/* Reading the logical partition table (LP metadata) of a super_empty.img or a
 * super image, enough for update-super: the partitions' names, groups, sizes
 * and attributes. Layout facts from AOSP fs_mgr/liblp (metadata_format.h,
 * images.cpp, reader.cpp), metadata version 10:
 *   geometry (4096 bytes reserved): u32 magic 0x616c4467, u32 struct_size
 *     (52), u8 checksum[32] (SHA-256 of the struct with this field zeroed),
 *     u32 metadata_max_size, u32 metadata_slot_count, u64
 *     first_logical_sector, u32 alignment, u32 alignment_offset, u64
 *     block_device_size, u32 logical_block_size;
 *   a super_empty.img is geometry at 0 then the metadata at 4096
 *     (WriteToImageFile); a super partition has 4096 reserved bytes, the
 *     geometry and its backup, then the metadata slots at 12288;
 *   header: u32 magic 0x414c5030, u16 major (10), u16 minor (0..2),
 *     u32 header_size (128, or 256 from 10.2), u8 header_checksum[32],
 *     u32 tables_size, u8 tables_checksum[32], then descriptors (u32 offset,
 *     u32 num_entries, u32 entry_size) for partitions, extents, groups,
 *     block devices; the tables follow the header;
 *   partition (52): char name[36], u32 attributes, u32 first_extent_index,
 *     u32 num_extents, u32 group_index;
 *   extent (24): u64 num_sectors (512-byte), u32 target_type,
 *     u64 target_data, u32 target_source;
 *   group (48): char name[36], u32 flags, u64 maximum_size. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/error.h"
#include "tests/sim/phone.h"

#define LP_GEOMETRY_MAGIC 0x616c4467u
#define LP_HEADER_MAGIC 0x414c5030u
#define LP_GEOMETRY_SIZE 4096u
#define LP_RESERVED_BYTES 4096u
#define LP_GEOMETRY_STRUCT_SIZE 52u
#define LP_PARTITION_SIZE 52u
#define LP_EXTENT_SIZE 24u
#define LP_GROUP_SIZE 48u
#define LP_SECTOR_SIZE 512u
/* liblp caps one metadata copy well below this; it bounds what we read. */
#define LP_METADATA_MAX 0x100000u

static uint32_t
le32(const uint8_t *p)
{
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static uint64_t
le64(const uint8_t *p)
{
  return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

/* SHA-256 of buf with the 32 bytes at sum_off taken as zeros, compared with
 * what is stored there. */
static bool
checksum_ok(const uint8_t *buf, size_t len, size_t sum_off)
{
  uint8_t copy_sum[32], digest[32];
  unsigned int dlen = 0;
  uint8_t *tmp;
  bool ok;

  if (sum_off + 32 > len)
    return false;
  tmp = malloc(len);
  if (tmp == NULL)
    return false;
  memcpy(tmp, buf, len);
  memcpy(copy_sum, buf + sum_off, 32);
  memset(tmp + sum_off, 0, 32);
  ok = EVP_Digest(tmp, len, digest, &dlen, EVP_sha256(), NULL) == 1 && dlen == 32 &&
       memcmp(digest, copy_sum, 32) == 0;
  free(tmp);
  return ok;
}

static bool
sha256_ok(const uint8_t *buf, size_t len, const uint8_t *want)
{
  uint8_t digest[32];
  unsigned int dlen = 0;

  return EVP_Digest(buf, len, digest, &dlen, EVP_sha256(), NULL) == 1 && dlen == 32 &&
         memcmp(digest, want, 32) == 0;
}

static int
read_at(int fd, void *buf, size_t len, off_t off)
{
  size_t done = 0;

  while (done < len) {
    ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return df_error_from_errno(errno);
    if (n == 0)
      return DF_ECORRUPT; /* file too short */
    done += (size_t)n;
  }
  return 0;
}

struct lp_table {
  uint32_t offset, count, entry_size;
};

static bool
table_ok(const struct lp_table *t, uint32_t want_entry, uint32_t tables_size)
{
  uint64_t end = (uint64_t)t->offset + (uint64_t)t->count * t->entry_size;

  return (t->count == 0 || t->entry_size == want_entry) && end <= tables_size;
}

static void
copy_name(char dst[37], const uint8_t *src)
{
  memcpy(dst, src, 36);
  dst[36] = '\0';
}

static bool
name_ok(const uint8_t *src)
{
  if (src[0] == '\0')
    return false;
  for (int i = 0; i < 36 && src[i] != '\0'; i++) {
    char c = (char)src[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-' || c == '.'))
      return false;
  }
  return true;
}

static int
parse_metadata(int fd, off_t meta_off, uint32_t max_size, struct df_sim_lp_partition **out,
               size_t *count)
{
  uint8_t *meta = NULL;
  const uint8_t *tables;
  uint32_t header_size, tables_size;
  struct lp_table parts, extents, groups;
  struct df_sim_lp_partition *list = NULL;
  int err;

  meta = malloc(max_size);
  if (meta == NULL)
    return DF_ENOMEM;
  err = read_at(fd, meta, 128, meta_off);
  if (err != 0)
    goto out;
  err = DF_ECORRUPT;
  if (le32(meta) != LP_HEADER_MAGIC || (meta[4] | (meta[5] << 8)) != 10 ||
      (meta[6] | (meta[7] << 8)) > 2)
    goto out;
  header_size = le32(meta + 8);
  tables_size = le32(meta + 44);
  if ((header_size != 128 && header_size != 256) || tables_size > max_size - header_size)
    goto out;
  err = read_at(fd, meta + 128, header_size - 128 + tables_size, meta_off + 128);
  if (err != 0)
    goto out;
  err = DF_ECORRUPT;
  if (!checksum_ok(meta, header_size, 12))
    goto out;
  tables = meta + header_size;
  if (!sha256_ok(tables, tables_size, meta + 48))
    goto out;
  parts = (struct lp_table){le32(meta + 80), le32(meta + 84), le32(meta + 88)};
  extents = (struct lp_table){le32(meta + 92), le32(meta + 96), le32(meta + 100)};
  groups = (struct lp_table){le32(meta + 104), le32(meta + 108), le32(meta + 112)};
  if (!table_ok(&parts, LP_PARTITION_SIZE, tables_size) ||
      !table_ok(&extents, LP_EXTENT_SIZE, tables_size) ||
      !table_ok(&groups, LP_GROUP_SIZE, tables_size))
    goto out;
  if (parts.count > 0) {
    list = calloc(parts.count, sizeof(*list));
    if (list == NULL) {
      err = DF_ENOMEM;
      goto out;
    }
  }
  for (uint32_t i = 0; i < parts.count; i++) {
    const uint8_t *p = tables + parts.offset + (size_t)i * LP_PARTITION_SIZE;
    uint32_t first = le32(p + 40), n = le32(p + 44), group = le32(p + 48);
    uint64_t size = 0;

    if (!name_ok(p) || (uint64_t)first + n > extents.count || group >= groups.count)
      goto out;
    for (uint32_t e = first; e < first + n; e++) {
      uint64_t sectors = le64(tables + extents.offset + (size_t)e * LP_EXTENT_SIZE);
      if (sectors > (UINT64_MAX - size) / LP_SECTOR_SIZE)
        goto out;
      size += sectors * LP_SECTOR_SIZE;
    }
    copy_name(list[i].name, p);
    copy_name(list[i].group, tables + groups.offset + (size_t)group * LP_GROUP_SIZE);
    list[i].attributes = le32(p + 36);
    list[i].size = size;
  }
  *out = list;
  *count = parts.count;
  list = NULL;
  err = 0;
out:
  free(list);
  free(meta);
  return err;
}

int
df_sim_lp_read_partitions(const char *path, struct df_sim_lp_partition **parts, size_t *count)
{
  /* A super_empty.img has its geometry at 0; a super partition at 4096. */
  static const off_t geometry_at[] = {0, LP_RESERVED_BYTES};
  uint8_t geo[LP_GEOMETRY_STRUCT_SIZE];
  int fd, err = DF_ECORRUPT;

  if (path == NULL || parts == NULL || count == NULL)
    return DF_EINVAL;
  *parts = NULL;
  *count = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return df_error_from_errno(errno);
  for (size_t i = 0; i < 2; i++) {
    uint32_t max_size, slots;
    off_t meta_off;

    if (read_at(fd, geo, sizeof(geo), geometry_at[i]) != 0)
      continue;
    if (le32(geo) != LP_GEOMETRY_MAGIC || le32(geo + 4) != LP_GEOMETRY_STRUCT_SIZE ||
        !checksum_ok(geo, sizeof(geo), 8))
      continue;
    max_size = le32(geo + 40);
    slots = le32(geo + 44);
    if (max_size < 256 || max_size > LP_METADATA_MAX || max_size % LP_SECTOR_SIZE != 0 ||
        slots == 0)
      break;
    meta_off = i == 0 ? LP_GEOMETRY_SIZE : LP_RESERVED_BYTES + 2 * LP_GEOMETRY_SIZE;
    err = parse_metadata(fd, meta_off, max_size, parts, count);
    break;
  }
  close(fd);
  return err;
}
