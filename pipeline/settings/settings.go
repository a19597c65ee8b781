// Package settings holds what every configurable component shares: filling a
// configuration struct from the defaults its envconfig tags declare, and
// validation errors that name the environment variable at fault.
//
// A component declares each setting once, as a struct field with envconfig,
// default and desc tags. The binary reads the environment with envconfig;
// tests and embedders that do not read the environment start from Defaults,
// so no default is written twice and a zero a caller sets is never replaced.
package settings

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Defaults sets every field of the struct spec points to that has a default
// tag to that default, recursing into nested structs as envconfig does. Fields
// tagged ignored:"true" and fields without a default are left as they are.
func Defaults(spec any) error {
	return process("", spec, func(string) (string, bool) { return "", false })
}

// Process reads the struct spec points to from the environment, the way
// envconfig.Process does: a field's variable is prefix_TAG (TAG from its
// envconfig tag, nested structs adding their own), parsed like envconfig
// parses it, and a variable that is not set takes the field's default tag.
//
// Unlike envconfig.Process, it never falls back to the bare tag name: with
// envconfig, an unset TVMKAFKA_TOPIC_VULNS is read from a variable named
// VULNS, and URL, SOURCE or LEVEL set for some other program would configure
// the connector.
func Process(prefix string, spec any) error {
	return process(prefix, spec, os.LookupEnv)
}

func process(prefix string, spec any, lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(spec)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("settings: %T is not a pointer to a struct", spec)
	}
	return walk(prefix, v.Elem(), lookup)
}

// walk fills s and returns every value that does not parse, so a user fixes
// them all in one go.
func walk(prefix string, s reflect.Value, lookup func(string) (string, bool)) error {
	t := s.Type()
	var errs []error
	for i := range t.NumField() {
		f, sf := s.Field(i), t.Field(i)
		if !f.CanSet() || sf.Tag.Get("ignored") == "true" {
			continue
		}
		name := sf.Tag.Get("envconfig")
		if name == "" {
			name = sf.Name
		}
		key := strings.ToUpper(name)
		if prefix != "" {
			key = prefix + "_" + key
		}
		if f.Kind() == reflect.Struct && !isTextUnmarshaler(f) {
			inner := key
			if sf.Anonymous {
				inner = prefix
			}
			if err := walk(inner, f, lookup); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		value, fromEnv := lookup(key)
		if !fromEnv {
			def, ok := sf.Tag.Lookup("default")
			if !ok {
				continue
			}
			value = def
		}
		if err := set(f, value); err != nil {
			if !fromEnv {
				return fmt.Errorf("settings: default of %s.%s: %w", t.Name(), sf.Name, err)
			}
			errs = append(errs, &ParseError{Key: key, Value: value, Type: f.Type(), Err: err})
		}
	}
	return errors.Join(errs...)
}

// ParseError is a variable whose value does not parse as its setting's type.
// Its message says, in plain words, what a value of that type looks like.
type ParseError struct {
	Key, Value string
	Type       reflect.Type
	Err        error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s=%q is not %s", e.Key, e.Value, Expected(e.Type))
}

func (e *ParseError) Unwrap() error { return e.Err }

// Expected describes the values a setting of type t takes, for messages.
func Expected(t reflect.Type) string {
	if t == reflect.TypeFor[time.Duration]() {
		return "a duration: a number and a unit (ms, s, m or h), such as 90m, 1h, 1h30m or 30s"
	}
	if t.Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return "a valid " + t.String()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean: true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number, such as 6 or -1"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more, such as 6"
	case reflect.Float32, reflect.Float64:
		return "a number, such as 0.5"
	case reflect.Slice:
		return "a comma-separated list (no spaces around the commas), each item " + Expected(t.Elem())
	}
	return "a valid " + t.String()
}

func isTextUnmarshaler(f reflect.Value) bool {
	_, ok := f.Addr().Interface().(encoding.TextUnmarshaler)
	return ok
}

// set parses s into f the way envconfig parses a variable's value.
func set(f reflect.Value, s string) error {
	if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	if f.Type() == reflect.TypeFor[time.Duration]() {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Slice:
		if strings.TrimSpace(s) == "" { // as envconfig: an empty list
			f.Set(reflect.Zero(f.Type()))
			return nil
		}
		parts := strings.Split(s, ",")
		out := reflect.MakeSlice(f.Type(), len(parts), len(parts))
		for i, p := range parts {
			if err := set(out.Index(i), p); err != nil {
				return err
			}
		}
		f.Set(out)
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// Error is one invalid setting. Key is the variable's name relative to its
// component (MAX_RETRIES); WithPrefix makes it the full name
// (TVMKAFKA_TENABLE_MAX_RETRIES) once the component is placed in a
// configuration.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string { return e.Key + " " + e.Msg }

// Invalid reports that the setting key is invalid; the message follows the
// variable's name, as in "must be at least 0, got -1".
func Invalid(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// WithPrefix prefixes the Key of every *Error in err (errors.Join trees
// included) with prefix and "_", so the message names the variable a user
// sets. Other errors are kept as they are.
func WithPrefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, inner := range j.Unwrap() {
			out = append(out, WithPrefix(prefix, inner))
		}
		return errors.Join(out...)
	}
	if e, ok := err.(*Error); ok {
		return &Error{Key: prefix + "_" + e.Key, Msg: e.Msg}
	}
	return err
}
