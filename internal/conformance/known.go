package conformance

// knownDisagreement classifies disagreements; people maintain this list
// with the reason they found. The first entry that matches wins.
type knownDisagreement struct {
	Capture  string // path.Match pattern on the capture path below the captures dir
	Conn     string // substring of the connection, "" for any
	Category string // path.Match pattern on the category ("tshark.*"), "" for any
	Reason   string // one of the Reason* constants
	Why      string // the evidence, in a few words
}

var knownDisagreements = []knownDisagreement{}
