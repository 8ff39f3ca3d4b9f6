// Reads nninit checkpoints through @huggingface/hub's parseSafetensorsMetadata,
// for tests/test_safetensors_js.py, which serves them on a localhost Hub.
//
// stdin: {"hubUrl": "http://127.0.0.1:PORT", "jobs": [{"id", "repo", "path"?,
//         "revision"?, "computeParametersCount"?}]}
// stdout: one JSON object {"package": {name, version}, "results": {ID: ...}}
// where each result is {"ok": true, "value": <what the parser returned>,
// "requests": [...]} or {"ok": false, "name", "message", "requests"}.
// "requests" lists every fetch the parser made for that job: method, URL,
// Range header, status; each carries an X-Nninit-Job header with the job's
// id, for the server's log. A fetch to anything but hubUrl throws: the parser
// never reaches the network.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseSafetensorsMetadata } from "@huggingface/hub";

// The package exports no ./package.json: find it from its entry point (dist/).
const entry = createRequire(import.meta.url).resolve("@huggingface/hub");
const pkg = JSON.parse(readFileSync(join(dirname(dirname(entry)), "package.json"), "utf8"));

const input = JSON.parse(readFileSync(0, "utf8"));
const hubUrl = input.hubUrl;
const results = {};

for (const job of input.jobs) {
  const requests = [];
  const localFetch = async (url, init = {}) => {
    const href = typeof url === "string" ? url : url.href ?? url.url;
    const headers = new Headers(init.headers ?? {});
    const entry = { method: init.method ?? "GET", url: href, range: headers.get("range") };
    requests.push(entry);
    if (!href.startsWith(hubUrl + "/")) {
      entry.status = "refused";
      throw new Error(`fetch outside the test Hub refused: ${href}`);
    }
    headers.set("X-Nninit-Job", job.id);
    const resp = await fetch(url, { ...init, headers });
    entry.status = resp.status;
    return resp;
  };
  const params = {
    repo: job.repo,
    hubUrl,
    fetch: localFetch,
    computeParametersCount: job.computeParametersCount ?? true,
  };
  if (job.path !== undefined) params.path = job.path;
  if (job.revision !== undefined) params.revision = job.revision;
  try {
    const value = await parseSafetensorsMetadata(params);
    results[job.id] = { ok: true, value, requests };
  } catch (err) {
    results[job.id] = { ok: false, name: err?.name ?? typeof err, message: String(err?.message ?? err), requests };
  }
}

process.stdout.write(JSON.stringify({ package: { name: pkg.name, version: pkg.version }, results }) + "\n");
