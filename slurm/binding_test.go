package slurm

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

const h100 = "0, NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB"

func TestParseBinding(t *testing.T) {
	rec := func(cvd, exit string, lines ...string) string {
		s := "node=gpu01\ncuda_visible_devices=" + cvd + "\nstep_gpus=2\n"
		if exit != "" {
			s += "nvidia_smi_exit=" + exit + "\n"
		}
		for _, l := range lines {
			s += "nvidia_smi=" + l + "\n"
		}
		return s
	}
	a100 := func(i string) string { return i + ", NVIDIA A100-SXM4-40GB, 535.104.05, 40960 MiB" }
	cases := []struct {
		name    string
		rec     string
		gpus    []GPU
		unknown string
		queried bool
	}{
		{name: "older record without nvidia-smi", rec: rec("0", "")},
		{name: "one GPU, cgroup-numbered", rec: rec("0", "0", h100, ""), queried: true,
			gpus: []GPU{{Index: 0, Model: "NVIDIA H100 80GB HBM3", Driver: "550.54.15", MemoryBytes: 81559 << 20}}},
		{name: "node-numbered: the step's GPUs only", rec: rec("1,3", "0", a100("0"), a100("1"), a100("2"), a100("3")), queried: true,
			gpus: []GPU{{1, "NVIDIA A100-SXM4-40GB", "535.104.05", 40960 << 20}, {3, "NVIDIA A100-SXM4-40GB", "535.104.05", 40960 << 20}}},
		{name: "memory N/A", rec: rec("0", "0", "0, NVIDIA GH200 480GB, 550.54.15, [N/A]"), queried: true,
			gpus: []GPU{{0, "NVIDIA GH200 480GB", "550.54.15", 0}}},
		{name: "UUIDs, as many listed", rec: rec("GPU-1234", "0", h100), queried: true,
			gpus: []GPU{{0, "NVIDIA H100 80GB HBM3", "550.54.15", 81559 << 20}}},
		{name: "UUIDs, more listed", rec: rec("GPU-1234", "0", h100, a100("1")), queried: true, unknown: "names devices by UUID"},
		{name: "absent", rec: rec("0", "absent"), queried: true, unknown: "no nvidia-smi on the node"},
		{name: "timed out", rec: rec("0", "124"), queried: true, unknown: "timed out"},
		{name: "no driver", rec: rec("0", "9", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."), queried: true,
			unknown: "nvidia-smi exited 9: NVIDIA-SMI has failed"},
		{name: "exit 0, no output", rec: rec("0", "0"), queried: true, unknown: "listed no GPU"},
		{name: "no CUDA_VISIBLE_DEVICES", rec: rec("", "0", h100), queried: true, unknown: "no CUDA_VISIBLE_DEVICES"},
		{name: "GPU not listed", rec: rec("2", "0", h100), queried: true, unknown: "did not list GPU 2"},
		{name: "garbled: wrong field count", rec: rec("0", "0", "0, NVIDIA H100, 550.54.15"), queried: true, unknown: "line 1: 3 fields"},
		{name: "garbled: one good line, one bad", rec: rec("0", "0", h100, "Failed to initialize NVML: Unknown Error"), queried: true, unknown: "line 2"},
		{name: "garbled: name N/A", rec: rec("0", "0", "0, [N/A], 550.54.15, 81559 MiB"), queried: true, unknown: "is not a GPU model"},
		{name: "garbled: driver", rec: rec("0", "0", "0, NVIDIA H100 80GB HBM3, N/A, 81559 MiB"), queried: true, unknown: "not a driver version"},
		{name: "garbled: memory unit", rec: rec("0", "0", "0, NVIDIA H100 80GB HBM3, 550.54.15, 80 GiB"), queried: true, unknown: "not N MiB"},
		{name: "garbled: index", rec: rec("0", "0", "x, NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB"), queried: true, unknown: "not a GPU index"},
		{name: "duplicate index", rec: rec("0", "0", h100, h100), queried: true, unknown: "twice"},
		{name: "control characters", rec: rec("0", "0", "0, NVIDIA\x1b[31m H100, 550.54.15, 81559 MiB"), queried: true, unknown: "not a GPU model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := ParseBinding([]byte(c.rec))
			if b.Node != "gpu01" || b.StepGPUs != "2" {
				t.Errorf("node %q, step_gpus %q", b.Node, b.StepGPUs)
			}
			if b.Queried != c.queried {
				t.Errorf("queried = %v, want %v", b.Queried, c.queried)
			}
			if !reflect.DeepEqual(b.GPUs, c.gpus) {
				t.Errorf("gpus = %+v, want %+v", b.GPUs, c.gpus)
			}
			if (c.unknown == "") != (b.Unknown == "") || !strings.Contains(b.Unknown, c.unknown) {
				t.Errorf("unknown = %q, want one containing %q", b.Unknown, c.unknown)
			}
		})
	}
}

