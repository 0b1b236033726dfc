package slurm

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultSignalGrace is how long before the time limit SLURM signals the
// batch shell (USR1) when Config.SignalGrace is empty: long enough for
// benchrun to stop load, flush samples and write the manifest.
const DefaultSignalGrace = 120 * time.Second

// Container runtimes accepted by Config.Container.
const (
	ContainerNone      = ""
	ContainerApptainer = "apptainer"
)

// Config is the suite's [slurm] section, decoded by BurntSushi/toml. Zero
// values leave the choice to the site's SLURM defaults, except where noted.
//
//	[slurm]
//	account = "proj42"
//	partition = "gpu"
//	time = "01:30:00"
//	gpus_per_node = 4
//	modules = ["cuda/12.4"]
//	container = "apptainer"
//	[slurm.containers.vllm]
//	image = "/sw/images/vllm-0.8.sif"
//	binds = ["/scratch/models:/models:ro"]
type Config struct {
	Account   string `toml:"account" json:"account,omitempty"`
	Partition string `toml:"partition" json:"partition,omitempty"`
	QOS       string `toml:"qos" json:"qos,omitempty"`
	// Time is the job's time limit in SLURM's own format: "MM", "MM:SS",
	// "HH:MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS".
	Time string `toml:"time" json:"time,omitempty"`
	// Nodes is the allocation size; 0 means as many as the roles use.
	Nodes       int    `toml:"nodes" json:"nodes,omitempty"`
	GPUsPerNode int    `toml:"gpus_per_node" json:"gpus_per_node,omitempty"`
	CPUsPerTask int    `toml:"cpus_per_task" json:"cpus_per_task,omitempty"`
	Mem         string `toml:"mem" json:"mem,omitempty"` // per node, SLURM syntax: "64G", "0" = all
	Constraint  string `toml:"constraint" json:"constraint,omitempty"`
	Reservation string `toml:"reservation" json:"reservation,omitempty"`
	// Extra holds further sbatch options, one per #SBATCH line, such as
	// "--exclusive" or "--gres=gpu:a100:4".
	Extra   []string          `toml:"extra" json:"extra,omitempty"`
	Modules []string          `toml:"modules" json:"modules,omitempty"` // `module load`ed in order
	Env     map[string]string `toml:"env" json:"env,omitempty"`         // exported in the job script

	// Container is ContainerNone or ContainerApptainer; with apptainer,
	// services that have an image run in `apptainer exec`.
	Container string `toml:"container" json:"container,omitempty"`
	// Binds apply to every containerised service; Containers adds an image
	// and binds per service name.
	Binds      []string                 `toml:"binds" json:"binds,omitempty"`
	Containers map[string]ContainerSpec `toml:"containers" json:"containers,omitempty"`

	// SignalGrace is a Go duration ("120s", "2m"): SLURM sends USR1 to the
	// batch shell this long before the time limit (--signal=B:USR1@SECONDS).
	// Empty means DefaultSignalGrace.
	SignalGrace string `toml:"signal_grace" json:"signal_grace,omitempty"`
	// Requeue lets SLURM requeue the job after a node failure or
	// preemption; off by default (--no-requeue) so a nightly run never
	// silently starts over.
	Requeue bool `toml:"requeue" json:"requeue,omitempty"`
	// Benchrun is the path of the benchrun executable on the compute nodes;
	// empty means the path of the running executable.
	Benchrun string `toml:"benchrun" json:"benchrun,omitempty"`
	// Monitor, when the suite has a [slurm.monitor] table, starts
	// Prometheus and node_exporter inside the job (Monitor).
	Monitor *Monitor `toml:"monitor" json:"monitor,omitempty"`

	// Services and Clients, the [slurm.services] and [slurm.clients]
	// tables, turn on placement by resources (Placed): services packed
	// onto the nodes of one partition by GPU count, clients (and the
	// monitor role) on another partition as the second component of a
	// heterogeneous job, or on further nodes of the same allocation with
	// SamePartition. Keys left empty fall back to the [slurm] ones.
	Services *RoleConfig `toml:"services" json:"services,omitempty"`
	Clients  *RoleConfig `toml:"clients" json:"clients,omitempty"`
	// SamePartition puts clients on nodes of the services' allocation
	// rather than in a heterogeneous job's second component.
	SamePartition bool `toml:"same_partition" json:"same_partition,omitempty"`
}

