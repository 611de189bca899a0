/* Parsing the command line: global flags anywhere, the verb (and subverb)
 * as the first words that are not flags, the verb's own flags after it. */
#ifndef DF_CLI_ARGS_H
#define DF_CLI_ARGS_H

#include <stdbool.h>

#include "cli/cli.h"

/* The global options, NULL-terminated (for help). */
extern const struct df_cli_option df_cli_global_options[];

#define DF_CLI_MAX_PLUGIN_DIRS 16

struct df_cli_parsed {
  bool help;      /* -h or --help was given */
  bool version;   /* --version was given */
  const char *plugin_dirs[DF_CLI_MAX_PLUGIN_DIRS]; /* --plugin-dir, in order */
  size_t plugin_dir_count;
};

/* Fills cli and args from argv. Returns DF_CLI_EXIT_OK, or
 * DF_CLI_EXIT_USAGE after printing the error and a usage line on cli->err.
 * args->verb is NULL when no verb was named, and a group when a group was
 * named without a subverb. Environment: DROIDFIX_CONNECT, ANDROID_SERIAL.
 * --connect is checked only for shape (TEXT:TEXT) here: whether it is
 * HOST:PORT or a plugin's SCHEME:ADDRESS is known once plugins are loaded
 * (df_cli_session_start). */
int
df_cli_parse(int argc, char **argv, struct df_cli *cli, struct df_cli_args *args,
             struct df_cli_parsed *parsed);

/* Frees what df_cli_parse allocated in cli. */
void
df_cli_release(struct df_cli *cli);

#endif
