package analysis

import (
	"reflect"
	"testing"

	"github.com/benchrun/benchrun/runner/results"
)

// TestStepGPUInventories: nvidia-smi's devices per service step are
// counted by model and driver; a record without devices is unknown with
// its reason; services without GPUs or without a record are left out.
func TestStepGPUInventories(t *testing.T) {
	h100 := results.GPUDevice{Model: "NVIDIA H100 80GB HBM3", Driver: "550.54.15", MemoryBytes: 81559 << 20}
	h100b := h100
	h100b.Index = 1
	services := []results.ServiceInfo{
		{Name: "vllm", Node: "gpu01", GPUs: "0,1", StepGPUs: &results.StepGPUs{Devices: []results.GPUDevice{h100, h100b}}},
		{Name: "ollama", Node: "gpu01", GPUs: "2", StepGPUs: &results.StepGPUs{Unknown: "nvidia-smi exited 9"}},
		{Name: "chroma", Node: "gpu01", StepGPUs: &results.StepGPUs{Unknown: "the step has no CUDA_VISIBLE_DEVICES"}},
		{Name: "old", Node: "gpu02", GPUs: "0"},
		{Name: "empty", Node: "gpu02", GPUs: "1", StepGPUs: &results.StepGPUs{}},
	}
	want := []ServiceGPUs{
		{Service: "vllm", Node: "gpu01", GPUs: []GPUInventory{{Host: "gpu01", Model: "NVIDIA H100 80GB HBM3", Driver: "550.54.15", Count: 2}}},
		{Service: "ollama", Node: "gpu01", Unknown: "nvidia-smi exited 9"},
		{Service: "empty", Node: "gpu02", Unknown: "nvidia-smi listed no GPU"},
	}
	if got := StepGPUInventories(services); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got := StepGPUInventories(services[2:4]); got != nil {
		t.Errorf("no service with step GPUs: %+v, want nil", got)
	}
}
