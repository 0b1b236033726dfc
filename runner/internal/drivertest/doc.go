// Package drivertest holds what the protocol drivers' tests share
// (runner/openai, runner/ollama, and the drivers to come): a fixed
// dataset, handcrafted streaming servers, a client that reads late, an
// in-process emulator, and Do, which runs one operation as the load
// generator does. Only tests import it.
package drivertest
