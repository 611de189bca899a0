/* lua-api/risk_gate: the class of shell command lines (read-only only when
 * every command only reads, tricks included), of fastboot commands and
 * df.instruct modes; the rule per step function; and the check a device
 * call makes: it raises with the recipe, step, phase, call and class, and
 * the gate keeps the refusal even when the recipe catches the error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua-api/risk_gate.h"

struct shell_case {
  const char *line;
  enum df_risk risk;
  bool reboot;
};

#define RO DF_RISK_READ_ONLY
#define APP DF_RISK_APP_DATA
#define USER DF_RISK_USER_DATA
#define FW DF_RISK_FIRMWARE

static void
check_cases(const struct shell_case *cases, size_t n)
{
  char why[256];

  for (size_t i = 0; i < n; i++) {
    struct df_risk_call c = df_risk_gate_shell(cases[i].line, why, sizeof(why));
    if (c.risk != cases[i].risk || c.reboot != cases[i].reboot) {
      print_error("shell \"%s\": got %s%s (%s), want %s%s\n", cases[i].line,
                  df_risk_name(c.risk), c.reboot ? "+reboot" : "", why,
                  df_risk_name(cases[i].risk), cases[i].reboot ? "+reboot" : "");
      fail();
    }
  }
}

/* What the shipped recipes and recipes/lib/phone.lua run to look. */
static void
read_only_commands(void **state)
{
  static const struct shell_case cases[] = {
    {"getprop ro.build.version.release", RO, false},
    {"dumpsys package com.android.vending", RO, false},
    {"dumpsys activity activities", RO, false},
    {"dumpsys diskstats", RO, false},
    {"dumpsys dropbox --print data_app_crash", RO, false},
    {"pm list packages -d", RO, false},
    {"pm path com.android.vending", RO, false},
    {"pm help", RO, false},
    {"cmd package list packages", RO, false},
    {"cmd content get-master-sync 2>&1", RO, false},
    {"settings get global auto_time", RO, false},
    {"settings --user 0 get secure android_id", RO, false},
    {"logcat -d -b main,system", RO, false},
    {"logcat -d -b crash", RO, false},
    {"df /data", RO, false},
    {"date +%s", RO, false},
    {"date", RO, false},
    {"ls -l /sdcard | grep -c jpg", RO, false},
    {"cat /proc/version && uname -a || echo none", RO, false},
    {"su -c 'id -u' 2>/dev/null", RO, false},
    {"su -c 'cat /efs/FactoryApp/factorymode' 2>/dev/null", RO, false},
    {"su 0 ls /data/data", RO, false},
    {"sha256sum /sdcard/DCIM/a.jpg '/sdcard/b c.jpg'", RO, false},
    {"test -f /sdcard/x; echo $?", RO, false},
    {"[ -d /sdcard ] && echo yes", RO, false},
    {"if [ -f /a ]; then cat /a; fi", RO, false},
    {"cat /a >/dev/null 2>&1", RO, false},
    {"cat /a 2>&1 >&2", RO, false},
    {"grep 'a;b|c>d' /proc/cpuinfo", RO, false},
    {"echo \"rm -rf / > /dev/block/sda\"", RO, false},
    {"/system/bin/getprop ro.serialno", RO, false},
    {"toybox ls /sdcard", RO, false},
    {"find /sdcard -name '*.tmp'", RO, false},
    {"ps -A | head -n 5 | wc -l", RO, false},
    {"cat < /proc/meminfo", RO, false},
    {"sort /proc/x | uniq", RO, false},
    {"mount", RO, false},
    {"cat /dev/block/by-name/boot_a | sha256sum", RO, false},
    {"appops get com.x", RO, false},
    {"echo out; echo err >&2; exit 3", RO, false},
    {"", RO, false},
  };
  (void)state;
  check_cases(cases, sizeof(cases) / sizeof(*cases));
}

