/* droidfix firmware inspect FILE: reads a firmware package once, start to
 * end, and says what is in it: every image with its size and SHA-256, the
 * flash scripts and the phone they target, the anti-rollback version. A
 * package that cannot be read to its end is an error, never a shorter
 * listing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "core/archive.h"
#include "core/error.h"
#include "core/flash_script.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/progress.h"

#define DF_INSPECT_CHUNK (256 * 1024)
#define DF_INSPECT_MAX_SCRIPT (4u * 1024 * 1024)
#define DF_INSPECT_MAX_NOTES 64
#define DF_INSPECT_SAFE 1024
/* A package whose data expands past both is a decompression bomb: real
 * ROMs expand a few times (images are mostly compressed already). */
#define DF_INSPECT_BOMB_RATIO 100
#define DF_INSPECT_BOMB_FLOOR (64u * 1024 * 1024)
#define DF_INSPECT_MAX_IMAGES 4096

extern const struct df_cli_verb df_cli_verb_firmware;
extern const struct df_cli_verb df_cli_verb_firmware_inspect;

struct df_inspect_image {
  char *path;         /* as stored, without a leading "./" */
  const char *rel;    /* inside the package folder: "images/boot.img" */
  uint64_t size;
  char sha256[DF_HASH_HEX_MAX];
};

struct df_inspect_script {
  char *path;
  const char *name;   /* "flash_all.sh" */
  struct df_flash_script *parsed; /* NULL when parse_err */
  int parse_err;
  uint64_t size;
};

struct df_inspect {
  struct df_inspect_image *images;
  size_t image_count, image_cap;
  struct df_inspect_script *scripts;
  size_t script_count, script_cap;
  char *folder;           /* the package folder ("vermeer_images_..."), or NULL */
  bool several_folders;
  bool anti_present;
  char anti_text[32];     /* images/anti_version.txt, trimmed */
  long anti_version;      /* -1 when absent or not a number */
  uint64_t bytes;         /* uncompressed bytes read */
  uint64_t entries;
  char *notes[DF_INSPECT_MAX_NOTES];
  size_t note_count;
  char format[128];
  const char *failed_entry; /* set while reading an entry, for errors */
  char failed_copy[DF_INSPECT_SAFE]; /* failed_entry points here: the entry's
                                      * own strings die with the next call */
  uint64_t file_size;     /* of the package on disk */
  const char *refused;    /* why the package is refused (DF_EUNSAFE, DF_ETOOBIG) */
};

/* ---- Collecting ---------------------------------------------------------- */

