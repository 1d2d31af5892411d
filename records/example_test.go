package records_test

import (
	"fmt"

	"github.com/logroll/logroll/records"
)

// Load validates a records.toml and returns every value, defaults
// included; per-log settings fall back to the global ones.
func ExampleLoad() {
	cfg, _, err := records.Load([]byte(`
[proxy.config.log]
rolling_interval_sec = 21600
rolling_offset_hr = 6

[[logs]]
filename = "access"
rolling_max_count = 14
`), "records.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	l, _ := cfg.Log("access.log")
	fmt.Println(l.Filename, l.Int(records.RollingIntervalSec), l.Int(records.RollingMaxCount))
	// Output: access.log 21600 14
}

// A refused configuration says what is wrong and where, every problem at
// once.
func ExampleLoad_refused() {
	_, _, err := records.Load([]byte(`
[proxy.config.log]
rolling_intervl_sec = 3600
`), "records.toml")
	fmt.Println(err)
	// Output: records.toml:3:1: proxy.config.log.rolling_intervl_sec: unknown key (did you mean "rolling_interval_sec"?)
}
