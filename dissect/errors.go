package dissect

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrTruncated says a message ended before a field it announces.
var ErrTruncated = errors.New("dissect: truncated")

// ErrMalformed says a field is present but cannot be right: a length that
// does not fill its container, a list of odd length, a duplicate extension.
var ErrMalformed = errors.New("dissect: malformed")

// ErrDuplicateExtension says an extension type appears twice in one
// message (RFC 8446 4.2); it is an ErrMalformed.
var ErrDuplicateExtension = fmt.Errorf("dissect: duplicate extension: %w", ErrMalformed)

// ParseError says which message and which field failed, and where.
// Offset counts bytes from the start of the message body handed to the parser.
type ParseError struct {
	Msg    string // the message, in RFC snake_case ("client_hello")
	Field  string // the field that failed ("cipher_suites", "extension server_name")
	Offset int
	Err    error // ErrTruncated or ErrMalformed
}

func (e *ParseError) Error() string {
	return "dissect: " + e.Msg + ": " + e.Field + " at offset " + strconv.Itoa(e.Offset) + ": " + errText(e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

func errText(err error) string {
	switch err {
	case ErrTruncated:
		return "truncated"
	case ErrMalformed:
		return "malformed"
	case ErrDuplicateExtension:
		return "duplicate"
	case nil:
		return "error"
	}
	return err.Error()
}
