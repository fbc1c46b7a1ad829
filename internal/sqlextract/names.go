package sqlextract

import "strings"

// SplitName splits a dotted, possibly quoted relation name into its parts,
// lower-cased: `"DB"."Schema"."T"`, `[SCHEMA].[NAME]`, “ `p`.`d`.`t` “,
// db.schema.t. Dots inside quotes belong to the part. It never fails: an
// unterminated quote runs to the end.
func SplitName(s string) []string {
	var parts []string
	var cur strings.Builder
	closing := map[rune]rune{'"': '"', '`': '`', '[': ']'}
	rs := []rune(strings.TrimSpace(s))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if end, ok := closing[r]; ok {
			for i++; i < len(rs); i++ {
				if rs[i] == end {
					if end != ']' && i+1 < len(rs) && rs[i+1] == end { // doubled quote is a literal quote
						cur.WriteRune(end)
						i++
						continue
					}
					break
				}
				cur.WriteRune(rs[i])
			}
			continue
		}
		if r == '.' {
			parts = append(parts, strings.ToLower(strings.TrimSpace(cur.String())))
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	parts = append(parts, strings.ToLower(strings.TrimSpace(cur.String())))
	return parts
}