static void
df_inspect_note(struct df_inspect *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
df_inspect_note(struct df_inspect *in, const char *fmt, ...)
{
  va_list ap;
  char *text = NULL;

  if (in->note_count == DF_INSPECT_MAX_NOTES) return;
  va_start(ap, fmt);
  if (vasprintf(&text, fmt, ap) < 0) text = NULL;
  va_end(ap);
  if (text != NULL) in->notes[in->note_count++] = text;
}

static void *
df_inspect_grow(void *array, size_t *cap, size_t count, size_t size)
{
  void *grown;

  if (count < *cap) return array;
  grown = realloc(array, (*cap ? *cap * 2 : 16) * size);
  if (grown != NULL) *cap = *cap ? *cap * 2 : 16;
  return grown;
}

/* Reads the current entry to its end: hashes it (h may be NULL), keeps up to
 * keep_max bytes of it in *keep (may be NULL), counts and shows progress. */
static int
df_inspect_read(struct df_inspect *in, struct df_archive *a, struct df_progress *progress,
                unsigned char *buf, struct df_hash *h, char **keep, size_t keep_max,
                size_t *kept, uint64_t *size)
{
  size_t keep_cap = 0;

  *size = 0;
  if (kept != NULL) *kept = 0;
  for (;;) {
    ssize_t n = df_archive_read(a, buf, DF_INSPECT_CHUNK);
    if (n < 0) return (int)n;
    if (n == 0) return 0;
    if (in->bytes + (uint64_t)n > DF_INSPECT_BOMB_FLOOR &&
        in->bytes + (uint64_t)n > DF_INSPECT_BOMB_RATIO * in->file_size) {
      in->refused = "its data expands to more than 100 times the package's size: a "
                    "decompression bomb, not a ROM";
      return DF_ETOOBIG;
    }
    if (h != NULL) df_hash_update(h, buf, (size_t)n);
    if (keep != NULL && *kept < keep_max) {
      size_t take = (size_t)n < keep_max - *kept ? (size_t)n : keep_max - *kept;
      if (*kept + take + 1 > keep_cap) {
        size_t cap = keep_cap ? keep_cap : 64 * 1024;
        char *grown;
        while (cap < *kept + take + 1) cap *= 2;
        grown = realloc(*keep, cap);
        if (grown == NULL) return DF_ENOMEM;
        *keep = grown;
        keep_cap = cap;
      }
      memcpy(*keep + *kept, buf, take);
      *kept += take;
      (*keep)[*kept] = '\0';
    }
    *size += (uint64_t)n;
    in->bytes += (uint64_t)n;
    df_progress_update(progress, in->bytes);
  }
}

static bool
df_inspect_is_script_name(const char *name)
{
  size_t n = strlen(name);

  if (strncmp(name, "flash_all", 9) != 0 || strchr(name, '/') != NULL) return false;
  return (n > 3 && strcmp(name + n - 3, ".sh") == 0) ||
         (n > 4 && strcmp(name + n - 4, ".bat") == 0);
}

static void
df_inspect_anti(struct df_inspect *in, const char *text, size_t len)
{
  size_t b = 0, e = len;
  char *end;

  in->anti_present = true;
  while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r' || text[b] == '\n')) b++;
  while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r' ||
                   text[e - 1] == '\n'))
    e--;
  if (e - b >= sizeof(in->anti_text)) e = b + sizeof(in->anti_text) - 1;
  memcpy(in->anti_text, text + b, e - b);
  in->anti_text[e - b] = '\0';
  errno = 0;
  in->anti_version = strtol(in->anti_text, &end, 10);
  if (in->anti_text[0] < '0' || in->anti_text[0] > '9' || *end != '\0' || errno != 0)
    in->anti_version = -1;
}

/* One entry of the archive. */
static int
df_inspect_entry(struct df_inspect *in, struct df_archive *a, const struct df_archive_entry *e,
                 struct df_progress *progress, unsigned char *buf)
{
  const char *path = e->path, *slash, *rel;
  char safe[DF_INSPECT_SAFE];
  uint64_t size;
  int rc;

  snprintf(in->failed_copy, sizeof(in->failed_copy), "%s", e->path);
  in->failed_entry = in->failed_copy;
  in->entries++;
  /* Nothing here is extracted, but an entry no ROM holds (a way out of the
   * folder it would be unpacked into, a device node) means the package
   * was made to harm whoever unpacks it: refuse it whole. */
  if (df_archive_entry_check(e, &in->refused) != DF_OK) return DF_EUNSAFE;
  if (e->size_known && e->size > DF_INSPECT_BOMB_FLOOR &&
      e->size > DF_INSPECT_BOMB_RATIO * in->file_size) {
    in->refused = "it says its data expands to more than 100 times the package's size: a "
                  "decompression bomb, not a ROM";
    return DF_ETOOBIG;
  }
  while (strncmp(path, "./", 2) == 0) path += 2;

  /* The package folder is the first path component, unless the package
   * keeps images/ and the scripts at its root. */
  slash = strchr(path, '/');
  rel = path;
  if (slash != NULL && strncmp(path, "images/", 7) != 0) {
    size_t n = (size_t)(slash - path);
    if (in->folder == NULL) {
      in->folder = strndup(path, n);
      if (in->folder == NULL) return DF_ENOMEM;
    } else if (strlen(in->folder) != n || strncmp(in->folder, path, n) != 0) {
      in->several_folders = true;
    }
    rel = slash + 1;
  } else if (slash == NULL && e->type == DF_ARCHIVE_DIR && *path != '\0' &&
             strcmp(path, "images") != 0 && in->folder == NULL) {
    in->folder = strdup(path);
    if (in->folder == NULL) return DF_ENOMEM;
  }

