#!/usr/bin/env bash
# The "Loading data" comparison of BENCHMARKS.md: Kustard's .ingest against DuckDB's read_csv,
# read_json and read_parquet (one thread, into a table) and SQLite's .import, on the same files,
# in one run.
#
#   bench/ingest.sh [ROWS]      (default 6,000,000 rows: a 384 MB CSV file)
#
# Needs go, node with `npm ci --prefix bench` done, sqlite3 and gzip. Files go to $BENCH_DIR
# (default /tmp/kustard-ingest). Each tool runs 3 times; each line prints the best wall time,
# then every run's. Kustard's and SQLite's times are their whole process (startup included, a
# few milliseconds); DuckDB's is the statement alone (bench/duckdb.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-6000000}
dir=${BENCH_DIR:-/tmp/kustard-ingest}
mkdir -p "$dir"
go build -o "$dir/kustard" ./cmd/kustard
go build -o "$dir/gendata" ./bench/gendata
csv=$dir/ingest-$rows.csv json=$dir/ingest-$rows.json
[[ -s $csv ]] || "$dir/gendata" -rows "$rows" >"$csv"
[[ -s $csv.gz ]] || gzip -6 -k "$csv"
[[ -s $json ]] || "$dir/gendata" -rows "$rows" -format json >"$json"
pq=$dir/ingest-$rows.parquet # DuckDB writes it from the CSV file
[[ -s $pq ]] || node bench/duckdb.mjs --runs 1 "copy (select * from read_csv('$csv', header=false, columns={'a':'BIGINT','r':'DOUBLE','d':'TIMESTAMP','s':'VARCHAR','b':'BOOLEAN'})) to '$pq' (format parquet)" >/dev/null
ls -l "$csv" "$csv.gz" "$json" "$pq"

schema='(a:long, r:real, d:datetime, s:string, b:bool)'
cols="columns={'a':'BIGINT','r':'DOUBLE','d':'TIMESTAMP','s':'VARCHAR','b':'BOOLEAN'}"

# kustard NAME FILE [WITH] [FLAGS...]: best of 3 wall times and the peak RSS of the last run.
kustard() {
	local name=$1 file=$2 with=$3
	shift 3
	printf '.create table T %s\n\n.ingest into table T (h@"%s")%s\n\nT | count\n' "$schema" "$file" "$with" >"$dir/$name.kql"
	local times=() rss=
	for _ in 1 2 3; do
		/usr/bin/time -o "$dir/time" -f '%e %M' "$dir/kustard" run "$@" "$dir/$name.kql" >"$dir/out" 2>&1 || true
		read -r t rss < <(tail -1 "$dir/time")
		times+=("$t")
	done
	echo "kustard $name: best $(printf '%s\n' "${times[@]}" | sort -n | head -1) s; runs ${times[*]}; peak RSS $((rss / 1024)) MB; $(grep -Eo 'E_LOW_MEMORY_CONDITION' "$dir/out" || grep -Eo '^│ [0-9]+' "$dir/out" | tail -1)"
}

kustard csv "$csv" ''
kustard csv.gz "$csv.gz" ''
kustard json "$json" " with (format='json')"
kustard parquet "$pq" " with (format='parquet')"
GOMAXPROCS=1 kustard csv-GOMAXPROCS=1 "$csv" ''
echo "duckdb csv: $(node bench/duckdb.mjs --runs 3 "create or replace table t as select * from read_csv('$csv', header=false, $cols)")"
echo "duckdb csv.gz: $(node bench/duckdb.mjs --runs 3 "create or replace table t as select * from read_csv('$csv.gz', header=false, $cols)")"
echo "duckdb json: $(node bench/duckdb.mjs --runs 3 "create or replace table t as select * from read_json('$json', format='newline_delimited', $cols)")"
echo "duckdb parquet: $(node bench/duckdb.mjs --runs 3 "create or replace table t as select * from read_parquet('$pq')")"
times=()
for _ in 1 2 3; do
	/usr/bin/time -o "$dir/time" -f '%e %M' sqlite3 :memory: "create table t(a integer, r real, d text, s text, b text)" ".import --csv $csv t" "select count(*) from t" >"$dir/out"
	read -r t rss < <(tail -1 "$dir/time")
	times+=("$t")
done
echo "sqlite csv: best $(printf '%s\n' "${times[@]}" | sort -n | head -1) s; runs ${times[*]}; peak RSS $((rss / 1024)) MB; $(cat "$dir/out")"

# Memory bounded by the budget: the same file, and one twice its size, with a budget below
# what the table needs; the ingest fails with the low-memory error at the same peak RSS.
big=$dir/ingest-$((2 * rows)).csv
[[ -s $big ]] || "$dir/gendata" -rows $((2 * rows)) >"$big"
kustard csv-max-memory-128MiB "$csv" '' --max-memory 128MiB
kustard csv-2x-max-memory-128MiB "$big" '' --max-memory 128MiB
