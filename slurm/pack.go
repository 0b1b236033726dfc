package slurm

import (
	"fmt"
	"sort"
)

// Demand is what one service asks of the services' nodes.
type Demand struct {
	Name string
	GPUs int // GPUs per node; 0 runs beside the others, on no GPU of its own
	CPUs int // CPUs; counted only when the node size has CPUs
	// Nodes > 1 is a distributed (Ray) service: it gets that many whole
	// nodes of its own.
	Nodes int
}

// NodeSize is one node of the services' partition.
type NodeSize struct {
	GPUs int
	CPUs int // 0: CPUs are not packed
}

// Placement is where Pack put one service: node indexes counted from 0
// over the services' nodes, and on each of them the GPU slots it owns
// (0..GPUs-1 of the node, disjoint from every other service's there).
type Placement struct {
	Name  string
	Nodes []int
	GPUs  []int
}

// PackError is a demand that cannot be placed, with where and why.
type PackError struct {
	Service string
	Why     string
}

func (e *PackError) Error() string { return fmt.Sprintf("service %q: %s", e.Service, e.Why) }

// Pack places demands on nodes of size by first-fit decreasing: the
// distributed services first, each on whole nodes of its own, then the
// others from the most GPUs to the fewest (suite order among equals), each
// on the first node with enough free GPUs (and CPUs), several per node
// when they fit. maxNodes > 0 caps the nodes. It returns the placements in
// the order of demands and the number of nodes used (at least 1).
func Pack(demands []Demand, size NodeSize, maxNodes int) ([]Placement, int, error) {
	type node struct{ gpus, cpus int }
	var nodes []node
	out := make([]Placement, len(demands))
	order := make([]int, len(demands))
	for i := range demands {
		order[i] = i
		out[i].Name = demands[i].Name
	}
	sort.SliceStable(order, func(a, b int) bool {
		da, db := demands[order[a]], demands[order[b]]
		if (da.Nodes > 1) != (db.Nodes > 1) {
			return da.Nodes > 1
		}
		return da.GPUs > db.GPUs
	})
	for _, i := range order {
		d := demands[i]
		switch {
		case d.GPUs < 0 || d.CPUs < 0:
			return nil, 0, &PackError{d.Name, "negative gpus or cpus"}
		case d.GPUs > 0 && size.GPUs == 0:
			return nil, 0, &PackError{d.Name, fmt.Sprintf("gpus = %d, but the services' nodes have no GPUs: set gpus_per_node in [slurm.services] (or [slurm])", d.GPUs)}
		case d.GPUs > size.GPUs:
			return nil, 0, &PackError{d.Name, fmt.Sprintf("gpus = %d does not fit a node of %d GPUs (gpus_per_node); more GPUs need nodes > 1 with ray", d.GPUs, size.GPUs)}
		case size.CPUs > 0 && d.CPUs > size.CPUs:
			return nil, 0, &PackError{d.Name, fmt.Sprintf("cpus = %d does not fit a node of %d CPUs (cpus_per_node)", d.CPUs, size.CPUs)}
		}
		fits := func(n node) bool {
			return d.GPUs <= size.GPUs-n.gpus && (size.CPUs == 0 || d.CPUs <= size.CPUs-n.cpus)
		}
		if d.Nodes > 1 {
			for k := 0; k < d.Nodes; k++ {
				out[i].Nodes = append(out[i].Nodes, len(nodes))
				nodes = append(nodes, node{size.GPUs, size.CPUs})
			}
			out[i].GPUs = slots(0, d.GPUs)
			continue
		}
		at := -1
		for k, n := range nodes {
			if fits(n) && !wholeNode(out, k, demands) {
				at = k
				break
			}
		}
		if at < 0 {
			at = len(nodes)
			nodes = append(nodes, node{})
		}
		out[i].Nodes = []int{at}
		out[i].GPUs = slots(nodes[at].gpus, d.GPUs)
		nodes[at].gpus += d.GPUs
		nodes[at].cpus += d.CPUs
	}
	if maxNodes > 0 && len(nodes) > maxNodes {
		return nil, 0, &PackError{demands[order[len(order)-1]].Name,
			fmt.Sprintf("the services need %d nodes of %d GPUs; slurm.services.nodes allows %d", len(nodes), size.GPUs, maxNodes)}
	}
	return out, max(len(nodes), 1), nil
}

// wholeNode reports whether node k belongs to a distributed service.
func wholeNode(out []Placement, k int, demands []Demand) bool {
	for i, p := range out {
		if demands[i].Nodes > 1 {
			for _, n := range p.Nodes {
				if n == k {
					return true
				}
			}
		}
	}
	return false
}

func slots(from, n int) []int {
	var s []int
	for k := 0; k < n; k++ {
		s = append(s, from+k)
	}
	return s
}