static void
app_data_commands(void **state)
{
  static const struct shell_case cases[] = {
    {"pm clear com.android.vending", APP, false},
    {"pm clear --cache-only com.android.vending", APP, false},
    {"pm trim-caches 500M", APP, false},
    {"pm disable-user --user 0 com.x", APP, false},
    {"pm enable com.android.providers.downloads", APP, false},
    {"pm default-state com.x", APP, false},
    {"am force-stop com.android.vending", APP, false},
    {"am start -n com.x/.Main", APP, false},
    {"am broadcast -a android.intent.action.BOOT_COMPLETED", APP, false},
    {"settings put global auto_time 1", APP, false},
    {"settings delete secure x", APP, false},
    {"cmd appops reset", APP, false},
    {"cmd content set-master-sync true", APP, false},
    {"cmd connectivity airplane-mode disable 2>&1", APP, false},
    {"cmd package clear com.x", APP, false},
    {"cmd activity force-stop com.x", APP, false},
    {"logcat -c", APP, false},
    {"kill 1234", APP, false},
    {"su -c 'setprop persist.sys.safemode 1'", APP, false},
    {"date -s 20240101.120000", APP, false},
    {"svc wifi enable", APP, false},
    {"dumpsys battery unplug", APP, false},
    {"getprop ro.x; pm clear com.x", APP, false},
    {"pm list packages | grep x && am force-stop com.x", APP, false},
  };
  (void)state;
  check_cases(cases, sizeof(cases) / sizeof(*cases));
}

static void
user_data_commands(void **state)
{
  static const struct shell_case cases[] = {
    {"rm -rf /sdcard/DCIM", USER, false},
    {"mv /sdcard/a /sdcard/b", USER, false},
    {"cp /data/local/tmp/x /sdcard/x", USER, false},
    {"touch /sdcard/x", USER, false},
    {"recovery --wipe_data", USER, false},
    {"am broadcast -a android.intent.action.MASTER_CLEAR", USER, false},
    {"am broadcast -p android -a android.intent.action.FACTORY_RESET", USER, false},
    {"pm uninstall com.x", USER, false},
    {"pm install /data/local/tmp/x.apk", USER, false},
    {"content delete --uri content://sms", USER, false},
    {"find /sdcard -name '*.jpg' -delete", USER, false},
    {"find /sdcard -exec rm {} ;", USER, false},
    {"logcat -d -f /sdcard/log.txt", USER, false},
    {"tee /sdcard/x", USER, false},
    {"sed -i s/a/b/ /sdcard/x", USER, false},
    {"input keyevent 26", USER, false},
    {"wm size 1080x1920", USER, false},
    {"some-unknown-tool --do-it", USER, false},
    {"/data/local/tmp/getprop", USER, false},
    {"sort -o /sdcard/out /sdcard/in", USER, false},
    {"dd if=/sdcard/a of=/sdcard/b", USER, false},
    {"su", USER, false},
    {"sh /sdcard/script.sh", USER, false},
  };
  (void)state;
  check_cases(cases, sizeof(cases) / sizeof(*cases));
}

static void
firmware_commands(void **state)
{
  static const struct shell_case cases[] = {
    {"dd if=/sdcard/boot.img of=/dev/block/by-name/boot_a", FW, false},
    {"su -c 'dd if=/sdcard/boot.img of=/dev/block/bootdevice/by-name/boot'", FW, false},
    {"cat /sdcard/boot.img > /dev/block/by-name/boot_a", FW, false},
    {"cat /sdcard/boot.img >/dev/block/mmcblk0p12", FW, false},
    {"blkdiscard /dev/block/sda", FW, false},
    {"mke2fs -t ext4 /dev/block/by-name/userdata", FW, false},
    {"make_ext4fs /dev/block/by-name/cache", FW, false},
    {"bootctl set-active-boot-slot 1", FW, false},
    {"reboot edl", FW, false},
    {"setprop sys.powerctl reboot,edl", FW, false},
    {"flash_image boot /sdcard/boot.img", FW, false},
    {"cp /sdcard/x.img /dev/block/by-name/vbmeta", FW, false},
  };
  (void)state;
  check_cases(cases, sizeof(cases) / sizeof(*cases));
}

static void
reboot_commands(void **state)
{
  static const struct shell_case cases[] = {
    {"reboot", RO, true},
    {"reboot recovery", RO, true},
    {"svc power reboot", RO, true},
    {"setprop sys.powerctl reboot", RO, true},
    {"pm clear com.x && reboot", APP, true},
  };
  (void)state;
  check_cases(cases, sizeof(cases) / sizeof(*cases));
}

