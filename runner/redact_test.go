package runner

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in      string
		secrets []string
		want    string
	}{
		{"plain error", nil, "plain error"},
		{"bad key sk-123456", []string{"sk-123456"}, "bad key [REDACTED]"},
		{"short key abc stays", []string{"abc"}, "short key abc stays"},
		{"Authorization: Bearer xyz.abc-1", nil, "Authorization: Bearer [REDACTED]"},
		{"authorization: Basic dXNlcjpwYXNz", nil, "authorization: Basic [REDACTED]"},
		{`{"headers":{"Authorization":"Bearer tok"},"x":1}`, nil, `{"headers":{"Authorization":"Bearer [REDACTED]"},"x":1}`},
		{`{"error":"{\"authorization\":\"tok\"}"}`, nil, `{"error":"{\"authorization\":\"[REDACTED]\"}"}`},
		{"x-api-key=abc123&y=1", nil, "x-api-key=[REDACTED]&y=1"},
		{`{"api_key": "k-1"}`, nil, `{"api_key": "[REDACTED]"}`},
		{"token was bearer AbC+/9== ok", nil, "token was bearer [REDACTED] ok"},
		{"Authorization: Bearer sk-123456", []string{"Bearer sk-123456", "sk-123456"}, "Authorization: [REDACTED]"},
		{"invalid api key provided", nil, "invalid api key provided"},
	} {
		if got := Redact(tc.in, tc.secrets...); got != tc.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
		}
	}
}

// TestErrorDetailRedactsBeforeCutting: a secret across the 200-byte cut is
// redacted whole, not cut into a prefix that stays.
func TestErrorDetailRedactsBeforeCutting(t *testing.T) {
	const key = "sk-0123456789abcdef"
	got := ErrorDetail(strings.Repeat("x", 190)+key, key)
	if strings.Contains(got, "sk-") {
		t.Errorf("detail %q keeps the start of the key", got)
	}
	if got := Snippet([]byte("  Authorization: Bearer abcdef  ")); got != "Authorization: Bearer [REDACTED]" {
		t.Errorf("Snippet: %q", got)
	}
}
