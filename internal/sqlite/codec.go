package sqlite

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// blob is a UUID as a query argument: 16 bytes (a uuid.UUID itself would
// be bound as text).
func blob(u uuid.UUID) []byte {
	b := make([]byte, 16)
	copy(b, u[:])
	return b
}

// nullBlob is blob, with uuid.Nil as NULL.
func nullBlob(u uuid.UUID) any {
	if u == uuid.Nil {
		return nil
	}
	return blob(u)
}

// nanos is a time as a query argument, with the zero time as NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return fromNanos(*n)
}

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func unmarshal(s string, v any) error {
	return json.Unmarshal([]byte(s), v)
}

// jsonList is a list as a query argument: JSON, or NULL when empty.
func jsonList[T any](l []T) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	return marshal(l)
}

// fromJSONList reads what jsonList wrote; NULL and an empty list are nil.
func fromJSONList[T any](s *string) ([]T, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	var l []T
	if err := unmarshal(*s, &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// fromHexIDs reads UUIDs concatenated as hex (SQL: group_concat(hex(id), ”)).
func fromHexIDs(s *string) ([]uuid.UUID, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	if len(*s)%32 != 0 {
		return nil, fmt.Errorf("id list of %d hex digits", len(*s))
	}
	out := make([]uuid.UUID, len(*s)/32)
	for i := range out {
		if _, err := hex.Decode(out[i][:], []byte((*s)[i*32:(i+1)*32])); err != nil {
			return nil, fmt.Errorf("id list: %w", err)
		}
	}
	return out, nil
}
