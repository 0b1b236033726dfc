package analysis

import (
	"cmp"
	"slices"
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
