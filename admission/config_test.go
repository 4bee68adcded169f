package admission

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultConfigIsValid(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	require.NoError(t, Config{}.Validate(), "zero fields take defaults")
}

func TestConfigDefaultsFillZeroFields(t *testing.T) {
	got := Config{Fraction: 0.6}.withDefaults()
	want := DefaultConfig()
	want.Fraction, want.Release = 0.6, 0.3
	assert.Equal(t, want, got)
}

func TestConfigValidateNamesBadField(t *testing.T) {
	tests := []struct {
		name string
		give Config
		want string
	}{
		{"negative threshold", Config{Threshold: -1}, "Threshold"},
		{"negative min writes", Config{MinWrites: -1}, "MinWrites"},
		{"negative window", Config{Window: -time.Second}, "Window"},
		{"fraction below 0", Config{Fraction: -0.1}, "Fraction"},
		{"fraction of 1", Config{Fraction: 1}, "Fraction"},
		{"fraction NaN", Config{Fraction: math.NaN()}, "Fraction"},
		{"release below 0", Config{Release: -0.1}, "Release"},
		{"release above fraction",
			Config{Fraction: 0.5, Release: 0.6}, "Release"},
		{"release NaN", Config{Release: math.NaN()}, "Release"},
		{"alpha below 0", Config{Alpha: -0.5}, "Alpha"},
		{"alpha above 1", Config{Alpha: 1.5}, "Alpha"},
		{"alpha NaN", Config{Alpha: math.NaN()}, "Alpha"},
		{"sample every negative", Config{SampleEvery: -8}, "SampleEvery"},
		{"sample every not pow2", Config{SampleEvery: 6}, "SampleEvery"},
		{"sample every too big", Config{SampleEvery: 1 << 31},
			"SampleEvery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)

			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.want, ce.Field)
			assert.Contains(t, err.Error(), "admission: invalid "+tt.want)

			_, err = New(4, tt.give)
			assert.ErrorIs(t, err, ErrInvalidConfig, "New validates")
		})
	}
}

func TestConfigValidateAcceptsEdges(t *testing.T) {
	for _, give := range []Config{
		{SampleEvery: 1},
		{Alpha: 1},
		{Fraction: 0.5, Release: 0.5},
		{Release: 1e-9},
		{MinWrites: 1},
	} {
		assert.NoError(t, give.Validate(), "%+v", give)
	}
}

func TestNewRefusesNoShards(t *testing.T) {
	for _, n := range []int{0, -1} {
		c, err := New(n, DefaultConfig())
		assert.Nil(t, c)
		assert.True(t, errors.Is(err, ErrInvalidConfig))

		var ce *ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "shards", ce.Field)
	}
}