/* Ways to hide a write behind a reading command. */
static void
tricks(void **state)
{
  static const struct shell_case cases[] = {
    {"getprop; rm -rf /sdcard", USER, false},
    {"getprop && rm -rf /sdcard", USER, false},
    {"getprop || rm -rf /sdcard", USER, false},
    {"getprop | rm -rf /sdcard", USER, false},
    {"getprop & rm -rf /sdcard", USER, false},
    {"getprop\nrm -rf /sdcard", USER, false},
    {"getprop\r\nrm -rf /sdcard", USER, false},
    {"(rm -rf /sdcard)", USER, false},
    {"{ rm -rf /sdcard; }", USER, false},
    {"ls $(rm x)", USER, false},
    {"ls \"$(rm x)\"", USER, false},
    {"ls `rm x`", USER, false},
    {"ls \"`pm clear com.x`\"", USER, false},
    {"ls $(dd if=/sdcard/x of=/dev/block/by-name/boot)", FW, false},
    {"ls $(echo $(rm x))", USER, false},
    {"$(echo rm) -rf /sdcard", USER, false},
    {"cat a > /sdcard/b", USER, false},
    {"cat a >> /sdcard/b", USER, false},
    {"cat a>/sdcard/b", USER, false},
    {"cat a 1>/sdcard/b", USER, false},
    {"cat a &>/sdcard/b", USER, false},
    {"cat a >| /sdcard/b", USER, false},
    {"cat a > \"/dev/null x\"", USER, false},
    {"cat a >&/sdcard/b", USER, false},
    {"echo x >/dev/null; echo y > /sdcard/z", USER, false},
    {"diff <(rm x) /a", USER, false},
    {"cat <<EOF\nx\nEOF", USER, false},
    {"X=rm; $X -rf /sdcard", USER, false},
    {"PATH=/data/local/tmp getprop", USER, false},
    {"su -c 'getprop; rm -rf /sdcard'", USER, false},
    {"su -c \"ls; pm clear com.x\"", APP, false},
    {"sh -c 'sh -c \"rm x\"'", USER, false},
    {"timeout 5 rm x", USER, false},
    {"toybox rm x", USER, false},
    {"busybox dd if=/a of=/dev/block/sda", FW, false},
    {"ls 'unterminated", USER, false},
    {"ls $(unterminated", USER, false},
    {"l\\s; r\\m x", USER, false},
    {"\"rm\" x", USER, false},
    {"ls \\\nrm", RO, false}, /* a continued line: `ls rm`, a listing */
    {"find / -name x -fprint /sdcard/y", USER, false},
    {"exec rm x", USER, false},
    {"! rm x", USER, false},
    {"for f in a b; do cat $f; done", USER, false},
    {"sh -c 'sh -c \"sh -c \\\"sh -c ls\\\"\"'", RO, false},
  };
  (void)state;
  check_cases(cases, sizeof(cases) / sizeof(*cases));
}

/* The first command of the highest class is named in why. */
static void
why_names_the_culprit(void **state)
{
  char why[256];
  struct df_risk_call c;
  (void)state;

  c = df_risk_gate_shell("getprop x; pm clear com.android.vending; ls", why, sizeof(why));
  assert_int_equal(c.risk, APP);
  assert_non_null(strstr(why, "pm clear com.android.vending"));
  c = df_risk_gate_shell("cat a > /sdcard/b", why, sizeof(why));
  assert_non_null(strstr(why, "/sdcard/b: output redirected to a file"));
  c = df_risk_gate_shell("ls $(rm x)", why, sizeof(why));
  assert_int_equal(c.risk, USER);
  assert_non_null(strstr(why, "command substitution"));
  /* a tiny buffer is cut, never overrun */
  c = df_risk_gate_shell("rm -rf /sdcard/DCIM/Camera/a-long-name", why, 8);
  assert_int_equal(c.risk, USER);
  assert_true(strlen(why) < 8);
  c = df_risk_gate_shell("rm x", NULL, 0);
  assert_int_equal(c.risk, USER);
}