  if (strncmp(rel, "images/", 7) == 0 && rel[7] != '\0' && e->type != DF_ARCHIVE_DIR) {
    struct df_inspect_image *img;
    struct df_hash *h = NULL;
    bool anti = strcmp(rel, "images/anti_version.txt") == 0;
    char *keep = NULL;
    size_t kept = 0;

    if (e->type != DF_ARCHIVE_FILE) {
      df_cli_safe_text(path, safe, sizeof(safe));
      df_inspect_note(in, "%s is a %s, not an image: it is not listed", safe,
                      e->type == DF_ARCHIVE_SYMLINK    ? "symbolic link"
                      : e->type == DF_ARCHIVE_HARDLINK ? "hard link"
                                                       : "special file");
      return 0;
    }
    if (in->image_count == DF_INSPECT_MAX_IMAGES) {
      in->refused = "more than 4096 images: not a ROM";
      return DF_ETOOBIG;
    }
    for (size_t i = 0; i < in->image_count; i++) {
      if (strcmp(in->images[i].path, path) == 0) {
        in->refused = "the same image is stored twice, with no telling which one would be "
                      "flashed";
        return DF_EUNSAFE;
      }
    }
    in->images = df_inspect_grow(in->images, &in->image_cap, in->image_count, sizeof(*img));
    if (in->images == NULL) return DF_ENOMEM;
    rc = df_hash_new(DF_HASH_SHA256, &h);
    if (rc != 0) return rc;
    rc = df_inspect_read(in, a, progress, buf, h, anti ? &keep : NULL, 64, anti ? &kept : NULL,
                         &size);
    img = &in->images[in->image_count];
    memset(img, 0, sizeof(*img));
    if (rc == 0) rc = df_hash_final_hex(h, img->sha256, sizeof(img->sha256));
    df_hash_free(h);
    if (rc == 0 && anti) df_inspect_anti(in, keep != NULL ? keep : "", kept);
    free(keep);
    if (rc != 0) return rc;
    img->path = strdup(path);
    if (img->path == NULL) return DF_ENOMEM;
    img->rel = img->path + (rel - path);
    img->size = size;
    in->image_count++;
    return 0;
  }

  if (e->type == DF_ARCHIVE_FILE && df_inspect_is_script_name(rel)) {
    struct df_inspect_script *sc;
    char *text = NULL;
    size_t kept = 0;

    in->scripts = df_inspect_grow(in->scripts, &in->script_cap, in->script_count, sizeof(*sc));
    if (in->scripts == NULL) return DF_ENOMEM;
    rc = df_inspect_read(in, a, progress, buf, NULL, &text, DF_INSPECT_MAX_SCRIPT + 1, &kept,
                         &size);
    if (rc != 0) {
      free(text);
      return rc;
    }
    sc = &in->scripts[in->script_count];
    memset(sc, 0, sizeof(*sc));
    sc->path = strdup(path);
    if (sc->path == NULL) {
      free(text);
      return DF_ENOMEM;
    }
    sc->name = sc->path + (rel - path);
    sc->size = size;
    sc->parse_err = size > DF_INSPECT_MAX_SCRIPT
                      ? DF_ETOOBIG
                      : df_flash_script_parse(text != NULL ? text : "", kept, &sc->parsed);
    free(text);
    in->script_count++;
    return 0;
  }

  /* Everything else is read too: a damaged entry anywhere makes the whole
   * package suspect, and zip data is only checked when read. */
  if (e->type == DF_ARCHIVE_FILE) return df_inspect_read(in, a, progress, buf, NULL, NULL, 0, NULL, &size);
  return 0;
}

static void
df_inspect_free(struct df_inspect *in)
{
  for (size_t i = 0; i < in->image_count; i++) free(in->images[i].path);
  free(in->images);
  for (size_t i = 0; i < in->script_count; i++) {
    free(in->scripts[i].path);
    df_flash_script_free(in->scripts[i].parsed);
  }
  free(in->scripts);
  free(in->folder);
  for (size_t i = 0; i < in->note_count; i++) free(in->notes[i]);
}

/* ---- Conclusions --------------------------------------------------------- */

static bool
df_inspect_has_image(const struct df_inspect *in, const char *rel)
{
  for (size_t i = 0; i < in->image_count; i++)
    if (strcmp(in->images[i].rel, rel) == 0) return true;
  return false;
}

/* "vermeer_images_OS1.0.X_14.0_cn" -> codename "vermeer", version after. */
static bool
df_inspect_folder_parts(const char *folder, char *codename, size_t clen, const char **version)
{
  const char *mark = folder != NULL ? strstr(folder, "_images_") : NULL;

  if (mark == NULL || mark == folder || (size_t)(mark - folder) >= clen) return false;
  memcpy(codename, folder, (size_t)(mark - folder));
  codename[mark - folder] = '\0';
  *version = mark + 8;
  return true;
}

