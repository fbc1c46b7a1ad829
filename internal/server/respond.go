package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// statusJSON is dbt Cloud's envelope status.
type statusJSON struct {
	Code             int    `json:"code"`
	IsSuccess        bool   `json:"is_success"`
	UserMessage      string `json:"user_message"`
	DeveloperMessage string `json:"developer_message"`
}

type paginationJSON struct {
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

type extraJSON struct {
	Filters    map[string]any  `json:"filters"`
	OrderBy    string          `json:"order_by"`
	Pagination *paginationJSON `json:"pagination"`
}

type envelopeJSON struct {
	Status statusJSON `json:"status"`
	Data   any        `json:"data"`
	Extra  *extraJSON `json:"extra,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeData answers 200 with data in dbt Cloud's envelope.
func writeData(w http.ResponseWriter, data any) {
	writeObject(w, http.StatusOK, data)
}

// writeObject answers one object with code, in dbt Cloud's envelope.
func writeObject(w http.ResponseWriter, code int, data any) {
	writeJSON(w, code, envelopeJSON{Status: statusJSON{Code: code, IsSuccess: true}, Data: data})
}

// writeList answers a page of a list with extra.pagination.
func writeList(w http.ResponseWriter, data any, count, total int) {
	writeJSON(w, http.StatusOK, envelopeJSON{
		Status: statusJSON{Code: 200, IsSuccess: true},
		Data:   data,
		Extra:  &extraJSON{Filters: map[string]any{}, OrderBy: "id", Pagination: &paginationJSON{Count: count, TotalCount: total}},
	})
}

// writeError answers in the envelope with a message for people and one for programs.
func writeError(w http.ResponseWriter, code int, userMessage string) {
	writeJSON(w, code, envelopeJSON{
		Status: statusJSON{Code: code, IsSuccess: false, UserMessage: userMessage, DeveloperMessage: http.StatusText(code)},
		Data:   nil,
	})
}

// pageParams reads limit (1..100, default 100) and offset (>= 0, default 0).
func pageParams(r *http.Request) (limit, offset int, msg string) {
	limit, offset = 100, 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, "query parameter limit must be a whole number from 1 to 100"
		}
		limit = n
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, "query parameter offset must be a whole number of 0 or more"
		}
		offset = n
	}
	return limit, offset, ""
}
