package ci

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/suites"
)

func schemaCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of the suite format",
		Description: "For editors with TOML schema support (Taplo / Even Better TOML): put\n" +
			"   #:schema ./benchrun-suite.schema.json\n" +
			"at the top of a suite.\n\n" +
			"Example:\n   benchrun schema > benchrun-suite.schema.json",
		Action: func(c *cli.Context) error {
			b, err := suites.JSONSchema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		},
	}
}
