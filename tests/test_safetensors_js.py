#!/usr/bin/python3
"""nninit checkpoints through the Hugging Face JavaScript safetensors parser.

Run by ctest as `/usr/bin/python3 tests/test_safetensors_js.py` with
NNINIT_CLI (the nninit binary), NNINIT_BUILD_DIR and NNINIT_SOURCE_DIR.

The parser is parseSafetensorsMetadata of the npm package @huggingface/hub,
at the exact version pinned in tests/js/package.json and locked by
tests/js/package-lock.json. It is installed with `npm ci` into
$NNINIT_BUILD_DIR/safetensors-js (the source tree is left alone) and reused
while node_modules matches the lock. tests/js/parse_safetensors.mjs drives it.

The parser reads a Hub repository over HTTP. Here a Python http.server on
127.0.0.1 (a free port) plays the Hub for the checkpoints the CLI writes,
single files and shards with model.safetensors.index.json, in f32, bf16,
f16 and mixed dtypes. It answers what the package's source
(dist/ of the package: parseSafetensorsMetadata, fileExists, fileDownloadInfo,
WebBlob) asks for:
  HEAD /<repo>/raw/<rev>/<file>                 is there a model.safetensors,
                                                else a model.safetensors.index.json
                                                (only when no path is given)
  GET  /<repo>/resolve/<rev>/<file>, Range: bytes=0-0
                                                the size (Content-Range) and ETag;
                                                404 + X-Error-Code: EntryNotFound
                                                is "no such file" (config.json here)
  GET  .../<file>.safetensors, Range: bytes=0-7 the header length
  GET  .../<file>.safetensors, Range: bytes=8-(8+N-1)
                                                the header JSON
  GET  .../model.safetensors.index.json         the whole index (streamed parse)
The script hands the parser hubUrl = that server and a fetch that refuses any
other address, so the test runs offline. Every fetch is recorded and checked:
only header bytes of a .safetensors file are ever requested.

What the parser returns is compared with what this test reads itself from
each file (8-byte little-endian length, then the JSON header): tensor names
in order, dtypes, shapes, data_offsets, __metadata__ with the "nninit"
manifest string, and for shards the index's metadata (total_size) and
weight_map, the shard list, each shard's header; the parameter counts per
dtype it computes against the shapes. Damaged files (bad JSON, bad length,
bad shape, bad offsets, truncated data, an unsafe or missing shard) must make
it throw, and every comparison is run once against altered expectations,
where it must fail.

Without node (>= 18) or npm, or without the npm registry for the first
install, the test is skipped (exit 77) -- unless CI=true, where that is a
failure.
"""
import copy
import hashlib
import http.server
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NNINIT_SOURCE_DIR", os.path.dirname(HERE))
BUILD = os.environ.get("NNINIT_BUILD_DIR", os.path.join(SOURCE, "build"))
CLI = os.environ.get("NNINIT_CLI", os.path.join(BUILD, "nninit"))
IN_CI = os.environ.get("CI") == "true"
JS_SRC = os.path.join(SOURCE, "tests", "js")
JS_FILES = ("package.json", "package-lock.json", "parse_safetensors.mjs")
INSTALL = os.path.join(BUILD, "safetensors-js")
PACKAGE = "@huggingface/hub"
STAMP = os.path.join("node_modules", ".nninit-npm-ci")
NODE_MIN = 18
NETWORK_ERRORS = re.compile(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|"
                            r"ERR_SOCKET_TIMEOUT|network|request to \S+ failed|getaddrinfo", re.I)

NODE = None        # path of node, once prepare() found it
PINNED = None      # the version tests/js/package.json pins


def unavailable(why):
    """No node, npm or registry: a skip outside CI, a failure under CI=true."""
    if IN_CI:
        print(f"FAIL: {why} (CI=true: the JavaScript parser must be available)", file=sys.stderr)
        sys.exit(1)
    print(f"SKIP: {why}", file=sys.stderr)
    sys.exit(SKIP)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def node_major(node):
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"v(\d+)\.", out)
    return int(m.group(1)) if m else None


