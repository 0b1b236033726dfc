package ci

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// serverVersion asks a ready server the version it runs: vLLM's /version,
// Ollama's /api/version (both {"version": "..."}; an emulator either);
// "" for other kinds, or
// when the server does not answer within 2 s, so a server without the
// endpoint costs nothing. Chroma's version is recorded by its driver.
func serverVersion(ctx context.Context, kind, url string) string {
	var paths []string
	switch kind {
	case "vllm":
		paths = []string{"/version"}
	case "ollama":
		paths = []string{"/api/version"}
	case "emulator": // either flavour
		paths = []string{"/version", "/api/version"}
	}
	for _, p := range paths {
		if v := getVersion(ctx, strings.TrimRight(url, "/")+p); v != "" {
			return v
		}
	}
	return ""
}

// getVersion reads {"version": "..."} from url, "" on any failure.
func getVersion(ctx context.Context, url string) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct {
		Version string `json:"version"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<16)).Decode(&v) != nil {
		return ""
	}
	return strings.TrimSpace(v.Version)
}

// hostEnvironment is what benchrun can find out about the node it runs on
// (the load generator's; a service on another node may differ): CPU model
// and count, kernel, and the GPUs and driver nvidia-smi reports when it is
// installed. Keys that cannot be found are left out.
func hostEnvironment() map[string]string {
	env := map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "arch": runtime.GOARCH}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		env["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				env["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader").Output()
		if err == nil {
			var names []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				name, driver, ok := strings.Cut(line, ",")
				if !ok {
					continue
				}
				names = append(names, strings.TrimSpace(name))
				env["gpu_driver"] = strings.TrimSpace(driver)
			}
			if len(names) > 0 {
				env["gpu"] = strings.Join(names, ", ")
			}
		}
	}
	return env
}
