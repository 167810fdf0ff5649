package reassembly

import (
	"reflect"
	"testing"
)

// TestStatsAdd: Add sums every counter, so that a field added to Stats
// later cannot be left out of the totals of a sharded pipeline.
func TestStatsAdd(t *testing.T) {
	var one Stats
	v := reflect.ValueOf(&one).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Int:
			f.SetInt(int64(i + 1))
		case reflect.Uint64:
			f.SetUint(uint64(i + 1))
		default:
			t.Fatalf("Stats.%s is a %s: teach Add and this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	var sum Stats
	sum.Add(one)
	sum.Add(one)
	s := reflect.ValueOf(sum)
	for i := range s.NumField() {
		got, want := s.Field(i), v.Field(i)
		if (got.CanInt() && got.Int() != 2*want.Int()) || (got.CanUint() && got.Uint() != 2*want.Uint()) {
			t.Errorf("Add leaves out Stats.%s", s.Type().Field(i).Name)
		}
	}
}