/* The codenames the scripts check for, in order, without repeats. */
static size_t
df_inspect_codenames(const struct df_inspect *in, const char **out, size_t max)
{
  size_t n = 0;

  for (size_t i = 0; i < in->script_count; i++) {
    const struct df_flash_script *s = in->scripts[i].parsed;
    for (size_t k = 0; s != NULL && k < s->codename_count; k++) {
      bool seen = false;
      for (size_t m = 0; m < n; m++) seen |= strcmp(out[m], s->codenames[k]) == 0;
      if (!seen && n < max) out[n++] = s->codenames[k];
    }
  }
  return n;
}

static void
df_inspect_conclude(struct df_inspect *in)
{
  const char *codenames[16];
  size_t n = df_inspect_codenames(in, codenames, 16);
  char folder_codename[128];
  const char *version;

  if (in->several_folders)
    df_inspect_note(in, "the package holds more than one top-level folder");
  if (in->anti_present && in->anti_version < 0)
    df_inspect_note(in, "images/anti_version.txt does not hold a number");
  if (n > 1) df_inspect_note(in, "the flash scripts check for more than one codename");
  if (n >= 1 && df_inspect_folder_parts(in->folder, folder_codename, sizeof(folder_codename),
                                        &version)) {
    bool found = false;
    for (size_t i = 0; i < n; i++) found |= strcmp(codenames[i], folder_codename) == 0;
    if (!found)
      df_inspect_note(in, "the folder is named for '%s' but the scripts check for '%s'",
                      folder_codename, codenames[0]);
  }
  for (size_t i = 0; i < in->script_count; i++) {
    const struct df_inspect_script *sc = &in->scripts[i];
    if (sc->parsed == NULL) continue;
    if (sc->parsed->codename_count == 0)
      df_inspect_note(in, "%s has no product check: it would flash any phone", sc->name);
  }
}

/* ---- Output ---------------------------------------------------------------- */

static void
df_inspect_print_script_summary(FILE *out, const struct df_inspect *in,
                                const struct df_inspect_script *sc)
{
  const struct df_flash_script *s = sc->parsed;
  char safe[DF_INSPECT_SAFE];

  df_cli_safe_text(sc->name, safe, sizeof(safe));
  if (s == NULL) {
    fprintf(out, "  %-30s not read: %s\n", safe, df_strerror(sc->parse_err));
    return;
  }
  fprintf(out, "  %-30s ", safe);
  for (size_t k = 0; k < s->codename_count; k++)
    fprintf(out, "%s%s", k ? "|" : "", s->codenames[k]);
  if (s->codename_count == 0) fprintf(out, "(no product check)");
  fprintf(out, ", %zu flash, %zu erase, %s%s%s\n", s->flash_count, s->erase_count,
          s->touches_userdata ? "wipes user data" : "keeps user data",
          s->locks_bootloader ? ", locks the bootloader" : "",
          s->unknown_count ? ", has lines droidfix does not understand" : "");
  for (size_t k = 0; k < s->step_count; k++) {
    const struct df_flash_step *step = &s->steps[k];
    if (step->type == DF_FLASH_STEP_FLASH && !df_inspect_has_image(in, step->file)) {
      df_cli_safe_text(step->file, safe, sizeof(safe));
      fprintf(out, "      line %u flashes %s, which the package does not hold\n", step->line,
              safe);
    }
    if (step->type == DF_FLASH_STEP_UNKNOWN) {
      df_cli_safe_text(step->text, safe, sizeof(safe));
      fprintf(out, "      line %u not understood (%s), never run: %s\n", step->line,
              step->reason, safe);
    }
  }
}

