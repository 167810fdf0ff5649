package flows

import "github.com/tlsdissect/tlsdissect/dissect"

// The names of the record come from dissect's enums; these wrappers only
// add the record's convention: "" for an absent value.

func alertLevelName(l dissect.AlertLevel) string {
	if l == 0 {
		return ""
	}
	return l.String()
}

// versionName writes a protocol version as the record contract does.
func versionName(v dissect.Version) string {
	if v == 0 {
		return ""
	}
	return v.String()
}

func isGREASE(v uint16) bool { return dissect.IsGREASE(v) }

func groupName(g dissect.NamedGroup) string {
	if g == 0 {
		return ""
	}
	return g.String()
}
