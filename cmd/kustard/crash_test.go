package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The crash test: kustard serve --data DIR is SIGKILLed at a random moment while clients ingest
// into it, restarted, and checked against what the clients saw acknowledged. Every ingest's rows
// carry its own batch id b, so a partial extent shows as a batch with too few rows.
//
// Two clients run at once: one sends sync .set-or-append into T and .set-or-replace into R, in
// turn; the other starts async .set-or-append into T. The kill comes once the clients together
// have had a random number of answers, so that it lands at a random point of the requests then
// in flight (a commit, a rename, a bbolt transaction, an async operation's run).

type crashBatch struct {
	id   int64
	rows int64
	kind string // "sync", "replace", "async"
	// acked: the client saw the ingest's answer (sync: its result; async: its operation id).
	acked bool
	opID  string
}

type crashHistory struct {
	mu      sync.Mutex
	batches map[int64]*crashBatch
	// lastReplace is the last acknowledged .set-or-replace, and inFlightReplace one sent after it
	// with no answer; R holds one of them after a crash (0: none).
	lastReplace, inFlightReplace int64
	// ops are the final states of operations seen after a restart, which later restarts must
	// show again: the operations log before a crash stays intact.
	ops map[string]string
	// detailsChecked counts the Completed async ingests whose details were checked.
	detailsChecked int
	// tables seen so far, which every restart must bring back.
	tables map[string]bool
}

func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kustard binary and kills it 30 times")
	}
	rounds := 30
	bin := filepath.Join(t.TempDir(), "kustard")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KUSTARD_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (KUSTARD_CRASH_SEED=%d reproduces the kill points)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	h := &crashHistory{batches: map[int64]*crashBatch{}, ops: map[string]string{}, tables: map[string]bool{}}
	next := int64(1)
	deadline := time.Now().Add(50 * time.Second)
	for round := range rounds {
		if time.Now().After(deadline) {
			t.Fatalf("only %d rounds in 50 s", round)
		}
		child := startChild(t, bin, dir)
		checkRecovered(t, round, child.url, h)
		kill := rng.IntN(8) // answers before the kill
		batchRows := make([]int64, 64)
		for i := range batchRows {
			batchRows[i] = 1 + rng.Int64N(200_000)
		}
		first := next
		next += int64(len(batchRows))
		var answers atomic.Int32
		reached := make(chan struct{}) // closed at the kill-th answer
		if kill == 0 {
			close(reached)
		}
		gate := make(chan struct{}) // closed at the kill: the clients stop
		var clients sync.WaitGroup
		for w := range 2 {
			clients.Add(1)
			go func() {
				defer clients.Done()
				for i := w; i < len(batchRows); i += 2 {
					select {
					case <-gate:
						return
					default:
					}
					b := &crashBatch{id: first + int64(i), rows: batchRows[i]}
					switch {
					case w == 1:
						b.kind = "async"
					case i%4 == 0:
						b.kind = "replace"
					default:
						b.kind = "sync"
					}
					if !h.send(child.url, b) {
						return // the child is gone
					}
					if answers.Add(1) == int32(kill) {
						close(reached)
					}
				}
			}()
		}
		idle := make(chan struct{}) // the clients stopped before the kill's answer: a failure
		go func() { clients.Wait(); close(idle) }()
		select {
		case <-reached:
		case <-idle:
			t.Fatalf("round %d: the clients stopped before %d answers\n%s", round, kill, child.stderr)
		}
		child.kill(t)
		close(gate)
		<-idle
	}
	child := startChild(t, bin, dir)
	checkRecovered(t, rounds, child.url, h)
	child.kill(t)
	h.mu.Lock()
	n := 0
	for _, b := range h.batches {
		if b.acked {
			n++
		}
	}
	h.mu.Unlock()
	t.Logf("%d rounds, %d acknowledged ingests, %d operations checked, the details of Completed async ingests checked %d times",
		rounds, n, len(h.ops), h.detailsChecked)
}

// send runs one ingest and records it; it reports false once the child no longer answers.
func (h *crashHistory) send(url string, b *crashBatch) bool {
	h.mu.Lock()
	h.batches[b.id] = b
	if b.kind == "replace" {
		h.inFlightReplace = b.id
	}
	h.mu.Unlock()
	src := fmt.Sprintf("range i from 1 to %d step 1 | extend b = %d", b.rows, b.id)
	var csl string
	switch b.kind {
	case "sync":
		csl = ".set-or-append T <| " + src
	case "async":
		csl = ".set-or-append async T with (persistDetails=true) <| " + src
	case "replace":
		csl = ".set-or-replace R <| " + src
	}
	rows, err := mgmt(url, csl)
	if err != nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	b.acked = true
	switch b.kind {
	case "async":
		b.opID = rows[0][0].(string)
	case "replace":
		h.lastReplace, h.inFlightReplace = b.id, 0
	}
	if b.kind != "async" && rows[0][5].(float64) != float64(b.rows) {
		panic(fmt.Sprintf("batch %d: %d rows acknowledged, %v sent", b.id, b.rows, rows[0][5]))
	}
	return true
}

