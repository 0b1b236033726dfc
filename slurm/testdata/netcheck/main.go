// Command netcheck stands in for benchrun in package slurm's cluster tests.
//
//	netcheck serve PORT            HTTP server answering "hello from HOST"
//	netcheck worker --worker=I --workers=N OUTDIR
//	                               GET $BENCHRUN_SERVICE_URL, write OUTDIR/worker-I.txt
//	netcheck inside JOB.json       what `benchrun suite --inside-job` does with
//	                               roles: start the service steps, wait until
//	                               they answer, run the client steps, stop
//	netcheck sleep-usr1 DIR        sleep until killed; on USR1 write DIR/usr1
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/benchrun/benchrun/slurm"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: netcheck serve|worker|inside|sleep-usr1 ..."))
	}
	var err error
	switch os.Args[1] {
	case "serve":
		host, _ := os.Hostname()
		err = http.ListenAndServe(":"+os.Args[2], http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "hello from %s", host)
		}))
	case "worker":
		err = worker(os.Args[2:])
	case "inside":
		err = inside(os.Args[2])
	case "sleep-usr1":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		fmt.Println("sleeping until the time limit")
		<-c
		fmt.Println("got USR1")
		err = os.WriteFile(filepath.Join(os.Args[2], "usr1"), []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644)
		time.Sleep(time.Hour) // until SLURM kills the job at its time limit
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "netcheck:", err)
	os.Exit(1)
}

func get(url string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b), err
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func worker(args []string) error {
	var id string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--worker="); ok {
			id = v
		}
	}
	body, err := get(os.Getenv("BENCHRUN_SERVICE_URL"), 30*time.Second)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	out := filepath.Join(args[len(args)-1], "worker-"+id+".txt")
	return os.WriteFile(out, []byte(fmt.Sprintf("%s got %q\n", host, body)), 0o644)
}

func inside(jobFile string) error {
	b, err := os.ReadFile(jobFile)
	if err != nil {
		return err
	}
	var j slurm.Job
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	nodes, err := slurm.AllocationNodes()
	if err != nil {
		return err
	}
	steps, err := j.Steps(nodes)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var services []*exec.Cmd
	var clients []*exec.Cmd
	for _, s := range steps {
		fmt.Printf("step %s %s on %s: %s\n", s.Kind, s.Service, s.Node, slurm.ShellJoin(s.Argv))
		cmd := exec.CommandContext(ctx, s.Argv[0], s.Argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if s.Kind == slurm.StepClient {
			clients = append(clients, cmd)
			continue
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		services = append(services, cmd)
		if s.URL != "" {
			body, err := get(s.URL, 60*time.Second)
			if err != nil {
				return fmt.Errorf("service %s at %s: %w", s.Service, s.URL, err)
			}
			fmt.Printf("service %s ready at %s: %s\n", s.Service, s.URL, body)
			os.Setenv("BENCHRUN_SERVICE_URL", s.URL)
		}
	}
	for _, c := range clients {
		c.Env = os.Environ()
		if err := c.Start(); err != nil {
			return err
		}
	}
	for _, c := range clients {
		if err := c.Wait(); err != nil {
			return fmt.Errorf("client %v: %w", c.Args, err)
		}
	}
	stop()
	for _, s := range services {
		s.Wait()
	}
	fmt.Println("all clients done")
	return nil
}
