/* Help text: the verb list with the global flags, one verb's help, usage
 * lines, usage errors; and the `help` verb. */
#include <stdarg.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"

#define DF_CLI_MAIN_USAGE "droidfix [OPTIONS] VERB [ARGS...]"

static void
df_cli_print_options(FILE *out, const struct df_cli_option *opt)
{
  for (; opt != NULL && opt->name != NULL; opt++) {
    char left[64];
    if (opt->value_name != NULL)
      snprintf(left, sizeof(left), "--%s %s", opt->name, opt->value_name);
    else
      snprintf(left, sizeof(left), "--%s", opt->name);
    if (opt->short_name != 0)
      fprintf(out, "  -%c, %-22s %s\n", opt->short_name, left, opt->help);
    else
      fprintf(out, "      %-22s %s\n", left, opt->help);
  }
}

static void
df_cli_print_verb_list(FILE *out, const struct df_cli_verb *const *table)
{
  for (; *table != NULL; table++) fprintf(out, "  %-12s %s\n", (*table)->name, (*table)->summary);
}

void
df_cli_print_usage_line(FILE *out, const struct df_cli_verb *verb)
{
  if (verb == NULL)
    fprintf(out, "usage: " DF_CLI_MAIN_USAGE "  (droidfix --help lists the verbs)\n");
  else
    fprintf(out, "usage: droidfix %s  (droidfix help %s%s%s)\n", verb->usage,
            verb->parent != NULL ? verb->parent->name : "", verb->parent != NULL ? " " : "",
            verb->name);
}

void
df_cli_print_main_help(FILE *out)
{
  fprintf(out,
          "usage: " DF_CLI_MAIN_USAGE "\n"
          "\n"
          "droidfix repairs Android phones over ADB and fastboot: it finds the phone,\n"
          "works out what is wrong, backs up what a fix could lose, fixes it, and\n"
          "checks that the fix held.\n"
          "\n"
          "Verbs:\n");
  df_cli_print_verb_list(out, df_cli_verbs);
  fprintf(out, "\nGlobal options (before or after the verb):\n");
  df_cli_print_options(out, df_cli_global_options);
  fprintf(out,
          "\n"
          "Environment: DROIDFIX_LOG=error|warn|info|debug|trace sets the log level\n"
          "(-v and -q override it). DROIDFIX_CONNECT=EP,EP stands for --connect.\n"
          "DROIDFIX_PLUGIN_PATH=DIR:DIR loads plugins (trusted native code: see\n"
          "docs/plugins.md) after those of --plugin-dir; a plugin's transport is\n"
          "reached with --connect SCHEME:ADDRESS ('droidfix plugins' lists them).\n"
          "Exit status: 0 done, 1 the operation failed or a check did not match,\n"
          "2 bad usage.\n"
          "\n"
          "droidfix help VERB (or droidfix VERB --help) explains a verb.\n");
}

void
df_cli_print_verb_help(FILE *out, const struct df_cli_verb *verb)
{
  char name[64];

  df_cli_verb_full_name(verb, name, sizeof(name));
  fprintf(out, "usage: droidfix %s\n\n%s.\n", verb->usage, verb->summary);
  if (verb->help != NULL) fprintf(out, "\n%s", verb->help);
  if (verb->subverbs != NULL) {
    fprintf(out, "\nVerbs:\n");
    df_cli_print_verb_list(out, verb->subverbs);
    fprintf(out, "\ndroidfix help %s VERB explains one.\n", name);
  }
  if (verb->options != NULL && verb->options->name != NULL) {
    fprintf(out, "\nOptions:\n");
    df_cli_print_options(out, verb->options);
  }
  fprintf(out, "\nGlobal options (-v, -q, --json, --connect, --device, --plugin-dir): droidfix "
               "--help\n");
}

int
df_cli_usage_error(struct df_cli *cli, const struct df_cli_verb *verb, const char *fmt, ...)
{
  va_list ap;

  fputs("droidfix: ", cli->err);
  va_start(ap, fmt);
  vfprintf(cli->err, fmt, ap);
  va_end(ap);
  fputc('\n', cli->err);
  df_cli_print_usage_line(cli->err, verb);
  return DF_CLI_EXIT_USAGE;
}

/* droidfix help [VERB [SUBVERB]] */
static int
df_cli_help_run(struct df_cli *cli, const struct df_cli_args *args)
{
  const struct df_cli_verb *verb;

  if (args->positional_count == 0) {
    df_cli_print_main_help(cli->out);
    return DF_CLI_EXIT_OK;
  }
  verb = df_cli_find_verb(df_cli_verbs, args->positional[0]);
  if (verb == NULL)
    return df_cli_usage_error(cli, NULL, "unknown verb '%s'", args->positional[0]);
  if (args->positional_count >= 2) {
    const struct df_cli_verb *sub = df_cli_find_verb(verb->subverbs, args->positional[1]);
    if (sub == NULL)
      return df_cli_usage_error(cli, verb, "unknown verb '%s %s'", verb->name,
                                args->positional[1]);
    if (args->positional_count > 2)
      return df_cli_usage_error(cli, args->verb, "too many arguments");
    verb = sub;
  }
  df_cli_print_verb_help(cli->out, verb);
  return DF_CLI_EXIT_OK;
}

const struct df_cli_verb df_cli_verb_help = {
  .name = "help",
  .summary = "Show the verbs, or explain one",
  .usage = "help [VERB [SUBVERB]]",
  .help = "Without a verb, lists the verbs and the global options; with one,\n"
          "explains it (the same as droidfix VERB --help).\n",
  .run = df_cli_help_run,
};
