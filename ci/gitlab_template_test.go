package ci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v2"
)

const gitlabTemplate = "gitlab/benchrun.gitlab-ci.yml"

// gitlabSchema is GitLab's CI JSON schema (../shared/schemas/gitlab-ci.json
// beside the repository or above it, or $BENCHRUN_SCHEMAS/gitlab-ci.json);
// without it the test skips, unless CI=true.
func gitlabSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := ""
	if env := os.Getenv("BENCHRUN_SCHEMAS"); env != "" {
		path = filepath.Join(env, "gitlab-ci.json")
	} else {
		for dir, _ := filepath.Abs("."); ; dir = filepath.Dir(dir) {
			if p := filepath.Join(dir, "shared", "schemas", "gitlab-ci.json"); exists(p) {
				path = p
				break
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	if path == "" || !exists(path) {
		if os.Getenv("CI") == "true" {
			t.Fatal("GitLab's CI schema (../shared/schemas/gitlab-ci.json) is missing; set BENCHRUN_SCHEMAS")
		}
		t.Skip("skipped: GitLab's CI schema ../shared/schemas/gitlab-ci.json is not here (set BENCHRUN_SCHEMAS; CI=true makes this a failure)")
	}
	c := jsonschema.NewCompiler()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSON turns YAML as yaml.v2 decodes it (map[interface{}]interface{})
// into the types a JSON schema validates.
func yamlToJSON(v any) (any, error) {
	switch v := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, e := range v {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("non-string key %v", k)
			}
			j, err := yamlToJSON(e)
			if err != nil {
				return nil, err
			}
			m[ks] = j
		}
		return m, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			j, err := yamlToJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case int:
		return json.Number(fmt.Sprint(v)), nil
	case float64:
		return json.Number(fmt.Sprint(v)), nil
	}
	return v, nil
}

func loadYAML(t *testing.T, text string) map[string]any {
	t.Helper()
	var raw any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatal(err)
	}
	doc, err := yamlToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	return doc.(map[string]any)
}

// TestGitLabTemplateSchema validates the template against GitLab's CI
// schema, and shows the check can fail: a template with a wrong
// rules:when is rejected.
func TestGitLabTemplateSchema(t *testing.T) {
	schema := gitlabSchema(t)
	b, err := os.ReadFile(gitlabTemplate)
	if err != nil {
		t.Fatal(err)
	}
	doc := loadYAML(t, string(b))
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("%s does not validate against GitLab's CI schema:\n%v", gitlabTemplate, err)
	}
	// Hidden jobs are not checked by the schema: check the nightly jobs'
	// common part as a job of its own.
	doc["benchrun-nightly-resolved"] = doc[".benchrun-nightly"]
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("%s: .benchrun-nightly does not validate as a job:\n%v", gitlabTemplate, err)
	}
	for _, job := range []string{"benchrun-nightly", "benchrun-nightly-batch", "pages", "benchrun-promote"} {
		if _, ok := doc[job]; !ok {
			t.Errorf("the template has no job %s", job)
		}
	}
	bad := strings.Replace(string(b), "when: manual", "when: later", 1)
	if bad == string(b) {
		t.Fatal("the template's promote job is no longer `when: manual`")
	}
	if err := schema.Validate(loadYAML(t, bad)); err == nil {
		t.Error("rules:when: later validates: the schema check cannot fail")
	}
}

// mergeYAML merges over into base: maps key by key (recursively), any
// other value replaced, as a project's .gitlab-ci.yml overrides an
// included template's job keys.
func mergeYAML(base, over map[string]any) {
	for k, v := range over {
		if bm, ok := base[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				mergeYAML(bm, om)
				continue
			}
		}
		base[k] = v
	}
}

// TestGitLabDocSnippets: every yaml block of docs/gitlab.md, laid over the
// template as a project's .gitlab-ci.yml lays its keys over an included
// file, still validates against GitLab's CI schema; a block with a
// misspelt key is rejected, so the check can fail.
func TestGitLabDocSnippets(t *testing.T) {
	schema := gitlabSchema(t)
	tmpl, err := os.ReadFile(gitlabTemplate)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/gitlab.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(doc), "```yaml\n")
	if len(parts) < 3 {
		t.Fatalf("docs/gitlab.md has %d yaml blocks, want at least 2", len(parts)-1)
	}
	check := func(block string) error {
		merged := loadYAML(t, string(tmpl))
		mergeYAML(merged, loadYAML(t, block))
		return schema.Validate(merged)
	}
	for i, p := range parts[1:] {
		block, _, ok := strings.Cut(p, "```")
		if !ok {
			t.Fatalf("yaml block %d of docs/gitlab.md is not closed", i+1)
		}
		if err := check(block); err != nil {
			t.Errorf("yaml block %d of docs/gitlab.md does not validate over the template:\n%s\n%v", i+1, block, err)
		}
	}
	if err := check("benchrun-nightly-batch:\n  variable:\n    SCHEDULER_PARAMETERS: --nodes=1\n"); err == nil {
		t.Error("a job key misspelt (variable:) validates: the snippet check cannot fail")
	}
}
