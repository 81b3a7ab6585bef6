package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServe starts kustard serve on a free loopback port, asks it for .show cluster as the
// emulator's users' health checks do, stops it as a signal would, and expects exit status 0.
func TestServe(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- runMain(ctx, []string{"--deterministic", "serve", "--listen", "127.0.0.1:0", "--database", "Db1"}, strings.NewReader(""), outW, io.Discard)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("serve printed %q, with no URL", line)
	}
	url := strings.Fields(line[i:])[0]
	resp, err := http.Post(url+"/v1/rest/mgmt", "application/json", strings.NewReader(`{"csl":".show cluster"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"Kustard"`) || !strings.Contains(string(body), url) {
		t.Errorf(".show cluster: %s %s", resp.Status, body)
	}
	resp, err = http.Post(url+"/v1/rest/mgmt", "application/json", strings.NewReader(`{"csl":".show databases | project DatabaseName"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `["Db1"]`) {
		t.Errorf("--database Db1 was not created: %s", body)
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("exit status %d after the stop, want 0", code)
	}
}

// TestServeRefusesBeyondLoopback: without authentication, serve will not listen beyond loopback
// unless told --insecure.
func TestServeRefusesBeyondLoopback(t *testing.T) {
	_, stderr, code := kustard(t, "", "serve", "--listen", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(stderr, "--insecure") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
