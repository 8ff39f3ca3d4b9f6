#!/usr/bin/python3
"""test_python_install.py -- the nninit Python package as users get it.

Run by ctest as `/usr/bin/python3 tests/test_python_install.py` with
NNINIT_BUILD_DIR and NNINIT_SOURCE_DIR; the package loads libnninit.so
through ctypes.CDLL (here and in the subprocesses, which inherit the
sanitizer build's preload).

  make install  `cmake --install` into a DESTDIR stages the package under
                <prefix>/NNINIT_PYTHON_SITE_DIR/nninit with _install.py; a fresh
                interpreter with only that directory on PYTHONPATH (no
                NNINIT_LIBRARY) loads the staged libnninit and fills the bytes
                the build tree's library fills.
  pip           `pip install --no-index --prefix P <copy of python/>` works
                offline (the in-tree backend requires nothing); the package
                then finds libnninit on the loader's path; the backend's wheel
                is reproducible and its RECORD hashes are right; the sdist
                builds.
  not found     without any library the import fails naming every place tried
                and NNINIT_LIBRARY; a library of another C API version is refused.
  ABI           the ctypes structs have the C structs' size and field offsets,
                and the pinned enum values are the headers' (compiled here with
                cc; skipped without a compiler).
  versions      pyproject.toml, nninit.__version__, the library and CMake agree.
"""
import base64
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

sys.dont_write_bytecode = True
SRC = os.environ.get("NNINIT_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(SRC, "build"))
os.environ["NNINIT_LIBRARY"] = os.path.join(BUILD, "libnninit.so")
sys.path.insert(0, os.path.join(SRC, "python"))

import numpy as np  # noqa: E402

import nninit  # noqa: E402
from nninit import _lib  # noqa: E402

PROBE = ("import nninit, numpy as np; x = np.empty((64, 32), np.float32); "
         "nninit.kaiming_normal_(x, nonlinearity='relu', seed=3, key='w'); "
         "print(nninit.library_path); print(x.tobytes().hex())")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NNINIT_LIBRARY", "NNINIT_BUILD_DIR", "NNINIT_SOURCE_DIR", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def tool_env(**extra):
    """For cmake, cc and pip: no sanitizer preload (they load nothing of ours)."""
    env = clean_env(**extra)
    env.pop("LD_PRELOAD", None)
    return env


def python(code, env, cwd):
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300)


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    raise AssertionError("%s not in CMakeCache.txt" % name)


def want_hex():
    x = np.empty((64, 32), np.float32)
    nninit.kaiming_normal_(x, nonlinearity="relu", seed=3, key="w")
    return x.tobytes().hex()


