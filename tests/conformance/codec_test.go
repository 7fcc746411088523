package conformance

import (
	"encoding/json"
	"testing"
)

// punchlab-node codec, one process per test: a JSON request in, a JSON
// answer out.
type codec struct {
	t    *testing.T
	proc *child
}

func newCodec(t *testing.T) *codec {
	return &codec{t: t, proc: start(t, punchlabNode(t), "codec")}
}

func (c *codec) ask(req map[string]any) map[string]any {
	c.t.Helper()
	c.proc.send(req)
	var out map[string]any
	l := c.proc.line()
	if err := json.Unmarshal([]byte(l), &out); err != nil {
		c.t.Fatalf("codec answered %q: %v", l, err)
	}
	return out
}
