package runner

import (
	"regexp"
	"strings"
)

// Redaction of credentials from what benchrun stores.
//
// A server may quote the request in an error body ("invalid key sk-…",
// an echo of the headers), and that body becomes a sample's error detail,
// then a line of every report. Redact is the one place that removes such
// credentials; ErrorDetail, Snippet and Exchange.Detail call it, so every
// driver's error details go through it.

// Redacted replaces a redacted credential.
const Redacted = "[REDACTED]"

// minSecret is the shortest secret Redact replaces literally: a shorter
// one is no secret, and replacing it everywhere would garble the text.
const minSecret = 4

// secretHeaders are the request headers whose values are credentials.
var secretHeaders = [...]string{"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key"}

var (
	// credentialField is a header or field that names a credential,
	// followed by its value: "Authorization: Bearer x", "api_key=x",
	// {"x-api-key": "x"}, also inside a JSON string (\"). The value's
	// scheme (Bearer, Basic, Token) is kept.
	credentialField = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization|x-api-key|api[-_]?key|access[-_]?token)(\\?["']?\s*[:=]\s*\\?["']?)((?:bearer|basic|token)\s+)?[^\s"'\\,;&{}\[\]]+`)
	// bearerToken is a Bearer token anywhere else.
	bearerToken = regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`)
)

// Redact returns s with every secret (of at least 4 bytes) replaced by
// [REDACTED], and with the values of credential headers and fields
// (Authorization, Proxy-Authorization, X-Api-Key, api_key, access_token)
// and Bearer tokens replaced too, so a credential benchrun did not send
// itself is not kept either. Redact before truncating: a cut secret is
// no longer found.
func Redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= minSecret {
			s = strings.ReplaceAll(s, secret, Redacted)
		}
	}
	if !mayHoldCredential(s) {
		return s
	}
	s = credentialField.ReplaceAllString(s, "${1}${2}${3}"+Redacted)
	return bearerToken.ReplaceAllString(s, "${1}"+Redacted)
}

// mayHoldCredential is a quick test that spares the regular expressions
// the common error detail.
func mayHoldCredential(s string) bool {
	l := strings.ToLower(s)
	for _, w := range [...]string{"auth", "key", "bearer", "token"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}
