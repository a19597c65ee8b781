package clitest

import (
	"os/exec"
	"testing"
)

// TestMeasureChargesTheChildItsOwnMemory: a child that touches 64 MiB peaks
// above 64 MiB, and a child that touches almost nothing peaks well below it,
// however much the measuring process holds (the rusage of a vforked child
// would charge it the parent's resident memory).
func TestMeasureChargesTheChildItsOwnMemory(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	ballast := make([]byte, 128<<20)
	for i := range ballast {
		ballast[i] = 1 // resident in this process, not the child
	}
	big, err := Measure(exec.Command("python3", "-c", "b = bytearray(64 << 20); print(len(b))"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := Measure(exec.Command("python3", "-c", "pass"))
	if err != nil {
		t.Fatal(err)
	}
	if big.PeakRSS < 64<<20 {
		t.Errorf("a child touching 64 MiB peaked at %d bytes", big.PeakRSS)
	}
	if small.PeakRSS == 0 || small.PeakRSS > 60<<20 {
		t.Errorf("a child touching almost nothing peaked at %d bytes, next to a parent holding %d", small.PeakRSS, len(ballast))
	}
	if ballast[len(ballast)-1] != 1 {
		t.Fatal("ballast lost")
	}
}
