package sink

import (
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/tvmkafka/tvmkafka/connector/tenable"
)

// TestCollectorJSONIsTheMarshalledImportAsset: the JSON the collector writes
// is byte for byte what marshalling a tenable.ImportAsset with the same
// attributes gives, quotes, backslashes, HTML characters and non-ASCII text
// included.
func TestCollectorJSONIsTheMarshalledImportAsset(t *testing.T) {
	values := []string{"plain", `a "quoted" \ value`, "<b>&amp;</b>", "Zürich – 東京", "tab\there", "x"}
	for n, v := range values {
		var c inboundCollector
		c.reset()
		var want tenable.ImportAsset
		w := reflect.ValueOf(&want).Elem()
		for i, rule := range inboundAttrs {
			if (i+n)%3 == 0 {
				continue // leave some out
			}
			if rule.list {
				items := []string{v, v + "-2"}
				c.lists[i] = items
				w.Field(i).Set(reflect.ValueOf(items))
			} else {
				c.strs[i] = v
				w.Field(i).SetString(v)
			}
			c.set |= 1 << i
		}
		got, err := c.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		marshalled, err := json.Marshal(&want)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(marshalled) {
			t.Errorf("value %q:\n got %s\nwant %s", v, got, marshalled)
		}
	}
}
