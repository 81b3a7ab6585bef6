package parser

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/kusto"
)

func chunks(cs []Chunk) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%d:%q", c.FirstLine, c.Text))
	}
	return strings.Join(out, " ")
}

func TestSplitBlocks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Chunk
	}{
		{"empty", "", nil},
		{"only blank lines", "\n \n\t\n", nil},
		{"one block", ".show tables", []Chunk{{".show tables", 1}}},
		{"one block with a final newline", ".show tables\n", []Chunk{{".show tables", 1}}},
		{"blank line splits", "a\nb\n\nc", []Chunk{{"a\nb", 1}, {"c", 4}}},
		{"several blank lines", "\n\na\n\n\n\nb\n\n", []Chunk{{"a", 3}, {"b", 7}}},
		{"white space only line splits", "a\n \t \nb", []Chunk{{"a", 1}, {"b", 3}}},
		{"CRLF", "a\r\nb\r\n\r\nc\r\n", []Chunk{{"a\nb", 1}, {"c", 4}}},
		{"backticks keep a blank line", "print ```x\n\ny```\n\nz", []Chunk{{"print ```x\n\ny```", 1}, {"z", 5}}},
		{"tildes keep a blank line", "print ~~~\n\n```\n\n~~~ | count\n\nz", []Chunk{{"print ~~~\n\n```\n\n~~~ | count", 1}, {"z", 7}}},
		{"fence closes on a later line", "print ```a\nb\nc``` \n\nd", []Chunk{{"print ```a\nb\nc``` ", 1}, {"d", 5}}},
		{"two fences on a line", "print ```a```, ```b\n\nc```\n\nd", []Chunk{{"print ```a```, ```b\n\nc```", 1}, {"d", 5}}},
		{"fence inside a string", "print \"```\"\n\nx", []Chunk{{"print \"```\"", 1}, {"x", 3}}},
		{"fence inside a verbatim string", "print @'a\\''```'\n\nx", []Chunk{{"print @'a\\''```'", 1}, {"x", 3}}},
		{"escaped quote before a fence", "print 'a\\'```'\n\nx", []Chunk{{"print 'a\\'```'", 1}, {"x", 3}}},
		{"fence inside a comment", "print 1 // ```\n\nx", []Chunk{{"print 1 // ```", 1}, {"x", 3}}},
		{"comment-only block is skipped", "// heading\n// more\n\n.show tables\n\n  // trailing", []Chunk{{".show tables", 4}}},
		{"comments attach to the block", "// what this does\n.show tables", []Chunk{{"// what this does\n.show tables", 1}}},
		{"unterminated fence runs to the end", "print ```a\n\nb", []Chunk{{"print ```a\n\nb", 1}}},
		{"fence state ends with its block", "print ```a\n\nb```\n\nprint ```\n\n```", []Chunk{{"print ```a\n\nb```", 1}, {"print ```\n\n```", 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitBlocks(tc.in); chunks(got) != chunks(tc.want) {
				t.Errorf("SplitBlocks(%q)\n got %s\nwant %s", tc.in, chunks(got), chunks(tc.want))
			}
		})
	}
}

// TestBlockLineNumbers: errors in a block report the script's line numbers.
func TestBlockLineNumbers(t *testing.T) {
	script := ".show tables\n\n// second\nprint x = 1\n| where x = 2\n"
	blocks := SplitBlocks(script)
	if len(blocks) != 2 {
		t.Fatalf("got %d blocks", len(blocks))
	}
	b := blocks[1]
	_, err := Parse(&kusto.Source{Name: "s.kql", Text: b.Text, FirstLine: b.FirstLine})
	if err == nil || !strings.HasPrefix(err.Error(), "s.kql:5:11: ") {
		t.Errorf("error = %v; want it at s.kql:5:11", err)
	}
	ok, err := Parse(&kusto.Source{Text: "\n.show version", FirstLine: 7})
	if err != nil || ok.Command.(*ShowVersion).Pos.Line != 8 {
		t.Errorf("position in a block from line 7: %v %v", ok, err)
	}
}

// TestBlockScannerStreams drives the scanner through a pipe: each block must come back as soon as
// its blank line is written, before any more input exists.
func TestBlockScannerStreams(t *testing.T) {
	r, w := io.Pipe()
	s := NewBlockScanner(r)
	next := make(chan scanResult)
	go func() {
		for {
			c, err := s.Next()
			next <- scanResult{c, err}
			if err != nil {
				return
			}
		}
	}()
	write := func(text string) {
		t.Helper()
		if _, err := io.WriteString(w, text); err != nil {
			t.Fatal(err)
		}
	}

	// io.Pipe's Write returns only once the reader has taken every byte, so when it returns the
	// scanner holds the text; the block must then arrive without further writes.
	write(".show tables\n\n")
	if got := receive(t, next); got.err != nil || got.c != (Chunk{".show tables", 1}) {
		t.Fatalf("first block = %+v", got)
	}
	// The comment-only block is skipped, and a blank line inside ``` does not end a block: the
	// next block back must be the whole string, not its first line.
	write("// only a comment\n\n")
	write("print ```a\n\n")
	write("b```\n\n")
	if got := receive(t, next); got.err != nil || got.c != (Chunk{"print ```a\n\nb```", 5}) {
		t.Fatalf("second block = %+v", got)
	}
	write("print 1")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, next); got.err != nil || got.c != (Chunk{"print 1", 9}) {
		t.Fatalf("last block = %+v", got)
	}
	if got := receive(t, next); !errors.Is(got.err, io.EOF) {
		t.Fatalf("after the last block: %+v; want io.EOF", got)
	}
}

type scanResult struct {
	c   Chunk
	err error
}

// receive waits for the scanner's next result. The bound is not a sleep: a scanner that waits for
// input it does not need would otherwise hang the test until the global timeout.
func receive(t *testing.T, next <-chan scanResult) scanResult {
	t.Helper()
	select {
	case r := <-next:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("BlockScanner.Next did not return although its block was complete")
		return scanResult{}
	}
}

func TestBlockScannerReadError(t *testing.T) {
	r, w := io.Pipe()
	boom := errors.New("boom")
	go func() {
		_, _ = io.WriteString(w, "print 1\n")
		w.CloseWithError(boom)
	}()
	s := NewBlockScanner(r)
	if _, err := s.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() error = %v; want %v", err, boom)
	}
}
