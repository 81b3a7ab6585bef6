// The DuckDB side of bench/compare: runs a query in process on one thread and prints the best time.
//
//   node bench/duckdb.mjs [--runs N] [--setup SQL] QUERY
//
// Opens an in-memory database with threads=1, runs SETUP untimed, then runs QUERY N times
// (default 3) and prints one line: the best time in seconds, the first column of the query's
// last row (the answer, for the caller to check), then every run's time in seconds. The timed span is runAndReadAll:
// parsing, planning, running and reading the result, as Session.Execute is for Kustard.
import { DuckDBInstance, version } from '@duckdb/node-api';

const args = process.argv.slice(2);
let runs = 3;
let setup = '';
while (args.length > 1 && args[0].startsWith('--')) {
  const [flag, value] = args.splice(0, 2);
  if (flag === '--runs') runs = Number(value);
  else if (flag === '--setup') setup = value;
  else usage(`unknown flag ${flag}`);
}
if (args.length !== 1 || !(runs >= 1)) usage('want one QUERY and --runs ≥ 1');
const query = args[0];

const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const c = await db.connect();
const threads = (await c.runAndReadAll("select current_setting('threads')")).getRows()[0][0];
if (Number(threads) !== 1) fail(`DuckDB runs on ${threads} threads, want 1`);
if (setup) await c.run(setup);

const times = [];
let answer = '';
for (let i = 0; i < runs; i++) {
  const t = process.hrtime.bigint();
  const r = await c.runAndReadAll(query);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  times.push(s);
  const rows = r.getRows();
  answer = rows.length ? String(rows[rows.length - 1][0]) : '';
}
console.log(Math.min(...times).toFixed(6), answer, ...times.map((t) => t.toFixed(6)));
if (process.env.DUCKDB_BENCH_VERBOSE) console.error(`duckdb ${version()}, threads ${threads}`);

function usage(msg) {
  fail(`${msg}\nusage: node bench/duckdb.mjs [--runs N] [--setup SQL] QUERY`, 2);
}

function fail(msg, code = 1) {
  console.error(`duckdb.mjs: ${msg}`);
  process.exit(code);
}
