/* df_recipe_applies: a recipe's applies_to (modes, vendors, models, Android
 * range) against what is known of a phone, with the reason when it does
 * not apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lua-api/df_device.h"
#include "lua-api/recipe.h"

static char *modes_sys[] = {"system", "safe-mode"};
static char *modes_fb[] = {"bootloader"};
static char *vendors_x[] = {"xiaomi"};
static char *models_k70[] = {"xiaomi/redmi-k70"};

static struct df_recipe
recipe(char **modes, size_t nmodes)
{
  struct df_recipe r;
  memset(&r, 0, sizeof(r));
  r.id = "r";
  r.modes = modes;
  r.nmodes = nmodes;
  return r;
}

static void
test_modes(void **state)
{
  struct df_recipe r = recipe(modes_sys, 2);
  struct df_device_facts f = {"system", "xiaomi", "xiaomi/redmi-k70", 14};
  char why[300];

  (void)state;
  assert_true(df_recipe_applies(&r, &f, why, sizeof(why)));
  f.mode = "bootloader";
  assert_false(df_recipe_applies(&r, &f, why, sizeof(why)));
  assert_non_null(strstr(why, "system, safe-mode mode; this phone is in bootloader mode"));
  r = recipe(modes_fb, 1);
  assert_true(df_recipe_applies(&r, &f, why, sizeof(why)));
  /* factory-mode and bootloop are states of a phone ADB sees as system */
  assert_true(df_device_mode_serves("system", "factory-mode"));
  assert_false(df_device_mode_serves("recovery", "factory-mode"));
}

static void
test_vendors_models(void **state)
{
  struct df_recipe r = recipe(modes_sys, 2);
  struct df_device_facts f = {"system", "samsung", "samsung/galaxy-s9", 10};
  char why[300];

  (void)state;
  r.vendors = vendors_x;
  r.nvendors = 1;
  assert_false(df_recipe_applies(&r, &f, why, sizeof(why)));
  assert_non_null(strstr(why, "is for xiaomi phones; this phone is samsung"));
  f.vendor = "";
  assert_false(df_recipe_applies(&r, &f, why, sizeof(why)));
  assert_non_null(strstr(why, "unknown vendor"));
  r.nvendors = 0;
  r.models = models_k70;
  r.nmodels = 1;
  assert_false(df_recipe_applies(&r, &f, why, sizeof(why)));
  assert_non_null(strstr(why, "is for xiaomi/redmi-k70; this phone is samsung/galaxy-s9"));
  f.model_id = "xiaomi/redmi-k70";
  assert_true(df_recipe_applies(&r, &f, why, sizeof(why)));
}

static void
test_android(void **state)
{
  struct df_recipe r = recipe(modes_sys, 2);
  struct df_device_facts f = {"system", "xiaomi", "xiaomi/redmi-k70", 10};
  char why[300];

  (void)state;
  r.android_min = 12;
  assert_false(df_recipe_applies(&r, &f, why, sizeof(why)));
  assert_non_null(strstr(why, "needs Android 12 or later; this phone runs Android 10"));
  f.android = 0; /* unknown (fastboot): not a refusal */
  assert_true(df_recipe_applies(&r, &f, why, sizeof(why)));
  f.android = 15;
  r.android_max = 14;
  assert_false(df_recipe_applies(&r, &f, why, sizeof(why)));
  assert_non_null(strstr(why, "Android 14 at most"));
  f.android = 13;
  assert_true(df_recipe_applies(&r, &f, why, sizeof(why)));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_modes),
    cmocka_unit_test(test_vendors_models),
    cmocka_unit_test(test_android),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
