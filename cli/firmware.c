/* The firmware verb group: work on firmware packages on this computer, no
 * phone needed. Its subverbs live in firmware_<name>.c. */
#include "cli/cli.h"

extern const struct df_cli_verb df_cli_verb_firmware_inspect;
extern const struct df_cli_verb df_cli_verb_firmware_verify;

static const struct df_cli_verb *const df_cli_firmware_subverbs[] = {
  &df_cli_verb_firmware_inspect,
  &df_cli_verb_firmware_verify,
  NULL,
};

const struct df_cli_verb df_cli_verb_firmware = {
  .name = "firmware",
  .summary = "Inspect and verify firmware packages (no phone needed)",
  .usage = "firmware VERB FILE ...",
  .help = "Reads a firmware package on this computer, such as a Xiaomi fastboot ROM\n"
          "(.tgz), without changing anything.\n",
  .subverbs = df_cli_firmware_subverbs,
};
