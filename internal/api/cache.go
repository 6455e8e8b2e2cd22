package api

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/google/uuid"
)

// DefaultPageCacheBytes is how much of answers the page cache keeps by
// default (Config.PageCacheBytes).
const DefaultPageCacheBytes = 64 << 20

// pageCache keeps whole answers of directory reads, each with the
// company's generation (directory.Reader.Generation) it was made at. An
// answer is served again only while the generation has not moved, so it
// is exactly what reading again would give, total included; it lives in
// the database, so this holds with several epicd on one PostgreSQL. When
// the answers kept pass the size, the cache starts again empty.
type pageCache struct {
	max   int
	mu    sync.Mutex
	m     map[pageKey]pageEntry
	bytes int
}

type pageKey struct {
	company uuid.UUID
	uri     string // path and query as the client wrote them
}

type pageEntry struct {
	generation  int64
	contentType string
	body        []byte
}

func newPageCache(max int) *pageCache {
	if max <= 0 {
		return nil
	}
	return &pageCache{max: max, m: map[pageKey]pageEntry{}}
}

func (p *pageCache) get(k pageKey, generation int64) (pageEntry, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[k]
	return e, ok && e.generation == generation
}

func (p *pageCache) put(k pageKey, e pageEntry) {
	size := len(e.body) + len(k.uri)
	if size > p.max/16 {
		return // one answer would push out too many others
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.m[k]; ok {
		if old.generation > e.generation {
			return
		}
		p.bytes -= len(old.body) + len(k.uri)
	}
	if p.bytes+size > p.max {
		clear(p.m)
		p.bytes = 0
	}
	p.m[k] = e
	p.bytes += size
}

// bufferWriter keeps an answer to look at before it is sent.
type bufferWriter struct {
	header http.Header
	code   int
	body   []byte
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

// cached answers a directory read from s.pages when the company's
// generation has not moved since the answer was made, and otherwise
// makes it with h and keeps it if the generation was the same before and
// after (no change was committed while h read).
func (s *server) cached(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		if s.pages == nil || c.company == nil {
			return h(w, r, c)
		}
		ctx := r.Context()
		gen, err := s.Store.Generation(ctx, c.company.ID)
		if err != nil {
			return err
		}
		k := pageKey{company: c.company.ID, uri: r.URL.RequestURI()}
		if e, ok := s.pages.get(k, gen); ok {
			w.Header().Set("Content-Type", e.contentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(e.body)))
			w.WriteHeader(http.StatusOK)
			w.Write(e.body)
			return nil
		}
		b := &bufferWriter{header: w.Header()}
		if err := h(b, r, c); err != nil {
			return err
		}
		if b.code == 0 {
			b.code = http.StatusOK
		}
		w.WriteHeader(b.code)
		w.Write(b.body)
		if b.code == http.StatusOK {
			if after, err := s.Store.Generation(ctx, c.company.ID); err == nil && after == gen {
				s.pages.put(k, pageEntry{generation: gen, contentType: b.header.Get("Content-Type"), body: b.body})
			}
		}
		return nil
	}
}