static void
df_inspect_print(struct df_cli *cli, const char *file, const struct df_inspect *in)
{
  FILE *out = cli->out;
  char safe[DF_INSPECT_SAFE], size[32];
  const char *codenames[16];
  size_t n = df_inspect_codenames(in, codenames, 16);
  uint64_t total = 0;

  df_cli_safe_text(file, safe, sizeof(safe));
  fprintf(out, "Package:   %s (%s)\n", safe, in->format);
  df_cli_safe_text(in->folder != NULL ? in->folder : "(none)", safe, sizeof(safe));
  fprintf(out, "Folder:    %s\n", safe);
  fprintf(out, "Codename:  ");
  for (size_t i = 0; i < n; i++) fprintf(out, "%s%s", i ? ", " : "", codenames[i]);
  fprintf(out, "%s\n", n == 0 ? "unknown (no product check found)" : " (from the product check)");
  if (in->anti_present && in->anti_version >= 0)
    fprintf(out, "Anti-rollback version: %ld (images/anti_version.txt)\n", in->anti_version);
  else if (in->anti_present)
    fprintf(out, "Anti-rollback version: unreadable (images/anti_version.txt)\n");
  else
    fprintf(out, "Anti-rollback version: none (no images/anti_version.txt)\n");

  fprintf(out, "Flash scripts: %zu\n", in->script_count);
  for (size_t i = 0; i < in->script_count; i++)
    df_inspect_print_script_summary(out, in, &in->scripts[i]);

  for (size_t i = 0; i < in->image_count; i++) total += in->images[i].size;
  df_format_bytes(total, size, sizeof(size));
  fprintf(out, "Images: %zu files, %s\n", in->image_count, size);
  for (size_t i = 0; i < in->image_count; i++) {
    df_cli_safe_text(in->images[i].path, safe, sizeof(safe));
    fprintf(out, "  %s  %12llu  %s\n", in->images[i].sha256,
            (unsigned long long)in->images[i].size, safe);
  }
  for (size_t i = 0; i < in->note_count; i++) {
    df_cli_safe_text(in->notes[i], safe, sizeof(safe));
    fprintf(out, "Note: %s\n", safe);
  }
}

static void
df_inspect_json_step(struct df_json *j, const struct df_flash_step *step)
{
  df_json_object_begin(j);
  df_json_kv_string(j, "type", df_flash_step_type_name(step->type));
  df_json_kv_uint(j, "line", step->line);
  if (step->partition != NULL) {
    df_json_kv_string(j, "partition", step->partition);
    df_json_kv_string(j, "base_partition", step->base_partition);
    df_json_kv_bool(j, "both_slots", step->both_slots);
  }
  if (step->file != NULL) df_json_kv_string(j, "file", step->file);
  if (step->argument != NULL) df_json_kv_string(j, "argument", step->argument);
  if (step->type == DF_FLASH_STEP_PRODUCT_CHECK) {
    df_json_key(j, "codenames");
    df_json_array_begin(j);
    for (size_t k = 0; k < step->codename_count; k++) df_json_string(j, step->codenames[k]);
    df_json_array_end(j);
  }
  if (step->type == DF_FLASH_STEP_UNKNOWN) {
    df_json_kv_string(j, "text", step->text);
    df_json_kv_string(j, "reason", step->reason);
  }
  df_json_kv_bool(j, "conditional", step->conditional);
  df_json_kv_bool(j, "stops_on_error", step->stops_on_error);
  df_json_object_end(j);
}

