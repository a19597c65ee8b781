// Package clitest builds the tvmkafka binary for tests that run it as a
// separate process, for example to kill it with SIGKILL mid-run.
package clitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/tvmkafka once per test process and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tvmkafka-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tvmkafka")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/tvmkafka/tvmkafka/cmd/tvmkafka").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}
