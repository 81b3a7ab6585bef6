// `.export to parquet`, read by DuckDB (@duckdb/node-api): `kustard exec` exports a table of every
// Kusto type and nulls to a directory, and DuckDB reads the file back with the docs' mapping
// (export-data-to-storage.md, "Parquet data types mapping"): datetime INT96 (DuckDB's TIMESTAMP,
// to the microsecond), or INT64 TIMESTAMP_MICROS with useNativeParquetWriter; timespan INT64
// ticks; guid and dynamic UTF-8 text; the columns in the query's order.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { duckdb, kustardRows } from "./helpers.mjs";
import { buildBinary } from "./server.mjs";

const timeout = 120_000;

const table = `datatable(n:long, b:bool, i:int, r:real, s:string, d:datetime, t:timespan, g:guid, y:dynamic)[
 1, true, 1, 1.5, "x", datetime(2024-01-02 03:04:05.123456), 1d, guid(6ba7b810-9dad-11d1-80b4-00c04fd430c8), dynamic({"a":[1,"s",null]}),
 2, bool(null), int(null), real(null), "", datetime(null), timespan(null), guid(null), dynamic(null),
 3, false, -5, -0.125, "a,\\"b\\"\\nc", datetime(1700-01-01), timespan(-1tick), guid(00000000-0000-0000-0000-000000000000), dynamic(2)]`;

let bin, cleanup, dir;

before(async () => {
  ({ bin, cleanup } = await buildBinary());
  dir = await mkdtemp(join(tmpdir(), "kustard-export-"));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await cleanup?.();
});

/** kustard runs `kustard exec -f json text` and returns its first table's rows as objects. */
async function kustard(text) {
  return kustardRows(bin, ["exec", "--format", "json", text]);
}

describe("DuckDB reads what .export to parquet writes", { timeout }, () => {
  for (const native of [false, true]) {
    test(`every type and null, useNativeParquetWriter=${native}`, async () => {
      const prefix = native ? "native" : "int96";
      const files = await kustard(`.export to parquet (h@'${dir}') with (namePrefix='${prefix}', useNativeParquetWriter=${native}) <| ${table}`);
      assert.equal(files.length, 1);
      assert.equal(files[0].NumRecords, 3);
      assert.ok(files[0].Path.startsWith(join(dir, `${prefix}_1_`)) && files[0].Path.endsWith(".parquet"), files[0].Path);
      const { names, rows } = await duckdb(`
        select n, b, i, r, s, epoch_us(d)::varchar as d, t::varchar as t, g, y,
               typeof(d) || ' ' || typeof(t) || ' ' || typeof(g) || ' ' || typeof(y) as types
        from read_parquet('${files[0].Path}') order by n`);
      assert.deepEqual(names.slice(0, 9), ["n", "b", "i", "r", "s", "d", "t", "g", "y"]);
      assert.equal(rows.length, 3);
      assert.equal(rows[0].types, `${native ? "TIMESTAMP WITH TIME ZONE" : "TIMESTAMP"} BIGINT VARCHAR VARCHAR`);
      assert.deepEqual(
        rows.map((r) => [r.n, r.b, r.i, r.r, r.s, r.d, r.t, r.g, r.y === null ? null : JSON.parse(r.y)]),
        [
          [1n, true, 1, 1.5, "x", String(Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123456), "864000000000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", { a: [1, "s", null] }],
          [2n, null, null, null, "", null, null, null, null],
          [3n, false, -5, -0.125, 'a,"b"\nc', String(Date.UTC(1700, 0, 1) * 1000), "-1", "00000000-0000-0000-0000-000000000000", 2],
        ],
      );
    });
  }

  test("compressed CSV with headers is what DuckDB's read_csv reads", async () => {
    const [f] = await kustard(`.export compressed to csv (h@'${dir}') with (namePrefix='csv', includeHeaders='all') <| ${table}`);
    assert.ok(f.Path.endsWith(".csv.gz"), f.Path);
    const { rows } = await duckdb(`select n, s from read_csv('${f.Path}', header = true) order by n`);
    assert.deepEqual(rows.map((r) => [r.n, r.s]), [[1n, "x"], [2n, null], [3n, 'a,"b"\nc']]);
    assert.equal((await readdir(dir)).length, 3);
  });
});