def prepare():
    """Finds node, installs the pinned package under the build dir (npm ci) unless
    node_modules there already matches the lock; returns the path of node."""
    global PINNED
    pj = json.loads(read_bytes(os.path.join(JS_SRC, "package.json")))
    PINNED = pj["dependencies"][PACKAGE]
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed (scripts/install-deps.sh installs Debian's nodejs)")
    major = node_major(node)
    if major is None or major < NODE_MIN:
        unavailable(f"{node} is not Node.js >= {NODE_MIN} ({PACKAGE} needs it)")
    os.makedirs(INSTALL, exist_ok=True)
    for name in JS_FILES:
        src, dst = os.path.join(JS_SRC, name), os.path.join(INSTALL, name)
        if not os.path.exists(dst) or read_bytes(dst) != read_bytes(src):
            shutil.copyfile(src, dst)
    digest = hashlib.sha256(read_bytes(os.path.join(JS_SRC, "package.json")) + b"\0" +
                            read_bytes(os.path.join(JS_SRC, "package-lock.json"))).hexdigest()
    stamp = os.path.join(INSTALL, STAMP)
    installed = os.path.join(INSTALL, "node_modules", *PACKAGE.split("/"), "package.json")
    if (os.path.exists(stamp) and read_bytes(stamp).decode() == digest and os.path.exists(installed)
            and json.loads(read_bytes(installed)).get("version") == PINNED):
        print(f"{PACKAGE}@{PINNED}: cached in {INSTALL}", file=sys.stderr)
        return node
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed (scripts/install-deps.sh installs Debian's npm)")
    cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error",
           "--fetch-retries=1", "--fetch-timeout=30000"]
    print(f"{PACKAGE}@{PINNED}: {' '.join(cmd[1:])} in {INSTALL}", file=sys.stderr)
    try:
        r = subprocess.run(cmd, cwd=INSTALL, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        unavailable("npm ci took over 600 s (is the npm registry reachable?)")
    if r.returncode != 0:
        out = (r.stdout + r.stderr).strip()
        if NETWORK_ERRORS.search(out):
            unavailable(f"npm ci could not reach the npm registry:\n{out[-2000:]}")
        print(f"FAIL: npm ci exited {r.returncode}:\n{out[-4000:]}", file=sys.stderr)
        sys.exit(1)
    with open(stamp, "w") as f:
        f.write(digest)
    return node


# --- the format, read here ---------------------------------------------------------------

def read_header(path):
    """The header of a .safetensors file as the format defines it, checked: (header dict in
    file order, header length N). Data must be contiguous from 0 to the end of the file."""
    b = read_bytes(path)
    assert len(b) >= 8, path
    (n,) = struct.unpack("<Q", b[:8])
    assert 0 < n <= len(b) - 8, (path, n)
    text = b[8:8 + n].decode("utf-8")
    assert text.startswith("{") and text.rstrip(" ").endswith("}"), path
    header = json.loads(text)
    pos = 0
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        assert begin == pos and end >= begin, (path, name, e)
        pos = end
    assert 8 + n + pos == len(b), (path, 8 + n + pos, len(b))
    return header, n


def tensors_of(header):
    return [k for k in header if k != "__metadata__"]


def param_counts(headers):
    counts = {}
    for h in headers:
        for name in tensors_of(h):
            e = h[name]
            elems = 1
            for d in e["shape"]:
                elems *= d
            counts[e["dtype"]] = counts.get(e["dtype"], 0) + elems
    return counts


def expect_single(root, path):
    header, n = read_header(os.path.join(root, path))
    return {"sharded": False, "path": path, "header": header, "header_len": {path: n}}


def expect_sharded(root, path):
    index = json.loads(read_bytes(os.path.join(root, path)))
    prefix = path[:path.rfind("/") + 1]
    shards = list(dict.fromkeys(index["weight_map"].values()))
    headers, lens = {}, {}
    for s in shards:
        headers[s], lens[prefix + s] = read_header(os.path.join(root, prefix + s))
    # The index against the shards it names, before the parser is asked.
    for name, s in index["weight_map"].items():
        assert name in headers[s], (name, s)
    assert sorted(index["weight_map"]) == sorted(t for h in headers.values() for t in tensors_of(h))
    data = sum(h[t]["data_offsets"][1] - h[t]["data_offsets"][0] for h in headers.values() for t in tensors_of(h))
    assert index["metadata"]["total_size"] == data, (index["metadata"], data)
    return {"sharded": True, "path": path, "index": index, "headers": headers, "header_len": lens}


# --- comparisons: each raises AssertionError on the first difference ----------------------

def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: parser says {json.dumps(got)[:300]}, file says {json.dumps(want)[:300]}")


def check_header(got, want, what):
    eq(type(got).__name__, "dict", f"{what}: header type")
    eq(list(got), list(want), f"{what}: header keys in order")
    for name in tensors_of(want):
        g, w = got[name], want[name]
        eq(sorted(g), sorted(w), f"{what}: {name} fields")
        eq(g["dtype"], w["dtype"], f"{what}: {name} dtype")
        eq(g["shape"], w["shape"], f"{what}: {name} shape")
        eq(g["data_offsets"], w["data_offsets"], f"{what}: {name} data_offsets")
    gm, wm = got.get("__metadata__"), want.get("__metadata__")
    eq(gm, wm, f"{what}: __metadata__")
    if wm is not None:
        eq(gm.get("format"), "pt", f"{what}: __metadata__.format")
        eq(gm["nninit"], wm["nninit"], f"{what}: the nninit manifest string")
        manifest = json.loads(gm["nninit"])
        eq(list(manifest["tensors"]), tensors_of(want), f"{what}: the manifest's tensors")
    eq(got, want, f"{what}: header")


def check_counts(value, headers, metadata, what):
    counts = param_counts(headers)
    eq(value.get("parameterCount"), counts, f"{what}: parameterCount by dtype")
    total = (metadata or {}).get("total_parameters")
    if total is None:
        eq("parameterTotal" in value, False, f"{what}: parameterTotal (no total_parameters in the file)")
    else:
        eq(value.get("parameterTotal"), min(int(total), sum(counts.values())), f"{what}: parameterTotal")


def check_result(value, want, what):
    eq(value.get("sharded"), want["sharded"], f"{what}: sharded")
    if not want["sharded"]:
        check_header(value["header"], want["header"], what)
        check_counts(value, [want["header"]], want["header"].get("__metadata__"), what)
        eq(value.get("filepaths"), [want["path"]], f"{what}: filepaths")
        return
    index = value["index"]
    eq(sorted(index), sorted(k for k in ("dtype", "metadata", "weight_map") if want["index"].get(k) is not None),
       f"{what}: index fields")
    eq(index.get("metadata"), want["index"]["metadata"], f"{what}: index metadata")
    eq(index["metadata"]["total_size"], want["index"]["metadata"]["total_size"], f"{what}: index total_size")
    eq(list(index["weight_map"].items()), list(want["index"]["weight_map"].items()), f"{what}: weight_map")
    eq(list(value["headers"]), list(want["headers"]), f"{what}: shards")
    for s, h in want["headers"].items():
        check_header(value["headers"].get(s), h, f"{what} {s}")
    check_counts(value, list(want["headers"].values()), want["index"].get("metadata"), what)
    prefix = want["path"][:want["path"].rfind("/") + 1]
    eq(value.get("filepaths"), [want["path"]] + [prefix + s for s in want["headers"]], f"{what}: filepaths")


def check_requests(requests, hub, repo, want, what):
    """Every request stays on the test Hub and in the repository; of a .safetensors file
    only header bytes are requested, each by a Range, and each header is read."""
    base = f"{hub}/{repo}/"
    read = {p: set() for p in want["header_len"]}
    for r in requests:
        url = r["url"]
        if not url.startswith(base):
            raise AssertionError(f"{what}: request outside {base}: {r}")
        kind, rev, file = urllib.parse.urlsplit(url).path[len(f"/{repo}/"):].split("/", 2)
        file = urllib.parse.unquote(file)
        if r["method"] == "HEAD":
            eq(kind, "raw", f"{what}: HEAD endpoint")
            continue
        eq((r["method"], kind), ("GET", "resolve"), f"{what}: {url}")
        if file.endswith(".safetensors"):
            m = re.fullmatch(r"bytes=(\d+)-(\d+)", r["range"] or "")
            if not m:
                raise AssertionError(f"{what}: {file} fetched without a byte range: {r}")
            begin, end = int(m.group(1)), int(m.group(2))
            if not begin <= end < 8 + want["header_len"][file]:
                raise AssertionError(f"{what}: {file} bytes {begin}-{end} reach past the header")
            read[file].add((begin, end))
    for file, n in want["header_len"].items():
        if (0, 7) not in read[file] or (8, 8 + n - 1) not in read[file]:
            raise AssertionError(f"{what}: {file}: header not read as bytes 0-7, 8-{8 + n - 1}: {read[file]}")


# --- the test Hub -----------------------------------------------------------------------

class Hub(http.server.ThreadingHTTPServer):
    """/<owner>/<name>/(resolve|raw)/<rev>/<path>: files of repos[(owner/name, rev)]."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.repos = {}
        self.log = []
        self.errors = []
        self.lock = threading.Lock()

    def handle_error(self, request, client_address):
        # node closing its kept-alive connections as it exits is not an error.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            with self.lock:
                self.errors.append(repr(exc))
            super().handle_error(request, client_address)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class HubHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=(), head=False):
        with self.server.lock:     # logged before the client can see the answer
            self.server.log.append({"job": self.headers.get("X-Nninit-Job"), "method": self.command,
                                    "path": self.path, "range": self.headers.get("Range"), "status": status})
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, status, code, head):
        body = json.dumps({"error": code}).encode()
        self.reply(status, body, [("Content-Type", "application/json"), ("X-Error-Code", code)], head)

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def serve(self, head):
        parts = urllib.parse.urlsplit(self.path).path.split("/")
        if len(parts) < 6 or parts[0] or parts[3] not in ("resolve", "raw"):
            return self.error(404, "RepoNotFound", head)
        repo, rev = f"{parts[1]}/{parts[2]}", urllib.parse.unquote(parts[4])
        segments = [urllib.parse.unquote(p) for p in parts[5:]]
        if not any(r == repo for r, _ in self.server.repos):
            return self.error(404, "RepoNotFound", head)
        root = self.server.repos.get((repo, rev))
        if root is None:
            return self.error(404, "RevisionNotFound", head)
        if any(s in ("", ".", "..") or "/" in s for s in segments):
            return self.error(400, "BadRequest", head)
        path = os.path.join(root, *segments)
        if not os.path.isfile(path):
            return self.error(404, "EntryNotFound", head)
        data = read_bytes(path)
        st = os.stat(path)
        headers = [("Content-Type", "application/json" if path.endswith(".json") else "application/octet-stream"),
                   ("ETag", f'"{st.st_size:x}-{st.st_mtime_ns:x}"'), ("Accept-Ranges", "bytes")]
        rng = self.headers.get("Range")
        if rng is None or head:
            return self.reply(200, data, headers, head)
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
        if not m:
            return self.error(400, "BadRange", head)   # one range only, as the Hub's LFS files
        begin = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
        if begin > end:
            return self.reply(416, b"", [("Content-Range", f"bytes */{len(data)}")])
        self.reply(206, data[begin:end + 1], headers + [("Content-Range", f"bytes {begin}-{end}/{len(data)}")])


# --- the checkpoints ----------------------------------------------------------------------

GPT2_SMALL = ["--set", "n_embd=128", "--set", "n_head=4", "--set", "vocab_size=1000", "--set", "n_positions=128"]
GPT2_MID = ["--set", "n_layer=4", "--set", "n_embd=384", "--set", "n_head=6", "--set", "vocab_size=2000",
            "--set", "n_positions=256"]
LLAMA_SMALL = ["--set", "dim=256", "--set", "n_layers=2", "--set", "n_heads=4", "--set", "n_kv_heads=2",
               "--set", "vocab_size=1000", "--set", "ffn_dim=688"]
MIXED_SPEC = {
    "format": "nninit-spec/1", "dtype": "bf16",
    "tensors": [{"name": "embed.weight", "shape": [300, 64], "layout": "embedding"},
                {"name": "proj.weight", "shape": [64, 64], "dtype": "f16"},
                {"name": "proj.bias", "shape": [64], "dtype": "f64"},
                {"name": "norm.weight", "shape": [64], "dtype": "f32"},
                {"name": "conv.weight", "shape": [8, 4, 3, 3]}],
    "rules": [{"match": "*norm.weight", "init": "ones"}, {"match": "*.bias", "init": "zeros"},
              {"match": "embed.weight", "init": "normal(std=0.02)", "padding_idx": 0},
              {"match": "*.weight", "init": "kaiming_uniform(a=2.23606797749979)"}],
}

# id: (repo, revision or None, CLI arguments, output path in the repo, path given to the
# parser or None (it looks for model.safetensors, then model.safetensors.index.json), the
# file that path resolves to, seed).
CASES = {
    "gpt2-f32": ("nninit/gpt2-f32", None, ["--recipe", "gpt2", "--set", "n_layer=2", *GPT2_SMALL],
                 "model.safetensors", None, "model.safetensors", "7"),
    "gpt2-bf16-sharded": ("nninit/gpt2-bf16-sharded", None,
                          ["--recipe", "gpt2", *GPT2_MID, "--set", "dtype=bf16", "--max-shard-size", "5MB"],
                          "model.safetensors", None, "model.safetensors.index.json", "18446744073709551615"),
    "gpt2-f16": ("nninit/gpt2-f16", "refs/pr/1", ["--recipe", "gpt2", "--set", "n_layer=1", *GPT2_SMALL,
                                                   "--dtype", "f16"],
                 "f16/model.safetensors", "f16/model.safetensors", "f16/model.safetensors", "1"),
    "llama-f16-sharded": ("nninit/llama-f16-sharded", "v1.0",
                          ["--recipe", "llama-hf", *LLAMA_SMALL, "--set", "dtype=f16", "--max-shard-size", "1MB"],
                          "weights/model.safetensors", "weights/model.safetensors.index.json",
                          "weights/model.safetensors.index.json", "3"),
    "mixed-dtypes": ("nninit/mixed-dtypes", None, ["--spec", "SPEC"], "model.safetensors", "model.safetensors",
                     "model.safetensors", "12345678901234567890"),
}

# Damaged copies of gpt2-f32 and gpt2-bf16-sharded: id -> (damage, what the error says).
BAD = {
    "bad-json": ("the header's first byte is not '{'", "not valid JSON"),
    "bad-zero-length": ("header length 0", "header is malformed"),
    "bad-huge-length": ("header length 2**40", "too big"),
    "bad-shape": ("a dimension of -1", "invalid dimension"),
    "bad-offsets": ("data_offsets [16, 8]", "invalid data_offsets"),
    "bad-truncated": ("the data cut to half, the last tensor ending past the file", "exceeds the file size"),
    "bad-shard-name": ("a weight_map entry ../model.safetensors", "Unsafe shard filename"),
    "bad-shard-missing": ("a weight_map entry naming no file", "failed to fetch safetensors header length"),
    "bad-index-json": ("the index cut in the middle", "Failed to parse file model.safetensors.index.json"),
}


def cli(*args):
    r = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError(f"nninit {' '.join(args)} exited {r.returncode}: {r.stderr}")


def rewrite_header(path, edit):
    """Re-encodes path's header after edit(header) (padding to 8), keeping the data."""
    b = read_bytes(path)
    (n,) = struct.unpack("<Q", b[:8])
    header = json.loads(b[8:8 + n])
    edit(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b[8 + n:])


def damage(bad_id, src_single, src_sharded, root):
    """Writes the damaged copy bad_id under root; returns the path to give the parser."""
    if bad_id.startswith("bad-shard") or bad_id == "bad-index-json":
        os.makedirs(root)
        for name in os.listdir(src_sharded):
            if name.endswith(".safetensors"):
                os.symlink(os.path.join(src_sharded, name), os.path.join(root, name))
        shutil.copyfile(os.path.join(src_sharded, "model.safetensors.index.json"),
                        os.path.join(root, "model.safetensors.index.json"))
        index_path = os.path.join(root, "model.safetensors.index.json")
        index = json.loads(read_bytes(index_path))
        last = list(index["weight_map"])[-1]
        if bad_id == "bad-index-json":
            text = read_bytes(index_path)
            with open(index_path, "wb") as f:
                f.write(text[:len(text) // 2])
            return "model.safetensors.index.json"
        index["weight_map"][last] = ("../model.safetensors" if bad_id == "bad-shard-name"
                                     else "model-00099-of-00099.safetensors")
        with open(index_path, "w") as f:
            json.dump(index, f, indent=2)
        return "model.safetensors.index.json"
    path = os.path.join(root, "model.safetensors")
    os.makedirs(root, exist_ok=True)
    shutil.copyfile(src_single, path)
    b = bytearray(read_bytes(path))
    if bad_id == "bad-json":
        b[8] = ord("x")
    elif bad_id == "bad-zero-length":
        b[:8] = struct.pack("<Q", 0)
    elif bad_id == "bad-huge-length":
        b[:8] = struct.pack("<Q", 2 ** 40)
    elif bad_id == "bad-truncated":
        (n,) = struct.unpack("<Q", b[:8])
        b = b[:8 + n + (len(b) - 8 - n) // 2]
        assert len(b) < len(read_bytes(src_single)) - 8 - n, "the cut must leave the last end past the file"
    if bad_id in ("bad-json", "bad-zero-length", "bad-huge-length", "bad-truncated"):
        with open(path, "wb") as f:
            f.write(b)
    elif bad_id == "bad-shape":
        rewrite_header(path, lambda h: h["h.0.attn.c_attn.weight"]["shape"].__setitem__(0, -1))
    elif bad_id == "bad-offsets":
        rewrite_header(path, lambda h: h["wpe.weight"].__setitem__("data_offsets", [16, 8]))
    return "model.safetensors"


class SafetensorsJs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="nninit-st-js-")
        tmp = cls.tmp.name
        spec = os.path.join(tmp, "spec.json")
        with open(spec, "w") as f:
            json.dump(MIXED_SPEC, f)
        cls.hub = Hub()
        cls.want, jobs = {}, []
        for cid, (repo, rev, args, out, path, resolved, seed) in CASES.items():
            root = os.path.join(tmp, cid)
            os.makedirs(os.path.dirname(os.path.join(root, out)), exist_ok=True)
            cli("checkpoint", *[spec if a == "SPEC" else a for a in args], "--seed", seed,
                "-o", os.path.join(root, out))
            cls.hub.repos[(repo, rev or "main")] = root
            cls.want[cid] = (expect_sharded if resolved.endswith(".index.json") else expect_single)(root, resolved)
            job = {"id": cid, "repo": repo}
            if path is not None:
                job["path"] = path
            if rev is not None:
                job["revision"] = rev
            jobs.append(job)
        for bad_id in BAD:
            root = os.path.join(tmp, bad_id)
            path = damage(bad_id, os.path.join(tmp, "gpt2-f32", "model.safetensors"),
                          os.path.join(tmp, "gpt2-bf16-sharded"), root)
            cls.hub.repos[(f"nninit/{bad_id}", "main")] = root
            jobs.append({"id": bad_id, "repo": f"nninit/{bad_id}", "path": path})
        # A repository with neither file: the parser says so.
        os.makedirs(os.path.join(tmp, "empty"))
        cls.hub.repos[("nninit/empty", "main")] = os.path.join(tmp, "empty")
        jobs.append({"id": "empty", "repo": "nninit/empty"})

        cls.thread = threading.Thread(target=cls.hub.serve_forever, daemon=True)
        cls.thread.start()
        r = subprocess.run([NODE, os.path.join(INSTALL, "parse_safetensors.mjs")],
                           input=json.dumps({"hubUrl": cls.hub.url, "jobs": jobs}),
                           capture_output=True, text=True, timeout=120, cwd=INSTALL)
        if r.returncode != 0:
            raise AssertionError(f"node exited {r.returncode}: {r.stderr}")
        out = json.loads(r.stdout)
        cls.package = out["package"]
        cls.results = out["results"]

    @classmethod
    def tearDownClass(cls):
        cls.hub.shutdown()
        cls.hub.server_close()
        cls.tmp.cleanup()

    def value(self, cid):
        res = self.results[cid]
        if not res["ok"]:
            self.fail(f"{cid}: the parser threw {res['name']}: {res['message']}")
        return res["value"]

    def test_package_is_the_pinned_one(self):
        self.assertRegex(PINNED, r"^\d+\.\d+\.\d+$", "tests/js/package.json must pin an exact version")
        lock = json.loads(read_bytes(os.path.join(JS_SRC, "package-lock.json")))
        self.assertEqual(lock["packages"][f"node_modules/{PACKAGE}"]["version"], PINNED)
        self.assertEqual(self.package, {"name": PACKAGE, "version": PINNED})

    def test_checkpoints(self):
        for cid, (repo, *_rest) in CASES.items():
            with self.subTest(cid):
                want = self.want[cid]
                check_result(self.value(cid), want, cid)
                check_requests(self.results[cid]["requests"], self.hub.url, repo, want, cid)

    def test_cases_cover(self):
        """Single and sharded files, every dtype nninit writes, a seed of all 64 bits."""
        dtypes, kinds = set(), set()
        for cid, want in self.want.items():
            headers = list(want["headers"].values()) if want["sharded"] else [want["header"]]
            dtypes |= set(param_counts(headers))
            kinds.add(want["sharded"])
            if want["sharded"]:
                self.assertGreaterEqual(len(want["headers"]), 3, cid)
        self.assertEqual(dtypes, {"F32", "F64", "BF16", "F16"})
        self.assertEqual(kinds, {False, True})
        seed = json.loads(self.want["gpt2-bf16-sharded"]["headers"]["model-00001-of-00004.safetensors"]
                          ["__metadata__"]["nninit"])["seed"]
        self.assertEqual(seed, "18446744073709551615")
        self.assertEqual(set(self.value("mixed-dtypes")["parameterCount"]), {"F32", "F64", "BF16", "F16"})

    def test_discovery_requests(self):
        """Without a path the parser asks (HEAD, /raw/) for model.safetensors, then the index."""
        heads = lambda cid: [urllib.parse.urlsplit(r["url"]).path for r in self.results[cid]["requests"]
                             if r["method"] == "HEAD"]
        self.assertEqual(heads("gpt2-f32"), ["/nninit/gpt2-f32/raw/main/model.safetensors"])
        raw = "/nninit/gpt2-bf16-sharded/raw/main/"
        self.assertEqual(heads("gpt2-bf16-sharded"), [raw + "model.safetensors", raw + "model.safetensors.index.json"])
        self.assertEqual(heads("gpt2-f16"), [])
        # A revision reaches every URL, percent-encoded; config.json is looked for at the root.
        for cid, rev, folder in (("llama-f16-sharded", "v1.0", "weights/"), ("gpt2-f16", "refs%2Fpr%2F1", "f16/")):
            base = f"{self.hub.url}/nninit/{cid}/resolve/{rev}/"
            urls = [r["url"] for r in self.results[cid]["requests"]]
            self.assertEqual(urls[0], base + "config.json")
            self.assertTrue(len(urls) > 3 and all(u.startswith(base + folder) for u in urls[1:]), urls)
        empty = self.results["empty"]
        self.assertFalse(empty["ok"])
        self.assertIn("does not seem to contain safetensors weights", empty["message"])

    def test_all_requests_went_through_the_scripts_fetch(self):
        """Every request the server answered came through the fetch given to the parser (it
        tags them), and for each checkpoint the two logs agree. (A damaged file's job may
        leave requests running after it threw: those are only counted as tagged.)"""
        self.assertEqual(self.hub.errors, [])
        self.assertEqual([e for e in self.hub.log if e["job"] not in self.results], [])
        refused = [q for r in self.results.values() for q in r["requests"] if q.get("status") == "refused"]
        self.assertEqual(refused, [])
        key = lambda e: (e["method"], e["path"], e["range"], e["status"])
        for cid in CASES:
            with self.subTest(cid):
                sent = [(q["method"], q["url"][len(self.hub.url):], q["range"], q["status"])
                        for q in self.results[cid]["requests"]]
                served = [key(e) for e in self.hub.log if e["job"] == cid]
                self.assertEqual(sorted(map(repr, sent)), sorted(map(repr, served)))

    def test_damaged_files_throw(self):
        for bad_id, (what, message) in BAD.items():
            with self.subTest(bad_id, damage=what):
                res = self.results[bad_id]
                self.assertFalse(res["ok"], f"{bad_id} ({what}) parsed: {json.dumps(res.get('value'))[:300]}")
                self.assertEqual(res["name"], "SafetensorParseError", res["message"])
                self.assertIn(message, res["message"])

    def test_comparisons_can_fail(self):
        """Each comparison, against expectations altered one way at a time, must fail."""
        single, sharded = self.want["gpt2-f32"], self.want["gpt2-bf16-sharded"]
        first = "model-00001-of-00004.safetensors"

        def manifest(w, h):
            h["__metadata__"]["nninit"] = h["__metadata__"]["nninit"].replace('"seed":"', '"seed":"1', 1)

        def rename(w, h):
            t = tensors_of(h)[0]
            h[t + ".x"] = h.pop(t)

        def swap(w, h):
            items = list(h.items())
            a, b = (list(h).index(t) for t in tensors_of(h)[:2])
            items[a], items[b] = items[b], items[a]
            h.clear()
            h.update(items)

        def total(w, h):
            w["index"]["metadata"]["total_size"] += 2

        def weight_map(w, h):
            wm = w["index"]["weight_map"]
            wm["wte.weight"] = "model-00002-of-00004.safetensors"

        def weight_map_order(w, h):
            wm = w["index"]["weight_map"]
            k = next(iter(wm))
            wm[k] = wm.pop(k)

        def param_total(w, h):
            h["__metadata__"]["total_parameters"] = "1"

        def offsets(w, h):
            t = tensors_of(h)[1]
            h[t]["data_offsets"] = [h[t]["data_offsets"][0], h[t]["data_offsets"][1] + 1]

        mutations = {
            "tensor dtype": lambda w, h: h[tensors_of(h)[0]].__setitem__("dtype", "I8"),
            "tensor shape": lambda w, h: h[tensors_of(h)[0]].__setitem__("shape", h[tensors_of(h)[0]]["shape"] + [1]),
            "data_offsets": offsets,
            "tensor name": rename,
            "tensor order": swap,
            "tensor dropped": lambda w, h: h.pop(tensors_of(h)[-1]),
            "manifest string": manifest,
            "metadata format": lambda w, h: h["__metadata__"].__setitem__("format", "np"),
            "metadata key": lambda w, h: h["__metadata__"].__setitem__("extra", "1"),
            "total_parameters": param_total,
            "filepaths": lambda w, h: w.__setitem__("path", "./" + w["path"]),
            "sharded flag": lambda w, h: w.__setitem__("sharded", not w["sharded"]),
        }
        sharded_only = {"index total_size": total, "weight_map entry": weight_map,
                        "weight_map order": weight_map_order,
                        "shard dropped": lambda w, h: w["headers"].pop(list(w["headers"])[-1])}
        for cid, want, pick in (("gpt2-f32", single, lambda w: w["header"]),
                                ("gpt2-bf16-sharded", sharded, lambda w: w["headers"][first])):
            value = self.value(cid)
            check_result(value, want, cid)            # unaltered: passes
            for label, mutate in {**mutations, **(sharded_only if want["sharded"] else {})}.items():
                with self.subTest(cid, alteration=label):
                    w = copy.deepcopy(want)
                    mutate(w, pick(w))
                    with self.assertRaises(AssertionError):
                        check_result(value, w, cid)
        # The request check, too: a header length one byte shorter than the parser read.
        w = copy.deepcopy(single)
        w["header_len"]["model.safetensors"] -= 1
        with self.assertRaises(AssertionError):
            check_requests(self.results["gpt2-f32"]["requests"], self.hub.url, "nninit/gpt2-f32", w, "gpt2-f32")

    def test_report(self):
        """Prints what the parser asked the server for (ctest -V shows it)."""
        print(f"\n{self.package['name']}@{self.package['version']}, hub {self.hub.url}", file=sys.stderr)
        for cid in CASES:
            reqs = self.results[cid]["requests"]
            kinds = {}
            for r in reqs:
                path = urllib.parse.unquote(urllib.parse.urlsplit(r["url"]).path)
                name = re.sub(r"-\d{5}-of-", "-NNNNN-of-", os.path.basename(path))
                key = (r["method"], path.split("/")[3], name, r["range"] is not None, r["status"])
                kinds[key] = kinds.get(key, 0) + 1
            print(f"  {cid}: {len(reqs)} requests", file=sys.stderr)
            for (m, ep, f, rg, st), n in kinds.items():
                print(f"    {n:3d} x {m:4s} /{ep}/ {f}{' (Range)' if rg else ''} -> {st}", file=sys.stderr)


if __name__ == "__main__":
    NODE = prepare()
    unittest.main(verbosity=2)
