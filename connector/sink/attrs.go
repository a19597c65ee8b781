package sink

// The import attributes Tenable documents and the rules of their values.

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// inboundAttr is the rule of one import attribute. The table below lists them
// in the field order of tenable.ImportAsset (checked when the package loads),
// so attribute i is field i of that struct.
type inboundAttr struct {
	name  string
	list  bool  // an array of strings; otherwise a single string
	cloud Cloud // the provider the attribute belongs to
	// identifies: one of the attributes Tenable needs at least one of.
	identifies bool
	// maxItems bounds a list after duplicates are removed; 0 means no bound.
	maxItems int
	// check validates one string (an item of a list) and returns its
	// normalized form, or a problem phrase that follows the quoted value.
	check func(string) (normalized, problem string)
}

// typeName names the attribute's type for a reason.
func (r *inboundAttr) typeName() string {
	if r.list {
		return "an array of strings"
	}
	return "a string"
}

// inboundAttrs are Tenable's import attributes (see POST /import/assets).
var inboundAttrs = []inboundAttr{
	{name: "fqdn", list: true, identifies: true, check: attrCheckHostName},
	{name: "ipv4", list: true, identifies: true, check: attrCheckIPv4},
	{name: "ipv6", list: true, check: attrCheckIPv6},
	{name: "ip_address", list: true, check: attrCheckIPv4}, // legacy alias of ipv4
	{name: "mac_address", list: true, identifies: true, maxItems: 100, check: attrCheckMAC},
	{name: "hostname", list: true, check: attrCheckHostName},
	{name: "operating_system", list: true},
	{name: "installed_software", list: true, check: attrCheckCPE22},
	{name: "bigfix_asset_id", list: true},

	{name: "netbios_name", identifies: true},
	{name: "ssh_fingerprint"},
	{name: "bios_uuid"},
	{name: "manufacturer_tpm_id"},
	{name: "mcafee_epo_guid"},
	{name: "mcafee_epo_agent_guid"},
	{name: "symantec_ep_hardware_key"},
	{name: "qualys_asset_id"},
	{name: "qualys_host_id"},
	{name: "servicenow_sys_id"},

	{name: "gcp_project_id", cloud: CloudGCP},
	{name: "gcp_zone", cloud: CloudGCP},
	{name: "gcp_instance_id", cloud: CloudGCP},

	{name: "azure_vm_id", cloud: CloudAzure},
	{name: "azure_resource_id", cloud: CloudAzure},

	{name: "aws_availability_zone", cloud: CloudAWS},
	{name: "aws_ec2_instance_id", cloud: CloudAWS},
	{name: "aws_ec2_instance_ami_id", cloud: CloudAWS},
	{name: "aws_ec2_instance_group_name", cloud: CloudAWS},
	{name: "aws_ec2_instance_state_name", cloud: CloudAWS},
	{name: "aws_ec2_instance_type", cloud: CloudAWS},
	{name: "aws_ec2_name", cloud: CloudAWS},
	{name: "aws_ec2_product_code", cloud: CloudAWS},
	{name: "aws_owner_id", cloud: CloudAWS},
	{name: "aws_region", cloud: CloudAWS},
	{name: "aws_subnet_id", cloud: CloudAWS},
	{name: "aws_vpc_id", cloud: CloudAWS},
}

// inboundAttrIndex maps an attribute name to its index in inboundAttrs (and
// field index in tenable.ImportAsset).
var inboundAttrIndex = func() map[string]int {
	m := make(map[string]int, len(inboundAttrs))
	for i, r := range inboundAttrs {
		m[r.name] = i
	}
	return m
}()

// The table must describe tenable.ImportAsset field by field; a mismatch is a
// defect of the build, caught by every test of the package.
func init() {
	if err := checkInboundAttrs(); err != nil {
		panic("sink: " + err.Error())
	}
}

