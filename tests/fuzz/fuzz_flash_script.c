/* Fuzzes the flash script parser (core/flash_script.h) with the text of a
 * hostile firmware package's flash_all.sh or .bat. Nothing in a script is
 * ever run, so what matters is what the parser lets through as a step:
 *   - a FLASH step's file is a plain relative path inside the package
 *     (letters, digits, "._+-/", no empty, "." or ".." component, no '/'
 *     first), and its partition a plain name;
 *   - no understood step carries a shell character ($ ` ; | & < > quotes or
 *     blanks) in any field;
 *   - UNKNOWN steps keep the line (cut to 512 bytes) and a reason;
 *   - the counts and flags agree with the steps, lines are in order and
 *     inside the script. */
#include "tests/fuzz/fuzz_util.h"

#include <ctype.h>

#include "core/error.h"
#include "core/flash_script.h"

static bool
plain(const char *s, const char *extra, size_t max)
{
  size_t n = 0;

  for (; *s != '\0'; s++, n++)
    if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL) return false;
  return n > 0 && n <= max;
}

static void
check_path(const char *file)
{
  const char *p = file;

  DF_FUZZ_CHECK(plain(file, "._+-/", 255), "image path \"%s\"", file);
  DF_FUZZ_CHECK(file[0] != '/', "absolute image path \"%s\"", file);
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
    DF_FUZZ_CHECK(n > 0 && !(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.'),
                  "image path \"%s\" leaves the package", file);
    if (slash == NULL) break;
    p = slash + 1;
  }
}

static void
check_partition(const struct df_flash_step *st)
{
  size_t n;

  DF_FUZZ_CHECK(st->partition != NULL && st->base_partition != NULL, "no partition");
  DF_FUZZ_CHECK(plain(st->partition, "_-", 64) && st->partition[0] != '-', "partition \"%s\"",
                st->partition);
  n = strlen(st->partition);
  if (st->both_slots) {
    DF_FUZZ_CHECK(n > 3 && strcmp(st->partition + n - 3, "_ab") == 0 &&
                    strlen(st->base_partition) == n - 3 &&
                    strncmp(st->base_partition, st->partition, n - 3) == 0,
                  "both slots: \"%s\" / \"%s\"", st->partition, st->base_partition);
  } else {
    DF_FUZZ_CHECK(strcmp(st->partition, st->base_partition) == 0, "base \"%s\" of \"%s\"",
                  st->base_partition, st->partition);
  }
}

static void
check_step(const struct df_flash_step *st)
{
  switch (st->type) {
  case DF_FLASH_STEP_FLASH:
    check_partition(st);
    DF_FUZZ_CHECK(st->file != NULL, "FLASH without a file");
    check_path(st->file);
    break;
  case DF_FLASH_STEP_ERASE:
    check_partition(st);
    break;
  case DF_FLASH_STEP_SET_ACTIVE:
    DF_FUZZ_CHECK(st->argument != NULL && plain(st->argument, "_-", 64), "set_active \"%s\"",
                  st->argument != NULL ? st->argument : "(null)");
    break;
  case DF_FLASH_STEP_REBOOT:
    DF_FUZZ_CHECK(st->argument != NULL &&
                    (st->argument[0] == '\0' || plain(st->argument, "_-", 64)),
                  "reboot \"%s\"", st->argument != NULL ? st->argument : "(null)");
    break;
  case DF_FLASH_STEP_PRODUCT_CHECK:
    DF_FUZZ_CHECK(st->codename_count > 0, "a product check without codenames");
    for (size_t k = 0; k < st->codename_count; k++)
      DF_FUZZ_CHECK(plain(st->codenames[k], "_-", 64) && st->codenames[k][0] != '-',
                    "codename \"%s\"", st->codenames[k]);
    break;
  case DF_FLASH_STEP_UNKNOWN:
    DF_FUZZ_CHECK(st->text != NULL && st->reason != NULL && st->reason[0] != '\0',
                  "UNKNOWN without its line or reason");
    DF_FUZZ_CHECK(strlen(st->text) <= 512, "UNKNOWN keeps %zu bytes", strlen(st->text));
    break;
  case DF_FLASH_STEP_ANTI_CHECK:
  case DF_FLASH_STEP_CRC_CHECK:
  case DF_FLASH_STEP_LOCK:
    break;
  default:
    DF_FUZZ_CHECK(false, "step type %d", (int)st->type);
  }
  DF_FUZZ_CHECK(strcmp(df_flash_step_type_name(st->type), "unknown") != 0 ||
                  st->type == DF_FLASH_STEP_UNKNOWN, "no name for type %d", (int)st->type);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct df_flash_script *s = NULL;
  size_t lines = 1, flashes = 0, erases = 0, unknowns = 0;
  bool userdata = false, locks = false;
  unsigned last_line = 0;
  int rc;

  for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
  rc = df_flash_script_parse((const char *)data, size, &s);
  if (rc != DF_OK) {
    DF_FUZZ_CHECK(s == NULL && rc == DF_ETOOBIG, "parse: %d", rc);
    return 0;
  }
  DF_FUZZ_CHECK(s != NULL, "no script");
  for (size_t i = 0; i < s->step_count; i++) {
    const struct df_flash_step *st = &s->steps[i];
    check_step(st);
    DF_FUZZ_CHECK(st->line >= 1 && st->line <= lines && st->line >= last_line,
                  "step %zu on line %u (last %u, %zu lines)", i, st->line, last_line, lines);
    last_line = st->line;
    flashes += st->type == DF_FLASH_STEP_FLASH;
    erases += st->type == DF_FLASH_STEP_ERASE;
    unknowns += st->type == DF_FLASH_STEP_UNKNOWN;
    locks |= st->type == DF_FLASH_STEP_LOCK;
    if (st->type == DF_FLASH_STEP_FLASH || st->type == DF_FLASH_STEP_ERASE)
      userdata |= strcmp(st->base_partition, "userdata") == 0;
  }
  DF_FUZZ_CHECK(flashes == s->flash_count && erases == s->erase_count &&
                  unknowns == s->unknown_count, "counts");
  DF_FUZZ_CHECK(userdata == s->touches_userdata && locks == s->locks_bootloader, "flags");
  for (size_t k = 0; k < s->codename_count; k++)
    DF_FUZZ_CHECK(plain(s->codenames[k], "_-", 64), "codename \"%s\"", s->codenames[k]);
  df_flash_script_free(s);
  return 0;
}
