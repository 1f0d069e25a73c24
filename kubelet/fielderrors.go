package kubelet

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// fieldError is one validation error as apimachinery's field.Error prints
// it: "field: Type: value: detail", each part only when present. The
// kubelet's config validation builds these; kcred keeps its texts without
// linking apimachinery into the node binary.
type fieldError struct {
	field, typ string
	// value is shown after typ when set: strings quoted, anything else (here
	// string lists and durations) as JSON, as field.Error renders them.
	value  any
	detail string
}

func (e fieldError) Error() string {
	s := e.field + ": " + e.typ
	switch v := e.value.(type) {
	case nil:
	case string:
		s += ": " + strconv.Quote(v)
	default:
		b, _ := json.Marshal(v)
		s += ": " + string(b)
	}
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

// fieldErrors is a field.ErrorList.
type fieldErrors []fieldError

// The field.Error constructors the kubelet's validation uses.

func required(field, detail string) fieldError {
	return fieldError{field: field, typ: "Required value", detail: detail}
}

func forbidden(field, detail string) fieldError {
	return fieldError{field: field, typ: "Forbidden", detail: detail}
}

func invalid(field string, value any, detail string) fieldError {
	return fieldError{field: field, typ: "Invalid value", value: value, detail: detail}
}

func duplicate(field, value string) fieldError {
	return fieldError{field: field, typ: "Duplicate value", value: value}
}

func notSupported(field, value string, valid []string) fieldError {
	quoted := make([]string, len(valid))
	for i, v := range valid {
		quoted[i] = strconv.Quote(v)
	}
	return fieldError{field: field, typ: "Unsupported value", value: value, detail: "supported values: " + strings.Join(quoted, ", ")}
}

// aggregate is field.ErrorList.ToAggregate's error text: the distinct
// messages in order, bracketed when there are several.
func (l fieldErrors) aggregate() string {
	var msgs []string
	for _, e := range l {
		if msg := e.Error(); !contains(msgs, msg) {
			msgs = append(msgs, msg)
		}
	}
	if len(msgs) == 1 {
		return msgs[0]
	}
	return fmt.Sprintf("[%s]", strings.Join(msgs, ", "))
}
