// The Parquet files of `kustard --data DIR`, read by DuckDB (@duckdb/node-api): a table with every
// Kusto type and nulls is ingested with `kustard exec --data DIR`, DuckDB reads its extent from
// DIR/extents/<ExtentId>.parquet, and every row and value must be the one `kustard` prints for the
// same table, through the README's type mapping (datetime a TIMESTAMP_NS, timespan INT64 ticks,
// guid a UUID, dynamic JSON text, a null a null).
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { duckdb, kustardRows } from "./helpers.mjs";
import { buildBinary } from "./server.mjs";

const timeout = 120_000;

// Row n = 2 holds a null of every type that has one (a Kusto string is never null: it is empty).
const ingestT = `.set-or-append T <| datatable(n:long, b:bool, i:int, l:long, r:real, s:string, d:datetime, t:timespan, g:guid, y:dynamic)[
 1, true, 1, 2, 1.5, "x", datetime(2024-01-02 03:04:05.1234567), time(1.02:03:04.5), guid(6ba7b810-9dad-11d1-80b4-00c04fd430c8), dynamic({"a":[1,2.5,"s",null]}),
 2, bool(null), int(null), long(null), real(null), "", datetime(null), timespan(null), guid(null), dynamic(null),
 3, false, -5, 9223372036854775807, 2.5e300, "ünï [x]", datetime(1700-01-01 00:00:00.0000001), timespan(-1tick), guid(00000000-0000-0000-0000-000000000000), dynamic(1.5),
 4, true, 2147483647, -9223372036854775808, -0.125, "a\\"b\\nc", datetime(2262-04-11 23:47:16.8547758), 365d, guid(ffffffff-ffff-ffff-ffff-ffffffffffff), dynamic(["x", {"k": true}])]`;

// A datetime outside the nanosecond range (1677–2262) makes its column plain INT64 ticks from
// 0001-01-01.
const ingestU = `.set-or-append U <| datatable(n:long, d:datetime)[1, datetime(9999-12-31 23:59:59.9999999), 2, datetime(0001-01-01), 3, datetime(null)]`;

let bin, cleanup, dir;

before(async () => {
  ({ bin, cleanup } = await buildBinary());
  dir = await mkdtemp(join(tmpdir(), "kustard-duckdb-"));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await cleanup?.();
});

/** kustard runs `kustard exec --data dir -f json text` and returns its first table. */
async function kustard(text) {
  return kustardRows(bin, ["exec", "--data", dir, "--format", "json", text]);
}

/** isoNanos turns a datetime as kustard prints it (2024-01-02T03:04:05.1234567Z) into nanoseconds from the Unix epoch. */
function isoNanos(iso) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z$/.exec(iso);
  assert.ok(m, `not a datetime: ${iso}`);
  const ms = Date.parse(`${m[1]}Z`);
  assert.ok(Number.isFinite(ms), `not a datetime: ${iso}`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** spanTicks turns a timespan as kustard prints it ([-][d.]hh:mm:ss[.fffffff]) into 100 ns ticks. */
function spanTicks(span) {
  const m = /^(-)?(?:(\d+)\.)?(\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?$/.exec(span);
  assert.ok(m, `not a timespan: ${span}`);
  const [, minus, d = "0", h, min, s, f = ""] = m;
  const seconds = ((BigInt(d) * 24n + BigInt(h)) * 60n + BigInt(min)) * 60n + BigInt(s);
  const ticks = seconds * 10_000_000n + BigInt(f.padEnd(7, "0"));
  return minus ? -ticks : ticks;
}

const unixEpochTicks = 621_355_968_000_000_000n;

describe("DuckDB reads the Parquet extents of kustard --data", { timeout }, () => {
  let extentT, extentU;

  test("kustard ingests a table of every type and nulls into the data directory", async () => {
    [{ ExtentId: extentT }] = await kustard(ingestT);
    [{ ExtentId: extentU }] = await kustard(ingestU);
    const files = (await readdir(join(dir, "extents"))).sort();
    assert.deepEqual(files, [`${extentT}.parquet`, `${extentU}.parquet`].sort());
  });

  test("every type and null reads back as the same value", async () => {
    const want = await kustard("T | order by n asc | extend ls = tostring(l)");
    assert.equal(want.length, 4);
    const file = join(dir, "extents", `${extentT}.parquet`);
    const { rows: got } = await duckdb(`
      select n, b, i, l::varchar as l, r, s, epoch_ns(d)::varchar as d, t::varchar as t, g::varchar as g, y::varchar as y,
             typeof(b) || ' ' || typeof(i) || ' ' || typeof(l) || ' ' || typeof(r) || ' ' || typeof(s) || ' ' ||
             typeof(d) || ' ' || typeof(t) || ' ' || typeof(g) || ' ' || typeof(y) as types
      from read_parquet('${file}') order by n`);
    assert.equal(got.length, want.length, "rows");
    for (const [k, w] of want.entries()) {
      const g = got[k];
      const row = `row n = ${w.n}`;
      assert.equal(g.types, "BOOLEAN INTEGER BIGINT DOUBLE VARCHAR TIMESTAMP_NS BIGINT UUID JSON", row);
      assert.equal(g.n, BigInt(w.n), row);
      assert.equal(g.b, w.b, `${row}: bool`);
      assert.equal(g.i, w.i, `${row}: int`);
      assert.equal(g.l, w.l === null ? null : w.ls, `${row}: long`);
      assert.equal(g.r, w.r, `${row}: real`);
      assert.equal(g.s, w.s, `${row}: string`);
      assert.equal(g.d, w.d === null ? null : String(isoNanos(w.d)), `${row}: datetime as nanoseconds`);
      assert.equal(g.t, w.t === null ? null : String(spanTicks(w.t)), `${row}: timespan as ticks`);
      assert.equal(g.g, w.g, `${row}: guid`);
      assert.deepEqual(g.y === null ? null : JSON.parse(g.y), w.y, `${row}: dynamic as JSON`);
    }
    // The nulls are nulls, and the empty string is not one.
    assert.deepEqual(
      Object.entries(got[1]).filter(([, v]) => v === null).map(([k]) => k),
      ["b", "i", "l", "r", "d", "t", "g", "y"],
    );
    assert.equal(got[1].s, "");
  });

  test("a datetime column outside the nanosecond range reads as INT64 ticks from 0001-01-01", async () => {
    const want = await kustard("U | order by n asc");
    const { rows: got } = await duckdb(`select n, d::varchar as d, typeof(d) as type from read_parquet('${join(dir, "extents", `${extentU}.parquet`)}') order by n`);
    assert.equal(got.length, 3);
    for (const [k, w] of want.entries()) {
      assert.equal(got[k].type, "BIGINT");
      assert.equal(got[k].d, w.d === null ? null : String(isoNanos(w.d) / 100n + unixEpochTicks), `row n = ${w.n}`);
    }
  });

  test("DIR/extents/*.parquet reads as one table where the columns agree", async () => {
    const { rows: [got] } = await duckdb(`select count(*)::int as rows, sum(n)::int as total from read_parquet('${join(dir, "extents", "*.parquet")}', union_by_name = true)`);
    assert.deepEqual([got.rows, got.total], [7, 1 + 2 + 3 + 4 + 1 + 2 + 3]);
  });
});
