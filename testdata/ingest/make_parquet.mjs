// Writes the Parquet fixtures of testdata/ingest with DuckDB, once; they are committed so that the
// Go tests need no Node. Run from compat/node (which has @duckdb/node-api installed):
//   cd compat/node && node ../../testdata/ingest/make_parquet.mjs
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";

// Resolved from the working directory (compat/node), where the package is installed.
const { DuckDBInstance } = await import(pathToFileURL(createRequire(join(process.cwd(), "x.js")).resolve("@duckdb/node-api")));
const here = dirname(fileURLToPath(import.meta.url));
const db = await DuckDBInstance.create(":memory:", { threads: "1" });
const c = await db.connect();
const out = (name) => join(here, name).replaceAll("'", "''");

// Every logical type Kusto's Parquet conversions name, with a null row.
await c.run(`COPY (
  SELECT * FROM (VALUES
    (1, true, 7::TINYINT, 300::SMALLINT, 70000::INTEGER, 9007199254740993::BIGINT, 42::UBIGINT, 1.5::FLOAT, 2.25::DOUBLE,
     12.345::DECIMAL(10,3), 123456789012.345678::DECIMAL(30,6), 'Shoes',
     DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMP_MS '2024-01-02 03:04:05.123',
     TIMESTAMP_NS '2024-01-02 03:04:05.123456789', TIMESTAMPTZ '2024-01-02 03:04:05.5+00', TIME '01:02:03.5',
     'a5f0a2d9-2bd4-4c1f-9e1b-7f0a4c9c3e11'::UUID, '\\x00FF'::BLOB, [1, 2, 3], {'k': 'v', 'n': 1}, MAP {'a': 1}),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
  ) t(n, b, i8, i16, i32, i64, u64, f32, f64, dec, bigdec, s, d, ts, tsms, tsns, tstz, tm, g, bin, list, st, mp)
) TO '${out("types.parquet")}' (FORMAT parquet)`);

// Ten thousand rows in row groups of 1,000: the reader streams them.
await c.run(`COPY (SELECT range AS id, 'sku-' || (range % 7) AS sku, range * 0.5 AS price FROM range(10000))
  TO '${out("many.parquet")}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);

db.closeSync();

// A truncated file: the first half of many.parquet (its footer is lost).
const many = readFileSync(join(here, "many.parquet"));
writeFileSync(join(here, "truncated.parquet"), many.subarray(0, many.length >> 1));
