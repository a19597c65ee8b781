package tenablesim

// Static vocabulary the generator draws from: host profiles, services, the core
// informational plugins every scan produces, templates for vulnerability plugins,
// and the audit files of compliance scans. Everything is in slices so iteration
// order is fixed.

// Host profiles. A plugin declares the profiles it applies to as a bit mask.
const (
	profWinServer = iota
	profWinWorkstation
	profUbuntu
	profRHEL
	profDebian
	profAmazonLinux
	profMacOS
	profCiscoIOS
	profPrinter
	profESXi
	numProfiles
)

const (
	maskWindows = 1<<profWinServer | 1<<profWinWorkstation
	maskLinux   = 1<<profUbuntu | 1<<profRHEL | 1<<profDebian | 1<<profAmazonLinux
	maskUnix    = maskLinux | 1<<profMacOS | 1<<profESXi
	maskServers = 1<<profWinServer | maskLinux | 1<<profESXi
	maskAll     = 1<<numProfiles - 1
)

// profile describes a kind of host.
type profile struct {
	name        string
	weight      int
	os          []string // candidate operating_systems values
	systemType  string
	services    []int // indexes into services always present
	optServices []int // indexes into services sometimes present
	software    []string
	agentShare  float64 // share of hosts running a Nessus agent
	cloudShare  float64 // share of hosts that are cloud instances
	netbios     bool
	hostPrefix  []string
	findingMul  float64 // scales the number of vulnerability findings
	compliance  int     // index into audits, -1 for none
}

// service is a port a host may expose.
type service struct {
	port  uint16
	proto uint8 // protoTCP or protoUDP
	name  string
}

const (
	protoTCP = 0
	protoUDP = 1
)

var protoNames = [...]string{"TCP", "UDP"}

var services = []service{
	{22, protoTCP, "ssh"},             // 0
	{80, protoTCP, "www"},             // 1
	{443, protoTCP, "www"},            // 2
	{445, protoTCP, "cifs"},           // 3
	{3389, protoTCP, "msrdp"},         // 4
	{161, protoUDP, "snmp"},           // 5
	{135, protoTCP, "epmap"},          // 6
	{139, protoTCP, "smb"},            // 7
	{25, protoTCP, "smtp"},            // 8
	{53, protoUDP, "dns"},             // 9
	{3306, protoTCP, "mysql"},         // 10
	{5432, protoTCP, "postgresql"},    // 11
	{1433, protoTCP, "mssql"},         // 12
	{8080, protoTCP, "www"},           // 13
	{5985, protoTCP, "www"},           // 14
	{23, protoTCP, "telnet"},          // 15
	{9100, protoTCP, "jetdirect"},     // 16
	{631, protoTCP, "ipp"},            // 17
	{902, protoTCP, "vmware_auth"},    // 18
	{111, protoTCP, "rpc-portmapper"}, // 19
	{137, protoUDP, "netbios-ns"},     // 20
	{5900, protoTCP, "vnc"},           // 21
	{88, protoTCP, "kerberos"},        // 22
	{21, protoTCP, "ftp"},             // 23
}

// Service indexes by role, for plugin templates.
const (
	svcSSH       = 0
	svcHTTP      = 1
	svcHTTPS     = 2
	svcCIFS      = 3
	svcRDP       = 4
	svcSNMP      = 5
	svcEPMAP     = 6
	svcSMB       = 7
	svcSMTP      = 8
	svcDNS       = 9
	svcMySQL     = 10
	svcPostgres  = 11
	svcMSSQL     = 12
	svcHTTPAlt   = 13
	svcWinRM     = 14
	svcTelnet    = 15
	svcJetDirect = 16
	svcIPP       = 17
	svcVMAuth    = 18
	svcRPC       = 19
	svcNetBIOS   = 20
	svcVNC       = 21
	svcKerberos  = 22
	svcFTP       = 23
)

