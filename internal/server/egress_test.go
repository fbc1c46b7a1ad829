package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeDNS answers every A query for a name in names with its address, so a
// test can make a host name resolve to any address, as a hostile DNS would.
func fakeDNS(t *testing.T, names map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if ans, err := answer(buf[:n], names); err == nil {
				_, _ = pc.WriteTo(ans, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

func answer(query []byte, names map[string]netip.Addr) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	if a, ok := names[strings.TrimSuffix(q.Name.String(), ".")]; ok && q.Type == dnsmessage.TypeA {
		_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: a.As4()})
	}
	return b.Finish()
}

// dialRecorder is an Egress whose connections are recorded as they are made.
func dialRecorder(t *testing.T, e *Egress, names map[string]netip.Addr) (*Egress, func() []string) {
	var mu sync.Mutex
	var reached []string
	e.resolver = fakeDNS(t, names)
	e.connected = func(a string) {
		mu.Lock()
		defer mu.Unlock()
		reached = append(reached, a)
	}
	return e, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), reached...)
	}
}

func listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// A name that resolves to the cloud metadata address is refused when the
// connection is about to be made, and no connection to it is ever made; a name
// resolving to an allowed address connects, so the recorder does see connects.
func TestEgressRefusesMetadataAddressAtConnectTime(t *testing.T) {
	port := listen(t)
	e, reached := dialRecorder(t, &Egress{}, map[string]netip.Addr{
		"metadata.test": netip.MustParseAddr("169.254.169.254"),
		"tableau.test":  netip.MustParseAddr("127.0.0.1"),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	start := time.Now()
	_, err := e.dialContext(ctx, "tcp", "metadata.test:80")
	if !errors.Is(err, ErrEgressRefused) || !strings.Contains(err.Error(), "169.254.169.254, a link-local or cloud-metadata address") {
		t.Fatalf("dialling a name that resolves to 169.254.169.254: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("the refusal waited for a connection attempt")
	}
	for _, a := range reached() {
		if strings.HasPrefix(a, "169.254.") {
			t.Fatalf("a connection to %s was made", a)
		}
	}

	conn, err := e.dialContext(ctx, "tcp", "tableau.test:"+port)
	if err != nil {
		t.Fatalf("an allowed name must connect: %v", err)
	}
	conn.Close()
	if got := reached(); len(got) != 1 || got[0] != "127.0.0.1:"+port {
		t.Fatalf("connections made: %v, want only 127.0.0.1:%s", got, port)
	}
	for _, literal := range []string{"169.254.169.254:80", "100.100.100.200:80", "[fe80::1]:80", "[fd00:ec2::254]:80"} {
		if _, err := e.dialContext(ctx, "tcp", literal); !errors.Is(err, ErrEgressRefused) {
			t.Errorf("dialling %s: %v, want a refusal", literal, err)
		}
	}
}

// With --allowed-hosts, only the listed names and networks are reached.
func TestEgressAllowList(t *testing.T) {
	port := listen(t)
	e, err := ParseEgress("tableau.test, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	e, reached := dialRecorder(t, e, map[string]netip.Addr{
		"tableau.test": netip.MustParseAddr("127.0.0.1"),
		"other.test":   netip.MustParseAddr("127.0.0.1"),
	})
	ctx := context.Background()
	if c, err := e.dialContext(ctx, "tcp", "tableau.test:"+port); err != nil {
		t.Fatalf("a listed name: %v", err)
	} else {
		c.Close()
	}
	if _, err := e.dialContext(ctx, "tcp", "other.test:"+port); !errors.Is(err, ErrEgressRefused) || !strings.Contains(err.Error(), "not in --allowed-hosts") {
		t.Fatalf("a name not listed: %v", err)
	}
	if _, err := e.dialContext(ctx, "tcp", "127.0.0.1:"+port); !errors.Is(err, ErrEgressRefused) {
		t.Fatalf("an address not listed: %v", err)
	}
	if got := reached(); len(got) != 1 {
		t.Fatalf("connections made: %v, want only the listed name's", got)
	}
	loopback, _ := ParseEgress("127.0.0.0/8")
	if c, err := loopback.dialContext(ctx, "tcp", "127.0.0.1:"+port); err != nil {
		t.Fatalf("an address in a listed CIDR: %v", err)
	} else {
		c.Close()
	}
}
