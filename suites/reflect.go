package suites

import "reflect"

func reflectValue(s *Suite) reflect.Value { return reflect.ValueOf(s).Elem() }
