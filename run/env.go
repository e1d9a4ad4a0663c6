package run

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment reads --env-file files then -e values, as Docker does: a
// bare NAME takes its value from burrow's own environment, or is dropped.
func Environment(files, values []string) ([]string, error) {
	var out []string
	add := func(kv, where string) error {
		k, _, hasValue := strings.Cut(kv, "=")
		if k == "" {
			return fmt.Errorf("invalid environment variable %q%s (hint: use NAME=value or NAME)", kv, where)
		}
		if !hasValue {
			v, ok := os.LookupEnv(k)
			if !ok {
				return nil
			}
			kv = k + "=" + v
		}
		out = append(out, kv)
		return nil
	}
	for _, f := range files {
		file, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", f, errors.Unwrap(err))
		}
		sc := bufio.NewScanner(file)
		line := 0
		for sc.Scan() {
			line++
			t := strings.TrimSpace(sc.Text())
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			if err := add(t, fmt.Sprintf(" in %s line %d", f, line)); err != nil {
				file.Close()
				return nil, err
			}
		}
		file.Close()
	}
	for _, kv := range values {
		if err := add(kv, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}
