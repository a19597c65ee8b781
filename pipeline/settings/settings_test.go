package settings

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"
)

type inner struct {
	N int `envconfig:"N" default:"-3"`
}

type spec struct {
	S       string        `envconfig:"S" default:"text, with comma"`
	B       bool          `envconfig:"B" default:"true"`
	I       int           `envconfig:"I" default:"42"`
	I64     int64         `envconfig:"I64" default:"67108864"`
	F       float64       `envconfig:"F" default:"0.5"`
	D       time.Duration `envconfig:"D" default:"90s"`
	L       []string      `envconfig:"L" default:"a,b,c"`
	Zero    int           `envconfig:"ZERO" default:"0"`
	NoDef   string        `envconfig:"NODEF"`
	Ignored int           `ignored:"true" default:"7"`
	Inner   inner         `envconfig:"INNER"`
}

// TestDefaultsMatchEnvconfig: Defaults gives what envconfig gives on an
// environment that sets none of the variables.
func TestDefaultsMatchEnvconfig(t *testing.T) {
	for _, key := range []string{"S", "B", "I", "I64", "F", "D", "L", "ZERO", "NODEF", "N"} {
		// envconfig also reads the bare tag name when the prefixed one is unset.
		if _, ok := os.LookupEnv(key); ok {
			t.Setenv(key, "")
			os.Unsetenv(key)
		}
	}
	var fromEnv, fromTags spec
	fromEnv.NoDef, fromTags.NoDef = "kept", "kept"
	if err := envconfig.Process("SETTINGS_TEST_UNSET", &fromEnv); err != nil {
		t.Fatal(err)
	}
	if err := Defaults(&fromTags); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromEnv, fromTags) {
		t.Fatalf("Defaults = %+v\nenvconfig = %+v", fromTags, fromEnv)
	}
	if fromTags.Ignored != 0 || fromTags.Inner.N != -3 || fromTags.D != 90*time.Second || len(fromTags.L) != 3 {
		t.Fatalf("Defaults = %+v", fromTags)
	}
}

func TestDefaultsRejectsBadTag(t *testing.T) {
	var bad struct {
		D time.Duration `default:"soon"`
	}
	if err := Defaults(&bad); err == nil || !strings.Contains(err.Error(), "D") {
		t.Fatalf("got %v", err)
	}
	if err := Defaults(bad); err == nil {
		t.Fatal("a non-pointer was accepted")
	}
}

func TestWithPrefixNamesTheVariable(t *testing.T) {
	other := errors.New("not a setting")
	err := WithPrefix("TVMKAFKA_TENABLE", errors.Join(Invalid("MAX_RETRIES", "must be at least 0, got %d", -1), other))
	if !strings.Contains(err.Error(), "TVMKAFKA_TENABLE_MAX_RETRIES must be at least 0, got -1") || !errors.Is(err, other) {
		t.Fatalf("got %v", err)
	}
	if WithPrefix("X", nil) != nil {
		t.Fatal("nil became an error")
	}
}

// TestProcessReadsOnlyPrefixedNames: Process reads PREFIX_KEY, nested
// structs adding their own part and embedded ones none, and never the bare
// tag name envconfig falls back to.
func TestProcessReadsOnlyPrefixedNames(t *testing.T) {
	type Embedded struct {
		E string `envconfig:"E" default:"e-default"`
	}
	type cfg struct {
		Embedded
		S     string        `envconfig:"S" default:"s-default"`
		D     time.Duration `envconfig:"D" default:"1s"`
		L     []string      `envconfig:"L" default:"a,b"`
		Inner inner         `envconfig:"INNER"`
	}
	t.Setenv("S", "bare value")
	t.Setenv("N", "99")
	t.Setenv("PFX_E", "from env")
	t.Setenv("PFX_D", "0s")
	t.Setenv("PFX_L", "")
	t.Setenv("PFX_INNER_N", "5")
	var c cfg
	if err := Process("PFX", &c); err != nil {
		t.Fatal(err)
	}
	if c.S != "s-default" {
		t.Errorf("S = %q: the bare variable S was read", c.S)
	}
	if c.E != "from env" || c.D != 0 || c.L != nil || c.Inner.N != 5 {
		t.Errorf("Process = %+v", c)
	}
	t.Setenv("PFX_D", "soon")
	if err := Process("PFX", &c); err == nil || !strings.Contains(err.Error(), `PFX_D="soon" is not a duration`) {
		t.Errorf("bad duration: %v", err)
	}
}

// TestParseErrorsSayWhatIsExpected: a value that does not parse is reported
// with its variable, the value and what a value of the type looks like, and
// every such value is reported at once.
func TestParseErrorsSayWhatIsExpected(t *testing.T) {
	type cfg struct {
		D time.Duration `envconfig:"D" default:"1s"`
		N int           `envconfig:"N" default:"1"`
		B bool          `envconfig:"B" default:"false"`
		L []int         `envconfig:"L" default:"1"`
		U uint          `envconfig:"U" default:"1"`
	}
	t.Setenv("PFX_D", "1hour")
	t.Setenv("PFX_N", "six")
	t.Setenv("PFX_B", "yes please")
	t.Setenv("PFX_L", "1, 2")
	t.Setenv("PFX_U", "-3")
	var c cfg
	err := Process("PFX", &c)
	if err == nil {
		t.Fatal("bad values were accepted")
	}
	for _, want := range []string{
		`PFX_D="1hour" is not a duration: a number and a unit (ms, s, m or h), such as 90m, 1h, 1h30m or 30s`,
		`PFX_N="six" is not a whole number, such as 6 or -1`,
		`PFX_B="yes please" is not a boolean: true or false`,
		`PFX_L="1, 2" is not a comma-separated list (no spaces around the commas), each item a whole number`,
		`PFX_U="-3" is not a whole number of 0 or more`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, jargon := range []string{"envconfig", "strconv", "time.Duration", "converting"} {
		if strings.Contains(err.Error(), jargon) {
			t.Errorf("error speaks of %q:\n%v", jargon, err)
		}
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Err == nil {
		t.Errorf("want a *ParseError wrapping the parse failure, got %#v", err)
	}
}

func TestUnknownSuggestsTheNearestVariable(t *testing.T) {
	known := []string{"APP_KAFKA_BROKERS", "APP_TOPIC_VULNS", "APP_LOG_LEVEL", "APP_SOURCE_OVERLAP"}
	env := []string{
		"APP_KAFKA_BROKER=localhost:9092", // one letter short
		"APP_TOPIC_VULN=x",
		"APP_LOG_LEVEL=debug",   // known: no warning
		"APP_COMPLETELY_ELSE=1", // nothing close
		"OTHER_KAFKA_BROKER=x",  // another prefix
		"APPLE_KAFKA_BROKERS=x", // not under APP_
		"APP_SOURCE_OVERLAPP=1h",
	}
	got := Unknown(env, "APP", known)
	want := []string{
		"APP_COMPLETELY_ELSE is not a setting of this program and is ignored",
		"APP_KAFKA_BROKER is not a setting of this program and is ignored; did you mean APP_KAFKA_BROKERS?",
		"APP_SOURCE_OVERLAPP is not a setting of this program and is ignored; did you mean APP_SOURCE_OVERLAP?",
		"APP_TOPIC_VULN is not a setting of this program and is ignored; did you mean APP_TOPIC_VULNS?",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Unknown =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