static void
fastboot_and_instruct(void **state)
{
  struct df_risk_call c;
  (void)state;

  c = df_risk_gate_fastboot("getvar:unlocked");
  assert_int_equal(c.risk, RO);
  assert_false(c.reboot);
  c = df_risk_gate_fastboot("reboot-bootloader");
  assert_int_equal(c.risk, RO);
  assert_true(c.reboot);
  c = df_risk_gate_fastboot("continue");
  assert_true(c.reboot);
  static const char *const fw[] = {"oem unlock", "oem device-info", "flashing unlock",
                                   "flashing lock", "erase:userdata", "format:ext4:userdata",
                                   "set_active:b", "reboot-edl", "snapshot-update:cancel",
                                   "boot", "reboot-anything", "getvar", NULL};
  for (size_t i = 0; fw[i] != NULL; i++) {
    c = df_risk_gate_fastboot(fw[i]);
    if (c.risk != FW) {
      print_error("fastboot %s: %s\n", fw[i], df_risk_name(c.risk));
      fail();
    }
  }
  c = df_risk_gate_instruct("fastboot");
  assert_int_equal(c.risk, RO);
  assert_true(c.reboot);
  c = df_risk_gate_instruct("safe-mode");
  assert_true(c.reboot);
  assert_int_equal(df_risk_gate_instruct("edl").risk, FW);
  assert_int_equal(df_risk_gate_instruct("download").risk, FW);
}

static void
rules_per_phase(void **state)
{
  struct df_risk_gate g;
  (void)state;

  memset(&g, 0, sizeof(g));
  g.step_risk = APP;
  /* no step function running: nothing */
  assert_non_null(df_risk_gate_rule(&g, DF_RISK_CALL_READ));
  /* check: reads only */
  g.phase = DF_RISK_PHASE_CHECK;
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_READ));
  assert_non_null(df_risk_gate_rule(&g, DF_RISK_CALL_REBOOT));
  assert_non_null(df_risk_gate_rule(&g, (struct df_risk_call){APP, false}));
  assert_non_null(strstr(df_risk_gate_rule(&g, DF_RISK_CALL_FIRMWARE), "check() may only read"));
  /* fix: up to the step's risk, reboots allowed */
  g.phase = DF_RISK_PHASE_FIX;
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_READ));
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_REBOOT));
  assert_null(df_risk_gate_rule(&g, (struct df_risk_call){APP, true}));
  assert_non_null(df_risk_gate_rule(&g, DF_RISK_CALL_USER_DATA));
  assert_non_null(df_risk_gate_rule(&g, DF_RISK_CALL_FIRMWARE));
  g.step_risk = FW;
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_FIRMWARE));
  g.step_risk = RO;
  assert_non_null(df_risk_gate_rule(&g, (struct df_risk_call){APP, false}));
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_REBOOT));
  /* verify: reads, reboots, waits */
  g.phase = DF_RISK_PHASE_VERIFY;
  g.step_risk = FW;
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_READ));
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_REBOOT));
  assert_non_null(df_risk_gate_rule(&g, (struct df_risk_call){APP, false}));
  assert_non_null(df_risk_gate_rule(&g, DF_RISK_CALL_FIRMWARE));
  /* dry-run: nothing that changes the phone, in any phase */
  g.dry_run = true;
  assert_non_null(df_risk_gate_rule(&g, DF_RISK_CALL_REBOOT));
  g.phase = DF_RISK_PHASE_FIX;
  assert_non_null(df_risk_gate_rule(&g, DF_RISK_CALL_REBOOT));
  assert_null(df_risk_gate_rule(&g, DF_RISK_CALL_READ));
  g.phase = DF_RISK_PHASE_CHECK;
  assert_non_null(strstr(df_risk_gate_rule(&g, DF_RISK_CALL_REBOOT), "--dry-run"));
}

/* A stand-in device method: gate first, then "touch the phone". */
static int touched;

static int
fake_erase(lua_State *L)
{
  df_risk_gate_check(L, "dev:erase", DF_RISK_CALL_FIRMWARE, NULL);
  touched++;
  lua_pushboolean(L, 1);
  return 1;
}

static int
fake_shell(lua_State *L)
{
  df_risk_gate_check_shell(L, "dev:shell", luaL_checkstring(L, 1));
  touched++;
  lua_pushboolean(L, 1);
  return 1;
}

