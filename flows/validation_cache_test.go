package flows

import (
	"testing"
	"time"
)

// TestValidationKey: connections share a cached verdict only when the
// chain, the name and the capture time's place in every validity period
// are the same.
func TestValidationKey(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	chain := []Certificate{{SHA256: "aa", NotBefore: Time{nb}, NotAfter: Time{na}}, {SHA256: "bb", NotBefore: Time{nb.AddDate(-1, 0, 0)}, NotAfter: Time{na.AddDate(1, 0, 0)}}}
	inside := validationKey(chain, nb.AddDate(0, 1, 0), "example.com")
	for _, c := range []struct {
		name string
		key  string
		same bool
	}{
		{"another time inside", validationKey(chain, nb.AddDate(0, 2, 0), "example.com"), true},
		{"before not_before", validationKey(chain, nb.Add(-time.Second), "example.com"), false},
		{"after not_after", validationKey(chain, na.Add(time.Second), "example.com"), false},
		{"another name", validationKey(chain, nb.AddDate(0, 1, 0), "www.example.com"), false},
		{"another chain", validationKey(chain[:1], nb.AddDate(0, 1, 0), "example.com"), false},
	} {
		if (c.key == inside) != c.same {
			t.Errorf("%s: key %q vs %q, want same=%v", c.name, c.key, inside, c.same)
		}
	}
}
