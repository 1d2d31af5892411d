// Package ship hands finished files on (docs/design.md §11): it runs each log's
// on_roll_command once per finished file and uploads the file to the log's
// ship_url on an S3-compatible store, at least once, never as two objects,
// and across restarts and kill -9.
//
//	m, err := ship.New(ship.Config{Host: "web01", Logs: []ship.Log{{
//		Name:             "access.log",
//		Ship:             &ship.Target{Bucket: "fleet-logs", Prefix: "prod", Region: "eu-west-1"},
//		Command:          []string{"/usr/local/bin/index-log"},
//		DeleteAfter:      true, // ship_delete_after
//		HoldBeforeDelete: true, // ship_before_delete
//	}}}, ship.Options{
//		Journal:  "/var/log/logroll/" + ship.JournalName,
//		Item:     itemOf,                 // path → ship.Item (space.RolledFile's fields)
//		HandedOn: spaceManager.HandedOn,  // the space manager deletes (rule shipped)
//	}, existing)                          // the rolled files found at start
//	// space.Options.Hold = m.Hold: no rule deletes a file not yet handed on.
//	m.Start()
//	m.Rolled(path)   // the collator's OnRoll
//	st := m.Status() // pending, oldest pending, shipped, failures by kind
//	err = m.Apply(cfg) // reload: also retries what was refused for good
//	err = m.Close()
//
// Its parts, one concept a file:
//
//   - key.go: Target, ParseURL, Key — PREFIX/HOST/LOG/YYYY/MM/DD/NAME, a
//     pure function;
//   - backoff.go: failure kinds (transient or permanent) and Backoff, pure;
//   - queue.go: the pending set (one task per step and file, due times,
//     parked refusals), pure data tested with tables;
//   - journal.go: what was handed on, appended and fsynced, compacted at
//     start: the state that survives restarts;
//   - s3.go: the uploader on aws-sdk-go-v2, conditional creates verified by
//     the store (If-None-Match: *, x-amz-checksum-sha256, multipart);
//     stall.go: the deadline on progress of every connection to the store;
//   - hook.go: the on-roll command (argv, environment, timeout, process
//     group);
//   - manager.go, run.go, status.go: the goroutine that owns all of it, in
//     the style of space.Manager (its public side, its loop, its figures).
//
// It imports space for the rolled file's fields and the hold; the daemon
// (internal/daemon) wires it, and nothing here imports the daemon.
// docs/shipping.md has the guarantees and the decisions.
package ship
