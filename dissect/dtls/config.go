package dtls

// Config bounds what a Conn holds for one association. The zero value of
// a field takes its default (see DefaultConfig); a Config is copied by NewConn.
type Config struct {
	// MaxMessage is the largest handshake message joined, in bytes; a
	// larger one is skipped with handshake_too_large. crypto/tls caps
	// handshake messages at 64 KiB, and so do we by default.
	MaxMessage int
	// MaxPendingMessages caps the messages of one direction being joined
	// or waiting for an earlier message_seq.
	MaxPendingMessages int
	// MaxPendingBytes caps the bytes those messages hold.
	MaxPendingBytes int
	// MaxPieces caps the disjoint pieces one message may be in while it
	// is joined (a message cut into one-byte fragments in random order
	// costs a span each).
	MaxPieces int
	// MaxSeqAhead is how far ahead of the next expected message_seq a
	// fragment may be once a direction has delivered something; farther
	// ones are dropped with message_seq_jump.
	MaxSeqAhead int
}

// DefaultConfig returns the Config that zero fields take.
func DefaultConfig() Config {
	return Config{
		MaxMessage:         64 << 10,
		MaxPendingMessages: 16,
		MaxPendingBytes:    256 << 10,
		MaxPieces:          64,
		MaxSeqAhead:        32,
	}
}

// withDefaults fills the zero (or negative) fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fill := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	fill(&c.MaxMessage, d.MaxMessage)
	fill(&c.MaxPendingMessages, d.MaxPendingMessages)
	fill(&c.MaxPendingBytes, d.MaxPendingBytes)
	fill(&c.MaxPieces, d.MaxPieces)
	fill(&c.MaxSeqAhead, d.MaxSeqAhead)
	c.MaxMessage = min(c.MaxMessage, MaxMessageLen)
	return c
}