// RoleConfig is one role's part of the allocation: [slurm.services] or
// [slurm.clients].
type RoleConfig struct {
	Partition  string `toml:"partition" json:"partition,omitempty"`
	Account    string `toml:"account" json:"account,omitempty"`
	QOS        string `toml:"qos" json:"qos,omitempty"`
	Time       string `toml:"time" json:"time,omitempty"`
	Constraint string `toml:"constraint" json:"constraint,omitempty"`
	// Nodes: for services the most nodes the packer may use (0: as many
	// as it needs); for clients the nodes they get (0: 1).
	Nodes int `toml:"nodes" json:"nodes,omitempty"`
	// GPUsPerNode is what one node of the partition has: the packer's
	// bin size (services only; 0 falls back to slurm.gpus_per_node).
	GPUsPerNode int `toml:"gpus_per_node" json:"gpus_per_node,omitempty"`
	// CPUsPerNode, when set, makes CPUs a second dimension of the packing
	// (services with cpus); 0 does not limit.
	CPUsPerNode int    `toml:"cpus_per_node" json:"cpus_per_node,omitempty"`
	Mem         string `toml:"mem" json:"mem,omitempty"` // --mem of the component, per node
	// PerNode is the client workers per node (clients only; 1 when 0).
	PerNode int `toml:"per_node" json:"per_node,omitempty"`
}

// Placed reports whether the section asks for placement by resources.
func (c *Config) Placed() bool { return c.Services != nil || c.Clients != nil }

// ServicesRole returns [slurm.services], or an empty one.
func (c *Config) ServicesRole() RoleConfig {
	if c.Services == nil {
		return RoleConfig{}
	}
	return *c.Services
}

// ClientsRole returns [slurm.clients], or an empty one.
func (c *Config) ClientsRole() RoleConfig {
	if c.Clients == nil {
		return RoleConfig{}
	}
	return *c.Clients
}

func (r *RoleConfig) validate(key string, c *Config) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, f := range []struct{ k, v string }{{"partition", r.Partition}, {"account", r.Account}, {"qos", r.QOS}} {
		if f.v != "" && !namePattern.MatchString(f.v) {
			add("slurm.%s.%s %q: want letters, digits, '_', '.', '+' or '-' (not first)", key, f.k, f.v)
		}
	}
	if r.Time != "" {
		if d, err := ParseTime(r.Time); err != nil {
			add("slurm.%s.time: %v", key, err)
		} else if d <= c.Grace() {
			add("slurm.%s.time %q: not longer than the signal grace %v", key, r.Time, c.Grace())
		}
	}
	if r.Constraint != "" && !constraintPattern.MatchString(r.Constraint) {
		add("slurm.%s.constraint %q: want features joined by & | , with optional [ ] ( ) * :, no spaces", key, r.Constraint)
	}
	if r.Mem != "" && !memPattern.MatchString(r.Mem) {
		add("slurm.%s.mem %q: want a number with an optional unit K, M, G or T, such as \"64G\"", key, r.Mem)
	}
	for _, f := range []struct {
		k string
		v int
	}{{"nodes", r.Nodes}, {"gpus_per_node", r.GPUsPerNode}, {"cpus_per_node", r.CPUsPerNode}, {"per_node", r.PerNode}} {
		if f.v < 0 {
			add("slurm.%s.%s %d: must not be negative", key, f.k, f.v)
		}
	}
	if key == "clients" && (r.GPUsPerNode != 0 || r.CPUsPerNode != 0) {
		add("slurm.clients: gpus_per_node and cpus_per_node size the services' nodes; set them in [slurm.services]")
	}
	if key == "services" && r.PerNode != 0 {
		add("slurm.services.per_node: only for clients (workers per node)")
	}
	return errs
}

// ContainerSpec is one service's container image and extra bind mounts
// ("SRC[:DST[:OPTS]]").
type ContainerSpec struct {
	Image string   `toml:"image" json:"image"`
	Binds []string `toml:"binds" json:"binds,omitempty"`
}

