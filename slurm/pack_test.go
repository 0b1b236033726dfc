package slurm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPack(t *testing.T) {
	four := NodeSize{GPUs: 4}
	cases := []struct {
		name    string
		demands []Demand
		size    NodeSize
		max     int
		want    string // "name:nodes/gpus ..." then "= N nodes"
		err     string // substring of the error; "" = none
	}{
		{name: "nightly: vLLM 1 + Ollama 1 + Chroma share one node",
			demands: []Demand{{Name: "vllm", GPUs: 1}, {Name: "ollama", GPUs: 1}, {Name: "chroma"}}, size: four,
			want: "vllm:[0]/[0] ollama:[0]/[1] chroma:[0]/[] = 1 nodes"},
		{name: "decreasing: the 3-GPU service goes first and the 2s overflow",
			demands: []Demand{{Name: "a", GPUs: 2}, {Name: "b", GPUs: 3}, {Name: "c", GPUs: 2}}, size: four,
			want: "a:[1]/[0 1] b:[0]/[0 1 2] c:[1]/[2 3] = 2 nodes"},
		{name: "first fit backfills a 1-GPU service",
			demands: []Demand{{Name: "a", GPUs: 3}, {Name: "b", GPUs: 3}, {Name: "c", GPUs: 1}}, size: four,
			want: "a:[0]/[0 1 2] b:[1]/[0 1 2] c:[0]/[3] = 2 nodes"},
		{name: "whole-node services each get their own",
			demands: []Demand{{Name: "a", GPUs: 4}, {Name: "b", GPUs: 4}}, size: four,
			want: "a:[0]/[0 1 2 3] b:[1]/[0 1 2 3] = 2 nodes"},
		{name: "ray service takes whole nodes, nobody joins them",
			demands: []Demand{{Name: "small", GPUs: 1}, {Name: "ray", GPUs: 2, Nodes: 2}}, size: four,
			want: "small:[2]/[0] ray:[0 1]/[0 1] = 3 nodes"},
		{name: "no GPUs at all: one node",
			demands: []Demand{{Name: "chroma"}, {Name: "emu"}}, size: NodeSize{},
			want: "chroma:[0]/[] emu:[0]/[] = 1 nodes"},
		{name: "cpus are a second dimension when the node size has them",
			demands: []Demand{{Name: "a", GPUs: 1, CPUs: 24}, {Name: "b", GPUs: 1, CPUs: 24}}, size: NodeSize{GPUs: 4, CPUs: 32},
			want: "a:[0]/[0] b:[1]/[0] = 2 nodes"},
		{name: "overflow: too many GPUs for one node",
			demands: []Demand{{Name: "big", GPUs: 8}}, size: four, err: `service "big": gpus = 8 does not fit a node of 4 GPUs`},
		{name: "gpus but no node size",
			demands: []Demand{{Name: "vllm", GPUs: 1}}, size: NodeSize{}, err: `service "vllm": gpus = 1, but the services' nodes have no GPUs`},
		{name: "cpus overflow",
			demands: []Demand{{Name: "a", CPUs: 64}}, size: NodeSize{GPUs: 4, CPUs: 32}, err: `service "a": cpus = 64 does not fit`},
		{name: "more nodes than allowed",
			demands: []Demand{{Name: "a", GPUs: 3}, {Name: "b", GPUs: 3}}, size: four, max: 1,
			err: "the services need 2 nodes of 4 GPUs; slurm.services.nodes allows 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, n, err := Pack(c.demands, c.size, c.max)
			if c.err != "" {
				var pe *PackError
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a PackError containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, p := range got {
				parts = append(parts, fmt.Sprintf("%s:%v/%v", p.Name, p.Nodes, p.GPUs))
			}
			s := strings.Join(parts, " ") + fmt.Sprintf(" = %d nodes", n)
			if s != c.want {
				t.Errorf("got  %s\nwant %s", s, c.want)
			}
			checkDisjoint(t, got)
		})
	}
}

// checkDisjoint fails when two services hold the same GPU slot of a node.
func checkDisjoint(t *testing.T, ps []Placement) {
	t.Helper()
	owner := map[[2]int]string{}
	for _, p := range ps {
		for _, n := range p.Nodes {
			for _, g := range p.GPUs {
				k := [2]int{n, g}
				if o, ok := owner[k]; ok {
					t.Errorf("GPU %d of node %d held by %s and %s", g, n, o, p.Name)
				}
				owner[k] = p.Name
			}
		}
	}
}

// TestComponentsRejects: a job with components refuses roles that do not
// fit them.
func TestComponentsRejects(t *testing.T) {
	base := scriptJobs()["hetjob-packed"]
	cases := []struct {
		name string
		edit func(j *Job)
		want string
	}{
		{"more GPUs than the component asks", func(j *Job) { j.Services[0].GPUs = 3 }, `service "vllm": 3 GPUs, but its component has --gres=gpu:2`},
		{"a service on a client node", func(j *Job) { j.Services[2].Nodes = []int{1} }, `service "chroma": node 1 is a client node`},
		{"a node outside the allocation", func(j *Job) { j.Services[2].Nodes = []int{3} }, "outside the allocation"},
		{"a pre step with a newline", func(j *Job) { j.Services[1].Pre = []string{"a\nb"} }, `service "ollama": pre[0]`},
		{"three components", func(j *Job) { j.Components = append(j.Components, Component{Role: "x", Nodes: 1}) }, "at most 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := base
			j.Services = append([]ServiceRole(nil), base.Services...)
			j.Components = append([]Component(nil), base.Components...)
			c.edit(&j)
			_, err := RenderScript(j)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
