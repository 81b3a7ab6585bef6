// End-to-end: Microsoft's Node ingest SDK (azure-kusto-ingest) against a real `kustard serve`:
// the streaming and managed streaming clients ingest CSV and JSON (with a mapping) through
// POST /v1/rest/ingest/{db}/{table}, azure-kusto-data reads the rows back, `.ingest inline` and
// `.ingest into` run through the SDK under --ingest-root, and the queued client, which needs a
// data-management service Kustard does not run, fails with the server's refusal.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { Client } from "azure-kusto-data";
import { DataFormat, IngestClient, ManagedStreamingIngestClient, StreamingIngestClient } from "azure-kusto-ingest";
import { startServer } from "./server.mjs";

const db = "NetDefaultDB";
const timeout = 60_000;

let server;
let client;
let root;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "kustard-ingest-root-"));
  await writeFile(join(root, "events.csv"), "10,from a file\n11,from a file too\n");
  server = await startServer("--shutdown-grace", "1s", "--ingest-root", root);
  client = new Client(server.url);
  for (const cmd of [
    ".create table Events (Id:long, Name:string)",
    ".create table Logs (Timestamp:datetime, Level:string, EventText:string)",
    `.create table Logs ingestion json mapping "mylogmapping" '[{"column":"Timestamp","path":"$.Timestamp"},{"column":"Level","path":"$.Level"},{"column":"EventText","path":"$.EventText"}]'`,
    ".create table Closed (Id:long)",
    // Every streaming setup runs these (ingest-data-streaming.md).
    ".alter table Events policy streamingingestion enable",
    ".alter table Logs policy streamingingestion enable",
  ]) {
    await client.executeMgmt(db, cmd);
  }
});

after(async () => {
  client?.close();
  if (server) {
    const { code, signal, stderr } = await server.stop();
    assert.equal(code, 0, `kustard serve exited with ${code ?? signal}; stderr: ${stderr}`);
  }
  if (root) await rm(root, { recursive: true, force: true });
});

/** query runs a query and returns its rows as arrays. */
async function query(text) {
  const res = await client.execute(db, text);
  return [...res.primaryResults[0].rows()].map((r) => r.toJSON());
}

const logsJSON =
  '{"Timestamp":"2018-11-14 11:34","Level":"Info","EventText":"Nothing Happened"}\n' +
  '{"Timestamp":"2018-11-14 11:35","Level":"Error","EventText":"Something Happened"}\n';

