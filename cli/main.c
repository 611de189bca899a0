/* droidfix's entry point: parse the arguments, set the log level and the
 * progress style, load the plugins (--plugin-dir, DROIDFIX_PLUGIN_PATH), run
 * the verb. Nothing else happens at start-up, so `droidfix --version` stays
 * instant. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/log.h"
#include "core/progress.h"
#include "lua-api/plugin.h"

static void
df_cli_set_log_level(const struct df_cli *cli)
{
  if (df_log_init_from_env() != 0)
    fprintf(cli->err,
            "droidfix: warning: DROIDFIX_LOG='%s' is not one of error, warn, info, debug, "
            "trace; using warn\n",
            getenv("DROIDFIX_LOG"));
  if (cli->quiet) {
    df_log_set_level(DF_LOG_ERROR);
  } else if (cli->verbose > 0) {
    int level = DF_LOG_WARN + cli->verbose;
    df_log_set_level(level > DF_LOG_TRACE ? DF_LOG_TRACE : (enum df_log_level)level);
  }
}

/* Before any verb reads --connect: a plugin's transport is what makes
 * SCHEME:ADDRESS an endpoint. --plugin-dir folders first, then
 * DROIDFIX_PLUGIN_PATH's. A file that cannot be loaded is skipped with a
 * warning naming it and why (logged by the loader, once per file: the load
 * `droidfix run` makes again finds nothing new). */
static void
df_cli_load_plugins(const struct df_cli_parsed *parsed)
{
  char err[1024] = "";

  for (size_t i = 0; i < parsed->plugin_dir_count; i++)
    df_plugin_load_dir(parsed->plugin_dirs[i], err, sizeof(err));
  df_plugin_load_path(getenv("DROIDFIX_PLUGIN_PATH"), err, sizeof(err));
}

int
main(int argc, char **argv)
{
  struct df_cli cli = { .out = stdout, .err = stderr };
  struct df_cli_args args;
  struct df_cli_parsed parsed;
  int rc;

  /* A phone that hangs up while droidfix writes to it must end in an error
   * that names the step, not kill droidfix silently (libuv writes to
   * sockets without MSG_NOSIGNAL). */
  signal(SIGPIPE, SIG_IGN);
  rc = df_cli_parse(argc, argv, &cli, &args, &parsed);
  if (rc != DF_CLI_EXIT_OK) goto out;

  if (parsed.version) {
    printf("droidfix %s\n", DF_VERSION);
    goto out;
  }
  if (args.verb == NULL) {
    if (parsed.help) {
      df_cli_print_main_help(cli.out);
    } else {
      rc = df_cli_usage_error(&cli, NULL, "no verb given");
    }
    goto out;
  }
  if (parsed.help) {
    df_cli_print_verb_help(cli.out, args.verb);
    goto out;
  }
  if (args.verb->run == NULL) {
    char names[256] = "";
    for (const struct df_cli_verb *const *s = args.verb->subverbs; s != NULL && *s != NULL; s++)
      snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
               s == args.verb->subverbs ? "" : ", ", (*s)->name);
    rc = df_cli_usage_error(&cli, args.verb, "'%s' needs a verb: %s", args.verb->name, names);
    goto out;
  }

  df_cli_set_log_level(&cli);
  df_progress_set_default_style(cli.quiet ? DF_PROGRESS_QUIET
                                : cli.json ? DF_PROGRESS_JSON
                                           : DF_PROGRESS_AUTO);
  df_cli_load_plugins(&parsed);
  rc = args.verb->run(&cli, &args);

out:
  if (fflush(stdout) != 0 && rc == DF_CLI_EXIT_OK) rc = DF_CLI_EXIT_FAILED;
  df_cli_release(&cli);
  return rc;
}
