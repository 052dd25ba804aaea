//go:build unix

package wrapper_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuClock measures the CPU time the process uses, user and system, all
// threads: unlike wall time, it does not grow while other processes on a
// shared machine hold the cores.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{start: cpuTime()} }

// report adds the CPU time per iteration to b's results as cpu-ns/op.
func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-c.start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