var profiles = []profile{
	profWinServer: {
		name: "windows-server", weight: 22, systemType: "general-purpose",
		os:       []string{"Microsoft Windows Server 2019 Standard", "Microsoft Windows Server 2022 Datacenter", "Microsoft Windows Server 2016 Standard", "Microsoft Windows Server 2012 R2 Standard"},
		services: []int{svcEPMAP, svcSMB, svcCIFS, svcRDP, svcNetBIOS}, optServices: []int{svcHTTP, svcHTTPS, svcMSSQL, svcWinRM, svcSNMP, svcDNS, svcKerberos},
		software:   []string{"cpe:/a:microsoft:.net_framework:4.8", "cpe:/a:microsoft:edge:131.0.2903.70", "cpe:/a:microsoft:internet_information_services:10.0", "cpe:/a:7-zip:7-zip:23.01", "cpe:/a:microsoft:sql_server:2019", "cpe:/a:tenable:nessus_agent:10.7.3", "cpe:/a:vmware:tools:12.3.5", "cpe:/a:notepad-plus-plus:notepad%2b%2b:8.6.2"},
		agentShare: 0.45, cloudShare: 0.25, netbios: true, hostPrefix: []string{"srv", "dc", "app", "sql", "file", "web", "exch"}, findingMul: 1.2, compliance: 0,
	},
	profWinWorkstation: {
		name: "windows-workstation", weight: 30, systemType: "general-purpose",
		os:       []string{"Microsoft Windows 11 Enterprise", "Microsoft Windows 10 Enterprise", "Microsoft Windows 10 Pro", "Microsoft Windows 11 Pro"},
		services: []int{svcEPMAP, svcSMB, svcCIFS, svcNetBIOS}, optServices: []int{svcRDP, svcHTTP},
		software:   []string{"cpe:/a:google:chrome:131.0.6778.86", "cpe:/a:microsoft:edge:131.0.2903.70", "cpe:/a:microsoft:office:2019", "cpe:/a:adobe:acrobat_reader_dc:24.004.20220", "cpe:/a:zoom:zoom:6.2.11", "cpe:/a:mozilla:firefox:133.0", "cpe:/a:microsoft:teams:24295.605.3225.8804", "cpe:/a:tenable:nessus_agent:10.7.3"},
		agentShare: 0.7, cloudShare: 0, netbios: true, hostPrefix: []string{"wks", "lt", "desk", "pc"}, findingMul: 1.0, compliance: -1,
	},
	profUbuntu: {
		name: "ubuntu", weight: 14, systemType: "general-purpose",
		os:       []string{"Linux Kernel 5.15.0-126-generic on Ubuntu 22.04", "Linux Kernel 6.8.0-49-generic on Ubuntu 24.04", "Linux Kernel 5.4.0-200-generic on Ubuntu 20.04"},
		services: []int{svcSSH}, optServices: []int{svcHTTP, svcHTTPS, svcMySQL, svcPostgres, svcSMTP, svcHTTPAlt, svcSNMP, svcRPC},
		software:   []string{"cpe:/a:openbsd:openssh:8.9", "cpe:/a:openssl:openssl:3.0.2", "cpe:/a:haxx:curl:7.81.0", "cpe:/a:nginx:nginx:1.18.0", "cpe:/a:python:python:3.10.12", "cpe:/a:sudo_project:sudo:1.9.9", "cpe:/a:docker:docker:24.0.7"},
		agentShare: 0.35, cloudShare: 0.5, hostPrefix: []string{"ubuntu", "web", "api", "k8s-node", "build", "db"}, findingMul: 1.1, compliance: 1,
	},
	profRHEL: {
		name: "rhel", weight: 9, systemType: "general-purpose",
		os:       []string{"Linux Kernel 4.18.0-553.el8_10.x86_64 on Red Hat Enterprise Linux release 8.10 (Ootpa)", "Linux Kernel 5.14.0-427.13.1.el9_4.x86_64 on Red Hat Enterprise Linux release 9.4 (Plow)"},
		services: []int{svcSSH}, optServices: []int{svcHTTP, svcHTTPS, svcPostgres, svcMySQL, svcSNMP, svcRPC},
		software:   []string{"cpe:/a:openbsd:openssh:8.0", "cpe:/a:openssl:openssl:1.1.1k", "cpe:/a:apache:http_server:2.4.37", "cpe:/a:haxx:curl:7.61.1", "cpe:/a:gnupg:libgcrypt:1.8.5", "cpe:/a:oracle:jdk:17.0.12"},
		agentShare: 0.4, cloudShare: 0.3, hostPrefix: []string{"rhel", "app", "jboss", "ora", "batch"}, findingMul: 1.0, compliance: 2,
	},
	profDebian: {
		name: "debian", weight: 4, systemType: "general-purpose",
		os:       []string{"Linux Kernel 6.1.0-28-amd64 on Debian 12.8", "Linux Kernel 5.10.0-33-amd64 on Debian 11.11"},
		services: []int{svcSSH}, optServices: []int{svcHTTP, svcHTTPS, svcSMTP, svcDNS, svcPostgres},
		software:   []string{"cpe:/a:openbsd:openssh:9.2", "cpe:/a:openssl:openssl:3.0.15", "cpe:/a:apache:http_server:2.4.62", "cpe:/a:postfix:postfix:3.7.11"},
		agentShare: 0.2, cloudShare: 0.4, hostPrefix: []string{"deb", "mail", "ns", "proxy"}, findingMul: 0.9, compliance: 1,
	},
	profAmazonLinux: {
		name: "amazon-linux", weight: 5, systemType: "aws-ec2-instance",
		os:       []string{"Amazon Linux 2", "Amazon Linux 2023"},
		services: []int{svcSSH}, optServices: []int{svcHTTP, svcHTTPS, svcHTTPAlt},
		software:   []string{"cpe:/a:openbsd:openssh:7.4", "cpe:/a:amazon:amazon-ssm-agent:3.3.987.0", "cpe:/a:openssl:openssl:1.0.2k", "cpe:/a:nginx:nginx:1.24.0"},
		agentShare: 0.5, cloudShare: 1, hostPrefix: []string{"ip"}, findingMul: 0.8, compliance: 2,
	},
	profMacOS: {
		name: "macos", weight: 6, systemType: "general-purpose",
		os:       []string{"macOS 14.6", "macOS 15.1", "macOS 13.7"},
		services: []int{}, optServices: []int{svcSSH, svcVNC, svcKerberos},
		software:   []string{"cpe:/a:apple:safari:18.1", "cpe:/a:google:chrome:131.0.6778.86", "cpe:/a:microsoft:visual_studio_code:1.95.3", "cpe:/a:zoom:zoom:6.2.11", "cpe:/a:tenable:nessus_agent:10.7.3"},
		agentShare: 0.85, cloudShare: 0, hostPrefix: []string{"mbp", "imac", "mac"}, findingMul: 0.7, compliance: -1,
	},
	profCiscoIOS: {
		name: "cisco-ios", weight: 4, systemType: "router",
		os:       []string{"Cisco IOS 15.2(4)E10", "Cisco IOS XE 17.9.4a", "Cisco IOS XE 16.12.10"},
		services: []int{svcSNMP}, optServices: []int{svcSSH, svcTelnet, svcHTTPS},
		agentShare: 0, cloudShare: 0, hostPrefix: []string{"rtr", "sw", "core", "edge"}, findingMul: 0.6, compliance: -1,
	},
	profPrinter: {
		name: "printer", weight: 4, systemType: "printer",
		os:       []string{"HP JetDirect", "Xerox Printer", "Lexmark Printer"},
		services: []int{svcJetDirect, svcSNMP}, optServices: []int{svcHTTP, svcHTTPS, svcIPP, svcFTP, svcTelnet},
		agentShare: 0, cloudShare: 0, hostPrefix: []string{"prn", "mfp"}, findingMul: 0.5, compliance: -1,
	},
	profESXi: {
		name: "esxi", weight: 2, systemType: "hypervisor",
		os:       []string{"VMware ESXi 7.0.3 build-21930508", "VMware ESXi 8.0.2 build-22380479"},
		services: []int{svcHTTPS, svcVMAuth}, optServices: []int{svcSSH, svcHTTP, svcSNMP},
		agentShare: 0, cloudShare: 0, hostPrefix: []string{"esx", "esxi"}, findingMul: 0.8, compliance: -1,
	},
}

// Port selection of a plugin.
const (
	portHost    = -1 // host-level finding on 0/tcp
	portEachTCP = -2 // one finding per open TCP port
	portEachAll = -3 // one finding per open port
)

// corePlugin is a real, well-known plugin every scan produces.
type corePlugin struct {
	id       int
	name     string
	family   string
	typ      string
	port     int // portHost, portEach*, or a service index
	profiles int
	share    float64 // share of eligible hosts/ports with the finding
	sev      int
	synopsis string
	output   string // may contain {port} and {ip}
}

