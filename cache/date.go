package cache

import "time"

// httpDateLayouts are the HTTP-date forms a recipient must accept (RFC
// 9110 §5.6.7): IMF-fixdate, then the obsolete RFC 850 and asctime forms.
var httpDateLayouts = [...]string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
}

// ParseHTTPDate parses an HTTP-date (RFC 9110 §5.6.7) and reports whether
// it was valid. Anything else, including dates outside years 1–9999,
// returns false.
func ParseHTTPDate(s string) (time.Time, bool) {
	if len(s) < 24 || len(s) > 40 {
		return time.Time{}, false
	}
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// FormatHTTPDate formats t as an IMF-fixdate.
func FormatHTTPDate(t time.Time) string {
	return t.UTC().Format(httpDateLayouts[0])
}