func checkInboundAttrs() error {
	t := reflect.TypeFor[tenable.ImportAsset]()
	if len(inboundAttrs) > 64 {
		return fmt.Errorf("%d attributes, more than the 64 bits of inboundCollector.set", len(inboundAttrs))
	}
	if t.NumField() != len(inboundAttrs) {
		return fmt.Errorf("tenable.ImportAsset has %d fields, the attribute table %d", t.NumField(), len(inboundAttrs))
	}
	for i, r := range inboundAttrs {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != r.name {
			return fmt.Errorf("attribute %d is %q in the table, %q in tenable.ImportAsset", i, r.name, name)
		}
		want := reflect.TypeFor[string]()
		if r.list {
			want = reflect.TypeFor[[]string]()
		}
		if f.Type != want {
			return fmt.Errorf("attribute %q is %v in tenable.ImportAsset, %v in the table", r.name, f.Type, want)
		}
	}
	return nil
}

// attrCheckHostName accepts plausible host names: at most 255 bytes, no white
// space, no characters that never occur in a host name, no empty label.
func attrCheckHostName(s string) (string, string) {
	if len(s) > 255 {
		return "", fmt.Sprintf("is not a host name: it is %d bytes long, more than 255", len(s))
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if attrHostNameRefused[c] {
			if c <= ' ' || c == 0x7f {
				return "", "is not a host name: it contains white space"
			}
			return "", fmt.Sprintf("is not a host name: it contains %q", rune(c))
		}
	}
	for _, r := range s {
		if ascii {
			break // checked above
		}
		switch {
		case unicode.IsSpace(r):
			return "", "is not a host name: it contains white space"
		case strings.ContainsRune(`/\:@,;|<>"'?*#`, r):
			return "", fmt.Sprintf("is not a host name: it contains %q", r)
		}
	}
	if s[0] == '.' || strings.Contains(s, "..") {
		return "", "is not a host name: it has an empty label"
	}
	return s, ""
}

// attrHostNameRefused are the ASCII bytes attrCheckHostName refuses: white
// space and the characters that never occur in a host name.
var attrHostNameRefused = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = unicode.IsSpace(rune(c)) || strings.ContainsRune(`/\:@,;|<>"'?*#`, rune(c))
	}
	return t
}()

func attrCheckIPv4(s string) (string, string) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return "", "is not an IPv4 address"
	}
	return attrCanonical(s, a), ""
}

// attrCanonical returns s when it already is a's canonical text, sparing a
// new string for the common case.
func attrCanonical(s string, a netip.Addr) string {
	var buf [64]byte
	if b := a.AppendTo(buf[:0]); string(b) != s {
		return string(b)
	}
	return s
}

// attrCheckIPv6 accepts IPv6 addresses without zone and normalizes them to their
// canonical text (RFC 5952), so equal addresses are sent once.
func attrCheckIPv6(s string) (string, string) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return "", "is not an IPv6 address"
	}
	if a.Zone() != "" {
		return "", "is an IPv6 address with a zone, which an asset address cannot have"
	}
	return attrCanonical(s, a), ""
}

// attrCheckMAC accepts 48-bit MAC addresses in any form net.ParseMAC reads and
// normalizes them to lower-case colon form, so equal addresses are sent once.
func attrCheckMAC(s string) (string, string) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return "", "is not a MAC address"
	}
	if len(hw) != 6 {
		return "", fmt.Sprintf("is a %d-bit hardware address, not a 48-bit MAC address", len(hw)*8)
	}
	return hw.String(), ""
}

// attrCheckCPE22 accepts CPE 2.2 names (cpe:/part:vendor:product...), the form the
// import documents for installed_software.
func attrCheckCPE22(s string) (string, string) {
	if len(s) < len("cpe:/a") || !strings.EqualFold(s[:5], "cpe:/") {
		return "", "is not a CPE 2.2 name (cpe:/part:vendor:product:version)"
	}
	return s, ""
}

// attrCheckText is the rule of every string: valid UTF-8, no control characters,
// not only white space.
func attrCheckText(s string) string {
	// Nearly every value is printable ASCII: one pass over the words settles
	// it without decoding runes.
	if printablePrefix(s) == len(s) {
		if strings.TrimLeft(s, " ") == "" {
			return "is only white space"
		}
		return ""
	}
	blank := true
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return "is not valid UTF-8"
			}
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains a control character (%U)", r)
		}
		if !unicode.IsSpace(r) {
			blank = false
		}
	}
	if blank {
		return "is only white space"
	}
	return ""
}
