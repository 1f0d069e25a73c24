package ascii

import (
	"testing"
	"unicode"
)

// TestClasses holds every byte's class to the unicode package's, for the
// ASCII range (and to false above it).
func TestClasses(t *testing.T) {
	for i := 0; i < 256; i++ {
		c := byte(i)
		r := rune(c)
		ascii := r < 0x80
		lower, upper, digit := ascii && unicode.IsLower(r), ascii && unicode.IsUpper(r), ascii && unicode.IsDigit(r)
		checks := []struct {
			name      string
			got, want bool
		}{
			{"IsLowerAlnum", IsLowerAlnum(c), lower || digit},
			{"IsAlpha", IsAlpha(c), lower || upper},
			{"IsAlnum", IsAlnum(c), lower || upper || digit},
			{"IsDigit", IsDigit(c), digit},
		}
		for _, ch := range checks {
			if ch.got != ch.want {
				t.Errorf("%s(%q) = %v", ch.name, c, ch.got)
			}
		}
	}
}

func TestIsDigits(t *testing.T) {
	tests := map[string]bool{"": false, "0": true, "0123456789": true, "12a": false, "-1": false, " 1": false, "١": false}
	for in, want := range tests {
		if got := IsDigits(in); got != want {
			t.Errorf("IsDigits(%q) = %v, want %v", in, got, want)
		}
	}
}
