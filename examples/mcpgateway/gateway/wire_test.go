package gateway

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSwapProgressToken(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		want      string
		wantToken string // "" for none
	}{
		{"no params", ``, ``, ""},
		{"no meta", `{"name":"x"}`, `{"name":"x"}`, ""},
		{"meta without token", `{"_meta":{"a":1}}`, `{"_meta":{"a":1}}`, ""},
		{"string token", `{"name":"x","_meta":{"progressToken":"p","a":1}}`,
			`{"name":"x","_meta":{"progressToken":42,"a":1}}`, `"p"`},
		{"number token", `{"_meta":{"progressToken":7}}`, `{"_meta":{"progressToken":42}}`, `7`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, token, err := swapProgressToken(json.RawMessage(tt.give), 42)
			require.NoError(t, err)
			if tt.want == "" {
				assert.Empty(t, got)
			} else {
				assert.JSONEq(t, tt.want, string(got))
			}
			assert.Equal(t, tt.wantToken, string(token))
		})
	}
}

func TestMemberID(t *testing.T) {
	id, ok := memberID(json.RawMessage(`{"requestId":3}`), "requestId")
	require.True(t, ok)
	assert.Equal(t, int64(3), id.Raw())
	id, ok = memberID(json.RawMessage(`{"requestId":"a"}`), "requestId")
	require.True(t, ok)
	assert.Equal(t, "a", id.Raw())
	_, ok = memberID(json.RawMessage(`{}`), "requestId")
	assert.False(t, ok)
}
