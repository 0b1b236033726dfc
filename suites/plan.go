package suites

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// ServiceOptions are the facts of one execution that a service's command
// depends on.
type ServiceOptions struct {
	Exe     string // path of the benchrun binary, for emulators
	Host    string // host the service binds and clients reach; default 127.0.0.1
	Port    int    // port to use when the suite leaves it 0
	LogPath string // where its output goes
	// DataDir is where a service that keeps data (chroma) keeps it when
	// the suite does not say (Service.DataPath); "" leaves it to the
	// service's default.
	DataDir string
}

// DefaultReadinessPath is the probe path used when a service gives none.
func DefaultReadinessPath(sv *Service) string {
	if sv.Readiness.Path != "" {
		return sv.Readiness.Path
	}
	switch sv.Kind {
	case "ollama":
		return "/api/version"
	case "chroma":
		return "/api/v2/heartbeat"
	case "emulator":
		if sv.Emulator.Flavor == "ollama" {
			return "/api/version"
		}
		return "/health"
	case "command":
		return "/"
	}
	return "/health"
}

// Command returns the argv that starts sv listening on host:port. A
// command given as one string runs through sh -c.
func (sv *Service) CommandLine(o ServiceOptions, host string, port int) []string {
	if len(sv.Command) == 1 && strings.ContainsAny(sv.Command[0], " \t;|&$") {
		return []string{"sh", "-c", sv.Command[0]}
	}
	if len(sv.Command) > 0 {
		return append(append([]string{}, sv.Command...), sv.Args...)
	}
	p := strconv.Itoa(port)
	var argv []string
	switch sv.Kind {
	case "vllm":
		argv = []string{"vllm", "serve", sv.Model, "--host", host, "--port", p}
	case "ollama":
		argv = []string{"ollama", "serve"}
	case "chroma":
		argv = []string{"chroma", "run", "--host", host, "--port", p}
		if path := sv.DataPath; path != "" || o.DataDir != "" {
			if path == "" {
				path = o.DataDir
			}
			argv = append(argv, "--path", path)
		}
	case "emulator":
		e := sv.Emulator
		flavor := e.Flavor
		if flavor == "" {
			flavor = "vllm"
		}
		argv = []string{o.Exe, "emulate", flavor, "--host", host, "--port", p}
		if sv.Model != "" {
			argv = append(argv, "--model", sv.Model)
		}
		add := func(flag string, v string, set bool) {
			if set {
				argv = append(argv, "--"+flag, v)
			}
		}
		add("slots", strconv.Itoa(e.Slots), e.Slots > 0)
		add("max-queue", strconv.Itoa(e.MaxQueue), e.MaxQueue > 0)
		add("prefill-base", e.PrefillBase.D().String(), e.PrefillBase > 0)
		add("prefill-per-token", e.PrefillPerToken.D().String(), e.PrefillPerToken > 0)
		add("decode-base", e.DecodeBase.D().String(), e.DecodeBase > 0)
		add("decode-per-seq", e.DecodePerSeq.D().String(), e.DecodePerSeq > 0)
		if e.Jitter != nil {
			argv = append(argv, "--jitter", strconv.FormatFloat(*e.Jitter, 'g', -1, 64))
		}
		add("seed", strconv.FormatInt(e.Seed, 10), e.Seed != 0)
		add("error-rate", strconv.FormatFloat(e.ErrorRate, 'g', -1, 64), e.ErrorRate > 0)
		add("disconnect-rate", strconv.FormatFloat(e.DisconnectRate, 'g', -1, 64), e.DisconnectRate > 0)
		add("start-delay", e.StartDelay.D().String(), e.StartDelay > 0)
	}
	return append(argv, sv.Args...)
}

// ServiceEnv returns the environment a started service gets on top of
// benchrun's own.
func (sv *Service) ServiceEnv(host string, port int) []string {
	var env []string
	if sv.Kind == "ollama" && len(sv.Command) == 0 {
		env = append(env, "OLLAMA_HOST="+net.JoinHostPort(host, strconv.Itoa(port)))
	}
	for _, k := range sortedKeys(sv.Env) {
		env = append(env, k+"="+sv.Env[k])
	}
	return env
}

// RunnerService turns a suite service into what runner starts or probes.
func (sv *Service) RunnerService(o ServiceOptions) runner.Service {
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	timeout := sv.Readiness.Timeout.D()
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	interval := sv.Readiness.Interval.D()
	if interval == 0 {
		interval = 250 * time.Millisecond
	}
	rs := runner.Service{Name: sv.Name, Kind: sv.Kind, LogPath: o.LogPath,
		Probe: runner.Probe{Timeout: timeout, Interval: interval}}
	if sv.URL != "" {
		rs.External = true
		rs.URL = strings.TrimSuffix(sv.URL, "/")
	} else {
		port := sv.Port
		if port == 0 {
			port = o.Port
		}
		rs.URL = "http://" + net.JoinHostPort(host, strconv.Itoa(port))
		rs.Command = sv.CommandLine(o, host, port)
		rs.Env = sv.ServiceEnv(host, port)
	}
	rs.Probe.URL = rs.URL + DefaultReadinessPath(sv)
	return rs
}

// FreePort asks the kernel for a free TCP port on host.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Path resolves a path written in the suite relative to the suite file
// (for a run's copy, the original's: LoadCopy).
func (s *Suite) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	dir := s.dir
	if dir == "" {
		dir = filepath.Dir(s.File)
	}
	return filepath.Join(dir, p)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// Load returns the results.Load of an LLM case.
func (w *LLMWorkload) Load() results.Load {
	return results.Load{
		Mode: w.Mode, Users: w.Users, ThinkTime: w.ThinkTime.D(), ThinkDist: w.ThinkDist,
		Rate: w.Rate, Arrival: w.Arrival, Burstiness: w.Burstiness, MaxConcurrency: w.MaxConcurrency,
		RampUp: w.RampUp.D(), Duration: w.Duration.D(), Requests: int64(w.Requests), TimeScale: w.traceScale(),
		Warmup: w.Warmup.D(), WarmupRequests: int64(w.WarmupRequests), Seed: w.Seed, LagLimit: w.LagLimit.D(),
		Drain: w.Drain.D(),
	}
}
