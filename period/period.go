// Package period parses and applies ISO 8601 durations such as PT24H, P10D and P1M, the way
// reporting clocks count them: hours are elapsed time, days are calendar days at the same local
// time, months and years keep the day of the month (or the last day of a shorter month).
package period

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a parsed ISO 8601 duration (no fractions, no weeks mixed with other units).
type Period struct {
	Years, Months, Weeks, Days, Hours, Minutes int
}

// Parse parses an ISO 8601 duration like "P1Y2M10DT2H30M", "P2W" or "PT72H".
func Parse(s string) (Period, error) {
	var p Period
	if len(s) < 3 || s[0] != 'P' {
		return p, fmt.Errorf("%q is not an ISO 8601 duration (expected e.g. PT24H, P30D, P1M)", s)
	}
	rest := s[1:]
	inTime := false
	seen := false
	for len(rest) > 0 {
		if rest[0] == 'T' {
			if inTime {
				return p, fmt.Errorf("%q: 'T' appears twice", s)
			}
			inTime = true
			rest = rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return p, fmt.Errorf("%q: expected a number before each unit", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return p, fmt.Errorf("%q: %w", s, err)
		}
		unit := rest[i]
		rest = rest[i+1:]
		seen = true
		switch {
		case !inTime && unit == 'Y':
			p.Years = n
		case !inTime && unit == 'M':
			p.Months = n
		case !inTime && unit == 'W':
			p.Weeks = n
		case !inTime && unit == 'D':
			p.Days = n
		case inTime && unit == 'H':
			p.Hours = n
		case inTime && unit == 'M':
			p.Minutes = n
		default:
			return p, fmt.Errorf("%q: unit %q is not allowed here (expected Y, M, W, D before T; H, M after T)", s, unit)
		}
	}
	if !seen {
		return p, fmt.Errorf("%q: no amount given", s)
	}
	return p, nil
}

// String formats the period back to ISO 8601.
func (p Period) String() string {
	var b strings.Builder
	b.WriteByte('P')
	for _, u := range []struct {
		n int
		c byte
	}{{p.Years, 'Y'}, {p.Months, 'M'}, {p.Weeks, 'W'}, {p.Days, 'D'}} {
		if u.n != 0 {
			b.WriteString(strconv.Itoa(u.n))
			b.WriteByte(u.c)
		}
	}
	if p.Hours != 0 || p.Minutes != 0 {
		b.WriteByte('T')
		if p.Hours != 0 {
			b.WriteString(strconv.Itoa(p.Hours) + "H")
		}
		if p.Minutes != 0 {
			b.WriteString(strconv.Itoa(p.Minutes) + "M")
		}
	}
	if b.Len() == 1 {
		return "PT0M"
	}
	return b.String()
}

// AddTo returns t plus the period in t's location: years and months keep the day of the month,
// clamped to the last day of a shorter month; days keep the local time of day; hours and minutes
// are elapsed time.
func (p Period) AddTo(t time.Time) time.Time {
	if p.Years != 0 || p.Months != 0 {
		y, m, d := t.Date()
		target := time.Date(y+p.Years, m+time.Month(p.Months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
		last := time.Date(target.Year(), target.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
		t = time.Date(target.Year(), target.Month(), min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	}
	if p.Weeks != 0 || p.Days != 0 {
		t = t.AddDate(0, 0, 7*p.Weeks+p.Days)
	}
	return t.Add(time.Duration(p.Hours)*time.Hour + time.Duration(p.Minutes)*time.Minute)
}

// Human renders the period in words: "24 hours", "10 days", "1 month".
func (p Period) Human() string {
	var parts []string
	add := func(n int, unit string) {
		if n == 0 {
			return
		}
		if n != 1 {
			unit += "s"
		}
		parts = append(parts, strconv.Itoa(n)+" "+unit)
	}
	add(p.Years, "year")
	add(p.Months, "month")
	add(p.Weeks, "week")
	add(p.Days, "day")
	add(p.Hours, "hour")
	add(p.Minutes, "minute")
	if len(parts) == 0 {
		return "0 minutes"
	}
	return strings.Join(parts, " ")
}
