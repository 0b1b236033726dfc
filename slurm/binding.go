package slurm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// nvidiaSMIQuery is the nvidia-smi query the binding wrapper runs in a
// service's step: one CSV line per GPU the step sees.
const nvidiaSMIQuery = "--query-gpu=index,name,driver_version,memory.total --format=csv,noheader"

// nvidiaSMITimeout bounds that query (timeout(1)'s argument, seconds) on
// nodes with timeout; a variable only so a test can wait less.
var nvidiaSMITimeout = "20"

// Binding is a service step's binding record (BindingFile), as
// ParseBinding reads it.
type Binding struct {
	Node               string // the node the step ran on
	CUDAVisibleDevices string // CUDA_VISIBLE_DEVICES as the step saw it
	StepGPUs           string // SLURM_STEP_GPUS as the step saw it
	// Queried is whether the wrapper looked for nvidia-smi (false for a
	// record without nvidia_smi_exit, as older benchrun versions wrote).
	Queried bool
	// GPUs are the step's GPUs (those of CUDA_VISIBLE_DEVICES) as
	// nvidia-smi in the step listed them, in its order; nil when unknown.
	GPUs []GPU
	// Unknown says why GPUs is nil when Queried: nvidia-smi absent,
	// failed, timed out, its output unreadable or not matching
	// CUDA_VISIBLE_DEVICES, or the step has no CUDA_VISIBLE_DEVICES.
	Unknown string
}

// GPU is one GPU as nvidia-smi lists it.
type GPU struct {
	Index       int
	Model       string // nvidia-smi's name, "NVIDIA H100 80GB HBM3"
	Driver      string // "550.54.15"
	MemoryBytes int64  // memory.total; 0 when nvidia-smi says [N/A]
}

var (
	driverVersion = regexp.MustCompile(`^[0-9]{1,4}(\.[0-9]{1,4}){1,3}$`)
	memoryMiB     = regexp.MustCompile(`^([0-9]{1,9}) MiB$`)
)

// ParseBinding reads a binding record: key=value lines (node,
// cuda_visible_devices, step_gpus, nvidia_smi_exit) and one nvidia_smi=
// line per line nvidia-smi printed. Any output it cannot read exactly, or
// that does not name each GPU of CUDA_VISIBLE_DEVICES, leaves GPUs nil
// with the reason in Unknown: a GPU model is never guessed.
func ParseBinding(record []byte) Binding {
	var b Binding
	var exit string
	var lines []string
	for _, line := range strings.Split(string(record), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch k {
		case "node":
			b.Node = v
		case "cuda_visible_devices":
			b.CUDAVisibleDevices = v
		case "step_gpus":
			b.StepGPUs = v
		case "nvidia_smi_exit":
			b.Queried, exit = true, v
		case "nvidia_smi":
			if strings.TrimSpace(v) != "" {
				lines = append(lines, v)
			}
		}
	}
	if !b.Queried {
		return b
	}
	b.GPUs, b.Unknown = stepGPUs(exit, lines, b.CUDAVisibleDevices)
	return b
}

// stepGPUs picks the step's GPUs out of nvidia-smi's listing: the lines
// whose index is in CUDA_VISIBLE_DEVICES (with device cgroups the step
// sees only its GPUs, numbered from 0 as CUDA_VISIBLE_DEVICES numbers
// them; without, it sees every GPU of the node by its node index, which
// CUDA_VISIBLE_DEVICES uses too). Devices named by UUID are taken only
// when nvidia-smi lists exactly as many GPUs.
func stepGPUs(exit string, lines []string, cvd string) ([]GPU, string) {
	switch exit {
	case "0":
	case "absent":
		return nil, "no nvidia-smi on the node"
	case "124":
		return nil, "nvidia-smi timed out after " + nvidiaSMITimeout + "s"
	default:
		msg := "nvidia-smi failed"
		if n, err := strconv.Atoi(exit); err == nil {
			msg = fmt.Sprintf("nvidia-smi exited %d", n)
		}
		if len(lines) > 0 {
			msg += ": " + printable(lines[0], 120)
		}
		return nil, msg
	}
	if cvd == "" {
		return nil, "the step has no CUDA_VISIBLE_DEVICES"
	}
	listed := make([]GPU, 0, len(lines))
	for i, l := range lines {
		g, err := parseGPULine(l)
		if err != nil {
			return nil, fmt.Sprintf("unreadable nvidia-smi output, line %d: %v", i+1, err)
		}
		listed = append(listed, g)
	}
	if len(listed) == 0 {
		return nil, "nvidia-smi listed no GPU"
	}
	devs := strings.Split(cvd, ",")
	byIndex := map[int]GPU{}
	for _, g := range listed {
		if _, dup := byIndex[g.Index]; dup {
			return nil, fmt.Sprintf("nvidia-smi listed GPU index %d twice", g.Index)
		}
		byIndex[g.Index] = g
	}
	var out []GPU
	for _, d := range devs {
		n, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil {
			if len(listed) == len(devs) {
				return listed, ""
			}
			return nil, fmt.Sprintf("CUDA_VISIBLE_DEVICES=%s names devices by UUID and nvidia-smi listed %d GPUs", printable(cvd, 120), len(listed))
		}
		g, ok := byIndex[n]
		if !ok {
			return nil, fmt.Sprintf("nvidia-smi did not list GPU %d of CUDA_VISIBLE_DEVICES=%s", n, printable(cvd, 120))
		}
		out = append(out, g)
	}
	return out, ""
}

// parseGPULine reads "0, NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB".
func parseGPULine(l string) (GPU, error) {
	f := strings.Split(l, ",")
	if len(f) != 4 {
		return GPU{}, fmt.Errorf("%d fields, want 4 (index, name, driver_version, memory.total)", len(f))
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	var g GPU
	var err error
	if g.Index, err = strconv.Atoi(f[0]); err != nil || g.Index < 0 || len(f[0]) > 4 {
		return GPU{}, fmt.Errorf("index %q is not a GPU index", printable(f[0], 40))
	}
	g.Model = f[1]
	if g.Model == "" || strings.HasPrefix(g.Model, "[") || len(g.Model) > 96 || printable(g.Model, 96) != g.Model {
		return GPU{}, fmt.Errorf("name %q is not a GPU model", printable(g.Model, 40))
	}
	g.Driver = f[2]
	if !driverVersion.MatchString(g.Driver) {
		return GPU{}, fmt.Errorf("driver_version %q is not a driver version", printable(g.Driver, 40))
	}
	switch m := memoryMiB.FindStringSubmatch(f[3]); {
	case m != nil:
		mib, _ := strconv.ParseInt(m[1], 10, 64)
		g.MemoryBytes = mib << 20
	case f[3] == "[N/A]":
	default:
		return GPU{}, fmt.Errorf("memory.total %q is not N MiB", printable(f[3], 40))
	}
	return g, nil
}

// printable is s cut to at most n bytes, with every character outside
// printable ASCII replaced by '?', so a garbled record cannot put control
// characters into a report.
func printable(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}
