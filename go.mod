module github.com/kustard/kustard

go 1.24

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/google/uuid v1.6.0
)
