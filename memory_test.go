package main

import "testing"

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    byteSize
		wantErr bool
	}{
		{"0", byteSize{}, false},
		{"1073741824", byteSize{n: 1 << 30}, false},
		{"512MiB", byteSize{n: 512 << 20}, false},
		{"4G", byteSize{n: 4 << 30}, false},
		{"4gb", byteSize{n: 4 << 30}, false},
		{"64k", byteSize{n: 64 << 10}, false},
		{"2TiB", byteSize{n: 2 << 40}, false},
		{"auto", byteSize{auto: true}, false},
		{"AUTO", byteSize{auto: true}, false},
		{"", byteSize{}, true},
		{"-1", byteSize{}, true},
		{"1.5G", byteSize{}, true},
		{"4x", byteSize{}, true},
		{"MiB", byteSize{}, true},
		{"9999999999T", byteSize{}, true},
	}
	for _, tc := range tests {
		got, err := parseByteSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseByteSize(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
