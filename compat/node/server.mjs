// Starts `kustard serve` for the tests: builds the binary from this checkout (or takes
// $KUSTARD_BIN), starts it on a free loopback port with --deterministic, and reads the URL it
// prints. stop() ends it with SIGTERM, then SIGKILL if it has not exited within a few seconds,
// so a hung server cannot hold the test run.
import { spawn, execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const repoRoot = resolve(import.meta.dirname, "../..");
const startTimeoutMs = 15_000;
const stopTimeoutMs = 5_000;

/** buildBinary builds kustard from this checkout (or takes $KUSTARD_BIN); cleanup removes it. */
export async function buildBinary() {
  if (process.env.KUSTARD_BIN) {
    return { bin: process.env.KUSTARD_BIN, cleanup: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), "kustard-node-"));
  const bin = join(dir, "kustard");
  await promisify(execFile)("go", ["build", "-o", bin, "./cmd/kustard"], { cwd: repoRoot, timeout: 300_000 });
  return { bin, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function startServer(...flags) {
  const { bin, cleanup } = await buildBinary();
  const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--deterministic", ...flags], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));

  const url = await new Promise((res, rej) => {
    let out = "";
    const timer = setTimeout(() => rej(new Error(`kustard serve printed no URL within ${startTimeoutMs} ms; stderr: ${stderr}`)), startTimeoutMs);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /serves Kusto's REST API at (http\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`kustard serve exited (${code ?? signal}) before printing its URL; stderr: ${stderr}`));
    });
  });

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
      const result = await exited;
      clearTimeout(timer);
      await cleanup();
      return { ...result, stderr };
    }
    await cleanup();
    return { ...(await exited), stderr };
  }
  return { url, stop };
}
