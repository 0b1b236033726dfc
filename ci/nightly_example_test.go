package ci

import (
	"strings"
	"testing"
)

// TestNightlyExample: examples/nightly.toml, the MeluXina suite that
// docs/gitlab.md starts from, is accepted by `benchrun validate` and
// `benchrun plan`, and the plan places what the file says: vLLM and
// Ollama in apptainer on a GPU each of one GPU node, Chroma beside them,
// clients and IO500 (srun on two nodes) on the CPU partition, one
// heterogeneous job.
func TestNightlyExample(t *testing.T) {
	const file = "../examples/nightly.toml"
	v := runCLI(t, "validate", file)
	if v.code != ExitOK || !strings.Contains(v.stdout, file+": ok (3 services, 5 benchmarks, 10 cases)") {
		t.Fatalf("validate %s: %v", file, v)
	}
	p := runCLI(t, "plan", file)
	if p.code != ExitOK {
		t.Fatalf("plan %s: %v", file, p)
	}
	for _, want := range []string{
		"vllm (vllm): start vllm serve /models/Llama-3.1-8B-Instruct",
		"ollama (ollama): start ollama serve",
		"chroma (chroma): start chroma run",
		"1. chat/users=16  [openai → vllm]",
		"3. ollama-generate/users=1  [ollama → ollama]",
		"5. chroma-load  [chroma → chroma]",
		"9. chroma-query/filter=category,users=8  [chroma → chroma]",
		"10. io500  [io500 → a command]",
		"srun --het-group=1 --kill-on-bad-exit=1 --ntasks=32 --nodes=2",
		"#SBATCH --partition=gpu",
		"#SBATCH --nodes=1",
		"#SBATCH --gres=gpu:2",
		"#SBATCH hetjob",
		"#SBATCH --partition=cpu",
		"#SBATCH --nodes=2",
		`service vllm (vllm) on node 0, port 8000, GPU slots 0 of its own (--gres=gpu:1), image "/project/home/p200xxx/images/vllm-openai-0.8.5.sif"`,
		`service ollama (ollama) on node 0, port 11434, GPU slots 1 of its own (--gres=gpu:1), image "/project/home/p200xxx/images/ollama-0.6.sif"`,
		"service chroma (chroma) on node 0, port 8001",
		"clients on node 1,2, 1 per node",
		"module load Apptainer",
	} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("plan %s lacks %q:\n%s", file, want, p.stdout)
		}
	}
}