// checkRecovered checks a restarted child against the history, and folds what it finds in.
func checkRecovered(t *testing.T, round int, url string, h *crashHistory) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after round %d: "+format, append([]any{round}, args...)...)
	}
	tables := map[string]bool{}
	rows, err := mgmt(url, ".show tables | project TableName")
	if err != nil {
		fail("%v", err)
	}
	for _, r := range rows {
		tables[r[0].(string)] = true
	}
	for name := range h.tables {
		if !tables[name] {
			fail("table %s did not come back", name)
		}
	}
	h.tables = tables
	dbs, err := mgmt(url, ".show databases | project DatabaseName")
	if err != nil || len(dbs) != 1 || dbs[0][0] != "NetDefaultDB" {
		fail("databases: %v %v", dbs, err)
	}

	// Operations: the last record of each is its state now.
	state := map[string]string{}
	log, err := mgmt(url, ".show operations | project OperationId, State, Status, LastUpdatedOn")
	if err != nil {
		fail("%v", err)
	}
	for _, r := range log {
		state[r[0].(string)] = r[1].(string)
	}
	for id, was := range h.ops {
		if state[id] != was {
			fail("operation %s was %s before the crash, is %q now", id, was, state[id])
		}
	}
	for id, s := range state {
		switch s {
		case "Completed", "Failed", "Abandoned":
		default:
			fail("operation %s is %s after a restart; its log: %v", id, s, opLog(log, id))
		}
		h.ops[id] = s
	}

	counts := map[string]map[int64]int64{}
	for name := range tables {
		rows, err := query(url, name+" | summarize n = count() by b")
		if err != nil {
			fail("%s: %v", name, err)
		}
		counts[name] = map[int64]int64{}
		for _, r := range rows {
			counts[name][int64(r[0].(float64))] = int64(r[1].(float64))
		}
	}
	// No partial extent: every batch present is whole, and one we sent, into its own table.
	for name, bs := range counts {
		for id, n := range bs {
			b := h.batches[id]
			if b == nil {
				fail("table %s holds batch %d, never sent", name, id)
			}
			if want := map[bool]string{true: "R", false: "T"}[b.kind == "replace"]; want != name {
				fail("batch %d (%s) is in %s", id, b.kind, name)
			}
			if n != b.rows {
				fail("table %s holds %d rows of batch %d, of %d sent: a partial extent", name, n, id, b.rows)
			}
		}
	}
	for _, b := range h.batches {
		present := counts["T"][b.id] > 0
		switch {
		case b.kind == "sync" && b.acked && !present:
			fail("acknowledged sync batch %d (%d rows) is lost", b.id, b.rows)
		case b.kind == "async" && b.acked:
			switch st := state[b.opID]; st {
			case "Completed":
				if !present {
					fail("async batch %d: operation %s Completed, its rows are lost", b.id, b.opID)
				}
				details, err := mgmt(url, ".show operation "+b.opID+" details")
				if err != nil || len(details) != 1 || details[0][5] != float64(b.rows) {
					fail("async batch %d (%d rows): the details of operation %s are %v %v", b.id, b.rows, b.opID, details, err)
				}
				h.detailsChecked++
			case "Abandoned":
				// The extent's commit records its operation's completion in the same bbolt
				// transaction, so an operation whose rows are there is Completed.
				if present {
					fail("async batch %d: operation %s is Abandoned, yet its %d rows are there", b.id, b.opID, b.rows)
				}
			default:
				fail("async batch %d: operation %s is %q after a restart", b.id, b.opID, st)
			}
		}
	}
	// R holds one replace: the last acknowledged, or the one in flight at the kill.
	if r := counts["R"]; h.lastReplace != 0 || len(r) > 0 {
		if len(r) != 1 {
			fail("R holds batches %v; a .set-or-replace leaves one", r)
		}
		for id := range r {
			if id != h.lastReplace && id != h.inFlightReplace {
				fail("R holds batch %d; the last acknowledged replace was %d, the one in flight %d", id, h.lastReplace, h.inFlightReplace)
			}
			h.lastReplace = id
		}
	}
	h.inFlightReplace = 0
	// What the crash left unacknowledged is settled now: present or not, it stays so.
	for id, b := range h.batches {
		if !b.acked {
			if counts["T"][id] > 0 || counts["R"][id] > 0 {
				b.acked = true
			} else {
				delete(h.batches, id)
			}
		}
	}
}

type crashChild struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan struct{}
}

func startChild(t *testing.T, bin, dir string) *crashChild {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", dir, "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &crashChild{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.kill(t) })
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil {
		cmd.Wait()
		t.Fatalf("kustard serve --data printed %q: %v\n%s", line, err, c.stderr)
	}
	go func() { io.Copy(io.Discard, br); close(c.done) }()
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("serve printed %q, with no URL\n%s", line, c.stderr)
	}
	c.url = strings.Fields(line[i:])[0]
	return c
}

// kill SIGKILLs the child and waits for it to be gone; a second call does nothing.
func (c *crashChild) kill(t *testing.T) {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Kill()
	c.cmd.Wait()
	<-c.done
}

var crashClient = &http.Client{Timeout: 30 * time.Second}

func mgmt(url, csl string) ([][]any, error) { return crashPost(url+"/v1/rest/mgmt", csl) }

func query(url, csl string) ([][]any, error) { return crashPost(url+"/v1/rest/query", csl) }

func crashPost(url, csl string) ([][]any, error) {
	body, _ := json.Marshal(map[string]string{"db": "NetDefaultDB", "csl": csl})
	resp, err := crashClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", csl, resp.Status, b)
	}
	var v struct {
		Tables []struct{ Rows [][]any }
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", csl, err)
	}
	if len(v.Tables) == 0 {
		return nil, fmt.Errorf("%s: no table in %s", csl, b)
	}
	return v.Tables[0].Rows, nil
}

func opLog(log [][]any, id string) [][]any {
	var out [][]any
	for _, r := range log {
		if r[0] == id {
			out = append(out, r)
		}
	}
	return out
}