describe("azure-kusto-ingest against kustard serve", { timeout }, () => {
  test("StreamingIngestClient ingests CSV, and the rows read back", async () => {
    const ingest = new StreamingIngestClient(server.url);
    try {
      await ingest.ingestFromStream(Readable.from(["1,one\n2,\"two, quoted\"\n"]), { database: db, table: "Events", format: DataFormat.CSV });
    } finally {
      ingest.close();
    }
    const got = await query("Events | where Id < 10 | order by Id asc");
    assert.deepEqual(got, [
      { Id: 1, Name: "one" },
      { Id: 2, Name: "two, quoted" },
    ]);
  });

  test("StreamingIngestClient ingests JSON with a mapping by name", async () => {
    const ingest = new StreamingIngestClient(server.url);
    try {
      await ingest.ingestFromStream(Readable.from([logsJSON]), {
        database: db, table: "Logs", format: DataFormat.JSON, ingestionMappingReference: "mylogmapping",
      });
    } finally {
      ingest.close();
    }
    const got = await query("Logs | where EventText endswith 'Happened' | order by Timestamp asc | project Level, EventText");
    assert.deepEqual(got, [
      { Level: "Info", EventText: "Nothing Happened" },
      { Level: "Error", EventText: "Something Happened" },
    ]);
  });

  test("ManagedStreamingIngestClient streams CSV and JSON (small data goes by streaming)", async () => {
    const ingest = new ManagedStreamingIngestClient(server.url, server.url);
    try {
      await ingest.ingestFromStream(Readable.from([Buffer.from("3,managed\n")]), { database: db, table: "Events", format: DataFormat.CSV });
      await ingest.ingestFromStream(Readable.from([Buffer.from('{"Timestamp":"2020-01-01","Level":"Warning","EventText":"managed"}\n')]), {
        database: db, table: "Logs", format: DataFormat.JSON, ingestionMappingReference: "mylogmapping",
      });
    } finally {
      ingest.close();
    }
    assert.deepEqual(await query("Events | where Name == 'managed' | project Id"), [{ Id: 3 }]);
    assert.deepEqual(await query("Logs | where EventText == 'managed' | project Level"), [{ Level: "Warning" }]);
  });

  test("bad data is refused permanently, with the server's message", async () => {
    const ingest = new StreamingIngestClient(server.url);
    try {
      await assert.rejects(
        ingest.ingestFromStream(Readable.from(['[{"Level":']), {
          database: db, table: "Logs", format: DataFormat.MULTIJSON, ingestionMappingReference: "mylogmapping",
        }),
        (err) => {
          const body = err.response?.data?.error;
          assert.equal(err.response?.status, 400);
          assert.equal(body?.["@permanent"], true);
          assert.match(body?.["@message"], /malformed JSON/);
          return true;
        },
      );
      // A table whose streaming policy is not enabled: Kusto's code, so the caller knows why.
      await assert.rejects(ingest.ingestFromStream(Readable.from(["1\n"]), { database: db, table: "Closed", format: DataFormat.CSV }), (err) => {
        assert.equal(err.response?.data?.error?.code, "BadRequest_StreamingIngestionPolicyNotEnabled");
        return true;
      });
    } finally {
      ingest.close();
    }
  });

  test(".ingest inline and .ingest into a file under --ingest-root run through the SDK; a path outside is refused", async () => {
    await client.executeMgmt(db, ".ingest inline into table Events <|\n20,inline\n");
    await client.executeMgmt(db, `.ingest into table Events (h@'${join(root, "events.csv")}')`);
    assert.deepEqual(await query("Events | where Id >= 10 | order by Id asc | project Id"), [{ Id: 10 }, { Id: 11 }, { Id: 20 }]);
    await assert.rejects(client.executeMgmt(db, ".ingest into table Events (h@'/etc/passwd')"), (err) => {
      assert.match(JSON.stringify(err.response?.data ?? err.message), /ingest-root|outside/i);
      return true;
    });
  });

  test("the README's streaming sample runs as printed", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### Streaming from the SDKs"));
    const sample = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(sample?.includes("http://127.0.0.1:8080"), "the README's sample names the default URL");
    // A database of its own, so that the sample's table does not meet the other tests' tables.
    await client.executeMgmt(db, ".create database Sample volatile");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "--eval", sample.replace("http://127.0.0.1:8080", server.url).replaceAll('"NetDefaultDB"', '"Sample"')],
      { cwd: import.meta.dirname, timeout: 30_000 },
    );
    assert.equal(stdout, "1 one\n2 two\n");
  });

  test("the queued client (IngestClient) fails: Kustard runs no data-management service", async () => {
    const ingest = new IngestClient(server.url);
    try {
      await assert.rejects(ingest.ingestFromStream(Readable.from(["1,queued\n"]), { database: db, table: "Events", format: DataFormat.CSV }), (err) => {
        // The SDK reports the failed .get ingestion resources by its status; the server's body
        // says why (checked below, as any client reads it).
        assert.match(err.message, /Failed to fetch ingestion resources from service/);
        return true;
      });
    } finally {
      ingest.close();
    }
    await assert.rejects(client.executeMgmt(db, ".get ingestion resources"), (err) => {
      assert.match(err.response?.data?.error?.["@message"], /queued ingestion needs and Kustard does not run; use streaming ingestion/);
      return true;
    });
    assert.deepEqual(await query("Events | where Name == 'queued' | count"), [{ Count: 0 }]);
  });
});
