package telemetry

import "testing"

func TestTracingEnabledFollowsTheStandardVariables(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		endpoint, traces, exporter, off string
		want                            bool
	}{
		{"nothing set", "", "", "", "", false},
		{"endpoint", "http://collector:4318", "", "", "", true},
		{"traces endpoint only", "", "http://collector:4318/v1/traces", "", "", true},
		{"exporter none", "http://collector:4318", "", "none", "", false},
		{"exporter otlp", "http://collector:4318", "", "otlp", "", true},
		{"SDK disabled", "http://collector:4318", "", "", "true", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", tc.endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", tc.traces)
			t.Setenv("OTEL_TRACES_EXPORTER", tc.exporter)
			t.Setenv("OTEL_SDK_DISABLED", tc.off)
			if got := TracingEnabled(); got != tc.want {
				t.Errorf("TracingEnabled() = %v, want %v", got, tc.want)
			}
		})
	}
}
