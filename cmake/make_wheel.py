"""Writes the Python package as a pure-Python wheel, with the standard library only (run by
`cmake --install`, after diffevent/_install.py is written): PREFIX/share/diffevent/python/
diffevent-VERSION-py3-none-any.whl installs with pip, offline, without building anything and
without writing into the install.
Usage: python3 make_wheel.py PACKAGE_DIR README OUT_DIR VERSION"""
import base64
import hashlib
import os
import sys
import zipfile


def main(package_dir, readme, out_dir, version):
    name = "diffevent"
    dist_info = f"{name}-{version}.dist-info"
    files = []
    for entry in sorted(os.listdir(package_dir)):
        if entry.endswith(".py"):
            with open(os.path.join(package_dir, entry), "rb") as f:
                files.append((f"{name}/{entry}", f.read()))
    with open(readme, encoding="utf-8") as f:
        description = f.read()
    metadata = ("Metadata-Version: 2.1\n"
                f"Name: {name}\n"
                f"Version: {version}\n"
                "Summary: Event-guided image deblurring (EDI, DiffEvent) over the diffevent C library\n"
                "License: Apache-2.0\n"
                "Requires-Python: >=3.8\n"
                "Requires-Dist: numpy\n"
                "Description-Content-Type: text/markdown\n\n" + description)
    wheel = "Wheel-Version: 1.0\nGenerator: diffevent\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files += [(f"{dist_info}/METADATA", metadata.encode()), (f"{dist_info}/WHEEL", wheel.encode())]
    record = []
    for path, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    out = os.path.join(out_dir, f"{name}-{version}-py3-none-any.whl")
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    os.replace(tmp, out)
    print(f"-- Installing: {out}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
