package httpmw

import "testing"

func TestCheckBearer(t *testing.T) {
	for _, c := range []struct {
		header string
		want   Credential
	}{
		{"", NoToken},
		{"Basic dXNlcjpwYXNz", NoToken},
		{"Bearer", NoToken},
		{"Bearer s3cret", RightToken},
		{"bearer  s3cret ", RightToken},
		{"Bearer s3cre", WrongToken},
		{"Bearer s3crett", WrongToken},
		{"Bearer ", NoToken},
		{"Bearerabc", NoToken},
		{"BEARER  s3cret", RightToken},
	} {
		if got := CheckBearer(c.header, "s3cret"); got != c.want {
			t.Errorf("CheckBearer(%q) = %v, want %v", c.header, got, c.want)
		}
	}
}
