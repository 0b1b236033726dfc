package analysis

import (
	"cmp"
	"slices"

	"github.com/benchrun/benchrun/runner/results"
)

// GPUInventory is a kind of GPU the run's telemetry saw on one host: its
// model and driver, from the DCGM exporter's labels (modelName,
// DCGM_FI_DRIVER_VERSION; empty when a label was absent), and how many
// GPUs of it (distinct gpu labels).
type GPUInventory struct {
	Host   string `json:"host"`
	Model  string `json:"model,omitempty"`
	Driver string `json:"driver,omitempty"`
	Count  int    `json:"count"`
}

// GPUInventories lists the GPUs the cases' telemetry saw (Case.Telemetry.GPUs),
// by host, model and driver, sorted; nil when no case has GPU figures.
// It is what the report's environment says of the service nodes' GPUs.
func GPUInventories(cases []Case) []GPUInventory {
	type key struct{ host, model, driver string }
	gpus := map[key]map[string]bool{}
	for _, c := range cases {
		if c.Telemetry == nil {
			continue
		}
		for _, g := range c.Telemetry.GPUs {
			k := key{g.Host, g.Model, g.Driver}
			if gpus[k] == nil {
				gpus[k] = map[string]bool{}
			}
			gpus[k][g.GPU] = true
		}
	}
	var out []GPUInventory
	for k, ids := range gpus {
		out = append(out, GPUInventory{Host: k.host, Model: k.model, Driver: k.driver, Count: len(ids)})
	}
	slices.SortFunc(out, func(a, b GPUInventory) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Driver, b.Driver))
	})
	return out
}

// ServiceGPUs is what nvidia-smi inside a service's SLURM step said of the
// step's GPUs: their kinds (GPUInventory, Host the service's node), or why
// they are unknown.
type ServiceGPUs struct {
	Service string         `json:"service"`
	Node    string         `json:"node,omitempty"`
	GPUs    []GPUInventory `json:"gpus,omitempty"`
	Unknown string         `json:"unknown,omitempty"`
}

// StepGPUInventories lists, in manifest order, the GPUs each service's
// step had (results.ServiceInfo.StepGPUs) by model and driver; services
// whose step has no GPUs (no CUDA_VISIBLE_DEVICES) or did not look are
// left out; nil when none is left. Devices are counted, never guessed: a
// record without devices is Unknown (with its reason).
func StepGPUInventories(services []results.ServiceInfo) []ServiceGPUs {
	var out []ServiceGPUs
	for _, s := range services {
		if s.StepGPUs == nil || s.GPUs == "" {
			continue
		}
		sg := ServiceGPUs{Service: s.Name, Node: s.Node}
		type key struct{ model, driver string }
		count := map[key]int{}
		for _, d := range s.StepGPUs.Devices {
			count[key{d.Model, d.Driver}]++
		}
		for k, n := range count {
			sg.GPUs = append(sg.GPUs, GPUInventory{Host: s.Node, Model: k.model, Driver: k.driver, Count: n})
		}
		slices.SortFunc(sg.GPUs, func(a, b GPUInventory) int {
			return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.Driver, b.Driver))
		})
		if len(sg.GPUs) == 0 {
			sg.Unknown = cmp.Or(s.StepGPUs.Unknown, "nvidia-smi listed no GPU")
		}
		out = append(out, sg)
	}
	return out
}