static lua_State *
gated_state(struct df_risk_gate *g)
{
  lua_State *L = luaL_newstate();

  assert_non_null(L);
  luaL_openlibs(L);
  lua_register(L, "erase", fake_erase);
  lua_register(L, "shell", fake_shell);
  memset(g, 0, sizeof(*g));
  g->recipe_id = "hostile-readonly-flashes";
  assert_int_equal(df_risk_gate_install(L, g), 0);
  touched = 0;
  return L;
}

static void
check_raises_and_keeps_the_refusal(void **state)
{
  struct df_risk_gate g;
  lua_State *L = gated_state(&g);
  const char *msg;
  (void)state;

  df_risk_gate_enter(&g, DF_RISK_PHASE_CHECK, "escape", DF_RISK_READ_ONLY, false);
  assert_int_not_equal(luaL_dostring(L, "erase()"), LUA_OK);
  msg = lua_tostring(L, -1);
  assert_non_null(strstr(msg, "recipe hostile-readonly-flashes, step 'escape' check(): "
                              "dev:erase (firmware) is not allowed: check() may only read the "
                              "phone"));
  lua_pop(L, 1);
  assert_int_equal(touched, 0);
  assert_non_null(g.violation);

  /* caught by pcall: the call still did not happen, and the gate keeps it */
  df_risk_gate_enter(&g, DF_RISK_PHASE_CHECK, "escape", DF_RISK_READ_ONLY, false);
  assert_null(g.violation);
  assert_int_equal(luaL_dostring(L, "local ok = pcall(shell, 'pm clear com.x') return ok"), LUA_OK);
  assert_false(lua_toboolean(L, -1));
  lua_pop(L, 1);
  assert_int_equal(touched, 0);
  assert_non_null(g.violation);
  assert_non_null(strstr(g.violation, "dev:shell(\"pm clear com.x\") (app-data; pm clear com.x: "));

  /* fix of a firmware step may erase; an app-data fix may not, and says
   * what to declare */
  df_risk_gate_enter(&g, DF_RISK_PHASE_FIX, "flash", DF_RISK_FIRMWARE, false);
  assert_int_equal(luaL_dostring(L, "return erase()"), LUA_OK);
  lua_pop(L, 1);
  assert_int_equal(touched, 1);
  assert_null(g.violation);
  df_risk_gate_enter(&g, DF_RISK_PHASE_FIX, "clear", DF_RISK_APP_DATA, false);
  assert_int_not_equal(luaL_dostring(L, "erase()"), LUA_OK);
  assert_non_null(strstr(lua_tostring(L, -1), "fix(): dev:erase (firmware) is not allowed: it is "
                                              "above the step's declared risk app-data; declare "
                                              "risk = \"firmware\""));
  lua_pop(L, 1);
  assert_int_equal(touched, 1);
  /* verify of check run again */
  df_risk_gate_enter(&g, DF_RISK_PHASE_VERIFY, "clear", DF_RISK_APP_DATA, true);
  assert_int_not_equal(luaL_dostring(L, "shell('rm -rf /sdcard')"), LUA_OK);
  assert_non_null(strstr(lua_tostring(L, -1), "check() (run again to verify): "));
  lua_pop(L, 1);
  df_risk_gate_clear(&g);
  lua_close(L);
}

/* A state without a gate (no runner) lets every call through. */
static void
no_gate_no_rule(void **state)
{
  lua_State *L = luaL_newstate();
  (void)state;

  luaL_openlibs(L);
  lua_register(L, "erase", fake_erase);
  touched = 0;
  assert_int_equal(luaL_dostring(L, "return erase()"), LUA_OK);
  assert_int_equal(touched, 1);
  lua_close(L);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(read_only_commands),
    cmocka_unit_test(app_data_commands),
    cmocka_unit_test(user_data_commands),
    cmocka_unit_test(firmware_commands),
    cmocka_unit_test(reboot_commands),
    cmocka_unit_test(tricks),
    cmocka_unit_test(why_names_the_culprit),
    cmocka_unit_test(fastboot_and_instruct),
    cmocka_unit_test(rules_per_phase),
    cmocka_unit_test(check_raises_and_keeps_the_refusal),
    cmocka_unit_test(no_gate_no_rule),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
