package l8

// Level is a log level (WIT `log.level`).
type Level uint8

const (
	LevelTrace Level = 0
	LevelDebug Level = 1
	LevelInfo  Level = 2
	LevelWarn  Level = 3
	LevelError Level = 4
)
