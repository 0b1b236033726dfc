package slurm

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestConfigDecode(t *testing.T) {
	const suite = `
[slurm]
account = "proj42"
partition = "gpu"
qos = "normal"
time = "01:30:00"
nodes = 4
gpus_per_node = 4
cpus_per_task = 16
mem = "0"
constraint = "a100&ib"
reservation = "bench"
extra = ["--exclusive"]
modules = ["cuda/12.4"]
env = { HF_HOME = "/scratch/hf" }
container = "apptainer"
binds = ["/scratch"]
signal_grace = "3m"
benchrun = "/sw/bin/benchrun"
[slurm.containers.vllm]
image = "/sw/vllm.sif"
binds = ["/models:/models:ro"]
`
	var s struct {
		Slurm Config `toml:"slurm"`
	}
	md, err := toml.Decode(suite, &s)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("undecoded keys %v: a toml tag is missing", u)
	}
	c := s.Slurm
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("Validate: %v", errs)
	}
	if c.GPUsPerNode != 4 || c.Env["HF_HOME"] != "/scratch/hf" || c.Grace() != 3*time.Minute || c.Requeue {
		t.Errorf("decoded %+v", c)
	}
	img, binds := c.ContainerFor("vllm")
	if img != "/sw/vllm.sif" || strings.Join(binds, " ") != "/scratch /models:/models:ro" {
		t.Errorf("ContainerFor(vllm) = %q, %q", img, binds)
	}
	if img, _ := c.ContainerFor("ollama"); img != "" {
		t.Errorf("ContainerFor(ollama) = %q, want none", img)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want []string // one substring per expected error, in order
	}{
		{"zero is valid", Config{}, nil},
		{"injection in partition", Config{Partition: "gpu\n#SBATCH --uid=0"}, []string{`slurm.partition "gpu\n#SBATCH --uid=0": want letters`}},
		{"shell in account", Config{Account: "$(id)"}, []string{`slurm.account "$(id)"`}},
		{"option as qos", Config{QOS: "-x"}, []string{`slurm.qos "-x"`}},
		{"bad time", Config{Time: "1h"}, []string{`slurm.time: "1h": want SLURM's time format`}},
		{"zero time", Config{Time: "0"}, []string{"must be positive"}},
		{"grace too long for time", Config{Time: "1", SignalGrace: "90s"}, []string{`slurm.signal_grace "90s": must be shorter than slurm.time "1"`}},
		{"default grace too long", Config{Time: "00:01:00"}, []string{"shorter than the default signal_grace"}},
		{"grace fraction", Config{SignalGrace: "1.5s"}, []string{"whole seconds"}},
		{"grace units", Config{SignalGrace: "120"}, []string{`want a duration such as "120s"`}},
		{"negative counts", Config{Nodes: -1, GPUsPerNode: -1, CPUsPerTask: -2}, []string{"slurm.nodes -1", "slurm.gpus_per_node -1", "slurm.cpus_per_task -2"}},
		{"mem", Config{Mem: "64 GB"}, []string{`slurm.mem "64 GB"`}},
		{"constraint space", Config{Constraint: "a100 ib"}, []string{`slurm.constraint "a100 ib"`}},
		{"extra newline", Config{Extra: []string{"--exclusive\nrm -rf /"}}, []string{"slurm.extra[0] \"--exclusive\\nrm -rf /\": control characters"}},
		{"extra not an option", Config{Extra: []string{"exclusive"}}, []string{`slurm.extra[0] "exclusive": want an sbatch option`}},
		{"module", Config{Modules: []string{"cuda; reboot"}}, []string{`slurm.modules[0] "cuda; reboot"`}},
		{"env name", Config{Env: map[string]string{"A B": "x", "OK": "y"}}, []string{`slurm.env "A B"`}},
		{"container", Config{Container: "docker"}, []string{`slurm.container "docker": want "apptainer" or "none"`}},
		{"image without runtime", Config{Containers: map[string]ContainerSpec{"vllm": {Image: "x.sif"}}}, []string{`slurm.containers.vllm: needs container = "apptainer"`}},
		{"missing image", Config{Container: "apptainer", Containers: map[string]ContainerSpec{"vllm": {}}}, []string{"slurm.containers.vllm.image: missing"}},
		{"bind comma", Config{Container: "apptainer", Binds: []string{"/a,/b"}}, []string{`slurm.binds[0] "/a,/b": one bind per entry`}},
		{"relative benchrun", Config{Benchrun: "bin/benchrun"}, []string{`slurm.benchrun "bin/benchrun": want an absolute path`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.c.Validate()
			if len(errs) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d errors", errs, len(tt.want))
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tt.want[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e, tt.want[i])
				}
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"30", 30 * time.Minute},
		{"30:15", 30*time.Minute + 15*time.Second},
		{"01:30:00", 90 * time.Minute},
		{"2-0", 48 * time.Hour},
		{"1-12", 36 * time.Hour},
		{"1-00:30", 24*time.Hour + 30*time.Minute},
		{"1-00:00:05", 24*time.Hour + 5*time.Second},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "1h", "UNLIMITED", "1:2:3:4", "-1", "1-", "1-2:3:4:5", "a:b", "00:00:00", " 30"} {
		if d, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", bad, d)
		}
	}
}

func TestRoleConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		c    Config
		want []string // substrings, one per expected problem; none = valid
	}{
		{name: "hetjob", c: Config{Time: "01:00:00", Services: &RoleConfig{Partition: "gpu", GPUsPerNode: 4}, Clients: &RoleConfig{Partition: "cpu", Nodes: 2, PerNode: 2}}},
		{name: "same partition", c: Config{Time: "01:00:00", SamePartition: true, Services: &RoleConfig{Partition: "gpu"}, Clients: &RoleConfig{Nodes: 2}}},
		{name: "bad values", c: Config{Time: "01:00:00",
			Services: &RoleConfig{Partition: "gpu;rm", Time: "1:00", Nodes: -1, Mem: "lots", PerNode: 2},
			Clients:  &RoleConfig{Constraint: "a b", GPUsPerNode: 1}},
			want: []string{`slurm.services.partition "gpu;rm"`, `slurm.services.time "1:00": not longer than the signal grace`, "slurm.services.nodes -1",
				`slurm.services.mem "lots"`, "slurm.services.per_node: only for clients", `slurm.clients.constraint "a b"`, "slurm.clients: gpus_per_node and cpus_per_node"}},
		{name: "same_partition with a client partition of its own", c: Config{SamePartition: true, Services: &RoleConfig{Partition: "gpu"}, Clients: &RoleConfig{Partition: "cpu", QOS: "x"}},
			want: []string{`slurm.clients.partition "cpu": with same_partition`, "slurm.clients.qos: with same_partition"}},
		{name: "same_partition without roles", c: Config{SamePartition: true}, want: []string{"slurm.same_partition: needs"}},
		{name: "slurm.nodes with roles", c: Config{Nodes: 3, Clients: &RoleConfig{}}, want: []string{"slurm.nodes: with [slurm.services]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := c.c.Validate()
			if len(errs) != len(c.want) {
				t.Errorf("%d problems, want %d: %v", len(errs), len(c.want), errs)
			}
			for _, w := range c.want {
				found := false
				for _, e := range errs {
					found = found || strings.Contains(e.Error(), w)
				}
				if !found {
					t.Errorf("no problem says %q: %v", w, errs)
				}
			}
		})
	}
}
