package main

import (
	"testing"
)

func TestParseCounters(t *testing.T) {
	tests := []struct {
		name    string
		parse   func([]byte) (counters, error)
		in      string
		want    counters
		wantErr string
	}{
		{"memcached", parseMemcachedStats,
			"STAT pid 1\r\nSTAT curr_items 82616\r\nSTAT total_items 9\r\nSTAT evictions 283537\r\nEND\r\n",
			counters{items: 82616, evictions: 283537, hasEvictions: true}, ""},
		{"memcached without evictions", parseMemcachedStats, "STAT curr_items 5\r\nEND\r\n",
			counters{}, "memcached stats: curr_items or evictions missing"},
		{"memcached bad number", parseMemcachedStats, "STAT curr_items x\r\nSTAT evictions 0\r\nEND\r\n",
			counters{}, `memcached stats: curr_items "x": strconv.ParseInt: parsing "x": invalid syntax`},
		{"redis", parseRedisInfo,
			"# Keyspace\r\ndb0:keys=81029,expires=0,avg_ttl=0\r\n# Stats\r\nexpired_keys:0\r\nevicted_keys:301683\r\n",
			counters{items: 81029, evictions: 301683, hasEvictions: true}, ""},
		{"redis empty", parseRedisInfo, "# Keyspace\r\n# Stats\r\nevicted_keys:0\r\n",
			counters{hasEvictions: true}, ""},
		{"redis without stats", parseRedisInfo, "# Keyspace\r\ndb0:keys=3,expires=0\r\n",
			counters{}, "redis INFO: evicted_keys missing"},
		{"redis bad keys", parseRedisInfo, "db0:keys=a,expires=0\r\nevicted_keys:0\r\n",
			counters{}, `redis INFO: "db0:keys=a,expires=0": strconv.ParseInt: parsing "a": invalid syntax`},
		{"corekv before the evicting store", parseCorekvStats, `{"engine":"loop","keys":100125,"bytes":55979000,"shards":[]}`,
			counters{items: 100125}, ""},
		{"corekv with store counters", parseCorekvStats, `{"keys":7,"store":{"items":7,"evictions":12}}`,
			counters{items: 7, evictions: 12, hasEvictions: true}, ""},
		{"corekv without keys", parseCorekvStats, `{"engine":"loop"}`,
			counters{}, `corekv /stats: no "keys"`},
		{"corekv not JSON", parseCorekvStats, `<html>`,
			counters{}, "corekv /stats: invalid character '<' looking for beginning of value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.parse([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parse(%q) error = %v, want %s", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestEvictionsText(t *testing.T) {
	if got := (counters{evictions: 5, hasEvictions: true}).evictionsText(); got != "5" {
		t.Errorf("evictionsText() = %q, want 5", got)
	}
	if got := (counters{}).evictionsText(); got != "-" {
		t.Errorf("evictionsText() without evictions = %q, want -", got)
	}
}
