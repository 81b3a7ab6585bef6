// End-to-end: Microsoft's Node SDK (azure-kusto-data) against a real `kustard serve`, unchanged,
// over an unauthenticated connection: the scenario of issue 10 (tables, async ingest, operations,
// cancellation of an ingest and of a query, typed values through v1 and v2, parameters, errors).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { Client, ClientRequestProperties, KustoConnectionStringBuilder } from "azure-kusto-data";
import { startServer } from "./server.mjs";

const db = "NetDefaultDB";
// Every test is bounded, so a server that hangs fails the run instead of holding it.
const timeout = 60_000;

let server;
let client;

before(async () => {
  server = await startServer("--shutdown-grace", "1s");
  client = new Client(server.url);
});

after(async () => {
  client?.close();
  if (server) {
    const { code, signal, stderr } = await server.stop();
    assert.equal(code, 0, `kustard serve exited with ${code ?? signal}; stderr: ${stderr}`);
  }
});

/** rows gives the primary result's rows as plain objects (KustoResultRow's typed fields). */
function rows(response) {
  assert.equal(response.primaryResults.length, 1, "one primary result");
  return [...response.primaryResults[0].rows()];
}

/** until polls fn (every 10 ms, at most `tries` times) until it returns a truthy value. */
async function until(what, fn, tries = 500) {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`gave up waiting for ${what}`);
}

