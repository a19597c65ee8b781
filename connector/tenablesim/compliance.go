package tenablesim

import (
	"strconv"
	"strings"
)

// check is one check of an audit file, with the parts of its records that do
// not depend on the asset pre-rendered.
type check struct {
	audit   int
	name    string
	checkID string
	// head renders `"audit_file":…,"check_id":…,"check_name":…,"check_info":…,"expected_value":…`.
	head []byte
	// actual holds `"actual_value":…` per status.
	actual [len(compStatusNames)][]byte
	// mid renders `"reference":[…],"see_also":…,"solution":…,"plugin_id":…`.
	mid []byte
	// tail renders the compliance_* ids, synopsis and so on before last_fixed.
	tail       []byte
	descByStat [len(compStatusNames)][]byte
	tailEnd    []byte // metadata_id, uname_output placeholder-free part
	fullID     string
}

func buildChecks() [][]*check {
	out := make([][]*check, len(audits))
	for ai := range audits {
		au := &audits[ai]
		for ci, title := range au.checks {
			c := &check{audit: ai, name: title}
			c.checkID = sha256Hex(au.file + "|" + title)
			c.fullID = sha256Hex("full|" + au.benchmark + "|" + title)
			section, text, _ := strings.Cut(title, " ")
			info := "The setting '" + text + "' is part of the " + au.benchmark + " benchmark. Applying it reduces the attack surface of the system and aligns the host with the " + au.benchmark + " v" + au.benchmarkVersion + " recommendations."
			var expected, pass, fail, solution string
			if au.system == "Windows" {
				expected = "policy_setting: " + strconv.Itoa(1+ci%24) + "\nreg_key: HKLM\\System\\CurrentControlSet\\Control\\Lsa\nreg_item: Setting" + strconv.Itoa(ci)
				pass = "The policy setting is configured as required: " + strconv.Itoa(1+ci%24)
				fail = "The policy setting is configured as: 0"
				solution = "To establish the recommended configuration via GP, set the following UI path as described: Computer Configuration\\Policies\\Windows Settings\\Security Settings (" + section + ")."
			} else {
				expected = "cmd: /usr/bin/grep -E '^\\s*" + strings.ToLower(strings.Fields(text)[1]) + "' /etc/ssh/sshd_config\nexpect: ^pass$\nsystem: Linux"
				pass = "The command returned : \n\npass"
				fail = "The command returned : \n\nfail"
				solution = "Edit the relevant configuration file and apply the setting described in section " + section + " of the benchmark, then restart the affected service."
			}
			b := appendStrField(nil, "audit_file", au.file)
			b = appendStrField(b, "check_id", c.checkID)
			b = appendStrField(b, "check_name", title)
			b = appendStrField(b, "check_info", info)
			c.head = appendStrField(b, "expected_value", expected)
			for s := range compStatusNames {
				val := pass
				switch s {
				case compFailed, compWarning:
					val = fail
				case compSkipped:
					val = "The check was skipped: not applicable to this system."
				case compError:
					val = "The command failed to run: permission denied."
				}
				c.actual[s] = appendStrField(nil, "actual_value", val)
				c.descByStat[s] = appendStrField(nil, "description", "\""+title+": ["+compStatusNames[s]+"]\"\n\n"+info+"\n\nSolution:\n"+solution+"\n\nPolicy Value:\n"+expected+"\n\nActual Value:\n"+val)
			}
			b = []byte(`"reference":[`)
			for k := range 2 {
				fw := complianceFrameworks[(ci+k*2)%len(complianceFrameworks)]
				controls := strings.Split(fw.controls, "|")
				if k > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				b = appendStrField(b, "framework", fw.framework)
				b = appendStrField(b, "control", controls[ci%len(controls)])
				b = append(b, '}')
			}
			b = append(b, ']')
			b = appendStrField(b, "see_also", "https://workbench.cisecurity.org/benchmarks/"+strconv.Itoa(10000+ai*1000+ci))
			b = appendStrField(b, "solution", solution)
			c.mid = appendIntField(b, "plugin_id", int64(au.pluginID))
			b = appendStrField(nil, "compliance_benchmark_name", au.benchmark)
			b = appendStrField(b, "compliance_benchmark_version", au.benchmarkVersion)
			b = appendStrField(b, "compliance_control_id", sha256Hex("control|"+title))
			b = appendStrField(b, "compliance_full_id", c.fullID)
			b = appendStrField(b, "compliance_functional_id", sha256Hex("func|" + title)[:10])
			b = appendStrField(b, "compliance_informational_id", sha256Hex("info|"+au.file+title))
			c.tail = appendStrField(b, "synopsis", au.synopsis)
			c.tailEnd = appendStrField(nil, "metadata_id", sha256Hex("meta|"+au.file))
			out[ai] = append(out[ai], c)
		}
	}
	return out
}

// appendComplianceRecord renders one compliance finding as export chunks carry it.
func appendComplianceRecord(b []byte, w *world, a *asset, c *compResult) []byte {
	ch := w.checks[c.audit][c.check]
	au := &audits[c.audit]
	b = append(b, '{')
	b = appendStrField(b, "asset_uuid", a.id)
	b = appendTimeField(b, "first_seen", c.firstSeen)
	b = appendTimeField(b, "last_seen", c.lastSeen)
	b = append(b, ',')
	b = append(b, ch.head...)
	b = append(b, ',')
	b = append(b, ch.actual[c.status]...)
	b = appendStrField(b, "status", compStatusNames[c.status])
	b = append(b, ',')
	b = append(b, ch.mid...)
	b = appendStrField(b, "plugin_name", au.pluginName)
	b = appendStrField(b, "state", stateNames[c.state])
	b = append(b, ',')
	b = append(b, ch.descByStat[c.status]...)
	b = append(b, ',')
	b = append(b, ch.tail...)
	b = appendOptTime(b, "last_fixed", c.lastFixed)
	b = appendTimeField(b, "last_observed", c.lastObserved)
	b = append(b, ',')
	b = append(b, ch.tailEnd...)
	if len(a.os) > 0 && au.system != "Windows" {
		b = appendStrField(b, "uname_output", "Linux "+a.hostnames[0]+" "+a.os[0])
	}
	b = appendTimeField(b, "indexed_at", c.indexed)
	b = appendKey(b, "asset")
	b = append(b, a.compFrag...)
	return append(b, '}')
}
