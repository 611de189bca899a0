-- system-reflash: what closed tools call "System Repair". Reinstalls the
-- phone's firmware from a Xiaomi fastboot ROM (.tgz with images/ and
-- flash_all*.sh), flashing straight out of the archive. The flash script is
-- parsed, never executed: droidfix runs the steps it understands (erase,
-- flash, set_active) itself and refuses a script with any line it does not.
--
-- Before anything is written: the package's hash (when given), its
-- integrity (the whole archive is read, the gzip CRC included), every image
-- the script names, the codename (the script's product check against the
-- phone) and the anti-rollback version (images/anti_version.txt against
-- the phone's `getvar anti`: flashing older firmware than the phone's
-- counter can brick a Xiaomi phone, so there is no way around it).
-- A phone that does not boot answers nowhere: `droidfix run --model ID`
-- starts without it (dev.mode "offline"), and df.instruct shows the model's
-- fastboot buttons and waits for the phone (param wait_s).
-- See docs/system-reflash.md.

local VARIANTS = {
  flash_all = "flash_all.sh",
  flash_all_except_storage = "flash_all_except_storage.sh",
}

local ADB_MODES = { system = true, recovery = true }
local FASTBOOT_MODES = { bootloader = true, fastbootd = true }

-- The archive entry an image of the script names ("images/boot.img"),
-- found in the listing: the same path, or under the package's folder.
local function find_entry(files, image)
  local found
  for _, e in ipairs(files) do
    local p = e.path:gsub("^%./", "")
    if p == image or p:sub(-(#image + 1)) == "/" .. image then
      if found then return nil, "more than one entry is " .. image end
      found = e
    end
  end
  if not found then return nil, "missing" end
  if found.type ~= "file" then return nil, "not a file" end
  if found.size == 0 then return nil, "empty" end
  return found.path
end

-- "boot_ab" -> "boot", both slots; "super" -> "super".
local function slots_of(step)
  local part = step.partition or ""
  if step.both_slots or part:match("_ab$") then
    return part:gsub("_ab$", ""), { "a", "b" }
  end
  return part, nil
end

local function contains(list, value)
  for _, v in ipairs(list or {}) do
    if v == value then return true end
  end
  return false
end

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

-- What the phone says it is, as far as it can be asked now.
local function phone_codename(ctx)
  local dev = ctx.device
  if ADB_MODES[dev.mode] then
    local v = dev:getprop("ro.product.device")
    if v and v ~= "" then return v, "ro.product.device" end
  elseif FASTBOOT_MODES[dev.mode] then
    local v = dev:getvar("product")
    if v and v ~= "" then return v, "getvar product" end
  end
  if ctx.params.codename and ctx.params.codename ~= "" then
    return ctx.params.codename, "--param codename"
  end
  return nil
end

-- A run started without the phone (it does not boot; droidfix run --model):
-- the codenames of the model the user named, or nil.
local function model_codenames(ctx)
  local dev = ctx.device
  if ADB_MODES[dev.mode] or FASTBOOT_MODES[dev.mode] then return nil end
  local m = df.model(dev)
  if not m or m.fallback or not m.codenames or #m.codenames == 0 then return nil end
  return m.codenames, m.id
end

-- Checks the package and turns the script into a plan. Raises (nothing
-- changed) on anything wrong.
local function check_package(ctx)
  local p = ctx.params
  local script_name = VARIANTS[p.variant]
  if not script_name then
    fail("variant '%s' is not offered: use flash_all (erases all data) or " ..
         "flash_all_except_storage (keeps it). flash_all_lock relocks the bootloader and is " ..
         "not run by droidfix.", tostring(p.variant))
  end

  for _, algo in ipairs({ "sha256", "md5" }) do
    local want = p[algo]
    if want and want ~= "" then
      df.step("Checking the package's %s", algo)
      local got, msg = df.hash.file(p.firmware, algo)
      if not got then fail("cannot read %s: %s", p.firmware, msg) end
      if got:lower() ~= want:lower() then
        fail("the package's %s is %s, not %s as given: it is damaged or another file. " ..
             "Download it again; nothing was changed.", algo, got, want:lower())
      end
    end
  end

  -- One walk of the whole package: every entry, the gzip CRC and length at
  -- its end, unsafe entries refused. It also leaves an index behind, so
  -- that dev:flash_entry reads each image from where it starts instead of
  -- inflating the package from its first byte for every image.
  df.step("Reading the whole package")
  local info, msg, code = df.firmware.inspect(p.firmware)
  if not info then
    if code == "EUNSAFE" or code == "ETOOBIG" then
      fail("the package cannot be read as a Xiaomi fastboot ROM (%s); nothing was changed.", msg)
    end
    fail("the package is damaged or incomplete (%s). Download it again; nothing was changed.",
         msg)
  end
  local files = info.files
  local script = info.scripts[script_name]
  if not script then
    fail("the package has no %s: is it a Xiaomi fastboot ROM (not a recovery .zip)?", script_name)
  end
  if script.error then fail("%s cannot be read: %s", script_name, script.error) end

  local unknown = {}
  for _, st in ipairs(script.steps) do
    if st.command == "unknown" then
      unknown[#unknown + 1] = string.format("  line %d: %s  (%s)", st.line, st.text or "",
                                            st.reason or "not understood")
    end
  end
  if #unknown > 0 then
    fail("%s has %d line(s) droidfix does not understand, so it runs none of it:\n%s",
         script_name, #unknown, table.concat(unknown, "\n"))
  end

  local plan, missing, erased = {}, {}, {}
  local has_product_check = false
  for _, st in ipairs(script.steps) do
    local c = st.command
    if c == "product-check" then
      has_product_check = true
    elseif c == "anti-check" or c == "crc-check" then
      plan[#plan + 1] = { op = c, line = st.line }
    elseif c == "erase" or c == "flash" then
      local base, slots = slots_of(st)
      local action = { op = c, partition = base, slots = slots, line = st.line,
                       conditional = st.conditional }
      if c == "flash" then
        local entry, why = find_entry(files, st.image or "")
        if not entry then
          missing[#missing + 1] = string.format("  line %d: %s (%s)", st.line,
                                                tostring(st.image), why)
        end
        action.entry = entry
        action.image = st.image
        if base == "userdata" then erased[#erased + 1] = "userdata (all your apps, photos and files)" end
      else
        erased[#erased + 1] = base .. (slots and " (both slots)" or "")
      end
      plan[#plan + 1] = action
    elseif c == "set-active" then
      plan[#plan + 1] = { op = c, slot = st.argument, line = st.line }
    elseif c == "reboot" then
      plan[#plan + 1] = { op = c, target = st.argument or "", line = st.line }
    elseif c == "lock" then
      fail("%s line %d relocks the bootloader; droidfix does not run that.", script_name, st.line)
    else
      fail("%s line %d: step '%s' is not one droidfix knows how to run; nothing was changed.",
           script_name, st.line, tostring(c))
    end
  end
  if #missing > 0 then
    fail("the package is incomplete: %s names images it does not hold:\n%s",
         script_name, table.concat(missing, "\n"))
  end
  if not has_product_check or #info.codenames == 0 then
    fail("%s does not check which phone it is for; droidfix will not guess.", script_name)
  end
  return {
    info = info,
    script_name = script_name,
    plan = plan,
    erased = erased,
    wipes = script.touches_userdata and true or false,
    anti = info.anti_version or 0, -- the script's own default when the file is absent
  }
end

-- The checks a bootloader can answer: the product and the anti-rollback
-- counter. Raises before anything is written.
local function check_phone_in_bootloader(ctx, pkg)
  local dev = ctx.device
  local product, msg = dev:getvar("product")
  if not product then fail("the phone does not say its product (%s); nothing was flashed.", msg) end
  if not contains(pkg.info.codenames, product) then
    fail("this package is for %s, the phone is %s (getvar product): refusing it; nothing was " ..
         "flashed. Get the fastboot ROM for %s.", table.concat(pkg.info.codenames, "/"),
         product, product)
  end
  local anti = dev:getvar("anti")
  local phone_anti = tonumber(anti or "") or 0 -- as flash_all.sh: no answer counts as 0
  if phone_anti > pkg.anti then
    fail("the phone's anti-rollback version is %d and this package's is %d: flashing it could " ..
         "brick the phone, so droidfix refuses. Use a ROM as new as the phone's firmware; " ..
         "nothing was flashed.", phone_anti, pkg.anti)
  end
  -- Every partition the script writes must exist on this phone, or the
  -- flash would stop half way with the phone partly written. (The lines
  -- that run only when the bootloader checks CRC lists write crclist and
  -- sparsecrclist, which such a bootloader takes without a partition.)
  local absent = {}
  for _, a in ipairs(pkg.plan) do
    if (a.op == "erase" or a.op == "flash") and not a.conditional then
      for _, slot in ipairs(a.slots or { false }) do
        local part = slot and (a.partition .. "_" .. slot) or a.partition
        if not dev:getvar("partition-size:" .. part) and dev:getvar("has-slot:" .. part) ~= "yes" then
          absent[#absent + 1] = string.format("  %s line %d: %s", pkg.script_name, a.line, part)
        end
      end
    end
  end
  if #absent > 0 then
    fail("the phone has no partition named in this package's script (getvar partition-size): " ..
         "the package does not fit this phone; nothing was flashed:\n%s", table.concat(absent, "\n"))
  end
  local unlocked = dev:getvar("unlocked")
  if unlocked == "no" then
    fail("the bootloader is locked, so it will not take these images. Unlock it with Xiaomi's " ..
         "Mi Unlock tool first (that erases the phone); nothing was flashed.")
  end
  return product, phone_anti
end

local function run_plan(ctx, pkg)
  local dev = ctx.device
  local crc_on = false
  local done = 0
  for _, a in ipairs(pkg.plan) do
    local where = string.format("%s line %d", pkg.script_name, a.line)
    if a.op == "crc-check" then
      crc_on = dev:getvar("crc") == "1"
    elseif a.op == "anti-check" then
      -- checked before the first write (check_phone_in_bootloader)
    elseif a.conditional and not crc_on then
      df.log("info", "%s: skipped (the bootloader does not check CRC lists)", where)
    elseif a.op == "erase" then
      for _, slot in ipairs(a.slots or { false }) do
        local part = slot and (a.partition .. "_" .. slot) or a.partition
        df.step("Erasing %s", part)
        local ok, msg = dev:erase(part)
        if not ok then
          fail("%s: erasing %s failed: %s. The phone is partly flashed: leave it in fastboot " ..
               "and run the recipe again.", where, part, msg)
        end
      end
      done = done + 1
    elseif a.op == "flash" then
      for _, slot in ipairs(a.slots or { false }) do
        local label = slot and (a.partition .. "_" .. slot) or a.partition
        df.step("Writing %s to %s", a.image, label)
        local r, msg = dev:flash_entry(a.partition, ctx.params.firmware, a.entry,
                                       { slot = slot or nil })
        if not r then
          fail("%s: flashing %s failed: %s. The phone is partly flashed: leave it in fastboot " ..
               "and run the recipe again.", where, label, msg)
        end
        df.log("info", "%s: %s, %d bytes in %d download(s)", where, r.partition, r.bytes, r.pieces)
      end
      done = done + 1
    elseif a.op == "set-active" then
      local ok, msg = dev:set_active(a.slot)
      if not ok then fail("%s: set_active %s failed: %s", where, tostring(a.slot), msg) end
    elseif a.op == "reboot" then
      -- done after the plan, to follow the phone (see fix)
    end
  end
  return done
end

return {
  id = "system-reflash",
  title = "Reinstall the phone's firmware from a Xiaomi fastboot ROM",
  summary = "System Repair: flashes a Xiaomi fastboot ROM (.tgz) straight from the archive after " ..
            "checking it, the codename and anti-rollback; keeps user data unless variant=flash_all.",
  description = "For a phone that no longer boots, or whose system is damaged. Needs an unlocked " ..
                "bootloader and the fastboot ROM for the phone's codename.",
  risk = "firmware",
  applies_to = {
    modes = { "system", "recovery", "bootloader", "fastbootd", "bootloop" },
    vendors = { "xiaomi" },
  },
  params = {
    firmware = { type = "path", required = true,
                 help = "the Xiaomi fastboot ROM (.tgz with images/ and flash_all.sh)" },
    variant = { type = "string", default = "flash_all_except_storage",
                help = "flash_all_except_storage (keeps user data) or flash_all (erases it)" },
    sha256 = { type = "string", default = "", help = "the package's published SHA-256, checked first" },
    md5 = { type = "string", default = "", help = "the package's published MD5, checked first" },
    codename = { type = "string", default = "",
                 help = "the phone's codename when it cannot be asked (it does not boot)" },
    backup_to = { type = "path",
                  help = "where the recipe writes a backup before a wiping flash (default: the one " ..
                         "droidfix takes before the step is used; without it, the run's folder)" },
    wait_s = { type = "number", default = 300,
               help = "how long to wait (seconds) for a phone that does not boot to show up in " ..
                      "fastboot once its button combination is shown" },
  },
  steps = {
    {
      id = "reflash",
      title = "Reflash the firmware",
      risk = "firmware",
      check = function(ctx)
        local pkg = check_package(ctx)
        ctx.scratch.pkg = pkg
        local codename, source = phone_codename(ctx)
        if codename and not contains(pkg.info.codenames, codename) then
          fail("this package is for %s, the phone is %s (%s): refusing it; nothing was changed.",
               table.concat(pkg.info.codenames, "/"), codename, source)
        end
        local model_names, model_id = model_codenames(ctx)
        if not codename and model_names then
          local any = false
          for _, c in ipairs(model_names) do any = any or contains(pkg.info.codenames, c) end
          if not any then
            fail("this package is for %s, and %s (--model) is %s: refusing it; nothing was " ..
                 "changed.", table.concat(pkg.info.codenames, "/"), model_id,
                 table.concat(model_names, "/"))
          end
        end
        if FASTBOOT_MODES[ctx.device.mode] then check_phone_in_bootloader(ctx, pkg) end
        local flashes = 0
        for _, a in ipairs(pkg.plan) do
          if a.op == "flash" and not a.conditional then flashes = flashes + 1 end
        end
        return true, string.format(
          "%s for %s (anti-rollback %d): %d images to write%s; erases %s",
          pkg.script_name, table.concat(pkg.info.codenames, "/"), pkg.anti, flashes,
          pkg.wipes and ", ALL USER DATA ERASED" or ", user data kept",
          #pkg.erased > 0 and table.concat(pkg.erased, ", ") or "nothing else")
      end,
      fix = function(ctx)
        local pkg = ctx.scratch.pkg
        local dev = ctx.device
        df.say("This writes %s to the phone and erases: %s.", pkg.script_name,
               #pkg.erased > 0 and table.concat(pkg.erased, ", ") or "nothing")
        if pkg.wipes then
          df.say("All apps, photos and files on the phone will be lost.")
        end
        local code = pkg.wipes and "ERASE" or "FLASH"
        local yes, msg = df.confirm_typed(string.format(
          "Flash %s (%s) to the phone%s? Type %s to go on",
          pkg.script_name, table.concat(pkg.info.codenames, "/"),
          pkg.wipes and " and ERASE all its data" or "", code), code)
        if not yes then
          fail("not confirmed (%s); nothing was changed.", msg or "the code was not typed")
        end

        local backup
        if pkg.wipes and ctx.backup and not ctx.params.backup_to then
          -- The runner backed the phone up before this step (ctx.backup,
          -- written and verified: the same /sdcard, apps and settings, and
          -- with root the apps' data and accounts); a second copy would
          -- only double the time and the disk it takes.
          backup = ctx.backup
          df.say("Backup: %s (taken before this step)", backup)
        elseif pkg.wipes and ADB_MODES[dev.mode] then
          local out = ctx.params.backup_to or (ctx.workdir .. "/backup-" .. dev.serial .. ".tar")
          df.step("Backing up the phone to %s", out)
          local r, bmsg = df.backup.create(dev, out, { folders = { "/sdcard" }, packages = true,
                                                       settings = true })
          if not r then fail("the backup failed (%s); nothing was changed.", bmsg) end
          df.say("Backup: %d files, %d bytes in %s", r.files, r.bytes, r.path)
          backup = r.path
        elseif pkg.wipes then
          df.say("The phone cannot be reached over ADB, so no backup can be taken first.")
        end

        if not FASTBOOT_MODES[dev.mode] or dev.mode == "fastbootd" then
          if ADB_MODES[dev.mode] or dev.mode == "fastbootd" then
            df.step("Restarting the phone into the bootloader")
            local ok, rmsg = dev:reboot("bootloader")
            if not ok then fail("cannot restart the phone into the bootloader: %s", rmsg) end
            ok, rmsg = dev:wait_for("bootloader", { timeout = 120 })
            if not ok then fail("the phone did not come back in the bootloader: %s", rmsg) end
          else
            -- the phone does not boot (or the run started without it): the
            -- person brings it into fastboot with the model's buttons
            local ok, imsg = df.instruct(dev, "fastboot", { timeout = ctx.params.wait_s })
            if not ok then fail("%s; nothing was flashed.", imsg) end
          end
        end
        check_phone_in_bootloader(ctx, pkg)

        local n = run_plan(ctx, pkg)
        df.step("Restarting the phone")
        local ok, rmsg = dev:reboot("system")
        if not ok then fail("flashed %d partitions, but the reboot failed: %s", n, rmsg) end
        return string.format("flashed %d partitions from %s (%s)%s", n, pkg.script_name,
                             pkg.wipes and "user data erased" or "user data kept",
                             backup and ("; put the data back with: droidfix run " ..
                                         "recipes/restore.lua --param archive=" .. backup) or "")
      end,
      verify = function(ctx)
        local ok, msg = ctx.device:wait_for("system", { timeout = 180 })
        if not ok then
          return false, "the phone did not start Android after the flash (" .. tostring(msg) .. ")"
        end
        local booted = ctx.device:getprop("sys.boot_completed")
        if booted ~= "1" then return false, "Android did not finish booting" end
        return true
      end,
    },
  },
}
