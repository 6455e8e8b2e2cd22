package api

import (
	"net/http"
	"net/url"
	"strconv"
)

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// pageReq is the offset and limit a list request asks for.
type pageReq struct {
	offset, limit int
}

// parsePage reads offset and limit from the query.
func parsePage(r *http.Request) (pageReq, error) {
	p := pageReq{limit: DefaultLimit}
	q := r.URL.Query()
	if v, ok := q["offset"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 || len(v) > 1 {
			return p, badRequest("offset %q: write a whole number of 0 or more, once", v[0])
		}
		p.offset = n
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > MaxLimit || len(v) > 1 {
			return p, badRequest("limit %q: write a whole number from 1 to %d, once", v[0], MaxLimit)
		}
		p.limit = n
	}
	return p, nil
}

// list is a page of a list: {"count","total","data","links"}.
type list[T any] struct {
	Count int        `json:"count"`
	Total int        `json:"total"`
	Data  []T        `json:"data"`
	Links *pageLinks `json:"links,omitempty"`
}

type pageLinks struct {
	Self string `json:"self"`
	Next string `json:"next,omitempty"`
}

// newList makes the page of data, which starts at p.offset of total, with
// links to itself and to the next page.
func newList[T any](r *http.Request, p pageReq, data []T, total int) list[T] {
	if data == nil {
		data = []T{}
	}
	l := list[T]{Count: len(data), Total: total, Data: data, Links: &pageLinks{Self: pageURL(r, p.offset, p.limit)}}
	if p.offset+len(data) < total && len(data) > 0 {
		l.Links.Next = pageURL(r, p.offset+len(data), p.limit)
	}
	return l
}

// embedded is a list embedded in an object ({"count","total","data"}).
func embedded[T any](data []T) *list[T] {
	if data == nil {
		data = []T{}
	}
	return &list[T]{Count: len(data), Total: len(data), Data: data}
}

// pageURL is the request's path and query with offset and limit set.
func pageURL(r *http.Request, offset, limit int) string {
	q := r.URL.Query()
	q.Set("offset", strconv.Itoa(offset))
	q.Set("limit", strconv.Itoa(limit))
	return (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
}

// window returns the part of all that the page shows.
func window[T any](all []T, p pageReq) []T {
	if p.offset >= len(all) {
		return nil
	}
	return all[p.offset:min(len(all), p.offset+p.limit)]
}
