package ci

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/runner/emulate"
)

// emulateContext parses args with the flags of benchrun emulate.
func emulateContext(t *testing.T, args ...string) *cli.Context {
	t.Helper()
	set := flag.NewFlagSet("emulate", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range emulateFlags() {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Parse(args); err != nil {
		t.Fatal(err)
	}
	return cli.NewContext(cli.NewApp(), set, nil)
}

func TestEmulateOptions(t *testing.T) {
	t.Run("flavour defaults kept", func(t *testing.T) {
		t.Setenv("BENCHRUN_EMULATE_SLOWDOWN", "")
		for _, flavor := range []string{emulate.FlavorVLLM, emulate.FlavorOllama} {
			got := emulateOptions(emulateContext(t), flavor)
			if want := emulate.DefaultOptions(flavor); got != want {
				t.Errorf("%s without flags:\n got %+v\nwant %+v", flavor, got, want)
			}
		}
	})
	t.Run("every flag", func(t *testing.T) {
		c := emulateContext(t, "--model", "m", "--slots", "9", "--max-queue", "-1",
			"--prefill-base", "1ms", "--prefill-per-token", "2ms", "--decode-base", "3ms", "--decode-per-seq", "4ms",
			"--jitter", "0.5", "--seed", "7", "--output-tokens", "11", "--slowdown", "1.5", "--load-time", "5ms",
			"--error-rate", "0.1", "--burst-status", "429", "--burst-every", "6ms", "--burst-length", "7ms",
			"--disconnect-rate", "0.2", "--stall-rate", "0.3", "--stall-for", "8ms", "--start-delay", "9ms")
		want := emulate.Options{Flavor: emulate.FlavorOllama, Model: "m", Slots: 9, MaxQueue: -1,
			PrefillBase: time.Millisecond, PrefillPerToken: 2 * time.Millisecond,
			DecodeBase: 3 * time.Millisecond, DecodePerSeq: 4 * time.Millisecond,
			Jitter: 0.5, Seed: 7, OutputTokens: 11, Slowdown: 1.5, LoadTime: 5 * time.Millisecond,
			ErrorRate: 0.1, BurstStatus: 429, BurstEvery: 6 * time.Millisecond, BurstLength: 7 * time.Millisecond,
			DisconnectRate: 0.2, StallRate: 0.3, StallFor: 8 * time.Millisecond, StartDelay: 9 * time.Millisecond}
		if got := emulateOptions(c, emulate.FlavorOllama); got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
}
