-- The phone never finishes booting: the boot image of every slot is torn
-- (no "ANDROID!" header, AOSP mkbootimg bootimg.h BOOT_MAGIC), as after an
-- interrupted update. Only flashing a good boot image to the slot that boots
-- clears it; switching slots does not (both are torn).
return {
  summary = "bootloop: the boot image is corrupt",
  scenarios = { default = { "boot-image" } },
  causes = {
    ["boot-image"] = {
      summary = "boot image without a valid header on every slot",
      setup = { { corrupt_partition = "boot" } },
      present = { { boot_image_bad = true } },
      mode = "bootloop",
    },
  },
}
