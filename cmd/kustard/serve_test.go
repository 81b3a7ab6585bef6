package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
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

// TestServeSelfSignedWithToken: --tls-self-signed prints the certificate's file and fingerprint
// before the https:// URL; a client trusting that file alone connects, and the token from
// $KUSTARD_AUTH_TOKEN is required; the temporary certificate is removed at exit.
func TestServeSelfSignedWithToken(t *testing.T) {
	t.Setenv(authTokenEnv, "tok-123")
	ctx, stop := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- runMain(ctx, []string{"--deterministic", "serve", "--listen", "127.0.0.1:0", "--tls-self-signed"}, strings.NewReader(""), outW, io.Discard)
		outW.Close()
	}()
	out := bufio.NewReader(outR)
	var lines []string
	for len(lines) < 3 {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", lines, err)
		}
		lines = append(lines, line)
	}
	go io.Copy(io.Discard, out)
	certLine, fpLine, urlLine := lines[0], lines[1], lines[2]
	if !strings.HasPrefix(certLine, "Self-signed certificate for 127.0.0.1, localhost, ::1, valid until ") {
		t.Fatalf("certificate line %q", certLine)
	}
	path := strings.TrimSpace(certLine[strings.LastIndex(certLine, ": ")+2:])
	pemData, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	sum := sha256.Sum256(block.Bytes)
	if want := fmt.Sprintf("% X", sum[:]); !strings.Contains(fpLine, strings.ReplaceAll(want, " ", ":")) {
		t.Errorf("fingerprint line %q, want %s", fpLine, want)
	}
	i := strings.Index(urlLine, "https://")
	if i < 0 {
		t.Fatalf("serve printed %q, with no https URL", urlLine)
	}
	url := strings.Fields(urlLine[i:])[0]
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemData)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	post := func(token string) *http.Response {
		req, _ := http.NewRequest("POST", url+"/v1/rest/mgmt", strings.NewReader(`{"csl":".show cluster"}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post("tok-123"); resp.StatusCode != http.StatusOK {
		t.Errorf("with the token: %s", resp.Status)
	}
	if resp := post(""); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("without the token: %s, WWW-Authenticate %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	if _, err := http.Post(url+"/v1/rest/ping", "", nil); err == nil {
		t.Error("a client that does not trust the certificate connected")
	}
	stop()
	if code := <-exit; code != exitOK {
		t.Errorf("exit status %d after the stop, want 0", code)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the temporary certificate %s is still there: %v", path, err)
	}
}

// TestServeFlagsRefused: contradictory TLS, token and CORS flags are refused before listening.
func TestServeFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-key", "k.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-self-signed", "--tls-key", "k.pem"}, "drop --tls-key"},
		{[]string{"--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"}, "--tls-cert /nonexistent/c.pem"},
		{[]string{"--cors-origin", "app.example.com"}, "an origin is scheme://host"},
		{[]string{"--auth-token", "a b"}, "cannot hold spaces"},
	} {
		_, stderr, code := kustard(t, "", append([]string{"serve", "--listen", "127.0.0.1:0"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %q", c.args, code, stderr, c.want)
		}
	}
}

// TestServeBeyondLoopbackNeedsToken: the refusal names the token that would let it listen.
func TestServeBeyondLoopbackNeedsToken(t *testing.T) {
	_, stderr, code := kustard(t, "", "serve", "--listen", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(stderr, "without --auth-token") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
