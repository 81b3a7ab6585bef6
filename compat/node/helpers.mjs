// What the tests that read kustard's files with DuckDB share: kustard's first result table and
// a DuckDB query's rows, each as objects keyed by column name.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";

/** kustardRows runs `bin ...args` (an exec with --format json) and returns its first table's rows. */
export async function kustardRows(bin, args) {
  const { stdout } = await promisify(execFile)(bin, args, { timeout: 60_000 });
  const [table] = JSON.parse(stdout).Tables;
  return table.Rows.map((row) => Object.fromEntries(table.Columns.map((c, i) => [c.ColumnName, row[i]])));
}

/** duckdb runs a query on a fresh in-memory DuckDB and returns its column names and rows. */
export async function duckdb(sql) {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  try {
    const c = await db.connect();
    const r = await c.runAndReadAll(sql);
    const names = r.columnNames();
    return { names, rows: r.getRows().map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))) };
  } finally {
    db.closeSync();
  }
}