/** settle turns a promise into one that resolves with {value} or {error}, never rejecting. */
function settle(p) {
  return p.then(
    (value) => ({ value }),
    (error) => ({ error }),
  );
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("azure-kusto-data against kustard serve", { timeout }, () => {
  test("connects without authentication, and with a dummy token the server ignores", async () => {
    const [cluster] = rows(await client.executeMgmt(db, ".show cluster"));
    assert.equal(cluster.Name, "Kustard");
    assert.equal(cluster.Address, server.url);

    const withToken = new Client(KustoConnectionStringBuilder.withAccessToken(server.url, "dummy-token"));
    try {
      const [version] = rows(await withToken.execute(db, ".show version"));
      assert.match(version.ProductVersion, /^Kustard_/);
    } finally {
      withToken.close();
    }
  });

  test("creates a table, ingests with .set-or-append async and polls .show operations", async () => {
    const [created] = rows(await client.executeMgmt(db, ".create table Events (Id:long, Name:string)"));
    assert.equal(created.TableName, "Events");
    assert.equal(created.DatabaseName, db);

    const [started] = rows(
      await client.executeMgmt(db, `.set-or-append async Events <| range Id from 1 to 1000 step 1 | extend Name = strcat("e", Id)`),
    );
    assert.match(started.OperationId, guidPattern);

    const done = await until("the ingest to finish", async () => {
      const [op] = rows(await client.executeMgmt(db, `.show operations ${started.OperationId}`));
      assert.equal(op.OperationId, started.OperationId);
      assert.equal(op.Operation, "TableSetOrAppend");
      return op.State === "InProgress" ? null : op;
    });
    assert.equal(done.State, "Completed");
    assert.equal(done.Database, db);

    const [v2] = rows(await client.executeQuery(db, "Events | summarize n = count(), s = sum(Id), last = max(Name)"));
    assert.deepEqual([v2.n, v2.s, v2.last], [1000, 500500, "e999"]);
    const [v1] = rows(await client.executeQueryV1(db, "Events | where Id == 42"));
    assert.deepEqual([v1.Id, v1.Name], [42, "e42"]);
  });

  test("cancels a long ingest with .cancel operation and reads the reason back", async () => {
    const [started] = rows(await client.executeMgmt(db, ".set-or-append async Huge <| range x from 1 to 1000000000000 step 1"));
    const [canceled] = rows(
      await client.executeMgmt(db, `.cancel operation ${started.OperationId} with (reason = "the node test is done with it")`),
    );
    assert.equal(canceled.OperationId, started.OperationId);
    assert.equal(canceled.Operation, "TableSetOrAppend");
    assert.equal(canceled.CancellationState, "Canceled successfully");
    assert.equal(canceled.ReasonPhrase, "the node test is done with it");

    const [op] = rows(await client.executeMgmt(db, `.show operations ${started.OperationId}`));
    assert.equal(op.State, "Canceled");
    assert.equal(op.Status, "the node test is done with it");
    // A canceled ingest commits nothing.
    const [n] = rows(await client.executeQuery(db, "Huge | count"));
    assert.equal(n.Count, 0);
  });

  const typed = [
    "print b = true, i = int(-7), l = 9007199254740991, r = 0.25, s = 'naïve \"q\"'",
    "d = datetime(2024-01-02 03:04:05.1234567), t = 1d + 2h + 3m + 4s + 5ms",
    "g = guid(74be27de-1e4e-49d9-b579-fe0b331d3642), dyn = dynamic({\"a\": [1, 2.5, \"x\", null]})",
    "nb = bool(null), ni = int(null), nl = long(null), nr = real(null), ns = ''",
    "nd = datetime(null), nt = timespan(null), ng = guid(null), ndyn = dynamic(null)",
  ].join(", ");
  const types = {
    b: "bool", i: "int", l: "long", r: "real", s: "string", d: "datetime", t: "timespan", g: "guid", dyn: "dynamic",
    nb: "bool", ni: "int", nl: "long", nr: "real", ns: "string", nd: "datetime", nt: "timespan", ng: "guid", ndyn: "dynamic",
  };

  function assertTyped(response) {
    const table = response.primaryResults[0];
    assert.deepEqual(Object.fromEntries(table.columns.map((c) => [c.name, c.type])), types);
    const [row] = rows(response);
    assert.equal(row.b, true);
    assert.equal(row.i, -7);
    assert.equal(row.l, Number.MAX_SAFE_INTEGER);
    assert.equal(row.r, 0.25);
    assert.equal(row.s, 'naïve "q"');
    // The SDK makes a Date of a datetime (to the millisecond) and milliseconds of a timespan;
    // the raw row keeps Kusto's text, to the tick.
    assert.ok(row.d instanceof Date);
    assert.equal(row.d.toISOString(), "2024-01-02T03:04:05.123Z");
    assert.equal(row.raw[5], "2024-01-02T03:04:05.1234567Z");
    assert.equal(row.t, ((26 * 60 + 3) * 60 + 4) * 1000 + 5);
    assert.equal(row.raw[6], "1.02:03:04.0050000");
    assert.equal(row.g, "74be27de-1e4e-49d9-b579-fe0b331d3642");
    assert.deepEqual(row.dyn, { a: [1, 2.5, "x", null] });
    for (const name of ["nb", "ni", "nl", "nr", "nd", "nt", "ng", "ndyn"]) {
      assert.equal(row[name], null, name);
    }
    assert.equal(row.ns, "");
  }

  test("reads typed values of every Kusto type through v2 (executeQuery)", async () => {
    assertTyped(await client.executeQuery(db, typed));
  });

  test("reads typed values of every Kusto type through v1 (executeQueryV1 and executeMgmt)", async () => {
    assertTyped(await client.executeQueryV1(db, typed));
    assertTyped(await client.executeMgmt(db, typed));
  });

  test("binds declare query_parameters from ClientRequestProperties.setParameter", async () => {
    const props = new ClientRequestProperties();
    props.setParameter("n", 3);
    props.setParameter("who", "bob");
    props.setParameter("since", "datetime(2024-05-01)");
    props.setParameter("ratio", 0.5);
    const response = await client.executeQuery(
      db,
      "declare query_parameters(n:long, who:string, since:datetime, ratio:real = 1.0); range x from 1 to n step 1 | extend who, since, y = x * ratio",
      props,
    );
    assert.deepEqual(
      rows(response).map((r) => [r.x, r.who, r.since.toISOString(), r.y]),
      [1, 2, 3].map((x) => [x, "bob", "2024-05-01T00:00:00.000Z", x * 0.5]),
    );
  });

  test("cancels a running query with .cancel query; the SDK surfaces Kusto's query-canceled error", async () => {
    const props = new ClientRequestProperties();
    props.clientRequestId = "KNC.compat-node;long-query";
    props.application = "compat-node";
    props.user = "alice@example.com";
    const running = settle(client.executeQuery(db, "range x from 1 to 1000000000000 step 1 | where x < 0 | count", props));

    const seen = await until("the query to show in .show running queries", async () =>
      rows(await client.executeMgmt(db, ".show running queries")).find((r) => r.ClientActivityId === props.clientRequestId),
    );
    assert.equal(seen.State, "InProgress");
    assert.equal(seen.Application, "compat-node");
    assert.equal(seen.User, "alice@example.com");

    const [canceled] = rows(
      await client.executeMgmt(db, `.cancel query "${props.clientRequestId}" with (reason = "no need any more")`),
    );
    assert.equal(canceled.ClientActivityId, props.clientRequestId);
    assert.equal(canceled.CancellationState, "Canceled successfully");
    assert.equal(canceled.ReasonPhrase, "no need any more");

    const { error } = await running;
    assert.ok(error, "the canceled query fails");
    assert.match(error.message, /E_QUERY_CANCELLED \(0x80DA0006\): Query was cancelled: no need any more/);

    const [record] = rows(
      await client.executeMgmt(db, `.show queries | where ClientActivityId == "${props.clientRequestId}"`),
    );
    assert.equal(record.State, "Canceled");
    assert.match(record.FailureReason, /Query was cancelled: no need any more/);
  });

  test("a servertimeout set through ClientRequestProperties.setTimeout ends a long query", async () => {
    const props = new ClientRequestProperties();
    props.setTimeout(200); // sent as "00:00:00.200"
    const { error } = await settle(client.executeQuery(db, "range x from 1 to 1000000000000 step 1 | where x < 0 | count", props));
    assert.ok(error, "the query times out");
    assert.match(error.message, /timeout|timed out/i);
  });

  test("the README's Node SDK sample runs as printed", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### From the Node SDK"));
    const sample = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(sample?.includes("http://127.0.0.1:8080"), "the README's sample names the default URL");
    // --eval resolves azure-kusto-data from the working directory, this package.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "--eval", sample.replace("http://127.0.0.1:8080", server.url)],
      { cwd: import.meta.dirname, timeout: 30_000 },
    );
    assert.equal(stdout, "2 4\n3 9\n");
  });

  test("errors reach the SDK in Kusto's shape, with the position of a syntax error", async () => {
    const { error: syntax } = await settle(client.executeQuery(db, "range x from 1 to 3 step 1 | where"));
    assert.equal(syntax?.response?.status, 400);
    assert.equal(syntax.response.data.error.code, "BadRequest_SyntaxError");
    assert.equal(syntax.response.data.error["@message"], "Syntax error: <input>:1:35: unexpected end of text; expected an expression");

    const { error: unknown } = await settle(client.executeQuery("NoSuchDB", "print 1"));
    assert.equal(unknown?.response?.status, 404);
    assert.equal(unknown.response.data.error["@message"], "Entity name 'NoSuchDB' of kind 'Database' does not exist.");

    // A limit hit before any row was sent: v1 answers with the error and its status (the Node
    // SDK reads no in-band v1 Exceptions), v2 reports it in DataSetCompletion, which the SDK reads.
    const limited = new ClientRequestProperties();
    limited.setOption("truncationmaxrecords", 1000);
    for (const call of ["executeQueryV1", "executeMgmt"]) {
      const { error } = await settle(client[call](db, "range x from 1 to 2048 step 1", limited));
      assert.equal(error?.response?.status, 400, call);
      assert.equal(error.response.data.error.code, "LimitsExceeded", call);
      assert.match(error.response.data.error["@message"], /E_QUERY_RESULT_SET_TOO_LARGE/, call);
    }
    const { error: v2 } = await settle(client.executeQuery(db, "range x from 1 to 2048 step 1", limited));
    assert.match(v2?.message ?? "", /Kusto request had errors\..*record count limit 1000 \(E_QUERY_RESULT_SET_TOO_LARGE\)/);

    // The server is unharmed.
    const [one] = rows(await client.executeQuery(db, "print x = 1"));
    assert.equal(one.x, 1);
  });
});
