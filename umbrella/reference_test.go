package umbrella

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
)

// TestReference keeps the configuration references true: every key of
// testdata/full.yaml (which loads without warnings, see
// TestLoadConfig_Full) is documented in doc.go and, inside the repository,
// in the README's "Configuration reference" section.
func TestReference(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	// The README is not part of the module a user downloads; check it
	// only where it is.
	readme, err := os.ReadFile("../README.md")
	if err == nil {
		i := strings.Index(string(readme), "## Configuration reference")
		require.GreaterOrEqual(t, i, 0, "README.md has a Configuration reference section")
		readme = readme[i:]
		if j := strings.Index(string(readme[3:]), "\n## "); j >= 0 {
			readme = readme[:j+3]
		}
	}
	data, err := os.ReadFile("testdata/full.yaml")
	require.NoError(t, err)
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &root))
	keys := map[string]bool{}
	// Values of upstreams, of the *_set maps and of respond.headers are
	// named by the user, not keys of the format.
	var walk func(n *yaml.Node, parent string)
	walk = func(n *yaml.Node, parent string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, parent)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if parent != "upstreams" {
					keys[k] = true
				}
				userNamed := strings.HasSuffix(k, "_set") || k == "headers" && parent == "respond"
				if !userNamed {
					next := k
					if parent == "upstreams" {
						next = "upstream"
					}
					walk(n.Content[i+1], next)
				}
			}
		}
	}
	walk(&root, "")
	serverKeys := []string{"threads", "pid_file", "upgrade_sock", "grace_period_seconds", "graceful_shutdown_timeout_seconds", "max_retries", "upstream_keepalive_pool_size"}
	for k := range keys {
		assert.True(t, strings.Contains(string(doc), k), "doc.go documents %q", k)
		if readme != nil {
			assert.True(t, strings.Contains(string(readme), k), "README.md's reference documents %q", k)
		}
	}
	for _, k := range serverKeys {
		assert.True(t, keys[k], "full.yaml has the server key %q", k)
	}
	assert.Greater(t, len(keys), 40)
}
