package kubeapi

import (
	"bytes"
	"errors"
	"strings"
	"unicode"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Errors of Decode.
var (
	// ErrMissingKind and ErrMissingVersion are the kubelet's texts without
	// the document it quotes after them (which may hold secrets): the caller
	// words the rest.
	ErrMissingKind    = errors.New("Object 'Kind' is missing")
	ErrMissingVersion = errors.New("Object 'apiVersion' is missing")
	// ErrProtobuf is a document with the Kubernetes protobuf envelope's
	// prefix. apimachinery hands it to its protobuf decoder, which refuses
	// every config and plugin answer (their types are no protobuf messages;
	// meta/v1's are, but are the wrong kind), with texts kcred does not
	// reproduce.
	ErrProtobuf = errors.New("protobuf-encoded documents are not supported: write the document as YAML or JSON")
)

// protobufPrefix starts every document of apimachinery's protobuf encoding.
var protobufPrefix = []byte("k8s\x00")

// Decode decodes one JSON or YAML document as a strict codec factory's
// UniversalDeserializer does, with its error texts: a document whose first
// non-space character is '{' is JSON, anything else YAML (converted with
// sigs.k8s.io/yaml); the apiVersion and kind are read (Interpret), then
// newObject gives the object their type decodes into (or the scheme's
// not-registered error), and sigs.k8s.io/json decodes into it strictly:
// unknown, duplicate and case-mismatched fields are collected into one
// "strict decoding error", after YAML's duplicate keys. newObject may return
// a nil object and no error for a kind the caller refuses whatever its
// content: that object is not decoded.
func Decode(data []byte, newObject func(GroupVersionKind) (any, error)) (any, GroupVersionKind, error) {
	js := data
	isYAML := !bytes.HasPrefix(bytes.TrimLeftFunc(data, unicode.IsSpace), []byte("{"))
	if isYAML {
		if bytes.HasPrefix(data, protobufPrefix) {
			return nil, GroupVersionKind{}, ErrProtobuf
		}
		var err error
		if js, err = yaml.YAMLToJSON(data); err != nil {
			return nil, GroupVersionKind{}, hideMapKey(err)
		}
	}
	gvk, err := Interpret(js)
	switch {
	case err != nil:
		return nil, GroupVersionKind{}, err
	case gvk.Kind == "":
		return nil, gvk, ErrMissingKind
	case gvk.Version == "":
		return nil, gvk, ErrMissingVersion
	}
	obj, err := newObject(gvk)
	if err != nil || obj == nil {
		return nil, gvk, err
	}
	var strictErrs []error
	if isYAML {
		// sigs.k8s.io/yaml's YAMLToJSON keeps the last of duplicate keys.
		if _, err := yaml.YAMLToJSONStrict(data); err != nil {
			strictErrs = append(strictErrs, hideMapKey(err))
		}
	}
	jsonErrs, err := kjson.UnmarshalStrict(js, obj)
	if err != nil {
		return nil, gvk, err
	}
	if strictErrs = append(strictErrs, jsonErrs...); len(strictErrs) > 0 {
		return nil, gvk, strictDecodingError(strictErrs)
	}
	return obj, gvk, nil
}

// strictDecodingError is apimachinery's runtime.NewStrictDecodingError text.
func strictDecodingError(errs []error) error {
	var s strings.Builder
	s.WriteString("strict decoding error: ")
	for i, err := range errs {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(err.Error())
	}
	return errors.New(s.String())
}

// MapKeyHidden replaces what the YAML library prints after "invalid map
// key:": the offending key's value, which may be a secret (a sequence or
// map written as a key under env, say).
const MapKeyHidden = " <key not shown: it may hold secrets>"

// hideMapKey is err with an invalid map key's value replaced by
// MapKeyHidden; other errors are returned as they are.
func hideMapKey(err error) error {
	const marker = "invalid map key:"
	msg := err.Error()
	i := strings.Index(msg, marker)
	if i < 0 {
		return err
	}
	return errors.New(msg[:i+len(marker)] + MapKeyHidden)
}
