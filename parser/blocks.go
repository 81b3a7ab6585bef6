package parser

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// A script is a sequence of blocks separated by blank lines, as in Kusto.Explorer and Kusto.Cli's
// block mode. A blank line inside a multi-line (``` or ~~~) string does not end a block.

// Chunk is one block of a script and where it starts.
type Chunk struct {
	Text      string
	FirstLine int // 1-based line of the file where Text starts
}

// BlockScanner reads blocks from a stream one at a time, returning each as soon as it is complete
// (at a blank line or the end of input) so that a program can drive Kustard line by line.
type BlockScanner struct {
	r        *bufio.Reader
	line     int    // lines read so far
	fence    string // the delimiter of the multi-line string we are inside, if any
	lines    []string
	first    int
	finished bool
}

// NewBlockScanner returns a scanner reading from r.
func NewBlockScanner(r io.Reader) *BlockScanner {
	return &BlockScanner{r: bufio.NewReader(r)}
}

// Next returns the next block that holds more than comments, or io.EOF after the last one.
func (s *BlockScanner) Next() (Chunk, error) {
	for !s.finished {
		line, err := s.r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return Chunk{}, err
		}
		if err != nil {
			s.finished = true
			if line == "" {
				break
			}
		}
		s.line++
		blank := strings.TrimSpace(line) == ""
		if blank && s.fence == "" {
			if c, ok := s.take(); ok {
				return c, nil
			}
			continue
		}
		if len(s.lines) == 0 {
			s.first = s.line
		}
		s.lines = append(s.lines, strings.TrimRight(line, "\r\n"))
		s.fence = scanLineForFence(line, s.fence)
	}
	if c, ok := s.take(); ok {
		return c, nil
	}
	return Chunk{}, io.EOF
}

// take returns the pending lines as a chunk, unless they hold only comments.
func (s *BlockScanner) take() (Chunk, bool) {
	lines := s.lines
	s.lines = nil
	s.fence = ""
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "//") {
			return Chunk{Text: strings.Join(lines, "\n"), FirstLine: s.first}, true
		}
	}
	return Chunk{}, false
}

// SplitBlocks cuts a whole script into blocks.
func SplitBlocks(text string) []Chunk {
	s := NewBlockScanner(strings.NewReader(text))
	var out []Chunk
	for {
		c, err := s.Next()
		if err != nil {
			return out
		}
		out = append(out, c)
	}
}

// scanLineForFence follows one line through strings and comments and returns the multi-line
// string delimiter that is open at its end ("" if none). fence is the one open at its start.
func scanLineForFence(line, fence string) string {
	for i := 0; i < len(line); i++ {
		if fence != "" {
			end := strings.Index(line[i:], fence)
			if end < 0 {
				return fence
			}
			i += end + len(fence) - 1
			fence = ""
			continue
		}
		switch c := line[i]; {
		case strings.HasPrefix(line[i:], "```"), strings.HasPrefix(line[i:], "~~~"):
			fence = line[i : i+3]
			i += 2
		case strings.HasPrefix(line[i:], "//"):
			return ""
		case c == '"' || c == '\'':
			verbatim := i > 0 && line[i-1] == '@'
			i = skipQuoted(line, i, verbatim)
		}
	}
	return fence
}

// skipQuoted returns the index of the quote closing the string opened at i (or the line's end).
func skipQuoted(line string, i int, verbatim bool) int {
	quote := line[i]
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			if !verbatim {
				j++
			}
		case quote:
			if verbatim && j+1 < len(line) && line[j+1] == quote {
				j++
				continue
			}
			return j
		}
	}
	return len(line)
}
