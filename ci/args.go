package ci

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli v2 parses the app's flags only before the command name, and a
// command's flags only before its first argument (v3's flags would follow
// the command, but v3 is another API). rewriteArgs reorders argv so that
// `benchrun suite FILE -o DIR` and `benchrun emulate vllm --port 8000` work
// as written. Which flags exist, and which take a value, is read from the
// app's and the commands' Flags: a new flag needs no list of its own.

// rewriteArgs applies helpTopic, hoistGlobalFlags and interspersed, in
// that order, to a copy of args (args[0] is the program name).
func rewriteArgs(app *cli.App, args []string) []string {
	global := flagArity(app.Flags)
	return interspersed(app, global, hoistGlobalFlags(global, helpTopic(global, args)))
}

// flagArity maps every spelling of flags ("-o", "--output") to whether it
// takes a value.
func flagArity(flags []cli.Flag) map[string]bool {
	arity := map[string]bool{}
	for _, f := range flags {
		takes := true
		if d, ok := f.(cli.DocGenerationFlag); ok {
			takes = d.TakesValue()
		}
		for _, n := range f.Names() {
			prefix := "--"
			if len(n) == 1 {
				prefix = "-"
			}
			arity[prefix+n] = takes
		}
	}
	return arity
}

// commandAt returns the index in args of the command name: the first
// argument after the program name that is neither a global flag nor the
// value of one; -1 when there is none or "--" comes first.
func commandAt(global map[string]bool, args []string) int {
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return -1
		case !strings.HasPrefix(a, "-") || a == "-":
			return i
		}
		name, _, hasValue := strings.Cut(a, "=")
		if global[name] && !hasValue {
			i++
		}
	}
	return -1
}

// helpTopic rewrites `benchrun help [COMMAND [SUBCOMMAND]]` as
// `benchrun [COMMAND [SUBCOMMAND]] --help` (the help command itself is
// hidden so that it is not listed among the commands).
func helpTopic(global map[string]bool, args []string) []string {
	i := commandAt(global, args)
	if i < 0 || args[i] != "help" {
		return args
	}
	out := append(append([]string{}, args[:i]...), args[i+1:]...)
	return append(out, "--help")
}

// hoistGlobalFlags moves global flags written after the command name in
// front of it, so `benchrun suite -o DIR FILE` works as well as
// `benchrun -o DIR suite FILE`.
func hoistGlobalFlags(global map[string]bool, args []string) []string {
	cmd := commandAt(global, args)
	if cmd < 0 {
		return args
	}
	front := append([]string{}, args[:cmd]...)
	var rest []string
	for i := cmd; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, _, hasValue := strings.Cut(a, "=")
		takes, ok := global[name]
		if !ok || i == cmd {
			rest = append(rest, a)
			continue
		}
		front = append(front, a)
		if takes && !hasValue && i+1 < len(args) {
			front = append(front, args[i+1])
			i++
		}
	}
	return append(front, rest...)
}

// interspersed moves a command's flags in front of its positional
// arguments, so `benchrun emulate vllm --port 8000` works. A help flag
// drops the arguments: `benchrun suite FILE --help` would otherwise ask
// for help on a command called FILE.
func interspersed(app *cli.App, global map[string]bool, args []string) []string {
	i := commandAt(global, args)
	if i < 0 {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	start := i + 1
	if len(cmd.Subcommands) > 0 && start < len(args) {
		if sub := cmd.Command(args[start]); sub != nil {
			cmd = sub
			start++
		}
	}
	own := flagArity(cmd.Flags)
	var flags, pos []string
	for j := start; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			pos = append(pos, args[j:]...)
			break
		}
		name, _, hasValue := strings.Cut(a, "=")
		takes, known := own[name]
		switch {
		case name == "-h" || name == "--help":
			return append(append([]string{}, args[:start]...), "--help")
		case known:
			flags = append(flags, a)
			if takes && !hasValue && j+1 < len(args) {
				flags = append(flags, args[j+1])
				j++
			}
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a) // unknown: let urfave report it
		default:
			pos = append(pos, a)
		}
	}
	out := append(append([]string{}, args[:start]...), flags...)
	return append(out, pos...)
}
