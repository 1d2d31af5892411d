package space_test

import (
	"fmt"
	"time"

	"github.com/logroll/logroll/space"
)

// Retain is the retention rules as a pure function: given the rolled files
// and the logs' settings, it returns the files to delete, oldest first,
// each with the rule that deletes it and why, and when the next file it
// keeps grows too old.
func ExampleRetain() {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var files []space.File
	for h := 8; h < 12; h++ {
		end := time.Date(2026, 11, 21, h, 0, 0, 0, time.UTC)
		start := end.Add(-time.Hour)
		files = append(files, space.File{
			Name: "access.log.web01." + start.Format("20060102.15h04m05s") + "-" + end.Format("20060102.15h04m05s") + ".old",
			Log:  "access.log", Host: "web01", Start: start, End: end, At: end, Size: 1 << 20,
		})
	}
	logs := []space.Log{{Name: "access.log", MaxCount: 3, MaxAge: 3*time.Hour + 30*time.Minute}}
	victims, next := space.Retain(files, logs, now)
	for _, v := range victims {
		fmt.Println(v.Name)
		fmt.Println("  ", v.Rule+":", v.Why)
	}
	fmt.Println("next expiry:", next.Format(time.TimeOnly))
	// Output:
	// access.log.web01.20261121.07h00m00s-20261121.08h00m00s.old
	//    max_age: rolling_max_age_sec = 12600: END 2026-11-21T08:00:00Z is 4h0m0s old
	// next expiry: 12:30:00
}