static void
df_inspect_json(struct df_cli *cli, const char *file, const struct df_inspect *in)
{
  struct df_json j;
  const char *codenames[16];
  size_t n = df_inspect_codenames(in, codenames, 16);
  uint64_t total = 0;

  df_json_init(&j, cli->out);
  df_json_object_begin(&j);
  df_json_kv_bool(&j, "ok", true);
  df_json_kv_string(&j, "file", file);
  df_json_kv_string(&j, "format", in->format);
  df_json_kv_string(&j, "folder", in->folder);
  df_json_kv_string(&j, "codename", n > 0 ? codenames[0] : NULL);
  df_json_key(&j, "codenames");
  df_json_array_begin(&j);
  for (size_t i = 0; i < n; i++) df_json_string(&j, codenames[i]);
  df_json_array_end(&j);
  df_json_key(&j, "anti_version");
  if (in->anti_present && in->anti_version >= 0) df_json_int(&j, in->anti_version);
  else df_json_null(&j);
  df_json_kv_uint(&j, "entries", in->entries);
  df_json_kv_uint(&j, "bytes", in->bytes);

  df_json_key(&j, "scripts");
  df_json_array_begin(&j);
  for (size_t i = 0; i < in->script_count; i++) {
    const struct df_inspect_script *sc = &in->scripts[i];
    const struct df_flash_script *s = sc->parsed;
    df_json_object_begin(&j);
    df_json_kv_string(&j, "name", sc->name);
    df_json_kv_string(&j, "path", sc->path);
    df_json_kv_uint(&j, "size", sc->size);
    if (s == NULL) {
      df_json_kv_string(&j, "error", df_strerror(sc->parse_err));
      df_json_object_end(&j);
      continue;
    }
    df_json_kv_string(&j, "dialect", s->dialect == DF_FLASH_SCRIPT_BAT ? "bat" : "sh");
    df_json_key(&j, "codenames");
    df_json_array_begin(&j);
    for (size_t k = 0; k < s->codename_count; k++) df_json_string(&j, s->codenames[k]);
    df_json_array_end(&j);
    df_json_kv_uint(&j, "flash_count", s->flash_count);
    df_json_kv_uint(&j, "erase_count", s->erase_count);
    df_json_kv_uint(&j, "unknown_count", s->unknown_count);
    df_json_kv_bool(&j, "wipes_userdata", s->touches_userdata);
    df_json_kv_bool(&j, "locks_bootloader", s->locks_bootloader);
    df_json_kv_bool(&j, "anti_version_from_file", s->anti_version_from_file);
    df_json_key(&j, "missing_images");
    df_json_array_begin(&j);
    for (size_t k = 0; k < s->step_count; k++)
      if (s->steps[k].type == DF_FLASH_STEP_FLASH && !df_inspect_has_image(in, s->steps[k].file))
        df_json_string(&j, s->steps[k].file);
    df_json_array_end(&j);
    df_json_key(&j, "steps");
    df_json_array_begin(&j);
    for (size_t k = 0; k < s->step_count; k++) df_inspect_json_step(&j, &s->steps[k]);
    df_json_array_end(&j);
    df_json_object_end(&j);
  }
  df_json_array_end(&j);

  df_json_key(&j, "images");
  df_json_array_begin(&j);
  for (size_t i = 0; i < in->image_count; i++) {
    df_json_object_begin(&j);
    df_json_kv_string(&j, "path", in->images[i].path);
    df_json_kv_uint(&j, "size", in->images[i].size);
    df_json_kv_string(&j, "sha256", in->images[i].sha256);
    df_json_object_end(&j);
    total += in->images[i].size;
  }
  df_json_array_end(&j);
  df_json_kv_uint(&j, "image_count", in->image_count);
  df_json_kv_uint(&j, "image_bytes", total);
  df_json_key(&j, "notes");
  df_json_array_begin(&j);
  for (size_t i = 0; i < in->note_count; i++) df_json_string(&j, in->notes[i]);
  df_json_array_end(&j);
  df_json_object_end(&j);
}

/* ---- The verb ---------------------------------------------------------------- */

static int
df_inspect_walk(struct df_cli *cli, const char *path, struct df_inspect *in, struct df_archive *a)
{
  struct df_progress progress;
  struct df_archive_entry e;
  unsigned char *buf = malloc(DF_INSPECT_CHUNK);
  char label[160], safe[128];
  const char *base = strrchr(path, '/');
  int rc;

  if (buf == NULL) return DF_ENOMEM;
  df_cli_safe_text(base != NULL ? base + 1 : path, safe, sizeof(safe));
  snprintf(label, sizeof(label), "reading %s", safe);
  /* Progress goes to stderr even with --json: stdout holds one object. */
  df_progress_init(&progress, label, 0, cli->quiet ? DF_PROGRESS_QUIET : DF_PROGRESS_AUTO,
                   stderr, df_progress_now_ns());
  while ((rc = df_archive_next(a, &e)) == 1) {
    if (in->entries == 0)
      snprintf(in->format, sizeof(in->format), "%s", df_archive_format_name(a));
    rc = df_inspect_entry(in, a, &e, &progress, buf);
    if (rc != 0) break;
  }
  if (rc == 0) in->failed_entry = NULL;
  df_progress_finish(&progress, rc);
  free(buf);
  return rc;
}

