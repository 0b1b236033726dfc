package suites

import (
	"errors"
	"strings"
	"testing"
)

// TestSlurmMonitor: [slurm.monitor] turns the monitor role on, and its
// problems are reported at their lines.
func TestSlurmMonitor(t *testing.T) {
	s, err := Parse("s.toml", []byte(minimal+"[slurm]\n[slurm.monitor]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Slurm.Monitor == nil || s.Slurm.Monitor.PrometheusPort() != 9090 || s.Slurm.Monitor.GPUPort() != 9400 {
		t.Errorf("an empty [slurm.monitor] table: %+v, want the role on with the default ports", s.Slurm.Monitor)
	}
	off, err := Parse("s.toml", []byte(minimal+"[slurm]\n"))
	if err != nil || off.Slurm.Monitor != nil {
		t.Errorf("without [slurm.monitor] the role is on: %+v %v", off.Slurm, err)
	}
	_, err = Parse("s.toml", []byte(minimal+`[slurm]
[slurm.monitor]
port = 9100
gpu_exporter_port = 70000
`))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	for _, want := range []string{
		"s.toml:13: slurm.monitor.gpu_exporter_port: 70000 is above the maximum 65535 (TCP ports; 0 means 9400 (DCGM exporter))",
		"s.toml:12: slurm.monitor.port 9100: the same port as node_exporter_port\n",
	} {
		if !strings.Contains(ps.Error(), want) {
			t.Errorf("problems do not say %q:\n%s", want, ps.Error())
		}
	}
}
