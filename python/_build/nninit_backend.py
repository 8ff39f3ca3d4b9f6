"""A PEP 517 / PEP 660 build backend for the nninit package, in the tree
(pyproject.toml: backend-path), so that `pip install ./python` needs
nothing but pip: no setuptools, no download at build time. The package is
pure Python (ctypes); it finds the libnninit installed by `make install`.

The wheel is py3-none-any: nninit/*.py, and the metadata from
pyproject.toml's [project] table (name, version, description,
requires-python, dependencies). Entries are stored with a fixed timestamp,
so the same tree gives the same wheel bytes.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/
EPOCH = (1980, 1, 1, 0, 0, 0)


def _project():
    """[project] of pyproject.toml: tomllib where Python has it (3.11+), else
    the few plain `key = "value"` / `key = ["a", "b"]` lines this file uses."""
    path = os.path.join(HERE, "pyproject.toml")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        import tomllib
        return tomllib.loads(raw.decode("utf-8"))["project"]
    except ImportError:
        pass
    text = raw.decode("utf-8")
    body = text.split("[project]", 1)[1].split("\n[", 1)[0]
    out = {}
    for m in re.finditer(r'^(\w[\w-]*)\s*=\s*(".*?"|\[.*?\])\s*$', body, re.M | re.S):
        v = m.group(2)
        out[m.group(1)] = re.findall(r'"(.*?)"', v) if v.startswith("[") else v[1:-1]
    return out


def _meta():
    p = _project()
    name, version = p["name"], p["version"]
    lines = ["Metadata-Version: 2.1", "Name: " + name, "Version: " + version]
    if p.get("description"):
        lines.append("Summary: " + p["description"])
    if p.get("requires-python"):
        lines.append("Requires-Python: " + p["requires-python"])
    for d in p.get("dependencies", []):
        lines.append("Requires-Dist: " + d)
    readme = os.path.join(HERE, "README.md")
    body = ""
    if os.path.exists(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = "\n" + f.read()
    return name, version, "\n".join(lines) + "\n" + body


def _package_files():
    pkg = os.path.join(HERE, "nninit")
    out = []
    for fn in sorted(os.listdir(pkg)):
        # _install.py is written by `make install` only, for its own tree
        if fn.endswith(".py") and fn != "_install.py":
            out.append(("nninit/" + fn, os.path.join(pkg, fn)))
    return out


def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(wheel_directory, files):
    """files: [(archive name, bytes)]; returns the wheel's file name."""
    name, version, meta = _meta()
    dist = "%s-%s.dist-info" % (name, version)
    files = list(files) + [
        (dist + "/METADATA", meta.encode("utf-8")),
        (dist + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: nninit_backend\nRoot-Is-Purelib: true\n"
                          b"Tag: py3-none-any\n"),
    ]
    record = "".join("%s,%s,%d\n" % (n, _digest(d), len(d)) for n, d in files) + dist + "/RECORD,,\n"
    files.append((dist + "/RECORD", record.encode("utf-8")))
    whl = "%s-%s-py3-none-any.whl" % (name, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, whl), "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files:
            info = zipfile.ZipInfo(n, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, d)
    return whl


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name, version, meta = _meta()
    dist = "%s-%s.dist-info" % (name, version)
    os.makedirs(os.path.join(metadata_directory, dist), exist_ok=True)
    with open(os.path.join(metadata_directory, dist, "METADATA"), "w", encoding="utf-8") as f:
        f.write(meta)
    return dist


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, [(n, _read(p)) for n, p in _package_files()])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A .pth naming this directory: the package is imported from the tree.
    return _wheel(wheel_directory, [("nninit_editable.pth", (HERE + "\n").encode("utf-8"))])


def build_sdist(sdist_directory, config_settings=None):
    name, version, meta = _meta()
    base = "%s-%s" % (name, version)
    members = [("PKG-INFO", meta.encode("utf-8")), ("pyproject.toml", _read(os.path.join(HERE, "pyproject.toml"))),
               ("_build/nninit_backend.py", _read(os.path.abspath(__file__)))]
    if os.path.exists(os.path.join(HERE, "README.md")):
        members.append(("README.md", _read(os.path.join(HERE, "README.md"))))
    members += [(n, _read(p)) for n, p in _package_files()]
    out = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, out), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for n, d in members:
            info = tarfile.TarInfo(base + "/" + n)
            info.size, info.mode, info.mtime = len(d), 0o644, 315532800
            t.addfile(info, io.BytesIO(d))
    return out
