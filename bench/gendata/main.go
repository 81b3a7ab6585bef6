// Command gendata writes the file the ingest benchmarks load (BENCHMARKS.md, "Loading data"):
// rows of a long, a real, a datetime, a string and a bool, as CSV or JSON lines, the same rows
// for every tool that loads them.
//
//	go run ./bench/gendata -rows 5000000 -format csv > /tmp/ingest.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows to write")
	format := flag.String("format", "csv", "csv or json (one object per line)")
	flag.Parse()
	if *format != "csv" && *format != "json" {
		fmt.Fprintln(os.Stderr, "gendata: -format is csv or json")
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var b []byte
	for i := range *rows {
		n := int64(i)
		// A long spread over its range, a real with two decimals, a datetime a second apart
		// (with milliseconds on every other row), a name of 50,000 values and a flag.
		a := n*7919 - 1_000_000_000
		d := start.Add(time.Duration(n) * time.Second)
		ds := d.Format("2006-01-02T15:04:05Z")
		if i%2 == 1 {
			ds = d.Add(time.Duration(n%1000) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		}
		b = b[:0]
		if *format == "json" {
			b = append(b, `{"a":`...)
			b = strconv.AppendInt(b, a, 10)
			b = append(b, `,"r":`...)
			b = strconv.AppendInt(b, n%100000, 10)
			b = append(b, '.')
			b = strconv.AppendInt(b, 10+n%90, 10)
			b = append(b, `,"d":"`...)
			b = append(b, ds...)
			b = append(b, `","s":"customer-`...)
			b = strconv.AppendInt(b, n%50000, 10)
			b = append(b, `","b":`...)
			b = strconv.AppendBool(b, n%3 == 0)
			b = append(b, "}\n"...)
		} else {
			b = strconv.AppendInt(b, a, 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, n%100000, 10)
			b = append(b, '.')
			b = strconv.AppendInt(b, 10+n%90, 10)
			b = append(b, ',')
			b = append(b, ds...)
			b = append(b, ",customer-"...)
			b = strconv.AppendInt(b, n%50000, 10)
			b = append(b, ',')
			b = strconv.AppendBool(b, n%3 == 0)
			b = append(b, '\n')
		}
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}
