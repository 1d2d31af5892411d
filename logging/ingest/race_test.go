//go:build race

package ingest

// raceEnabled is true under the race detector, whose sync.Pool drops items
// at random: allocation counts are then meaningless.
const raceEnabled = true
