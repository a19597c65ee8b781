package kafkatest_test

import (
	"testing"

	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }
