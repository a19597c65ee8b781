package tenablesim

import (
	"net/http"
	"strconv"
	"time"
)

// pluginQuery is a parsed GET /plugins/plugin request.
type pluginQuery struct {
	lastUpdated string
	since       int64 // ms; plugins modified on or after it
	size, page  int
}

func parsePluginQuery(lastUpdated, size, page string) (*pluginQuery, error) {
	q := &pluginQuery{lastUpdated: lastUpdated, size: 1000, page: 1}
	if lastUpdated != "" {
		t, err := time.Parse("2006-01-02", lastUpdated)
		if err != nil {
			return nil, badf("last_updated must be a date in the form YYYY-MM-DD (got %q)", lastUpdated)
		}
		q.since = t.UnixMilli()
	}
	if size != "" {
		n, err := strconv.Atoi(size)
		if err != nil || n < 1 {
			return nil, badf("size must be a positive integer (got %q)", size)
		}
		q.size = min(n, 10000)
	}
	if page != "" {
		n, err := strconv.Atoi(page)
		if err != nil || n < 1 {
			return nil, badf("page must be a positive integer (got %q)", page)
		}
		q.page = n
	}
	return q, nil
}

func (q *pluginQuery) match(p *plugin) bool { return p.modDate >= q.since }

func (s *Server) handlePlugins(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := parsePluginQuery(v.Get("last_updated"), v.Get("size"), v.Get("page"))
	if err != nil {
		writeBadRequest(w, err.Error())
		return
	}
	snap := s.snapshot()
	var matched []*plugin
	for _, p := range snap.plugins {
		if q.match(p) {
			matched = append(matched, p)
		}
	}
	lo := min(len(matched), (q.page-1)*q.size)
	hi := min(len(matched), lo+q.size)
	b := make([]byte, 0, 4096*(hi-lo)+256)
	b = append(b, `{"data":{"plugin_details":[`...)
	for i, p := range matched[lo:hi] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.apiFrag...)
	}
	b = append(b, "]}"...)
	b = appendIntField(b, "size", int64(q.size))
	b = append(b, `,"params":{"page":`...)
	b = strconv.AppendInt(b, int64(q.page), 10)
	b = appendIntField(b, "size", int64(q.size))
	if q.lastUpdated != "" {
		b = appendStrField(b, "last_updated", q.lastUpdated)
	}
	b = append(b, '}')
	b = appendIntField(b, "total_count", int64(len(matched)))
	b = append(b, '}')
	writeRawJSON(w, http.StatusOK, b)
}