// FuzzParseBinding: any record parses without panicking; GPUs are either
// known (every one with a model, a driver version and printable text) or
// unknown with a reason, never both, and a reason is printable.
func FuzzParseBinding(f *testing.F) {
	f.Add("node=gpu01\ncuda_visible_devices=0\nnvidia_smi_exit=0\nnvidia_smi=" + h100 + "\n")
	f.Add("node=n\ncuda_visible_devices=1,3\nnvidia_smi_exit=0\nnvidia_smi=1, A, 1.2, 3 MiB\nnvidia_smi=3, B, 1.2, [N/A]\n")
	f.Add("cuda_visible_devices=GPU-x\nnvidia_smi_exit=9\nnvidia_smi=failed\n")
	f.Add("nvidia_smi_exit=absent\n")
	f.Fuzz(func(t *testing.T, rec string) {
		b := ParseBinding([]byte(rec))
		if b.GPUs != nil && b.Unknown != "" {
			t.Fatalf("both GPUs %+v and unknown %q", b.GPUs, b.Unknown)
		}
		if b.Queried && b.GPUs == nil && b.Unknown == "" {
			t.Fatalf("queried, no GPUs and no reason")
		}
		if !b.Queried && (b.GPUs != nil || b.Unknown != "") {
			t.Fatalf("not queried, yet GPUs %+v unknown %q", b.GPUs, b.Unknown)
		}
		for _, g := range b.GPUs {
			if g.Model == "" || !driverVersion.MatchString(g.Driver) || g.MemoryBytes < 0 || g.Index < 0 || strings.ContainsAny(g.Model, ",\n") {
				t.Fatalf("implausible GPU %+v", g)
			}
			for _, r := range g.Model {
				if r > unicode.MaxASCII || !unicode.IsPrint(r) {
					t.Fatalf("model %q has a non-printable character", g.Model)
				}
			}
		}
		for _, r := range b.Unknown {
			if r == '\n' || r == '\x1b' {
				t.Fatalf("reason %q has a control character", b.Unknown)
			}
		}
	})
}

// TestBindingWrapperNvidiaSMI runs the binding wrapper's shell line here,
// as a service step would, with a fake nvidia-smi first on PATH: the record
// it writes parses to the step's GPUs, and the service command still runs
// when nvidia-smi fails or is absent.
func TestBindingWrapperNvidiaSMI(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	// A PATH of the few tools the wrapper uses, so a real nvidia-smi on
	// this machine cannot stand in for the fake.
	tools := t.TempDir()
	for _, tool := range []string{"hostname", "mv", "timeout", "touch", "sleep"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(tools, tool)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, fake string // fake: nvidia-smi's script body; "" for none on PATH
		gpus       []GPU
		unknown    string
	}{
		{name: "lists the step's GPUs", fake: `[ "$*" = "` + nvidiaSMIQuery + `" ] || exit 3
printf '0, NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\n1, NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\n'`,
			gpus: []GPU{{1, "NVIDIA H100 80GB HBM3", "550.54.15", 81559 << 20}}},
		{name: "fails", fake: "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\"; exit 9",
			unknown: "nvidia-smi exited 9: NVIDIA-SMI has failed"},
		{name: "garbled", fake: "echo 'Failed to initialize NVML: Unknown Error'", unknown: "unreadable nvidia-smi output"},
		{name: "absent", unknown: "no nvidia-smi on the node"},
		{name: "hangs", fake: "exec sleep 30", unknown: "nvidia-smi timed out after 1s"},
	}
	defer func(old string) { nvidiaSMITimeout = old }(nvidiaSMITimeout)
	nvidiaSMITimeout = "1"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tools
			if c.fake != "" {
				bin := filepath.Join(dir, "bin")
				os.Mkdir(bin, 0o755)
				if err := os.WriteFile(filepath.Join(bin, "nvidia-smi"), []byte("#!/bin/sh\n"+c.fake+"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				path = bin + ":" + tools
			}
			file := filepath.Join(dir, "vllm.env")
			ran := filepath.Join(dir, "service-ran")
			argv := append(bindingWrapper(file), "touch", ran)
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = []string{"PATH=" + path, "SLURMD_NODENAME=gpu01", "CUDA_VISIBLE_DEVICES=1", "SLURM_STEP_GPUS=1"}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("the wrapper failed: %v\n%s", err, out)
			}
			if _, err := os.Stat(ran); err != nil {
				t.Fatalf("the service command did not run: %v", err)
			}
			rec, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b := ParseBinding(rec)
			if b.Node != "gpu01" || b.CUDAVisibleDevices != "1" || b.StepGPUs != "1" || !b.Queried {
				t.Errorf("record %q parsed to %+v", rec, b)
			}
			if !reflect.DeepEqual(b.GPUs, c.gpus) {
				t.Errorf("gpus = %+v, want %+v (record %q)", b.GPUs, c.gpus, rec)
			}
			if (c.unknown == "") != (b.Unknown == "") || !strings.Contains(b.Unknown, c.unknown) {
				t.Errorf("unknown = %q, want one containing %q", b.Unknown, c.unknown)
			}
		})
	}
}