var corePlugins = []corePlugin{
	{19506, "Nessus Scan Information", "Settings", "summary", portHost, maskAll, 1, 0, "This plugin displays information about the Nessus scan.", "Information about this scan : \n\nNessus version : 10.8.3\nNessus build : 20010\nPlugin feed version : 202501040412\nScanner edition used : Nessus\nScan type : Normal\nScan name : Weekly infrastructure\nScan policy used : Advanced Network Scan\nScanner IP : 10.0.0.5\nPort scanner(s) : nessus_syn_scanner \nPort range : default\nPing RTT : 1.247 ms\nThorough tests : no\nExperimental tests : no\nCredentialed checks : yes\n"},
	{10180, "Ping the remote host", "Port scanners", "remote", portHost, maskAll, 0.9, 0, "It was possible to identify the status of the remote host (alive or dead).", "The remote host is up\nThe host replied to an ARP who-is query.\n"},
	{11936, "OS Identification", "General", "combined", portHost, maskAll, 1, 0, "It is possible to guess the remote operating system.", "\nRemote operating system : {os}\nConfidence level : 95\nMethod : SSH\n"},
	{45590, "Common Platform Enumeration (CPE)", "General", "combined", portHost, maskAll, 0.95, 0, "It was possible to enumerate CPE names that matched on the remote system.", "\nThe remote operating system matched the following CPE : \n\n  {cpe}\n"},
	{54615, "Device Type", "General", "combined", portHost, maskAll, 1, 0, "It is possible to guess the remote device type.", "Remote device type : {systype}\nConfidence level : 95\n"},
	{10287, "Traceroute Information", "General", "remote", portHost, maskAll, 0.8, 0, "It was possible to obtain traceroute information.", "For your information, here is the traceroute from 10.0.0.5 to {ip} : \n10.0.0.5\n10.0.0.1\n{ip}\n\nHop Count: 2\n"},
	{25220, "TCP/IP Timestamps Supported", "General", "remote", portHost, maskAll &^ maskWindows, 0.7, 0, "The remote service implements TCP timestamps.", ""},
	{12053, "Host Fully Qualified Domain Name (FQDN) Resolution", "General", "remote", portHost, maskAll, 0.85, 0, "It was possible to resolve the name of the remote host.", "\n{ip} resolves as {fqdn}.\n"},
	{10114, "ICMP Timestamp Request Remote Date Disclosure", "General", "remote", portHost, maskAll, 0.35, 1, "It is possible to determine the exact time set on the remote host.", "The difference between the local and remote clocks is 2 seconds.\n"},
	{11219, "Nessus SYN scanner", "Port scanners", "remote", portEachTCP, maskAll, 1, 0, "It is possible to determine which TCP ports are open.", "Port {port}/tcp was found to be open"},
	{22964, "Service Detection", "Service detection", "remote", portEachAll, maskAll, 0.8, 0, "The remote service could be identified.", "A {svc} server is running on this port."},
	{14272, "Netstat Portscanner (SSH)", "Port scanners", "remote", portEachAll, maskUnix, 0.6, 0, "Remote open ports can be enumerated via SSH.", "Port {port}/tcp was found to be open"},
	{34252, "Microsoft Windows Remote Listeners Enumeration (WMI)", "Windows", "local", portEachAll, maskWindows, 0.5, 0, "It is possible to obtain the names of processes listening on the remote UDP and TCP ports.", "\n  Process ID   : 1044\n  Executable   : C:\\Windows\\system32\\svchost.exe\n"},
	{10267, "SSH Server Type and Version Information", "Service detection", "remote", svcSSH, maskAll, 1, 0, "An SSH server is listening on this port.", "\n  SSH version : SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\n  SSH supported authentication : publickey,password\n"},
	{70657, "SSH Algorithms and Languages Supported", "Misc.", "remote", svcSSH, maskAll, 1, 0, "An SSH server is listening on this port.", "\nNessus negotiated the following encryption algorithm(s) with the server : \n\n  Client to Server: aes256-ctr\n  Server to Client: aes256-ctr\n"},
	{10881, "SSH Protocol Versions Supported", "General", "remote", svcSSH, maskAll, 1, 0, "A SSH server is running on the remote host.", "The remote SSH daemon supports the following versions of the\nSSH protocol :\n\n  - 1.99\n  - 2.0\n"},
	{149334, "SSH Password Authentication Accepted", "Misc.", "remote", svcSSH, maskAll, 0.6, 0, "The SSH server on the remote host accepts password authentication.", ""},
	{153953, "SSH Weak Key Exchange Algorithms Enabled", "Misc.", "remote", svcSSH, maskAll, 0.25, 1, "The remote SSH server is configured to allow weak key exchange algorithms.", "\nThe following weak key exchange algorithms are enabled : \n\n  diffie-hellman-group-exchange-sha1\n  diffie-hellman-group1-sha1\n"},
	{10107, "HTTP Server Type and Version", "Web Servers", "remote", svcHTTP, maskAll, 1, 0, "A web server is running on the remote host.", "The remote web server type is :\n\nnginx/1.18.0 (Ubuntu)"},
	{10107, "HTTP Server Type and Version", "Web Servers", "remote", svcHTTPS, maskAll, 1, 0, "A web server is running on the remote host.", "The remote web server type is :\n\nMicrosoft-IIS/10.0"},
	{24260, "HyperText Transfer Protocol (HTTP) Information", "Web Servers", "remote", svcHTTPS, maskAll, 1, 0, "Some information about the remote HTTP configuration can be extracted.", "\nResponse Code : HTTP/1.1 200 OK\n\nProtocol version : HTTP/1.1\nHTTP/2 TLS Support: Yes\nSSL : yes\nKeep-Alive : yes\n"},
	{24260, "HyperText Transfer Protocol (HTTP) Information", "Web Servers", "remote", svcHTTP, maskAll, 1, 0, "Some information about the remote HTTP configuration can be extracted.", "\nResponse Code : HTTP/1.1 301 Moved Permanently\n\nProtocol version : HTTP/1.1\nSSL : no\nKeep-Alive : yes\n"},
	{56984, "SSL / TLS Versions Supported", "General", "remote", svcHTTPS, maskAll, 1, 0, "The remote service encrypts communications.", "\nThis port supports TLSv1.3/TLSv1.2.\n"},
	{10863, "SSL Certificate Information", "General", "remote", svcHTTPS, maskAll, 1, 0, "This plugin displays the SSL certificate.", "Subject Name: \n\nCommon Name: {fqdn}\n\nIssuer Name: \n\nCommon Name: Corp Issuing CA 01\n"},
	{21643, "SSL Cipher Suites Supported", "General", "remote", svcHTTPS, maskAll, 1, 0, "The remote service encrypts communications using SSL.", "\nHere is the list of SSL ciphers supported by the remote server :\n\n  High Strength Ciphers (>= 112-bit key)\n\n    Name                          Code             KEX           Auth     Encryption             MAC\n    ----------------------        ----------       ---           ----     ---------------------  ---\n    ECDHE-RSA-AES128-SHA256       0xC0, 0x27       ECDH          RSA      AES-CBC(128)           SHA256\n"},
	{10785, "Microsoft Windows SMB NativeLanManager Remote System Information Disclosure", "Windows", "remote", svcCIFS, maskAll, 1, 0, "It was possible to obtain information about the remote operating system.", "The remote Operating System is : Windows Server 2019 Standard 17763\nThe remote native LAN manager is : Windows Server 2019 Standard 6.3\nThe remote SMB Domain Name is : CORP\n"},
	{11011, "Microsoft Windows SMB Service Detection", "Windows", "remote", svcCIFS, maskAll, 1, 0, "A file / print sharing service is listening on the remote host.", "\nA CIFS server is running on this port.\n"},
	{11011, "Microsoft Windows SMB Service Detection", "Windows", "remote", svcSMB, maskAll, 1, 0, "A file / print sharing service is listening on the remote host.", "\nAn SMB server is running on this port.\n"},
	{10736, "DCE Services Enumeration", "Windows", "local", svcEPMAP, maskAll, 1, 0, "A DCE/RPC service is running on the remote host.", "\nThe following DCERPC services are available locally :\n\nObject UUID : 00000000-0000-0000-0000-000000000000\nUUID : 12345778-1234-abcd-ef00-0123456789ac, version 1.0\nDescription : Security Account Manager\nWindows process : lsass.exe\n"},
	{10150, "Windows NetBIOS / SMB Remote Host Information Disclosure", "Windows", "remote", svcNetBIOS, maskAll, 1, 0, "It was possible to obtain the network name of the remote host.", "The following 2 NetBIOS names have been gathered :\n\n {netbios} = Computer name\n CORP = Workgroup / Domain name\n"},
	{10940, "Remote Desktop Protocol Service Detection", "Service detection", "remote", svcRDP, maskAll, 1, 0, "The remote host has a remote desktop protocol service enabled.", ""},
	{10800, "SNMP Query System Information Disclosure", "SNMP", "remote", svcSNMP, maskAll, 0.7, 0, "The System Information of the remote host can be obtained via SNMP.", "\nSystem information :\n sysDescr     : {os}\n sysObjectID  : 1.3.6.1.4.1.9.1.1208\n sysUptime    : 47d 4h 12m 3s\n"},
	{35296, "SNMP Protocol Version Detection", "SNMP", "remote", svcSNMP, maskAll, 1, 0, "This plugin reports the protocol version negotiated with the remote SNMP agent.", "\nNessus has negotiated SNMP communications at SNMPv2c.\n"},
	{10551, "SNMP Request Network Interfaces Enumeration", "SNMP", "remote", svcSNMP, maskAll, 0.6, 0, "The list of network interfaces cards of the remote host can be obtained via SNMP.", "\nInterface 1 information :\n ifIndex       : 1\n ifDescr       : lo\n ifPhysAddress : 000000000000\n"},
	{11002, "DNS Server Detection", "DNS", "remote", svcDNS, maskAll, 1, 0, "A DNS server is listening on the remote host.", ""},
	{10263, "SMTP Server Detection", "Service detection", "remote", svcSMTP, maskAll, 1, 0, "An SMTP server is listening on the remote port.", "Remote SMTP server banner :\n\n220 {fqdn} ESMTP Postfix (Debian/GNU)"},
	{10719, "MySQL Server Detection", "Databases", "remote", svcMySQL, maskAll, 1, 0, "A database server is listening on the remote port.", "\n  Version  : 8.0.39\n  Protocol : 10\n"},
	{26024, "PostgreSQL Server Detection", "Databases", "remote", svcPostgres, maskAll, 1, 0, "A database service is listening on the remote host.", ""},
	{10144, "Microsoft SQL Server TCP/IP Listener Detection", "Databases", "remote", svcMSSQL, maskAll, 1, 0, "A database server is listening on the remote port.", "\nThe remote SQL Server version is 15.0.4390.2.\n"},
	{10092, "FTP Server Detection", "Service detection", "remote", svcFTP, maskAll, 1, 0, "An FTP server is listening on a remote port.", "\nThe remote FTP banner is :\n\n220 FTP server ready.\n"},
	{10281, "Telnet Server Detection", "Service detection", "remote", svcTelnet, maskAll, 1, 0, "A Telnet server is listening on the remote port.", ""},
	{11154, "Unknown Service Detection: Banner Retrieval", "Service detection", "remote", svcJetDirect, maskAll, 0.8, 0, "There is an unknown service running on the remote host.", "\nIf you know what this service is and think the banner could be used to\nidentify it, please send a description of the service along with the\nfollowing output to svc-signatures@nessus.org :\n"},
	{20811, "Microsoft Windows Installed Software Enumeration (credentialed check)", "Windows", "local", portHost, maskWindows, 0.75, 0, "It is possible to enumerate installed software on the remote host via credentialed checks.", "\nThe following software are installed on the remote host :\n\n  Microsoft Edge  [version 131.0.2903.70]\n  7-Zip 23.01 (x64)  [version 23.01]\n"},
	{22869, "Software Enumeration (SSH)", "General", "local", portHost, maskUnix, 0.75, 0, "It was possible to enumerate installed software on the remote host via SSH.", "\nHere is the list of packages installed on the remote Linux system : \n\n  openssh-server 1:8.9p1-3ubuntu0.10\n  openssl 3.0.2-0ubuntu1.18\n"},
	{33276, "Enumerate MAC Addresses via SSH", "General", "local", portHost, maskUnix, 0.7, 0, "Nessus was able to enumerate MAC addresses on the remote host.", "\nThe following MAC address exists on the remote host :\n\n  - {mac} (interface eth0)\n"},
	{25221, "Remote listeners enumeration (Linux / AIX)", "Service detection", "local", portEachAll, maskLinux, 0.5, 0, "Using the supplied credentials, it is possible to identify the process listening on the remote port.", "\n  Process id   : 1203\n  Executable   : /usr/sbin/sshd\n"},
	{110095, "Target Credential Issues by Authentication Protocol - No Issues Found", "Settings", "summary", portHost, maskAll, 0.7, 0, "Nessus was able to log in to the remote host using the provided credentials. No issues were reported with access, privilege, or intermittent failure.", "\nNessus was able to log into the remote host with no privilege or access\nproblems via the following :\n\n  User:        'svc_nessus'\n  Port:        22\n  Proto:       SSH\n  Method:      password\n"},
	{117887, "OS Security Patch Assessment Available", "Settings", "summary", portHost, maskAll, 0.7, 0, "Nessus was able to log in to the remote host using the provided credentials and enumerate OS security patch levels.", "\nOS Security Patch Assessment is available.\n\nAccount  : svc_nessus\nProtocol : SMB\n"},
	{21745, "Authentication Failure - Local Checks Not Run", "Settings", "summary", portHost, maskAll, 0.08, 0, "The local security checks are disabled.", "- SSH was unable to login with any supplied credentials.\n"},
	{66334, "Patch Report", "General", "summary", portHost, maskAll, 0.6, 0, "The remote host is missing several patches.", "\n\n. You need to take the following action :\n\n[ Update the affected packages ]\n\n+ Action to take : Update the affected packages.\n"},
	{56468, "Time of Last System Startup", "General", "local", portHost, maskServers | maskWindows, 0.6, 0, "The system has been started.", "\n  20250102 0412\n"},
	{64582, "Netstat Connection Information", "General", "local", portHost, maskServers, 0.5, 0, "Nessus was able to parse the results of the 'netstat' command on the remote host.", ""},
	{86420, "Ethernet MAC Addresses", "General", "combined", portHost, maskAll, 0.9, 0, "This plugin gathers MAC addresses from various sources and consolidates them into a list.", "The following is a consolidated list of detected MAC Addresses:\n  - {mac}\n"},
	{35716, "Ethernet Card Manufacturer Detection", "Misc.", "combined", portHost, maskAll, 0.9, 0, "The manufacturer can be identified from the Ethernet OUI.", "\nThe following card manufacturers were identified :\n\n{mac} : VMware, Inc.\n"},
	{95928, "Linux User List Enumeration", "Misc.", "local", portHost, maskLinux, 0.6, 0, "Nessus was able to enumerate local users and groups on the remote Linux host.", "\n----------[ User Accounts ]----------\n\nUser         : ubuntu\nHome folder  : /home/ubuntu\nStart script : /bin/bash\n"},
	{10395, "Microsoft Windows SMB Shares Enumeration", "Windows", "local", svcCIFS, maskWindows, 0.6, 0, "It is possible to enumerate remote network shares.", "\nHere are the SMB shares available on the remote host when logged in as svc_nessus:\n\n  - ADMIN$\n  - C$\n  - IPC$\n"},
	{57608, "SMB Signing not required", "Misc.", "remote", svcCIFS, maskAll, 0.45, 2, "Signing is not required on the remote SMB server.", ""},
	{58453, "Terminal Services Doesn't Use Network Level Authentication (NLA) Only", "Misc.", "remote", svcRDP, maskAll, 0.3, 2, "The remote Terminal Services doesn't use Network Level Authentication only.", "Nessus was able to negotiate non-NLA (Network Level Authentication) security.\n"},
	{18405, "Remote Desktop Protocol Server Man-in-the-Middle Weakness", "Windows", "remote", svcRDP, maskAll, 0.25, 2, "It may be possible to get access to the remote host.", ""},
	{51192, "SSL Certificate Cannot Be Trusted", "General", "remote", svcHTTPS, maskAll, 0.4, 2, "The SSL certificate for this service cannot be trusted.", "\nThe following certificate was at the top of the certificate\nchain sent by the remote host, but it is signed by an unknown\ncertificate authority :\n\n|-Subject : CN={fqdn}\n|-Issuer  : CN=Corp Issuing CA 01\n"},
	{57582, "SSL Self-Signed Certificate", "General", "remote", svcHTTPS, maskAll, 0.3, 2, "The SSL certificate chain for this service ends in an unrecognized self-signed certificate.", "\nThe following certificate was found at the top of the certificate\nchain sent by the remote host, but is self-signed and was not\nfound in the list of known certificate authorities :\n\n|-Subject : CN={fqdn}\n"},
	{104743, "TLS Version 1.0 Protocol Detection", "Service detection", "remote", svcHTTPS, maskAll, 0.3, 2, "The remote service encrypts traffic using an older version of TLS.", "TLSv1 is enabled and the server supports at least one cipher."},
	{157288, "TLS Version 1.1 Deprecated Protocol", "Service detection", "remote", svcHTTPS, maskAll, 0.3, 2, "The remote service encrypts traffic using an older version of TLS.", "TLSv1.1 is enabled and the server supports at least one cipher."},
	{42873, "SSL Medium Strength Cipher Suites Supported (SWEET32)", "General", "remote", svcHTTPS, maskAll, 0.2, 3, "The remote service supports the use of medium strength SSL ciphers.", "\n  Medium Strength Ciphers (> 64-bit and < 112-bit key, or 3DES)\n\n    DES-CBC3-SHA                  0x00, 0x0A       RSA           RSA      3DES-CBC(168)          SHA1\n"},
	{41028, "SNMP Agent Default Community Name (public)", "SNMP", "remote", svcSNMP, maskAll, 0.25, 3, "The community name of the remote SNMP server can be guessed.", "\nThe remote SNMP server replies to the following default community\nstring :\n\npublic\n"},
	{11213, "HTTP TRACE / TRACK Methods Allowed", "Web Servers", "remote", svcHTTP, maskAll, 0.15, 2, "Debugging functions are enabled on the remote web server.", "\nTo disable these methods, add the following lines for each virtual\nhost in your configuration file :\n\n    RewriteEngine on\n    RewriteCond %{REQUEST_METHOD} ^(TRACE|TRACK)\n    RewriteRule .* - [F]\n"},
	{42263, "Unencrypted Telnet Server", "Misc.", "remote", svcTelnet, maskAll, 1, 2, "The remote Telnet server transmits traffic in cleartext.", "Nessus collected the following banner from the remote Telnet server :\n\n------------------------------ snip ------------------------------\nUser Access Verification\n------------------------------ snip ------------------------------\n"},
	{90317, "SSH Weak Algorithms Supported", "Misc.", "remote", svcSSH, maskAll, 0.15, 2, "The remote SSH server is configured to allow weak encryption algorithms or no algorithm at all.", "\nThe following weak server-to-client encryption algorithms are supported : \n\n  arcfour\n  arcfour128\n"},
	{187315, "SSH Terrapin Prefix Truncation Weakness (CVE-2023-48795)", "Misc.", "remote", svcSSH, maskAll, 0.35, 2, "The remote SSH server is vulnerable to a mitm prefix truncation attack.", "\nSupports following Encrypt-then-MAC client to server algorithms : umac-64-etm@openssh.com\n"},
	{71049, "SSH Weak MAC Algorithms Enabled", "Misc.", "remote", svcSSH, maskAll, 0.2, 1, "The remote SSH server is configured to allow MD5 and 96-bit MAC algorithms.", "\nThe following client-to-server Message Authentication Code (MAC) algorithms\nare supported : \n\n  hmac-md5\n  hmac-sha1-96\n"},
	{26928, "SSL Weak Cipher Suites Supported", "General", "remote", svcHTTPS, maskAll, 0.1, 2, "The remote service supports the use of weak SSL ciphers.", ""},
	{15901, "SSL Certificate Expiry", "General", "remote", svcHTTPS, maskAll, 0.12, 2, "The remote server's SSL certificate has already expired.", "\nThe SSL certificate has already expired :\n\n  Subject          : CN={fqdn}\n  Not valid after  : Nov 02 12:00:00 2024 GMT\n"},
	{10079, "Anonymous FTP Enabled", "FTP", "remote", svcFTP, maskAll, 0.4, 2, "Anonymous logins are allowed on the remote FTP server.", ""},
	{97833, "MS17-010: Security Update for Microsoft Windows SMB Server (4013389) (ETERNALBLUE) (ETERNALCHAMPION) (ETERNALROMANCE) (ETERNALSYNERGY) (WannaCry) (EternalRocks) (Petya) (uncredentialed check)", "Windows", "remote", svcCIFS, maskWindows, 0.02, 4, "The remote Windows host is affected by multiple vulnerabilities.", "\nSent:\n00000000  00 00 00 4f ff 53 4d 42 25 00 00 00 00 18 01 28\n"},
}