static int
df_inspect_run(struct df_cli *cli, const struct df_cli_args *args)
{
  const struct df_cli_verb *self = &df_cli_verb_firmware_inspect;
  struct df_inspect in;
  struct df_archive *a = NULL;
  char safe[DF_INSPECT_SAFE], entry[DF_INSPECT_SAFE], why[DF_INSPECT_SAFE];
  const char *path;
  struct stat st;
  int rc;

  if (args->positional_count != 1)
    return df_cli_usage_error(cli, self, args->positional_count == 0
                                           ? "firmware inspect needs a FILE"
                                           : "firmware inspect takes one FILE");
  path = args->positional[0];
  df_cli_safe_text(path, safe, sizeof(safe));
  if (stat(path, &st) != 0)
    return df_cli_fail(cli, path, df_error_from_errno(errno), "cannot open %s: %s", safe,
                       strerror(errno));
  if (S_ISDIR(st.st_mode))
    return df_cli_fail(cli, path, DF_EINVAL,
                       "%s is a directory: give the package file (.tgz or .zip) itself", safe);

  rc = df_archive_open(path, &a);
  if (rc == DF_ECORRUPT)
    return df_cli_fail(cli, path, rc,
                       "%s: truncated or corrupt: not a package droidfix can read; check that "
                       "it is the .tgz or .zip you downloaded, complete",
                       safe);
  if (rc != 0)
    return df_cli_fail(cli, path, rc, "cannot open %s: %s", safe, df_strerror(rc));

  memset(&in, 0, sizeof(in));
  in.anti_version = -1;
  in.file_size = (uint64_t)st.st_size;
  rc = df_inspect_walk(cli, path, &in, a);
  if (rc != 0) {
    df_cli_safe_text(df_archive_error_message(a), why, sizeof(why));
    df_cli_safe_text(in.failed_entry != NULL ? in.failed_entry : "", entry, sizeof(entry));
    if ((rc == DF_EUNSAFE || rc == DF_ETOOBIG) && in.refused != NULL)
      rc = df_cli_fail(cli, path, rc,
                       "%s: refused: entry %s: %s. A firmware package never holds that; "
                       "nothing was extracted, written or run. Get the ROM from Xiaomi again",
                       safe, entry, in.refused);
    else if (rc == DF_ECORRUPT && in.entries == 0)
      rc = df_cli_fail(cli, path, rc,
                       "%s: truncated or corrupt: not a package droidfix can read (libarchive: "
                       "%s); check that it is the .tgz or .zip you downloaded, complete",
                       safe, why[0] ? why : "no detail");
    else if (rc == DF_ECORRUPT)
      rc = df_cli_fail(cli, path, rc,
                       "%s: truncated or corrupt: reading stopped after %llu entries, at %s "
                       "(libarchive: %s); download it again",
                       safe, (unsigned long long)in.entries, entry[0] ? entry : "the end",
                       why[0] ? why : "no detail");
    else
      rc = df_cli_fail(cli, path, rc, "%s: %s while reading %s%s%s", safe, df_strerror(rc),
                       entry[0] ? entry : "the package", why[0] ? " (libarchive: " : "",
                       why[0] ? why : "");
    df_archive_close(a);
    df_inspect_free(&in);
    return DF_CLI_EXIT_FAILED;
  }
  df_archive_close(a);

  if (in.image_count == 0 && in.script_count == 0) {
    rc = df_cli_fail(cli, path, DF_EINVAL,
                     "%s holds no images/ folder and no flash_all script: it is not a Xiaomi "
                     "fastboot ROM (a .tgz from Xiaomi's fastboot ROM page)",
                     safe);
    df_inspect_free(&in);
    return rc;
  }
  df_inspect_conclude(&in);
  if (cli->json) df_inspect_json(cli, path, &in);
  else df_inspect_print(cli, path, &in);
  df_inspect_free(&in);
  return DF_CLI_EXIT_OK;
}

const struct df_cli_verb df_cli_verb_firmware_inspect = {
  .name = "inspect",
  .summary = "List the images, flash scripts and target phone of a firmware package",
  .usage = "firmware inspect FILE",
  .help = "Reads the package once, start to end (a Xiaomi fastboot ROM .tgz, or a .zip),\n"
          "and lists every file under images/ with its size and SHA-256, the flash\n"
          "scripts (flash_all.sh and its variants) with the codename their product\n"
          "check targets and what they would do, and the anti-rollback version from\n"
          "images/anti_version.txt. Scripts are parsed, never run; lines droidfix does\n"
          "not understand are shown.\n"
          "\n"
          "A package that is missing, unreadable, truncated or corrupt is an error\n"
          "(exit 1), never a shorter listing. So is a package made to harm: an entry\n"
          "with an absolute path or '..', a link leading out of it, a device node or\n"
          "FIFO, an image stored twice, data expanding over 100 times (a bomb).\n"
          "With --json the result is one JSON object on stdout (an error object on\n"
          "failure); progress stays on stderr.\n",
  .run = df_inspect_run,
  .parent = &df_cli_verb_firmware,
};
