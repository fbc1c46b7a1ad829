package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// ErrEgressRefused is the error of a connection the server would not make.
var ErrEgressRefused = transport.ErrEgressRefused

// blockedNets are never contacted unless an allowed CIDR names them: link-local
// addresses and the cloud metadata endpoints, which hand out credentials.
var blockedNets = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),     // IPv4 link-local, AWS/GCP/Azure metadata
	netip.MustParsePrefix("fe80::/10"),          // IPv6 link-local
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS metadata over IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
}

// Egress decides where the server may connect to read any BI tool. The check runs
// on the resolved address at connect time, so a name that resolves elsewhere
// later (DNS rebinding) gains nothing.
type Egress struct {
	hosts map[string]bool // allowed host names, lower case
	nets  []netip.Prefix  // allowed addresses
	// resolver and connected are for tests: name resolution, and a hook called
	// just before a connection that passed the check is made.
	resolver  *net.Resolver
	connected func(address string)
}

// ParseEgress reads --allowed-hosts: host names, IP addresses and CIDRs,
// separated by commas. Empty allows every host but the blocked networks.
func ParseEgress(list string) (*Egress, error) {
	e := &Egress{hosts: map[string]bool{}}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", item)
			}
			e.nets = append(e.nets, p.Masked())
		default:
			if a, err := netip.ParseAddr(item); err == nil {
				e.nets = append(e.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			} else if bi.IsHostName(item) {
				e.hosts[strings.ToLower(strings.TrimSuffix(item, "."))] = true
			} else {
				return nil, fmt.Errorf("%q is neither a host name, an IP address nor a CIDR", item)
			}
		}
	}
	return e, nil
}

// ResolveWith has e resolve host names with r, as a split-horizon DNS or a
// hermetic test needs, instead of the system's resolver.
func (e *Egress) ResolveWith(r *net.Resolver) *Egress {
	e.resolver = r
	return e
}

// Restricted reports whether an allow-list is in force.
func (e *Egress) Restricted() bool { return len(e.hosts)+len(e.nets) > 0 }

// Transport is an HTTP transport that connects only where e allows. It uses no
// proxy: the checks are about the address actually connected to.
func (e *Egress) Transport() http.RoundTripper {
	t := cleanhttp.DefaultPooledTransport()
	t.Proxy = nil
	t.DialContext = e.dialContext
	return t
}

func (e *Egress) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	byName := e.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: e.resolver,
		Control: func(_, address string, _ syscall.RawConn) error { return e.check(host, byName, address) }}
	return d.DialContext(ctx, network, addr)
}

// check is called with the resolved address right before connecting.
func (e *Egress) check(host string, byName bool, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read the address %q", ErrEgressRefused, address)
	}
	ip := ap.Addr().Unmap()
	allowedNet := false
	for _, p := range e.nets {
		allowedNet = allowedNet || p.Contains(ip)
	}
	for _, p := range blockedNets {
		if p.Contains(ip) && !allowedNet {
			return fmt.Errorf("%w: %s resolves to %s, a link-local or cloud-metadata address, which the server never contacts (allow it explicitly with a CIDR in --allowed-hosts)", ErrEgressRefused, host, ip)
		}
	}
	if e.Restricted() && !byName && !allowedNet {
		return fmt.Errorf("%w: %s (%s) is not in --allowed-hosts", ErrEgressRefused, host, ip)
	}
	if e.connected != nil {
		e.connected(address)
	}
	return nil
}