// vulnTemplate produces generated vulnerability plugins for one product line.
type vulnTemplate struct {
	family   string
	familyID int
	typ      string
	port     int // portHost or a service index
	profiles int
	weight   int
	names    []string // patterns with {p} {kb} {m} {n} {n5} {v1} {v2} {v3} placeholders
	products []string
	cpe      string
	synopsis string
	solution string
	seeAlso  string // URL pattern, {n} filled in
	xrefType string
}

var vulnTemplates = []vulnTemplate{
	{"Windows : Microsoft Bulletins", 41, "local", portHost, maskWindows, 14,
		[]string{"KB{kb}: Windows {p} Security Update ({m})", "Security Updates for Microsoft {p} ({m})"},
		[]string{"Server 2019", "Server 2022", "10 Version 22H2", "11 Version 23H2", "Server 2016", ".NET Framework", "Office Products", "Exchange Server 2019", "SQL Server"},
		"cpe:/o:microsoft:windows", "The remote Windows host is affected by multiple vulnerabilities.", "Apply Security Update KB{kb}.", "https://support.microsoft.com/help/{n}", "MSKB"},
	{"Windows", 20, "local", portHost, maskWindows, 8,
		[]string{"Microsoft Edge (Chromium) < {v3}.0.{n}.{v2} Multiple Vulnerabilities", "Google Chrome < {v3}.0.{n}.{v2} Multiple Vulnerabilities", "Mozilla Firefox < {v3}.{v1} Multiple Vulnerabilities", "Adobe Acrobat < 24.00{v1}.{n5} Multiple Vulnerabilities (APSB24-{v2})", "7-Zip < 24.{v2} Multiple Vulnerabilities", "Zoom Client for Meetings < 6.{v1}.{v2} Vulnerability (ZSB-24{v3})"},
		nil, "cpe:/a:microsoft:edge", "A web browser or application installed on the remote Windows host is affected by multiple vulnerabilities.", "Upgrade to the latest version.", "https://www.tenable.com/plugins/nessus/{n}", "IAVA"},
	{"Ubuntu Local Security Checks", 14, "local", portHost, 1 << profUbuntu, 10,
		[]string{"Ubuntu 22.04 LTS / 24.04 LTS : {p} vulnerabilities (USN-{n}-1)", "Ubuntu 20.04 LTS : {p} vulnerability (USN-{n}-2)"},
		[]string{"Linux kernel", "OpenSSL", "curl", "Python", "sudo", "GnuTLS", "libxml2", "Vim", "OpenSSH", "GLib", "Expat", "PHP", "Nginx"},
		"cpe:/o:canonical:ubuntu_linux", "The remote Ubuntu host is missing one or more security updates.", "Update the affected packages.", "https://ubuntu.com/security/notices/USN-{n}-1", "USN"},
	{"Red Hat Local Security Checks", 30, "local", portHost, 1 << profRHEL, 8,
		[]string{"RHEL 8 : {p} (RHSA-2024:{n})", "RHEL 9 : {p} (RHSA-2025:{n})"},
		[]string{"kernel", "openssl", "httpd:2.4", "curl", "glibc", "python3.11", "sudo", "bind", "krb5", "java-17-openjdk", "postgresql:13"},
		"cpe:/o:redhat:enterprise_linux", "The remote Red Hat host is missing one or more security updates.", "Update the affected packages.", "https://access.redhat.com/errata/RHSA-2024:{n}", "RHSA"},
	{"Debian Local Security Checks", 16, "local", portHost, 1 << profDebian, 6,
		[]string{"Debian dsa-{n} : {p} - security update", "Debian dla-{n} : {p} - security update"},
		[]string{"linux", "openssl", "postfix", "apache2", "bind9", "curl", "libxml2", "python3.11", "sudo", "git"},
		"cpe:/o:debian:debian_linux", "The remote Debian host is missing one or more security-related updates.", "Upgrade the affected packages.", "https://security-tracker.debian.org/tracker/DSA-{n}", "DSA"},
	{"Amazon Linux Local Security Checks", 52, "local", portHost, 1 << profAmazonLinux, 6,
		[]string{"Amazon Linux 2 : {p} (ALAS-2024-{n})", "Amazon Linux 2023 : {p} (ALAS2023-2024-{n})"},
		[]string{"kernel", "openssl", "curl", "python3", "glibc", "sudo", "nginx", "java-17-amazon-corretto"},
		"cpe:/o:amazon:linux", "The remote Amazon Linux host is missing a security update.", "Run 'yum update' to update your system.", "https://alas.aws.amazon.com/AL2/ALAS-2024-{n}.html", "ALAS"},
	{"MacOS X Local Security Checks", 21, "local", portHost, 1 << profMacOS, 5,
		[]string{"macOS 14.x < 14.{v1} Multiple Vulnerabilities (12{n})", "macOS 13.x < 13.{v1} Multiple Vulnerabilities (12{n})", "macOS 15.x < 15.{v1} Multiple Vulnerabilities (12{n})"},
		nil, "cpe:/o:apple:mac_os_x", "The remote host is missing a macOS security update.", "Upgrade to the latest macOS version.", "https://support.apple.com/en-us/{n}", "APPLE-SA"},
	{"Web Servers", 11, "remote", svcHTTPS, maskServers, 5,
		[]string{"Apache 2.4.x < 2.4.{v2} Multiple Vulnerabilities", "nginx 1.{v2}.x < 1.{v2}.{v1} Multiple Vulnerabilities", "Microsoft IIS 10.0 Information Disclosure ({n})"},
		nil, "cpe:/a:apache:http_server", "The remote web server is affected by multiple vulnerabilities.", "Upgrade to the latest version of the web server.", "https://httpd.apache.org/security/vulnerabilities_24.html#{n}", "IAVA"},
	{"CGI abuses", 3, "remote", svcHTTP, maskServers, 4,
		[]string{"Apache Tomcat 9.0.x < 9.0.{v2} Multiple Vulnerabilities", "PHP 8.{v1}.x < 8.{v1}.{v2} Multiple Vulnerabilities", "jQuery 1.2 < 3.5.0 Multiple XSS ({n})", "Apache Struts 2.x < 2.5.{v2} Remote Code Execution (S2-0{v2})"},
		nil, "cpe:/a:apache:tomcat", "The remote web application is affected by multiple vulnerabilities.", "Upgrade to the latest version.", "https://tomcat.apache.org/security-9.html#{n}", "IAVA"},
	{"General", 12, "local", portHost, maskServers | maskWindows, 5,
		[]string{"OpenSSL 3.0.x < 3.0.{v2} Multiple Vulnerabilities", "Apache Log4j 2.x < 2.{v2}.{v1} Remote Code Execution", "Oracle Java SE Multiple Vulnerabilities ({m} CPU)", "Python 3.{v1}.x < 3.{v1}.{v2} Multiple Vulnerabilities", "curl 7.{v2} < 8.{v1}.0 Multiple Vulnerabilities"},
		nil, "cpe:/a:openssl:openssl", "The remote host has a component affected by multiple vulnerabilities.", "Upgrade to the latest version.", "https://www.openssl.org/news/secadv/2024{n}.txt", "IAVA"},
	{"CISCO", 18, "local", portHost, 1 << profCiscoIOS, 5,
		[]string{"Cisco IOS XE Software {p} (cisco-sa-iosxe-{n})", "Cisco IOS Software {p} (cisco-sa-ios-{n})"},
		[]string{"Web UI Privilege Escalation", "IKEv2 Denial of Service", "SNMP Remote Code Execution", "DHCP Snooping DoS", "Command Injection", "Secure Boot Bypass"},
		"cpe:/o:cisco:ios_xe", "The remote device is missing a vendor-supplied security patch.", "Upgrade to the relevant fixed version referenced in Cisco bug ID CSCwh{n5}.", "https://sec.cloudapps.cisco.com/security/center/content/CiscoSecurityAdvisory/cisco-sa-{n}", "CISCO-BUG-ID"},
	{"VMware ESX Local Security Checks", 43, "local", portHost, 1 << profESXi, 5,
		[]string{"VMware ESXi 7.0 / 8.0 Multiple Vulnerabilities (VMSA-2024-00{v2})", "VMware ESXi 8.0 U{v1} Sandbox Escape (VMSA-2024-00{v2})"},
		nil, "cpe:/o:vmware:esxi", "The remote VMware ESXi host is missing a security patch.", "Apply the appropriate patch as referenced in the vendor advisory.", "https://www.vmware.com/security/advisories/VMSA-2024-{n}.html", "VMSA"},
	{"Databases", 31, "remote", svcMySQL, maskAll, 3,
		[]string{"MySQL 8.0.x < 8.0.{v2} Multiple Vulnerabilities ({m} CPU)"},
		nil, "cpe:/a:oracle:mysql", "The remote database server is affected by multiple vulnerabilities.", "Upgrade to MySQL version 8.0.40 or later.", "https://www.oracle.com/security-alerts/cpuoct2024.html#{n}", "IAVA"},
	{"Databases", 31, "remote", svcPostgres, maskAll, 3,
		[]string{"PostgreSQL 13.x < 13.{v2} / 14.x < 14.{v2} Multiple Vulnerabilities"},
		nil, "cpe:/a:postgresql:postgresql", "The remote database server is affected by multiple vulnerabilities.", "Upgrade to the latest minor release.", "https://www.postgresql.org/support/security/{n}", "IAVB"},
	{"Databases", 31, "local", svcMSSQL, maskWindows, 3,
		[]string{"Security Updates for Microsoft SQL Server ({m}) (KB{kb})"},
		nil, "cpe:/a:microsoft:sql_server", "The remote database server is affected by multiple vulnerabilities.", "Apply the security update.", "https://support.microsoft.com/help/{n}", "MSKB"},
	{"Misc.", 24, "remote", svcSNMP, maskAll, 2,
		[]string{"Net-SNMP 5.{v1}.x < 5.9.{v1} Multiple Vulnerabilities ({n})"},
		nil, "cpe:/a:net-snmp:net-snmp", "The remote SNMP daemon is affected by multiple vulnerabilities.", "Upgrade Net-SNMP.", "https://www.net-snmp.org/{n}", "IAVB"},
	{"Misc.", 24, "remote", svcJetDirect, 1 << profPrinter, 3,
		[]string{"HP Printer Firmware < 20{v2}.{v1} Multiple Vulnerabilities (HPSBPI0{n})", "Xerox Printer Multiple Vulnerabilities (XRX24-0{v2})"},
		nil, "cpe:/h:hp:printer", "The remote printer is affected by multiple vulnerabilities.", "Upgrade the printer firmware.", "https://support.hp.com/us-en/document/{n}", "IAVA"},
	{"Windows", 20, "remote", svcRDP, maskWindows, 2,
		[]string{"Microsoft Windows Remote Desktop Services Remote Code Execution (CVE-2024-{n5})"},
		nil, "cpe:/o:microsoft:windows", "The remote Windows host is affected by a remote code execution vulnerability.", "Apply the security update.", "https://msrc.microsoft.com/update-guide/vulnerability/{n}", "MSKB"},
}

