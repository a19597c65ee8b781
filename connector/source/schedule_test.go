package source_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tvmkafka/tvmkafka/connector/source"
	"github.com/tvmkafka/tvmkafka/connector/tenablesim"
	"github.com/tvmkafka/tvmkafka/pipeline/kafkatest"
)

// TestRunLogsWhenEachStreamRunsNext: after each round, `run` says when the
// stream runs again, so an operator reading the log knows the schedule.
func TestRunLogsWhenEachStreamRunsNext(t *testing.T) {
	h := newHarness(t, tenablesim.Config{Assets: 20, Seed: 5})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, closeSrc := h.newSource(ctx, runSetup{})
	defer closeSrc()
	watch := &logWatch{log: h.log}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- src.Run(runCtx, []string{source.StreamPlugins}, func(string) time.Duration { return 90 * time.Minute })
	}()
	kafkatest.WaitFor(t, 50*time.Second, func() error {
		if watch.logged(`msg="stream runs next" stream=plugins`) && watch.logged("in=1h30m0s") {
			return nil
		}
		return errors.New("no line saying when the plugins stream runs next")
	})
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
