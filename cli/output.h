/* Output shared by verbs: names from outside (archive paths, file names)
 * made safe for a terminal, and the one way a verb reports a failure (a
 * line on stderr, and an error object on stdout with --json). */
#ifndef DF_CLI_OUTPUT_H
#define DF_CLI_OUTPUT_H

#include <stddef.h>

#include "cli/cli.h"

/* Copies in to out with control bytes, DEL and bytes that are not UTF-8
 * written as \xNN, so a hostile name cannot drive the terminal. */
void
df_cli_safe_text(const char *in, char *out, size_t outlen);

/* Reports a failure: "droidfix: error: MESSAGE" on stderr and, with
 * --json, {"ok":false,"error":{"name":...,"code":...,"message":...},
 * "file":...} on stdout. file may be NULL. Returns DF_CLI_EXIT_FAILED. */
int
df_cli_fail(struct df_cli *cli, const char *file, int err, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

#endif
