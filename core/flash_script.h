/* A pure parser for the flash scripts of Xiaomi fastboot ROMs (flash_all.sh,
 * flash_all_except_storage.sh, flash_all_lock.sh and their .bat twins): the
 * script text becomes a list of steps droidfix understands. Nothing is ever
 * run: the parser only reads text, and whatever it does not recognise
 * exactly (a line of shell it has no template for, command substitution, a
 * second command after ';', a path leaving the package) is kept as an
 * UNKNOWN step with the reason, for a caller to show and refuse.
 *
 * What a real script holds (see PROTOCOLS.md "Xiaomi fastboot ROMs"):
 *   fastboot $* getvar product 2>&1 | grep "^product: *vermeer"
 *   if [ $? -ne 0 ] ; then echo "Missmatching image and device"; exit 1; fi
 *   ... an anti-rollback block reading images/anti_version.txt ...
 *   fastboot $* erase boot_ab
 *   fastboot $* flash abl_ab `dirname $0`/images/abl.elf
 *   fastboot $* set_active a
 *   fastboot $* reboot
 * and in the .bat variants `fastboot %* ... || @echo "..." && exit /B 1`. */
#ifndef DF_CORE_FLASH_SCRIPT_H
#define DF_CORE_FLASH_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

enum df_flash_step_type {
  DF_FLASH_STEP_PRODUCT_CHECK, /* getvar product must match a codename */
  DF_FLASH_STEP_ANTI_CHECK,    /* refuse when the phone's anti > the package's */
  DF_FLASH_STEP_CRC_CHECK,     /* getvar crc; the next block runs when it is 1 */
  DF_FLASH_STEP_ERASE,
  DF_FLASH_STEP_FLASH,
  DF_FLASH_STEP_SET_ACTIVE,
  DF_FLASH_STEP_REBOOT,
  DF_FLASH_STEP_LOCK,          /* oem lock / flashing lock: relocks the bootloader */
  DF_FLASH_STEP_UNKNOWN,       /* not understood: never to be run */
};

enum df_flash_script_dialect {
  DF_FLASH_SCRIPT_SH,
  DF_FLASH_SCRIPT_BAT,
};

struct df_flash_step {
  enum df_flash_step_type type;
  unsigned line;          /* 1-based line of the script */
  /* ERASE, FLASH: the partition as written ("boot_ab"), the partition
   * without a trailing "_ab" ("boot"), and whether it had one: Xiaomi's
   * bootloader then writes both slots (unverified; see PROTOCOLS.md). */
  char *partition;
  char *base_partition;
  bool both_slots;
  /* FLASH: the image, relative to the package folder, '/'-separated
   * ("images/boot.img"). */
  char *file;
  /* SET_ACTIVE: the slot ("a"); REBOOT: the target ("" for a plain
   * reboot, "bootloader", "recovery", "fastboot"). */
  char *argument;
  /* PRODUCT_CHECK: the codenames any of which passes the check. */
  char **codenames;
  size_t codename_count;
  /* Steps inside a conditional block (the crclist flashes under the crc
   * check) run only when the condition held. */
  bool conditional;
  /* The script stops with an error if this step fails (an `|| exit` or an
   * `if [ $? -ne 0 ]` block follows it). */
  bool stops_on_error;
  /* UNKNOWN: the line as written (without its line end) and why it was
   * not understood (a static string). */
  char *text;
  const char *reason;
};

struct df_flash_script {
  enum df_flash_script_dialect dialect;
  struct df_flash_step *steps;
  size_t step_count;
  /* Union of the product checks' codenames, in order of appearance. */
  char **codenames;
  size_t codename_count;
  /* Where the package's anti-rollback version comes from: the script reads
   * images/anti_version.txt, and/or sets a literal (-1 when none). */
  bool anti_version_from_file;
  long anti_version_literal;
  /* Counts, for a summary. */
  size_t unknown_count;
  size_t flash_count;
  size_t erase_count;
  bool touches_userdata; /* erases or flashes userdata: the user's data is lost */
  bool locks_bootloader;
};

/* Parses len bytes of script text (NUL bytes are allowed and make their line
 * UNKNOWN). The dialect is guessed from the text (`%*`, `::`, `exit /B`
 * mean .bat). On success *out is owned by the caller (df_flash_script_free).
 * DF_EINVAL for a NULL argument, DF_ETOOBIG above 4 MiB, DF_ENOMEM. */
int
df_flash_script_parse(const char *text, size_t len, struct df_flash_script **out);

/* Accepts NULL. */
void
df_flash_script_free(struct df_flash_script *script);

/* "product-check", "anti-check", "crc-check", "erase", "flash",
 * "set-active", "reboot", "lock", "unknown". */
const char *
df_flash_step_type_name(enum df_flash_step_type type);

#endif