class Install(unittest.TestCase):
    def test_make_install_stages_a_working_package(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix = "/opt/nninit-pytest"
            env = tool_env(DESTDIR=os.path.join(tmp, "stage"))
            subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            root = os.path.join(tmp, "stage") + prefix
            site = cache_value("NNINIT_PYTHON_SITE_DIR")
            self.assertRegex(site, r"^lib/python3\.\d+/(site|dist)-packages$")
            pkg = os.path.join(root, site, "nninit")
            for f in ("__init__.py", "_lib.py", "init.py", "torch.py", "shard.py", "files.py", "layers.py",
                      "_install.py"):
                self.assertTrue(os.path.isfile(os.path.join(pkg, f)), f)
            self.assertFalse(os.path.exists(os.path.join(pkg, "__pycache__")))
            with open(os.path.join(pkg, "_install.py")) as f:
                self.assertIn('LIBDIR = "', f.read())
            r = python(PROBE, clean_env(PYTHONPATH=os.path.join(root, site)), tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            path, values = r.stdout.split()
            self.assertTrue(os.path.realpath(path).startswith(os.path.realpath(root)), path)
            self.assertEqual(values, want_hex())

    def test_pip_install_offline(self):
        if subprocess.run([sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=tool_env()).returncode:
            self.skipTest("pip is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            shutil.copytree(os.path.join(SRC, "python"), src, ignore=shutil.ignore_patterns("__pycache__"))
            pfx = os.path.join(tmp, "pfx")
            r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-cache-dir",
                                "--disable-pip-version-check", "--prefix", pfx, src], env=tool_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=600, cwd=tmp)
            self.assertEqual(r.returncode, 0, r.stdout)
            sites = [d for d, _, files in os.walk(pfx) if "__init__.py" in files and d.endswith("nninit")]
            self.assertEqual(len(sites), 1, sites)
            r = python(PROBE, clean_env(PYTHONPATH=os.path.dirname(sites[0]), LD_LIBRARY_PATH=BUILD), tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            path, values = r.stdout.split()
            self.assertEqual(path, "libnninit.so.0")  # the loader's search
            self.assertEqual(values, want_hex())

    def test_backend_wheel_and_sdist(self):
        sys.path.insert(0, os.path.join(SRC, "python", "_build"))
        try:
            import nninit_backend as be
        finally:
            sys.path.pop(0)
        self.assertEqual(be.get_requires_for_build_wheel(), [])
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            wa, wb = be.build_wheel(a), be.build_wheel(b)
            self.assertEqual(wa, "nninit-%s-py3-none-any.whl" % nninit.__version__)
            with open(os.path.join(a, wa), "rb") as fa, open(os.path.join(b, wb), "rb") as fb:
                self.assertEqual(fa.read(), fb.read())  # reproducible
            with zipfile.ZipFile(os.path.join(a, wa)) as z:
                names = z.namelist()
                self.assertIn("nninit/__init__.py", names)
                self.assertNotIn("nninit/_install.py", names)
                record = z.read("nninit-%s.dist-info/RECORD" % nninit.__version__).decode()
                for line in record.splitlines():
                    name, digest, size = line.rsplit(",", 2)
                    if not digest:
                        continue
                    data = z.read(name)
                    self.assertEqual(int(size), len(data), name)
                    want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                    self.assertEqual(digest, want, name)
                meta = z.read("nninit-%s.dist-info/METADATA" % nninit.__version__).decode()
                self.assertIn("Name: nninit\n", meta)
                self.assertIn("Requires-Dist: numpy\n", meta)
            sd = be.build_sdist(a)
            self.assertTrue(os.path.getsize(os.path.join(a, sd)) > 0)
            ed = be.build_editable(b)
            with zipfile.ZipFile(os.path.join(b, ed)) as z:
                self.assertEqual(z.read("nninit_editable.pth").decode().strip(), os.path.join(SRC, "python"))

    def test_no_library_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            pkg = os.path.join(tmp, "nninit")
            shutil.copytree(os.path.join(SRC, "python", "nninit"), pkg, ignore=shutil.ignore_patterns("__pycache__"))
            r = python("import nninit", clean_env(PYTHONPATH=tmp), tmp)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("ImportError: nninit: cannot load libnninit; set NNINIT_LIBRARY to its path. Tried:",
                          r.stderr)
            self.assertIn("(next to the package): absent", r.stderr)
            self.assertIn("libnninit.so.0 (the system library path)", r.stderr)
            r = python("import nninit", clean_env(PYTHONPATH=tmp, NNINIT_LIBRARY=os.path.join(tmp, "nope.so")), tmp)
            self.assertIn("nope.so (NNINIT_LIBRARY)", r.stderr)
            # a library that speaks another version of the C API
            with open(os.path.join(pkg, "_lib.py")) as f:
                text = f.read()
            with open(os.path.join(pkg, "_lib.py"), "w") as f:
                f.write(text.replace("ABI_MAJOR, ABI_MINOR = 0, 1", "ABI_MAJOR, ABI_MINOR = 7, 3"))
            r = python("import nninit", clean_env(PYTHONPATH=tmp, NNINIT_LIBRARY=os.path.join(BUILD, "libnninit.so")),
                       tmp)
            self.assertIn("this package speaks the C API 7.3", r.stderr)


ABI_C = r"""
#include <stddef.h>
#include <stdio.h>
#include <nninit.h>
#include <nninit_checkpoint.h>
#include <nninit_model.h>
#include <nninit_presets.h>
#define S(t) printf("%s size %zu\n", #t, sizeof(t))
#define O(t, f) printf("%s.%s %zu\n", #t, #f, offsetof(t, f))
#define V(c) printf("%s %d\n", #c, (int)(c))
int main(void) {
    S(nninit_tensor); O(nninit_tensor, shape); O(nninit_tensor, dtype); O(nninit_tensor, layout);
    O(nninit_tensor, in_axis); O(nninit_tensor, out_axis); O(nninit_tensor, groups); O(nninit_tensor, flags);
    S(nninit_spec); O(nninit_spec, value); O(nninit_spec, a); O(nninit_spec, b); O(nninit_spec, mean);
    O(nninit_spec, std); O(nninit_spec, gain); O(nninit_spec, slope); O(nninit_spec, mode);
    O(nninit_spec, nonlinearity); O(nninit_spec, scale); O(nninit_spec, distribution); O(nninit_spec, sparsity);
    O(nninit_spec, groups);
    S(nninit_info); O(nninit_info, has_fans); O(nninit_info, fan_in); O(nninit_info, variance);
    S(nninit_key); O(nninit_key, id);
    S(nninit_layer); O(nninit_layer, out); O(nninit_layer, kernel); O(nninit_layer, groups); O(nninit_layer, bias);
    O(nninit_layer, num_layers); O(nninit_layer, bidirectional); O(nninit_layer, proj_size);
    O(nninit_layer, padding_idx); O(nninit_layer, num_heads); O(nninit_layer, add_bias_kv); O(nninit_layer, dtype);
    S(nninit_param); O(nninit_param, tensor); O(nninit_param, spec); O(nninit_param, zero_row);
    S(nninit_st_tensor); O(nninit_st_tensor, dtype); O(nninit_st_tensor, ndim); O(nninit_st_tensor, shape);
    O(nninit_st_tensor, begin); O(nninit_st_tensor, end);
    S(nninit_st_meta); O(nninit_st_meta, value);
    S(nninit_st_index_entry); O(nninit_st_index_entry, file);
    S(nninit_model_tensor); O(nninit_model_tensor, tensor); O(nninit_model_tensor, spec); O(nninit_model_tensor, rule);
    O(nninit_model_tensor, padding_idx); O(nninit_model_tensor, init); O(nninit_model_tensor, dtype);
    O(nninit_model_tensor, fans_of);
    S(nninit_model_rule); O(nninit_model_rule, init); O(nninit_model_rule, source); O(nninit_model_rule, padding_idx);
    O(nninit_model_rule, uses); O(nninit_model_rule, fans_of);
    S(nninit_model_write_opts); O(nninit_model_write_opts, threads); O(nninit_model_write_opts, chunk_bytes);
    O(nninit_model_write_opts, progress); O(nninit_model_write_opts, progress_ctx); O(nninit_model_write_opts, sink);
    O(nninit_model_write_opts, sink_ctx); O(nninit_model_write_opts, part); O(nninit_model_write_opts, parts);
    V(NNINIT_MAX_DIMS); V(NNINIT_PARAM_NAME_MAX); V(NNINIT_ERR_FORMAT); V(NNINIT_ERR_DTYPE); V(NNINIT_ERR_IO);
    V(NNINIT_ERR_NOMEM); V(NNINIT_BF16); V(NNINIT_F16); V(NNINIT_LAYOUT_CUSTOM); V(NNINIT_ST_BOOL);
    V(NNINIT_ST_F8_E5M2); V(NNINIT_ST_DTYPE_COUNT); V(NNINIT_SCHEME_COUNT); V(NNINIT_KAIMING_UNIFORM);
    V(NNINIT_KAIMING_NORMAL); V(NNINIT_ORTHOGONAL); V(NNINIT_SPARSE); V(NNINIT_EYE); V(NNINIT_DIRAC);
    V(NNINIT_NL_COUNT);
    return 0;
}
"""


class Abi(unittest.TestCase):
    def test_structs_match_the_headers(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        with tempfile.TemporaryDirectory() as tmp:
            c = os.path.join(tmp, "abi.c")
            with open(c, "w") as f:
                f.write(ABI_C)
            exe = os.path.join(tmp, "abi")
            subprocess.run([cc, "-std=c11", "-I", os.path.join(SRC, "include"), c, "-o", exe], check=True,
                           env=tool_env())
            out = subprocess.run([exe], stdout=subprocess.PIPE, universal_newlines=True, check=True,
                                 env=tool_env()).stdout
        structs = {"nninit_tensor": _lib.Tensor, "nninit_spec": _lib.Spec, "nninit_info": _lib.Info,
                   "nninit_key": _lib.Key, "nninit_layer": _lib.Layer, "nninit_param": _lib.Param,
                   "nninit_st_tensor": _lib.StTensor, "nninit_st_meta": _lib.StMeta,
                   "nninit_st_index_entry": _lib.StIndexEntry, "nninit_model_tensor": _lib.ModelTensor,
                   "nninit_model_rule": _lib.ModelRule, "nninit_model_write_opts": _lib.ModelWriteOpts}
        consts = {"NNINIT_MAX_DIMS": _lib.MAX_DIMS, "NNINIT_PARAM_NAME_MAX": _lib.PARAM_NAME_MAX,
                  "NNINIT_ERR_FORMAT": _lib.ERR_FORMAT, "NNINIT_ERR_DTYPE": _lib.ERR_DTYPE,
                  "NNINIT_ERR_IO": _lib.ERR_IO, "NNINIT_ERR_NOMEM": _lib.ERR_NOMEM, "NNINIT_BF16": _lib.BF16,
                  "NNINIT_F16": _lib.F16, "NNINIT_LAYOUT_CUSTOM": _lib.LAYOUT_CUSTOM, "NNINIT_ST_BOOL": _lib.ST_BOOL,
                  "NNINIT_ST_F8_E5M2": _lib.ST_F8_E5M2, "NNINIT_ST_DTYPE_COUNT": _lib.ST_DTYPE_COUNT,
                  "NNINIT_SCHEME_COUNT": len(_lib.SCHEMES), "NNINIT_KAIMING_UNIFORM": 9, "NNINIT_KAIMING_NORMAL": 10,
                  "NNINIT_ORTHOGONAL": 14, "NNINIT_SPARSE": 15, "NNINIT_EYE": 16, "NNINIT_DIRAC": 17,
                  "NNINIT_NL_COUNT": len(nninit._core.NONLINEARITIES)}
        renames = {"in_": "in"}
        seen = 0
        for line in out.splitlines():
            key, value = line.rsplit(" ", 1)
            value = int(value)
            if key.endswith(" size"):
                self.assertEqual(ctypes.sizeof(structs[key[:-5]]), value, key)
            elif "." in key:
                s, f = key.split(".")
                py = {renames.get(n, n): getattr(structs[s], n).offset for n, _ in structs[s]._fields_}
                self.assertEqual(py[f], value, key)
            else:
                self.assertEqual(consts[key], value, key)
            seen += 1
        self.assertGreater(seen, 80)
        for i, name in enumerate(_lib.SCHEMES):
            self.assertEqual(_lib.lib.nninit_scheme_name(i).decode(), name)


class Versions(unittest.TestCase):
    def test_versions_agree(self):
        with open(os.path.join(SRC, "python", "pyproject.toml")) as f:
            py = re.search(r'^version = "(.*)"$', f.read(), re.M).group(1)
        with open(os.path.join(SRC, "CMakeLists.txt")) as f:
            cm = re.search(r"project\(nninit VERSION (\S+)", f.read()).group(1)
        self.assertEqual(py, nninit.__version__)
        self.assertEqual(cm, nninit.__version__)
        self.assertEqual(nninit.library_version(), nninit.__version__)
        self.assertIn(nninit.arch(), ("avx512bf16", "avx512", "avx2", "scalar", "portable"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
