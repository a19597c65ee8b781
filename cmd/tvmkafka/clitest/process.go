package clitest

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FreeAddr returns a loopback address with a port free at the time of the
// call, for a process of the binary to listen on.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitHTTP returns once url answers, and fails tb after two minutes.
func WaitHTTP(tb testing.TB, url string) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("%s did not answer", url)
}

// CMDBAsset is the i-th of a series of distinct inbound assets as a CMDB
// would send them to the sink: identifiers, OS, addresses and a dozen
// installed-software CPEs, about 840 bytes of JSON.
func CMDBAsset(i int) []byte {
	var sw []string
	for j := range 12 {
		sw = append(sw, fmt.Sprintf(`"cpe:/a:vendor%d:product%d:%d.%d.%d"`, (i+j)%50, j, i%9, j, i%13))
	}
	return fmt.Appendf(nil, `{"fqdn":["srv-%06d.corp.example.com"],"ipv4":["10.%d.%d.%d"],"ipv6":["fd00::%x:%x"],`+
		`"mac_address":["02:00:%02x:%02x:%02x:01"],"netbios_name":"SRV%06d","hostname":["srv-%06d"],`+
		`"operating_system":["Microsoft Windows Server 2022 Standard"],"ssh_fingerprint":"SHA256:%064x",`+
		`"bios_uuid":"4c4c4544-%04x-%04x-8000-%012x","manufacturer_tpm_id":"tpm-%08x","installed_software":[%s]}`,
		i, (i>>16)&255, (i>>8)&255, i&255, i>>16, i&0xffff, (i>>16)&255, (i>>8)&255, i&255, i, i, i, i&0xffff, i>>16, i, i, strings.Join(sw, ","))
}
