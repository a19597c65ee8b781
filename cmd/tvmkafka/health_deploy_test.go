package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// yamlDocs decodes every document of a YAML file into generic maps.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// at walks a decoded YAML value along keys (strings) and list indexes (ints).
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: %T is not a map", path, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

// knownVariable says whether the binary reads the variable.
func knownVariable(name string) bool {
	for _, s := range allSettings() {
		if s.key == name {
			return true
		}
	}
	return false
}

// TestKubernetesManifests checks the manifest's structure against what a
// cluster and the binary need: kinds and API versions, the distroless nonroot
// user, two replicas, a pinned image, probes on the served paths, Secret
// entries for SASL, registry and TLS, drain timeouts inside the grace period,
// a metrics Service and a PodDisruptionBudget selecting the pods, and only
// variables the binary reads.
func TestKubernetesManifests(t *testing.T) {
	byKind := map[string]map[string]any{}
	for _, d := range yamlDocs(t, "../../deploy/kubernetes/tvmkafka.yaml") {
		kind, _ := d["kind"].(string)
		byKind[kind] = d
	}
	for kind, api := range map[string]string{"ConfigMap": "v1", "Secret": "v1", "Deployment": "apps/v1", "Service": "v1", "PodDisruptionBudget": "policy/v1"} {
		d, ok := byKind[kind]
		if !ok {
			t.Fatalf("no %s", kind)
		}
		if d["apiVersion"] != api || at(t, d, "metadata", "name") == nil {
			t.Errorf("%s: apiVersion %v, want %s, and a name", kind, d["apiVersion"], api)
		}
	}
	cm := at(t, byKind["ConfigMap"], "data").(map[string]any)
	for k := range cm {
		if !knownVariable(k) {
			t.Errorf("ConfigMap sets %s, which the binary does not read", k)
		}
	}
	secret := at(t, byKind["Secret"], "stringData").(map[string]any)
	for _, k := range []string{"tenable-access-key", "tenable-secret-key", "kafka-sasl-username", "kafka-sasl-password",
		"schema-registry-username", "schema-registry-password", "ca.crt", "tls.crt", "tls.key"} {
		if _, ok := secret[k]; !ok {
			t.Errorf("Secret lacks %s", k)
		}
	}

	dep := byKind["Deployment"]
	if r := at(t, dep, "spec", "replicas"); r != 2 {
		t.Errorf("replicas %v, want 2", r)
	}
	pod := at(t, dep, "spec", "template", "spec")
	podLabels := at(t, dep, "spec", "template", "metadata", "labels").(map[string]any)
	matches := func(sel any) bool {
		m, ok := sel.(map[string]any)
		if !ok || len(m) == 0 {
			return false
		}
		for k, v := range m {
			if podLabels[k] != v {
				return false
			}
		}
		return true
	}
	if !matches(at(t, dep, "spec", "selector", "matchLabels")) {
		t.Error("the Deployment's selector does not select its pods")
	}
	c := at(t, pod, "containers", 0)
	for where, sc := range map[string]any{"pod": at(t, pod, "securityContext"), "container": at(t, c, "securityContext")} {
		// distroless :nonroot runs as 65532:65532; a numeric user lets the
		// kubelet verify runAsNonRoot.
		if at(t, sc, "runAsUser") != 65532 || at(t, sc, "runAsGroup") != 65532 || at(t, sc, "runAsNonRoot") != true {
			t.Errorf("%s securityContext %v: want runAsUser and runAsGroup 65532, runAsNonRoot", where, sc)
		}
	}
	if sc := at(t, c, "securityContext"); at(t, sc, "readOnlyRootFilesystem") != true || at(t, sc, "allowPrivilegeEscalation") != false {
		t.Errorf("container securityContext %v", sc)
	}
	image, _ := at(t, c, "image").(string)
	if tag := image[strings.LastIndex(image, ":")+1:]; !strings.Contains(image, ":") || tag == "latest" || strings.Contains(tag, "/") {
		t.Errorf("image %q: want a pinned tag", image)
	}
	ports := map[string]bool{}
	for _, p := range at(t, c, "ports").([]any) {
		ports[at(t, p, "name").(string)] = true
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if at(t, c, probe, "httpGet", "path") != path || !ports[at(t, c, probe, "httpGet", "port").(string)] {
			t.Errorf("%s: want %s on a declared port", probe, path)
		}
	}
	secretName := at(t, byKind["Secret"], "metadata", "name")
	for _, e := range at(t, c, "env").([]any) {
		name := at(t, e, "name").(string)
		if !knownVariable(name) {
			t.Errorf("env %s is not a variable the binary reads", name)
		}
		ref := at(t, e, "valueFrom", "secretKeyRef")
		if ref == nil {
			continue
		}
		if _, ok := secret[at(t, ref, "key").(string)]; !ok || at(t, ref, "name") != secretName {
			t.Errorf("env %s refers to %v, not an entry of the Secret", name, ref)
		}
	}

	// Both drains run at once on SIGTERM; the grace period must outlast the
	// longer with room (10 s) to close the producers.
	grace := time.Duration(at(t, pod, "terminationGracePeriodSeconds").(int)) * time.Second
	for _, v := range []string{"TVMKAFKA_SOURCE_DRAIN_TIMEOUT", "TVMKAFKA_SINK_DRAIN_TIMEOUT"} {
		s, ok := cm[v].(string)
		if !ok {
			t.Errorf("the ConfigMap does not set %s: the drain must be configured to fit the grace period", v)
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d+10*time.Second > grace {
			t.Errorf("%s=%s does not fit terminationGracePeriodSeconds (%v) with 10s to spare", v, s, grace)
		}
	}

	svc := byKind["Service"]
	if !matches(at(t, svc, "spec", "selector")) {
		t.Error("the metrics Service does not select the pods")
	}
	if tp := at(t, svc, "spec", "ports", 0, "targetPort"); !ports[tp.(string)] {
		t.Errorf("the Service targets port %v, which the container does not declare", tp)
	}
	pdb := byKind["PodDisruptionBudget"]
	if !matches(at(t, pdb, "spec", "selector", "matchLabels")) {
		t.Error("the PodDisruptionBudget does not select the pods")
	}
	if m, _ := at(t, pdb, "spec", "minAvailable").(int); m < 1 || m >= at(t, dep, "spec", "replicas").(int) {
		t.Errorf("minAvailable %v: want at least 1 and fewer than the replicas, so a drain can evict one pod", m)
	}
}

// TestComposeStack checks the local stack: its services, the variables it
// sets are ones the binary reads, and the files it mounts exist.
func TestComposeStack(t *testing.T) {
	const dir = "../../deploy/compose"
	docs := yamlDocs(t, filepath.Join(dir, "compose.yaml"))
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	services := at(t, docs[0], "services").(map[string]any)
	var names []string
	for n := range services {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"grafana", "kafka", "prometheus", "tenable-sim", "tvmkafka"}; !slices.Equal(names, want) {
		t.Errorf("services %v, want %v", names, want)
	}
	if img, _ := at(t, services["kafka"], "image").(string); !strings.HasPrefix(img, "apache/kafka:") {
		t.Errorf("kafka image %q: want Apache Kafka's", img)
	}
	if cmd := at(t, services["tenable-sim"], "command", 0); cmd != "sim" {
		t.Errorf("the simulator runs %v", cmd)
	}
	env := at(t, services["tvmkafka"], "environment").(map[string]any)
	for k := range env {
		if strings.HasPrefix(k, "TVMKAFKA_") && !knownVariable(k) {
			t.Errorf("compose sets %s, which the binary does not read", k)
		}
	}
	for _, n := range names {
		vols, _ := at(t, services[n], "volumes").([]any)
		for _, v := range vols {
			src := strings.SplitN(v.(string), ":", 2)[0]
			if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
				t.Errorf("%s mounts %s: %v", n, src, err)
			}
		}
	}
}
