package umbrella

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pingora-go/pingora/server"
	yaml "go.yaml.in/yaml/v3"
)

// decoder walks a YAML node tree, collecting every error and warning with
// its line, so that -t reports them all at once.
type decoder struct {
	errs  []error
	warns []*server.ConfWarning
}

// fail records a bad value at n.
func (d *decoder) fail(n *yaml.Node, field string, err error) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &server.ConfError{Field: field, Line: line, Err: err})
}

// failLine records a bad value at a line.
func (d *decoder) failLine(line int, field string, err error) {
	d.errs = append(d.errs, &server.ConfError{Field: field, Line: line, Err: err})
}

// failf records a bad value at n with a formatted message.
func (d *decoder) failf(n *yaml.Node, field, format string, args ...any) {
	d.fail(n, field, fmt.Errorf(format, args...))
}

// isNull reports whether n is absent or an explicit null ("key:" or "~").
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// deref follows an alias.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// fields calls set for each key of the mapping n in document order. Keys
// not in known are warnings; duplicate keys are errors; null values are
// skipped (the field keeps its default). path prefixes the field names.
func (d *decoder) fields(n *yaml.Node, path string, known map[string]func(v *yaml.Node, field string)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, want("a mapping", n))
		return
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.failf(k, path, "a key must be a plain string")
			continue
		}
		field := k.Value
		if path != "" {
			field = path + "." + k.Value
		}
		if prev, dup := seen[k.Value]; dup {
			d.failf(k, field, "duplicate key, first set on line %d", prev)
			continue
		}
		seen[k.Value] = k.Line
		set, ok := known[k.Value]
		if !ok {
			d.warns = append(d.warns, &server.ConfWarning{Key: field, Line: k.Line, Reason: "unknown key"})
			continue
		}
		if isNull(v) {
			continue
		}
		set(v, field)
	}
}

// list calls each for every element of the sequence n.
func (d *decoder) list(n *yaml.Node, field string, each func(i int, v *yaml.Node, field string)) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.fail(n, field, want("a list", n))
		return
	}
	for i, e := range n.Content {
		each(i, deref(e), field+"["+strconv.Itoa(i)+"]")
	}
}

// str decodes a scalar as a string.
func (d *decoder) str(n *yaml.Node, field string, p *string) bool {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, field, want("a string", n))
		return false
	}
	*p = n.Value
	return true
}

// integer decodes a YAML integer within [lo, hi].
func (d *decoder) integer(n *yaml.Node, field string, lo, hi int, p *int) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.fail(n, field, want("an integer", n))
		return false
	}
	var i int
	if err := n.Decode(&i); err != nil {
		d.fail(n, field, want("an integer", n))
		return false
	}
	if i < lo || i > hi {
		d.failf(n, field, "%d is out of range [%d, %d]", i, lo, hi)
		return false
	}
	*p = i
	return true
}

// ratio decodes a number in [0, 1].
func (d *decoder) ratio(n *yaml.Node, field string, p *float64) bool {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || tag != "!!float" && tag != "!!int" {
		d.fail(n, field, want("a number from 0 to 1", n))
		return false
	}
	var f float64
	if err := n.Decode(&f); err != nil || !(f >= 0 && f <= 1) {
		d.failf(n, field, "%s is not a number from 0 to 1", n.Value)
		return false
	}
	*p = f
	return true
}

// boolean decodes true or false.
func (d *decoder) boolean(n *yaml.Node, field string, p *bool) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.fail(n, field, want("true or false", n))
		return false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		d.fail(n, field, want("true or false", n))
		return false
	}
	*p = b
	return true
}

// duration decodes a Go duration string such as "1s" or "250ms"; it must be
// positive.
func (d *decoder) duration(n *yaml.Node, field string, p *time.Duration) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.fail(n, field, want(`a duration such as "1s" or "250ms"`, n))
		return false
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		d.fail(n, field, want(`a positive duration such as "1s" or "250ms"`, n))
		return false
	}
	*p = v
	return true
}

// stringMap decodes a mapping of strings to strings, keeping file order.
func (d *decoder) stringMap(n *yaml.Node, field string) []KV {
	if n.Kind != yaml.MappingNode {
		d.fail(n, field, want("a mapping of names to values", n))
		return nil
	}
	var out []KV
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.failf(k, field, "a key must be a plain string")
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.failf(k, field+"."+k.Value, "duplicate key, first set on line %d", prev)
			continue
		}
		seen[k.Value] = k.Line
		var s string
		if isNull(v) {
			s = ""
		} else if !d.str(v, field+"."+k.Value, &s) {
			continue
		}
		out = append(out, KV{Name: k.Value, Value: s, line: k.Line})
	}
	return out
}

// strings decodes a list of strings.
func (d *decoder) strings(n *yaml.Node, field string) []string {
	var out []string
	d.list(n, field, func(_ int, v *yaml.Node, f string) {
		var s string
		if d.str(v, f, &s) {
			out = append(out, s)
		}
	})
	return out
}

// want describes a value of the wrong type.
func want(what string, n *yaml.Node) error {
	var got string
	switch n.Kind {
	case yaml.ScalarNode:
		got = strconv.Quote(n.Value)
	case yaml.SequenceNode:
		got = "a list"
	case yaml.MappingNode:
		got = "a mapping"
	default:
		got = "something else"
	}
	return fmt.Errorf("want %s, got %s", what, got)
}

// errList flattens joined errors.
func errList(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, errList(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

var errNoServices = errors.New("at least one service is required")