// Tag categories and values assets carry.
var tagCategories = []struct {
	key    string
	values []string
}{
	{"Location", []string{"Austin", "Dallas", "Frankfurt", "Singapore", "London", "Columbia"}},
	{"Business Unit", []string{"Finance", "Engineering", "Sales", "HR", "Operations"}},
	{"Environment", []string{"Production", "Staging", "Development"}},
	{"Owner", []string{"platform-team", "it-ops", "secops", "data-team"}},
	{"Geographic Area", []string{"APAC", "EMEA", "AMER"}},
}

// audit is a compliance audit file and the checks it contains.
type audit struct {
	file             string
	benchmark        string
	benchmarkVersion string
	pluginID         int
	pluginName       string
	synopsis         string
	system           string
	checks           []string // "section title"
}

var audits = []audit{
	{
		file: "CIS_Microsoft_Windows_Server_2019_Benchmark_v3.0.1_L1_MS.audit", benchmark: "CIS Microsoft Windows Server 2019", benchmarkVersion: "3.0.1",
		pluginID: 21156, pluginName: "Windows Compliance Checks", synopsis: "Compliance checks for Windows hosts.", system: "Windows",
		checks: []string{
			"1.1.1 Ensure 'Enforce password history' is set to '24 or more password(s)'",
			"1.1.2 Ensure 'Maximum password age' is set to '365 or fewer days, but not 0'",
			"1.1.3 Ensure 'Minimum password age' is set to '1 or more day(s)'",
			"1.1.4 Ensure 'Minimum password length' is set to '14 or more character(s)'",
			"1.1.5 Ensure 'Password must meet complexity requirements' is set to 'Enabled'",
			"1.2.1 Ensure 'Account lockout duration' is set to '15 or more minute(s)'",
			"1.2.2 Ensure 'Account lockout threshold' is set to '5 or fewer invalid logon attempt(s), but not 0'",
			"2.2.1 Ensure 'Access Credential Manager as a trusted caller' is set to 'No One'",
			"2.2.3 Ensure 'Access this computer from the network' is set to 'Administrators, Authenticated Users'",
			"2.3.1.1 Ensure 'Accounts: Block Microsoft accounts' is set to 'Users can't add or log on with Microsoft accounts'",
			"2.3.1.3 Ensure 'Accounts: Limit local account use of blank passwords to console logon only' is set to 'Enabled'",
			"2.3.2.1 Ensure 'Audit: Force audit policy subcategory settings' is set to 'Enabled'",
			"2.3.7.1 Ensure 'Interactive logon: Do not require CTRL+ALT+DEL' is set to 'Disabled'",
			"2.3.8.1 Ensure 'Microsoft network client: Digitally sign communications (always)' is set to 'Enabled'",
			"2.3.9.2 Ensure 'Microsoft network server: Digitally sign communications (always)' is set to 'Enabled'",
			"2.3.10.2 Ensure 'Network access: Do not allow anonymous enumeration of SAM accounts' is set to 'Enabled'",
			"2.3.11.7 Ensure 'Network security: LAN Manager authentication level' is set to 'Send NTLMv2 response only. Refuse LM & NTLM'",
			"9.1.1 Ensure 'Windows Firewall: Domain: Firewall state' is set to 'On (recommended)'",
			"9.2.1 Ensure 'Windows Firewall: Private: Firewall state' is set to 'On (recommended)'",
			"9.3.1 Ensure 'Windows Firewall: Public: Firewall state' is set to 'On (recommended)'",
			"17.1.1 Ensure 'Audit Credential Validation' is set to 'Success and Failure'",
			"17.5.1 Ensure 'Audit Account Lockout' is set to include 'Failure'",
			"18.4.1 Ensure 'Configure SMB v1 client driver' is set to 'Enabled: Disable driver (recommended)'",
			"18.4.2 Ensure 'Configure SMB v1 server' is set to 'Disabled'",
			"18.9.19.1 Ensure 'Turn off background refresh of Group Policy' is set to 'Disabled'",
			"18.10.9.1 Ensure 'Allow Basic authentication' is set to 'Disabled'",
			"18.10.56.3.9.1 Ensure 'Always prompt for password upon connection' is set to 'Enabled'",
			"18.10.57.1 Ensure 'Prevent downloading of enclosures' is set to 'Enabled'",
		},
	},
	{
		file: "CIS_Ubuntu_22.04_LTS_v2.0.0_L1_Server.audit", benchmark: "CIS Ubuntu Linux 22.04 LTS", benchmarkVersion: "2.0.0",
		pluginID: 21157, pluginName: "Unix Compliance Checks", synopsis: "Compliance checks for Unix hosts.", system: "Linux",
		checks: []string{
			"1.1.1.1 Ensure cramfs kernel module is not available",
			"1.1.1.2 Ensure freevxfs kernel module is not available",
			"1.1.2.1.1 Ensure /tmp is a separate partition",
			"1.1.2.1.2 Ensure nodev option set on /tmp partition",
			"1.3.1.2 Ensure AppArmor is enabled in the bootloader configuration",
			"1.4.1 Ensure bootloader password is set",
			"1.5.1 Ensure address space layout randomization is enabled",
			"2.1.1 Ensure autofs services are not in use",
			"2.1.21 Ensure mail transfer agent is configured for local-only mode",
			"2.2.4 Ensure telnet client is not installed",
			"3.3.1 Ensure ip forwarding is disabled",
			"3.3.2 Ensure packet redirect sending is disabled",
			"4.1.1 Ensure ufw is installed",
			"5.1.1 Ensure permissions on /etc/ssh/sshd_config are configured",
			"5.1.7 Ensure sshd ClientAliveInterval and ClientAliveCountMax are configured",
			"5.1.20 Ensure sshd PermitRootLogin is disabled",
			"5.2.1 Ensure sudo is installed",
			"5.3.3.2.1 Ensure password number of changed characters is configured",
			"5.4.1.1 Ensure password expiration is configured",
			"5.4.2.1 Ensure root is the only UID 0 account",
			"5.5.4 Ensure default group for the root account is GID 0",
			"6.1.1 Ensure AIDE is installed",
			"6.2.1.1 Ensure auditd packages are installed",
			"7.1.1 Ensure permissions on /etc/passwd are configured",
			"7.2.1 Ensure accounts in /etc/passwd use shadowed passwords",
		},
	},
	{
		file: "CIS_Red_Hat_EL8_v3.0.0_L1_Server.audit", benchmark: "CIS Red Hat Enterprise Linux 8", benchmarkVersion: "3.0.0",
		pluginID: 21157, pluginName: "Unix Compliance Checks", synopsis: "Compliance checks for Unix hosts.", system: "Linux",
		checks: []string{
			"1.1.1.1 Ensure cramfs kernel module is not available",
			"1.1.2.1.1 Ensure /tmp is a separate partition",
			"1.2.1.1 Ensure GPG keys are configured",
			"1.2.1.2 Ensure gpgcheck is globally activated",
			"1.3.1.1 Ensure SELinux is installed",
			"1.3.1.3 Ensure SELinux policy is configured",
			"1.4.1 Ensure bootloader password is set",
			"1.6.1 Ensure system wide crypto policy is not set to legacy",
			"2.1.1 Ensure time synchronization is in use",
			"2.2.1 Ensure autofs services are not in use",
			"3.3.1 Ensure ip forwarding is disabled",
			"4.1.1 Ensure nftables is installed",
			"4.2.1 Ensure firewalld is installed",
			"5.1.1 Ensure permissions on /etc/ssh/sshd_config are configured",
			"5.1.19 Ensure sshd PermitEmptyPasswords is disabled",
			"5.1.20 Ensure sshd PermitRootLogin is disabled",
			"5.2.2 Ensure sudo commands use pty",
			"5.3.2.1 Ensure active authselect profile includes pam modules",
			"5.4.1.1 Ensure password expiration is configured",
			"5.5.4 Ensure default group for the root account is GID 0",
			"6.2.1.1 Ensure auditd packages are installed",
			"6.3.1.1 Ensure AIDE is installed",
			"7.1.1 Ensure permissions on /etc/passwd are configured",
			"7.2.2 Ensure /etc/shadow password fields are not empty",
		},
	},
}

