package slurm

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestExpandHostlist(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"single", "node1", []string{"node1"}},
		{"range and item", "node[01-04,07]", []string{"node01", "node02", "node03", "node04", "node07"}},
		{"two groups", "a[1-2]b[3-4]", []string{"a1b3", "a1b4", "a2b3", "a2b4"}},
		{"comma list", "x1,x[2-3],y", []string{"x1", "x2", "x3", "y"}},
		{"order kept", "n[3,1,2]", []string{"n3", "n1", "n2"}},
		{"no padding crosses width", "node[9-11]", []string{"node9", "node10", "node11"}},
		{"padding", "node[09-11]", []string{"node09", "node10", "node11"}},
		{"padding from start", "n[01-2]", []string{"n01", "n02"}},
		{"padding ignored at end", "n[1-002]", []string{"n1", "n2"}},
		{"empty entries", "n1,,n2", []string{"n1", "n2"}},
		{"duplicates kept", "n[1,1]", []string{"n1", "n1"}},
		{"suffix", "n[1-2]-ib", []string{"n1-ib", "n2-ib"}},
		{"spaces around commas", "a, b", []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandHostlist(tt.in)
			if err != nil {
				t.Fatalf("ExpandHostlist(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ExpandHostlist(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpandHostlistErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"n[3-1]", "end before start"},
		{"n[1-2", "unbalanced '['"},
		{"n1-2]", "unbalanced ']'"},
		{"n[]", "empty range"},
		{"n[a-b]", "not a number"},
		{"n[1-]", "invalid range"},
		{"n[[1]]", "nested"},
		{"", "no hosts"},
		{",", "no hosts"},
		{"n[0-99999999]", "more than"},
		{"a[0-999]b[0-999]", "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ExpandHostlist(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ExpandHostlist(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCompressHostlist(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"one", []string{"node1"}, "node1"},
		{"range", []string{"node1", "node2", "node3"}, "node[1-3]"},
		{"scontrol sorted example", []string{"n3", "n1", "n2", "n05", "n04", "a", "b1"}, "a,b1,n[1-3,04-05]"},
		{"gap", []string{"n1", "n2", "n4"}, "n[1-2,4]"},
		{"dedupe", []string{"n2", "n1", "n2"}, "n[1-2]"},
		{"padding across tens", []string{"n09", "n10"}, "n[09-10]"},
		{"natural across tens", []string{"n9", "n10"}, "n[9-10]"},
		{"mixed widths", []string{"n01", "n1"}, "n[01,1]"},
		{"digits inside", []string{"a1b3", "a1b4", "a2b3"}, "a1b[3-4],a2b3"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CompressHostlist(tt.in); got != tt.want {
				t.Errorf("CompressHostlist(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzHostlist checks that expansion never panics or exceeds its limit, and
// that compressing an expansion expands back to the same set of hosts.
func FuzzHostlist(f *testing.F) {
	for _, s := range []string{"node[01-04,07]", "a[1-2]b[3-4]", "x1,x[2-3],y", "n[9-11]", "n[1-2", "n[]", "n[0-5]-ib"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := ExpandHostlist(s)
		if err != nil {
			return
		}
		if len(hosts) == 0 || len(hosts) > MaxHostlistHosts {
			t.Fatalf("ExpandHostlist(%q) gave %d hosts", s, len(hosts))
		}
		for _, h := range hosts {
			if h == "" || strings.ContainsAny(h, "[],") {
				return // names the compressor cannot represent
			}
		}
		c := CompressHostlist(hosts)
		back, err := ExpandHostlist(c)
		if err != nil {
			t.Fatalf("ExpandHostlist(CompressHostlist(%q) = %q): %v", hosts, c, err)
		}
		want := slices.Clone(hosts)
		sort.Strings(want)
		want = slices.Compact(want)
		sort.Strings(back)
		if !slices.Equal(back, want) {
			t.Fatalf("round trip of %q via %q gave %q", want, c, back)
		}
		if c2 := CompressHostlist(back); c2 != c {
			t.Fatalf("CompressHostlist not stable: %q then %q", c, c2)
		}
	})
}

// requireSlurm skips a test that needs SLURM commands, loudly; under CI=true
// as root it fails instead, because CI installs SLURM.
func requireSlurm(t *testing.T, what string) {
	t.Helper()
	if _, err := exec.LookPath("scontrol"); err == nil {
		return
	}
	msg := "SKIPPING " + what + ": scontrol not found (apt-get install slurm-wlm, or run .ci/slurm-cluster.sh up)"
	if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestExpandHostlistMatchesScontrol compares ExpandHostlist with the real
// `scontrol show hostnames`, which needs no running cluster.
func TestExpandHostlistMatchesScontrol(t *testing.T) {
	requireSlurm(t, "comparison with scontrol show hostnames")
	for _, in := range []string{"node[01-04,07]", "a[1-2]b[3-4]", "n[3,1,2]", "x1,x[2-3],y", "node[9-11]",
		"node[09-11]", "n[01-2]", "n[1-002]", "n1,,n2", "n[1,1]", "gpu[1-3]-[0-1]", "c[001-003],gpu[7]"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, "scontrol", "show", "hostnames", in).Output()
		cancel()
		if err != nil {
			t.Fatalf("scontrol show hostnames %q: %v", in, err)
		}
		want := strings.Fields(string(out))
		got, err := ExpandHostlist(in)
		if err != nil {
			t.Errorf("ExpandHostlist(%q): %v; scontrol gives %q", in, err, want)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("ExpandHostlist(%q) = %q, scontrol gives %q", in, got, want)
		}
	}
	for _, hosts := range [][]string{{"n3", "n1", "n2", "n05", "n04", "a", "b1"}, {"node9", "node10", "node11"}} {
		out, err := exec.Command("scontrol", "show", "hostlistsorted", strings.Join(hosts, ",")).Output()
		if err != nil {
			t.Fatalf("scontrol show hostlistsorted: %v", err)
		}
		if got, want := CompressHostlist(hosts), strings.TrimSpace(string(out)); got != want {
			t.Errorf("CompressHostlist(%q) = %q, scontrol gives %q", hosts, got, want)
		}
	}
}
