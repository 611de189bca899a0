/* droidfix firmware verify FILE --sha256 HEX: hashes the whole file and says
 * whether it is the file the publisher meant (exit 0) or not (exit 1). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/json.h"
#include "cli/output.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/progress.h"

#define DF_VERIFY_BLOCK (1024 * 1024)

static const struct df_cli_option df_cli_verify_options[] = {
  { "md5", 0, "HEX", "the expected MD5 (32 hex digits)" },
  { "sha1", 0, "HEX", "the expected SHA-1 (40 hex digits)" },
  { "sha256", 0, "HEX", "the expected SHA-256 (64 hex digits)" },
  { NULL, 0, NULL, NULL },
};

extern const struct df_cli_verb df_cli_verb_firmware;
extern const struct df_cli_verb df_cli_verb_firmware_verify;

/* Lowercases expected in place; false if it is not hex of the right length. */
static bool
df_verify_check_hex(char *hex, size_t want)
{
  size_t n = strlen(hex);

  if (n != want) return false;
  for (size_t i = 0; i < n; i++) {
    if (!isxdigit((unsigned char)hex[i])) return false;
    hex[i] = (char)tolower((unsigned char)hex[i]);
  }
  return true;
}

/* Hashes path with progress on stderr; 0 or a df error (errno-based). */
static int
df_verify_hash(struct df_cli *cli, const char *path, enum df_hash_algo algo, char *hex,
               size_t hexlen, uint64_t *size)
{
  struct df_progress progress;
  struct df_hash *h = NULL;
  struct stat st;
  char label[160], safe[128];
  unsigned char *buf = NULL;
  int fd, rc;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return df_error_from_errno(errno);
  if (fstat(fd, &st) != 0) {
    rc = df_error_from_errno(errno);
    close(fd);
    return rc;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return DF_EIO;
  }
  buf = malloc(DF_VERIFY_BLOCK);
  rc = buf == NULL ? DF_ENOMEM : df_hash_new(algo, &h);
  if (rc != 0) {
    free(buf);
    close(fd);
    return rc;
  }
  df_cli_safe_text(path, safe, sizeof(safe));
  snprintf(label, sizeof(label), "hashing %s", safe);
  df_progress_init(&progress, label, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
                   cli->quiet ? DF_PROGRESS_QUIET : DF_PROGRESS_AUTO, stderr,
                   df_progress_now_ns());
  *size = 0;
  for (;;) {
    ssize_t n = read(fd, buf, DF_VERIFY_BLOCK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = df_error_from_errno(errno);
      break;
    }
    if (n == 0) break;
    df_hash_update(h, buf, (size_t)n);
    *size += (uint64_t)n;
    df_progress_update(&progress, *size);
  }
  if (rc == 0) rc = df_hash_final_hex(h, hex, hexlen);
  df_progress_finish(&progress, rc);
  df_hash_free(h);
  free(buf);
  close(fd);
  return rc;
}

static int
df_verify_run(struct df_cli *cli, const struct df_cli_args *args)
{
  static const char *const names[] = { "md5", "sha1", "sha256" };
  static const enum df_hash_algo algos[] = { DF_HASH_MD5, DF_HASH_SHA1, DF_HASH_SHA256 };
  const struct df_cli_verb *self = &df_cli_verb_firmware_verify;
  char expected[DF_HASH_HEX_MAX + 64], actual[DF_HASH_HEX_MAX], safe[1024];
  const char *path, *given = NULL, *name = NULL;
  enum df_hash_algo algo = DF_HASH_SHA256;
  uint64_t size = 0;
  size_t count = 0;
  bool match;
  int rc;

  for (size_t i = 0; i < 3; i++) {
    size_t n = df_cli_option_count(args, names[i]);
    if (n > 0) given = df_cli_option(args, names[i]), name = names[i], algo = algos[i];
    count += n;
  }
  if (args->positional_count != 1)
    return df_cli_usage_error(cli, self, args->positional_count == 0 ? "firmware verify needs a FILE"
                                                                     : "firmware verify takes one FILE");
  if (count != 1)
    return df_cli_usage_error(cli, self, "firmware verify needs exactly one of --md5, --sha1, --sha256");
  if (strlen(given) < sizeof(expected)) snprintf(expected, sizeof(expected), "%s", given);
  else expected[0] = '\0';
  if (!df_verify_check_hex(expected, df_hash_hex_len(algo))) {
    df_cli_safe_text(given, safe, sizeof(safe));
    return df_cli_usage_error(cli, self,
                              "--%s needs %zu hex digits (0-9, a-f), got %zu characters: '%s'",
                              name, df_hash_hex_len(algo), strlen(given), safe);
  }
  path = args->positional[0];
  df_cli_safe_text(path, safe, sizeof(safe));

  rc = df_verify_hash(cli, path, algo, actual, sizeof(actual), &size);
  if (rc != 0)
    return df_cli_fail(cli, path, rc, "cannot read %s: %s", safe,
                       rc == DF_EIO ? "not a readable file (a directory, or a read error)"
                                    : df_strerror(rc));
  match = strcmp(expected, actual) == 0;

  if (cli->json) {
    struct df_json j;
    df_json_init(&j, cli->out);
    df_json_object_begin(&j);
    df_json_kv_bool(&j, "ok", match);
    df_json_kv_string(&j, "file", path);
    df_json_kv_uint(&j, "size", size);
    df_json_kv_string(&j, "algorithm", name);
    df_json_kv_string(&j, "expected", expected);
    df_json_kv_string(&j, "actual", actual);
    df_json_kv_bool(&j, "match", match);
    df_json_object_end(&j);
  } else {
    fprintf(cli->out, "%s: %s %s\n", safe, name, match ? "matches" : "DOES NOT MATCH");
    fprintf(cli->out, "  expected %s\n  actual   %s\n", expected, actual);
  }
  if (!match)
    df_log_error("%s is not the file expected (%s differs): download it again, or check the "
                 "checksum you were given", safe, name);
  return match ? DF_CLI_EXIT_OK : DF_CLI_EXIT_FAILED;
}

const struct df_cli_verb df_cli_verb_firmware_verify = {
  .name = "verify",
  .summary = "Check a file against the checksum its publisher gave",
  .usage = "firmware verify FILE (--md5 HEX | --sha1 HEX | --sha256 HEX)",
  .help = "Hashes the whole file and compares it with the checksum given, printing\n"
          "both. Exit status 0 when they match, 1 when they do not (the download is\n"
          "damaged or not the file meant), 2 when the checksum is not hex of the\n"
          "right length.\n",
  .options = df_cli_verify_options,
  .run = df_verify_run,
  .parent = &df_cli_verb_firmware,
};