var (
	namePattern       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)
	memPattern        = regexp.MustCompile(`^[0-9]+[KMGT]?$`)
	constraintPattern = regexp.MustCompile(`^[A-Za-z0-9_.&|,:*()\[\]!-]+$`)
	modulePattern     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+/@:-]*$`)
	envNamePattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	extraPattern      = regexp.MustCompile(`^--?[A-Za-z]`)
)

// Validate checks every field and returns one error per problem, each
// naming the key as written in the suite ("slurm.partition ...").
func (c *Config) Validate() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	name := func(key, v string) {
		if v != "" && !namePattern.MatchString(v) {
			add("slurm.%s %q: want letters, digits, '_', '.', '+' or '-' (not first)", key, v)
		}
	}
	name("account", c.Account)
	name("partition", c.Partition)
	name("qos", c.QOS)
	name("reservation", c.Reservation)
	var limit time.Duration
	if c.Time != "" {
		d, err := ParseTime(c.Time)
		if err != nil {
			add("slurm.time: %v", err)
		}
		limit = d
	}
	if c.Nodes < 0 {
		add("slurm.nodes %d: must be at least 1 (or 0 for as many as the roles use)", c.Nodes)
	}
	if c.GPUsPerNode < 0 {
		add("slurm.gpus_per_node %d: must not be negative", c.GPUsPerNode)
	}
	if c.CPUsPerTask < 0 {
		add("slurm.cpus_per_task %d: must not be negative", c.CPUsPerTask)
	}
	if c.Mem != "" && !memPattern.MatchString(c.Mem) {
		add("slurm.mem %q: want a number with an optional unit K, M, G or T, such as \"64G\" (\"0\" = all of a node's memory)", c.Mem)
	}
	if c.Constraint != "" && !constraintPattern.MatchString(c.Constraint) {
		add("slurm.constraint %q: want features joined by & | , with optional [ ] ( ) * :, no spaces", c.Constraint)
	}
	for i, e := range c.Extra {
		switch {
		case hasControl(e):
			add("slurm.extra[%d] %q: control characters (a newline would start a new script line)", i, e)
		case !extraPattern.MatchString(e):
			add("slurm.extra[%d] %q: want an sbatch option such as \"--exclusive\"", i, e)
		}
	}
	for i, m := range c.Modules {
		if !modulePattern.MatchString(m) {
			add("slurm.modules[%d] %q: want a module name such as \"cuda/12.4\"", i, m)
		}
	}
	for _, k := range sortedKeys(c.Env) {
		if !envNamePattern.MatchString(k) {
			add("slurm.env %q: not a valid variable name", k)
		}
		if strings.IndexByte(c.Env[k], 0) >= 0 {
			add("slurm.env.%s: NUL byte in value", k)
		}
	}
	switch c.Container {
	case ContainerNone, "none", ContainerApptainer:
	default:
		add("slurm.container %q: want \"apptainer\" or \"none\"", c.Container)
	}
	for i, b := range c.Binds {
		if err := checkBind(b); err != nil {
			add("slurm.binds[%d] %q: %v", i, b, err)
		}
	}
	for _, svc := range sortedKeys(c.Containers) {
		spec := c.Containers[svc]
		if spec.Image == "" {
			add("slurm.containers.%s.image: missing", svc)
		} else if hasControl(spec.Image) {
			add("slurm.containers.%s.image %q: control characters", svc, spec.Image)
		}
		for i, b := range spec.Binds {
			if err := checkBind(b); err != nil {
				add("slurm.containers.%s.binds[%d] %q: %v", svc, i, b, err)
			}
		}
		if c.Container != ContainerApptainer {
			add("slurm.containers.%s: needs container = \"apptainer\"", svc)
		}
	}
	if c.SignalGrace != "" {
		g, err := time.ParseDuration(c.SignalGrace)
		switch {
		case err != nil:
			add("slurm.signal_grace %q: want a duration such as \"120s\" or \"2m\"", c.SignalGrace)
		case g < time.Second || g > 65535*time.Second:
			add("slurm.signal_grace %q: want between 1s and 65535s (SLURM's limit)", c.SignalGrace)
		case g%time.Second != 0:
			add("slurm.signal_grace %q: want whole seconds", c.SignalGrace)
		case limit > 0 && g >= limit:
			add("slurm.signal_grace %q: must be shorter than slurm.time %q", c.SignalGrace, c.Time)
		}
	} else if limit > 0 && DefaultSignalGrace >= limit {
		add("slurm.time %q: shorter than the default signal_grace %v; set slurm.signal_grace", c.Time, DefaultSignalGrace)
	}
	if c.Benchrun != "" {
		if hasControl(c.Benchrun) || !filepath.IsAbs(c.Benchrun) {
			add("slurm.benchrun %q: want an absolute path", c.Benchrun)
		}
	}
	if c.Monitor != nil {
		errs = append(errs, c.Monitor.validate()...)
	}
	if c.Services != nil {
		errs = append(errs, c.Services.validate("services", c)...)
	}
	if c.Clients != nil {
		errs = append(errs, c.Clients.validate("clients", c)...)
	}
	if c.SamePartition {
		sv, cl := c.ServicesRole(), c.ClientsRole()
		if !c.Placed() {
			add("slurm.same_partition: needs a [slurm.services] or [slurm.clients] table")
		}
		if cl.Partition != "" && cl.Partition != sv.Partition {
			add("slurm.clients.partition %q: with same_partition = true clients share the services' partition %q", cl.Partition, sv.Partition)
		}
		for _, f := range []struct{ k, v string }{{"account", cl.Account}, {"qos", cl.QOS}, {"time", cl.Time}, {"constraint", cl.Constraint}, {"mem", cl.Mem}} {
			if f.v != "" {
				add("slurm.clients.%s: with same_partition = true the job has one component; set it in [slurm.services] or [slurm]", f.k)
			}
		}
	}
	if c.Placed() && c.Nodes != 0 {
		add("slurm.nodes: with [slurm.services] or [slurm.clients] the node counts are per role (slurm.services.nodes, slurm.clients.nodes)")
	}
	return errs
}

// Grace returns the signal grace: SignalGrace parsed, or DefaultSignalGrace
// when empty or invalid (Validate reports invalid values).
func (c *Config) Grace() time.Duration {
	if g, err := time.ParseDuration(c.SignalGrace); err == nil && g >= time.Second {
		return g.Truncate(time.Second)
	}
	return DefaultSignalGrace
}

// ContainerFor returns the image and bind mounts (Binds, then the service's
// own) for a service, or an empty image when it runs without a container.
func (c *Config) ContainerFor(service string) (image string, binds []string) {
	if c.Container != ContainerApptainer {
		return "", nil
	}
	spec, ok := c.Containers[service]
	if !ok {
		return "", nil
	}
	binds = append(append(binds, c.Binds...), spec.Binds...)
	return spec.Image, binds
}

// ParseTime parses a SLURM time limit: "MM", "MM:SS", "HH:MM:SS", "D-HH",
// "D-HH:MM" or "D-HH:MM:SS". It rejects "UNLIMITED" and zero: a nightly job
// always has a limit.
func ParseTime(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q: want SLURM's time format MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", s)
	days := 0
	rest := s
	if d, r, ok := strings.Cut(s, "-"); ok {
		n, err := atoiStrict(d)
		if err != nil {
			return 0, bad
		}
		days, rest = n, r
	}
	parts := strings.Split(rest, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := atoiStrict(p)
		if err != nil {
			return 0, bad
		}
		nums[i] = n
	}
	var h, m, sec int
	switch {
	case days > 0 || strings.Contains(s, "-"):
		switch len(nums) {
		case 1:
			h = nums[0]
		case 2:
			h, m = nums[0], nums[1]
		case 3:
			h, m, sec = nums[0], nums[1], nums[2]
		default:
			return 0, bad
		}
	case len(nums) == 1:
		m = nums[0]
	case len(nums) == 2:
		m, sec = nums[0], nums[1]
	case len(nums) == 3:
		h, m, sec = nums[0], nums[1], nums[2]
	default:
		return 0, bad
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour +
		time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if d <= 0 {
		return 0, fmt.Errorf("%q: the time limit must be positive", s)
	}
	return d, nil
}

func atoiStrict(s string) (int, error) {
	if s == "" || len(s) > 6 {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.Atoi(s)
}

func checkBind(b string) error {
	switch {
	case b == "":
		return fmt.Errorf("empty")
	case hasControl(b):
		return fmt.Errorf("control characters")
	case strings.Contains(b, ","):
		return fmt.Errorf("one bind per entry (no ',')")
	}
	return nil
}

// hasControl reports whether s has a NUL, newline or other ASCII control
// character, any of which could break out of a script line.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
