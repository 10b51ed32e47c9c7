package connector_test

import (
	"testing"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConnector_Pooling(t *testing.T) {
	cases := []struct {
		name string
		size int
		want bool
	}{
		{"default", 0, true},
		{"sized", 4, true},
		{"off", -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := connector.New(connector.Options{PoolSize: tc.size})
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, tc.want, c.Pooling())
		})
	}
}
