package ci

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// TestServerVersion: vLLM's /version and Ollama's /api/version are read; a
// kind without one, a server without the endpoint or an answer that is
// not the expected JSON give "" (the manifest then has no version).
func TestServerVersion(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"version":"0.8.5"}`)) })
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`not json`)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	for _, tt := range []struct{ kind, want string }{{"vllm", "0.8.5"}, {"emulator", "0.8.5"}, {"ollama", ""}, {"chroma", ""}} {
		if got := serverVersion(ctx, tt.kind, srv.URL+"/"); got != tt.want {
			t.Errorf("%s: version %q, want %q", tt.kind, got, tt.want)
		}
	}
	if got := serverVersion(ctx, "vllm", "http://127.0.0.1:1"); got != "" {
		t.Errorf("no server: version %q", got)
	}
}

func TestHostEnvironment(t *testing.T) {
	env := hostEnvironment()
	if env["cpus"] == "" || env["arch"] != runtime.GOARCH {
		t.Errorf("environment %v lacks cpus or arch", env)
	}
	if runtime.GOOS == "linux" && env["kernel"] == "" {
		t.Errorf("environment %v lacks the kernel on linux", env)
	}
}