// complianceFrameworks are the reference[] entries checks point to.
var complianceFrameworks = []struct{ framework, controls string }{
	{"800-53", "AC-2|AC-3|AC-6|AU-2|CM-6|CM-7|IA-5|SC-8|SI-2"},
	{"800-171", "3.1.1|3.1.5|3.4.2|3.4.6|3.5.10|3.13.8"},
	{"CSCv8", "3.3|4.1|4.8|5.2|6.2|8.2"},
	{"ISO/IEC-27001", "A.9.2.3|A.9.4.3|A.12.4.1|A.14.2.5"},
	{"PCI-DSSv4.0", "2.2.1|2.2.4|8.3.6|10.2.1"},
}

// Network identifiers: most assets live in the default network.
var networks = []struct{ id, name string }{
	{"00000000-0000-0000-0000-000000000000", "Default"},
	{"6b9a3c1e-8f0d-4c57-9b2a-1d7e5f3a9c40", "DMZ"},
	{"d6797cf4-42b9-4cad-8591-9dd91c3f0fc3", "OT Network"},
}

var awsRegions = []string{"us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "ap-southeast-1"}
var awsInstanceTypes = []string{"t3.medium", "m5.large", "m6i.xlarge", "c5.2xlarge", "t2.micro", "r6g.large"}
var gcpZones = []string{"us-central1-a", "us-east1-b", "europe-west1-c", "asia-southeast1-a"}
var gcpProjects = []string{"prod-platform-4711", "data-lake-2931", "web-frontend-8830"}
var azureGroups = []string{"rg-prod-weu", "rg-shared-services", "rg-dev-neu"}

var domains = []string{"corp.example.com", "prod.example.net", "lab.example.org"}
var months = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var recastReasons = []string{"Compensating control in place", "Risk accepted by the asset owner", "False positive confirmed by the application team", "Mitigated by network segmentation"}
var exploitMaturities = []string{"UNPROVEN", "POC", "FUNCTIONAL", "HIGH"}
var threatIntensities = []string{"VERY_LOW", "LOW", "MEDIUM", "HIGH", "VERY_HIGH"}
var productCoverages = []string{"LOW", "MEDIUM", "HIGH", "VERY_HIGH"}
var threatSources = []string{"Social Media", "Security Research", "Mainstream Media", "Code Repo and Paste Bin", "Dark Web and Underground"}
