package plugin

import (
	"errors"
	"strings"
)

// Error is a failure the runtime prints as one line,
// "ROLE: what failed: why (what to check)", so no provider writes its own
// prefix or parenthesis. Errors nest: an Error whose cause is another Error
// reads "what: inner what: why", and only one hint is printed, the
// outermost one given (an inner Check is used when the outer has none).
type Error struct {
	// What failed, e.g. "get ECR token for 1234.dkr.ecr.eu-west-1.amazonaws.com".
	What string
	// Err is why: the cause. Its text must hold no secret.
	Err error
	// Check is what the operator should check, e.g. "check that the node
	// reaches the ECR endpoint"; empty when there is nothing to add.
	Check string
}

// Fail returns an Error.
func Fail(what string, err error, check string) *Error {
	return &Error{What: what, Err: err, Check: check}
}

// Error formats the error with its single hint.
func (e *Error) Error() string {
	msg, check := e.parts()
	if check == "" {
		return msg
	}
	return msg + " (" + check + ")"
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Hint is the error's one hint (see Error).
func (e *Error) Hint() string {
	_, check := e.parts()
	return check
}

func (e *Error) parts() (msg, check string) {
	var why string
	if inner, ok := e.Err.(*Error); ok {
		why, check = inner.parts()
	} else if e.Err != nil {
		why = e.Err.Error()
		var deeper *Error
		if errors.As(e.Err, &deeper) {
			// The text of a wrapped Error already ends with its hint: a
			// second would make two parentheses.
			return joinWhat(e.What, why), ""
		}
	}
	if e.Check != "" {
		check = e.Check
	}
	return joinWhat(e.What, why), check
}

func joinWhat(what, why string) string {
	switch {
	case what == "":
		return why
	case why == "":
		return what
	}
	return what + ": " + strings.TrimSpace(why)
}
