module github.com/logroll/logroll

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/fsnotify/fsnotify v1.10.1
	github.com/klauspost/compress v1.20.3
	go.uber.org/goleak v1.3.0
)

require golang.org/x/sys v0.13.0 // indirect
